"""An alert's graph as a PNG: the series its query returns around the alert, the threshold it
compares them to, where it started (and resolved), and the changes to its service meanwhile.

Pure: the series come in, PNG bytes go out. Drawn through bot.charts, whose matplotlib takes a
while to import: import this module where a graph is drawn (bot.evidence.flows), not at start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import charts
from bot.evidence.ports import Series
from bot.evidence.promql import Threshold
from bot.evidence.series import MAX_SERIES, shown_from

COLOURS = ("#1f4e9c", "#d1782c", "#2e8b57", "#8b3a8b", "#6b6b6b")  # MAX_SERIES of them
THRESHOLD_COLOUR = "#cc0000"
STARTED_COLOUR = "#cc0000"
RESOLVED_COLOUR = "#2e8b57"
CHANGE_COLOUR = charts.MARKER_COLOUR
LEGEND_CHARS = 70  # a label set longer than this is cut, with "…"
MARKER_CHARS = 24  # a change's label (its version) longer than this is cut
SUBTITLE_CHARS = 110
SPARSE = 30  # samples a series has at most for each to be drawn as a dot too


@dataclass(frozen=True, kw_only=True, slots=True)
class Moment:
    """A labelled moment on the time axis: a change to the service ("v43-bad")."""

    label: str
    at: datetime


def alert_graph_png(
    *,
    title: str,
    expr: str,
    series: Sequence[Series],
    start: datetime,
    end: datetime,
    started: datetime,
    resolved: datetime | None = None,
    threshold: Threshold | None = None,
    changes: Sequence[Moment] = (),
) -> bytes:
    """The graph (see `alert_graph_figure`) as PNG bytes."""
    return charts.png(
        alert_graph_figure(
            title=title,
            expr=expr,
            series=series,
            start=start,
            end=end,
            started=started,
            resolved=resolved,
            threshold=threshold,
            changes=changes,
        )
    )


def alert_graph_figure(
    *,
    title: str,
    expr: str,
    series: Sequence[Series],
    start: datetime,
    end: datetime,
    started: datetime,
    resolved: datetime | None = None,
    threshold: Threshold | None = None,
    changes: Sequence[Moment] = (),
) -> charts.Figure:
    """At most MAX_SERIES series (bot.evidence.series.chosen picks them), each a line named by
    its labels, the threshold dashed across, and the alert's start, resolution and changes
    marked."""
    if end <= start:
        end = start + timedelta(minutes=1)
    start = shown_from(start, end, series=series, moments=[started, *(c.at for c in changes)])
    fig, ax = charts.new_figure(title=title)
    # Below the plot: above it, the moments' labels take the room.
    fig.supxlabel(f"query: {shorten(expr, SUBTITLE_CHARS)}", color="#555555", **charts.text_style())
    charts.time_axis(ax, start=start, end=end)
    names = legend_labels([s.labels for s in series[:MAX_SERIES]])
    for s, name, colour in zip(series[:MAX_SERIES], names, COLOURS, strict=False):
        ax.plot(
            charts.xs_of_unix(s.times),
            s.values,
            color=colour,
            linewidth=1.4,
            # A few samples (a new metric): dots, or a lone sample would not show at all.
            marker="o" if len(s.times) <= SPARSE else None,
            markersize=3,
            label=name,
            zorder=3,
        )
    if threshold is not None:
        ax.axhline(
            threshold.value,
            color=THRESHOLD_COLOUR,
            linestyle=(0, (4, 3)),
            linewidth=1,
            label=threshold.label,
            zorder=2,
        )
    if not series:
        ax.text(
            0.5,
            0.5,
            "no data in this window",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="#555555",
            **charts.text_style(),
        )
    ax.tick_params(axis="y", labelsize=charts.FONT_SIZE)
    if series or threshold is not None:
        legend = ax.legend(loc="best", fontsize=charts.FONT_SIZE - 1, framealpha=0.85)
        for text in legend.get_texts():
            text.set_parse_math(False)  # label values are outside text: "$" is a dollar
            text.set_fontfamily(charts.FONT)
    moments = [("alert started", started, STARTED_COLOUR)]
    if resolved is not None:
        moments.append(("resolved", resolved, RESOLVED_COLOUR))
    moments += [(shorten(c.label, MARKER_CHARS), c.at, CHANGE_COLOUR) for c in changes]
    labels = [
        charts.mark_time(ax, at=at, label=label, colour=colour, style=":" if i else "--")
        for i, (label, at, colour) in enumerate(moments)
        if start <= at <= end
    ]
    charts.place_labels(fig, labels)
    return fig


def legend_labels(label_sets: Sequence[Mapping[str, str]]) -> list[str]:
    """Each series named by its labels, `metric{a="1", b="2"}`; with several series, only the
    labels that tell them apart. Cut to LEGEND_CHARS."""
    varying = {
        key
        for key in {k for labels in label_sets for k in labels}
        if len({labels.get(key) for labels in label_sets}) > 1
    }
    out: list[str] = []
    for labels in label_sets:
        keys = sorted(
            k for k in labels if k != "__name__" and (len(label_sets) < 2 or k in varying)
        )
        inner = ", ".join(f'{k}="{labels[k]}"' for k in keys)
        name = labels.get("__name__", "") if len(label_sets) < 2 or "__name__" in varying else ""
        text = f"{name}{{{inner}}}" if inner or not name else name
        out.append(shorten(text or "{}", LEGEND_CHARS))
    return out


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters: white space runs made one space, cut with "…"."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
