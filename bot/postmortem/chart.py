"""The error-budget burn-down as a PNG image, for the postmortem to show next to its numbers.

PNG rather than SVG: Slack shows an uploaded PNG inline in the channel but an SVG only as a file
to download, and Markdown viewers (GitHub, GitLab, most wikis) show either. Drawn with
matplotlib through bot.charts, whose import takes a while: import this module where a chart is
drawn, not at start (bot.postmortem.flows.chart_of).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import charts
from bot.budget.burn import BurnPoint
from bot.postmortem.filters import duration

LINE_COLOUR = "#1f4e9c"
LEVEL_SPACING = 0.07  # of the plot's height: level labels closer than this would overlap
MARGIN = 0.04  # of the plot's height, above the highest and below the lowest value


@dataclass(frozen=True, kw_only=True, slots=True)
class Marker:
    """A labelled moment on the time axis (detected, mitigated, resolved)."""

    label: str
    at: datetime


def burn_down_png(
    *,
    title: str,
    points: Sequence[BurnPoint],
    budget: timedelta,
    markers: Sequence[Marker] = (),
) -> bytes:
    """Budget left over time as a line, with the full budget, half of it and zero marked."""
    return charts.png(burn_down_figure(title=title, points=points, budget=budget, markers=markers))


def burn_down_figure(
    *,
    title: str,
    points: Sequence[BurnPoint],
    budget: timedelta,
    markers: Sequence[Marker] = (),
) -> charts.Figure:
    """The burn-down, laid out and ready to save (`burn_down_png`)."""
    if len(points) < 2:
        raise ValueError("a burn-down needs at least two points")
    start, end = points[0].at, points[-1].at
    if end <= start:  # one moment: a minute's width, so the axis has a span
        end = start + timedelta(minutes=1)
    fig, ax = charts.new_figure(title=title)
    charts.time_axis(ax, start=start, end=end)
    _levels(ax, points=points, budget=budget)
    ax.plot(
        [charts.x_of(p.at) for p in points],
        [p.remaining.total_seconds() for p in points],
        color=LINE_COLOUR,
        linewidth=2,
        zorder=3,
    )
    last = points[-1].remaining
    # Right of the plot, level with the line's end: beside the line, never on it.
    ax.annotate(
        f"{duration(last)} left",
        xy=(1.0, last.total_seconds()),
        xycoords=("axes fraction", "data"),
        xytext=(charts.LABEL_GAP, 0.0),
        textcoords="offset pixels",
        va="center",
        color=LINE_COLOUR,
        annotation_clip=False,
        **charts.text_style(),
    )
    shown = [m for m in markers if start <= m.at <= end]
    labels = [charts.mark_time(ax, at=m.at, label=m.label) for m in shown]
    charts.place_labels(fig, labels)
    return fig


def _levels(ax: charts.Axes, *, points: Sequence[BurnPoint], budget: timedelta) -> None:
    """Dashed lines at the full budget, half of it and zero, named on the left axis (the only
    values it shows: the line is read against them)."""
    top = max(budget, *(p.remaining for p in points)).total_seconds()
    bottom = min(timedelta(0), *(p.remaining for p in points)).total_seconds()
    rise = (top - bottom) or 1.0
    ax.set_ylim(bottom - MARGIN * rise, top + MARGIN * rise)
    ticks: list[float] = []
    names: list[str] = []
    colours: list[str] = []
    for level, name, colour in (
        (budget, f"budget {duration(budget)}", "#999999"),
        (timedelta(0), "exhausted", "#cc0000"),
        (budget / 2, "50%", "#e0a000"),  # last: the one left unnamed when the three crowd
    ):
        value = level.total_seconds()
        ax.axhline(value, color=colour, linestyle=(0, (4, 3)), linewidth=1, zorder=2)
        if all(abs(value - other) >= LEVEL_SPACING * rise for other in ticks):
            ticks.append(value)
            names.append(name)
            colours.append(colour)
    ax.set_yticks(ticks, names)
    for tick, colour in zip(ax.get_yticklabels(), colours, strict=True):
        tick.set_color(colour)
