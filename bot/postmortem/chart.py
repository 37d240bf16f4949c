"""The error-budget burn-down as an SVG image, for the postmortem to show next to its numbers.

SVG rather than PNG: it needs no imaging library, its text stays sharp and searchable, it diffs
in review, and Markdown viewers (GitHub, GitLab, most wikis) show it as an image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

from bot.budget.burn import BurnPoint
from bot.postmortem.filters import duration

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 100, 24, 44, 48  # margins around the plot area


@dataclass(frozen=True, kw_only=True, slots=True)
class Marker:
    """A labelled moment on the time axis (detected, mitigated, resolved)."""

    label: str
    at: datetime


def burn_down_svg(
    *,
    title: str,
    points: Sequence[BurnPoint],
    budget: timedelta,
    markers: Sequence[Marker] = (),
) -> str:
    """Budget left over time as a line, with the full budget, half of it and zero marked."""
    if len(points) < 2:
        raise ValueError("a burn-down needs at least two points")
    start, end = points[0].at, points[-1].at
    span = (end - start).total_seconds() or 1.0
    top = max(budget, *(p.remaining for p in points))
    bottom = min(timedelta(0), *(p.remaining for p in points))
    rise = (top - bottom).total_seconds() or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(at: datetime) -> float:
        return LEFT + plot_w * (at - start).total_seconds() / span

    def y(value: timedelta) -> float:
        return TOP + plot_h * (top - value).total_seconds() / rise

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="24" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    for level, label, colour in (
        (budget, f"budget {duration(budget)}", "#999999"),
        (budget / 2, "50%", "#e0a000"),
        (timedelta(0), "exhausted", "#cc0000"),
    ):
        height = y(level)
        parts.append(
            f'<line x1="{LEFT}" y1="{height:.1f}" x2="{WIDTH - RIGHT}" y2="{height:.1f}" '
            f'stroke="{colour}" stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{height + 4:.1f}" text-anchor="end" fill="{colour}">'
            f"{escape(label)}</text>"
        )
    shown = [m for m in markers if start <= m.at <= end]
    for row, marker in enumerate(shown):
        left = x(marker.at)
        parts.append(
            f'<line x1="{left:.1f}" y1="{TOP}" x2="{left:.1f}" y2="{HEIGHT - BOTTOM}" '
            'stroke="#4a6fa5" stroke-dasharray="2 3"/>'
        )
        # Milestones minutes apart would print over each other: stagger their labels.
        parts.append(
            f'<text x="{left + 3:.1f}" y="{TOP + 14 + 14 * (row % 3)}" fill="#4a6fa5">'
            f"{escape(marker.label)}</text>"
        )
    line = " ".join(f"{x(p.at):.1f},{y(p.remaining):.1f}" for p in points)
    parts.append(f'<polyline points="{line}" fill="none" stroke="#1f4e9c" stroke-width="2"/>')
    last = points[-1]
    parts.append(
        f'<text x="{WIDTH - RIGHT}" y="{y(last.remaining) - 6:.1f}" text-anchor="end" '
        f'fill="#1f4e9c">{escape(duration(last.remaining))} left</text>'
    )
    for at, anchor in ((start, "start"), (end, "end")):
        parts.append(
            f'<text x="{x(at):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="{anchor}">'
            f"{_clock(at)}</text>"
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" fill="#555555">'
        "time (UTC)</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _clock(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
