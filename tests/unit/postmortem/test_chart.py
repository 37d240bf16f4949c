from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from bot.budget.burn import BurnPoint
from bot.postmortem.chart import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, Marker, burn_down_svg

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"
BUDGET = timedelta(minutes=5)


def point(minute: int, remaining_s: float) -> BurnPoint:
    return BurnPoint(at=T0 + timedelta(minutes=minute), remaining=timedelta(seconds=remaining_s))


def chart(**kw: object) -> ET.Element:
    args: dict[str, object] = {
        "title": "INC-3: error budget left",
        "points": [point(0, 300), point(5, 300), point(10, 0), point(20, -300)],
        "budget": BUDGET,
    }
    args.update(kw)
    return ET.fromstring(burn_down_svg(**args))  # type: ignore[arg-type]


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_the_line_spans_the_plot_from_full_budget_to_overspent() -> None:
    root = chart()
    [line] = root.iter(f"{SVG}polyline")
    xy = [tuple(map(float, pair.split(","))) for pair in line.attrib["points"].split()]
    assert xy[0] == (LEFT, TOP)  # the first moment, the full budget: top left
    assert xy[-1] == (WIDTH - RIGHT, HEIGHT - BOTTOM)  # the lowest value sits on the bottom edge
    assert xy[1][1] == TOP and xy[2][1] == pytest.approx(TOP + (HEIGHT - BOTTOM - TOP) / 2)
    assert "-5m left" in texts(root)


def test_levels_and_milestones_are_labelled() -> None:
    markers = [
        Marker(label="detected", at=T0 + timedelta(minutes=2)),
        Marker(label="resolved", at=T0 + timedelta(minutes=19)),
        Marker(label="after the end", at=T0 + timedelta(minutes=40)),
    ]
    shown = texts(chart(markers=markers))
    assert {"budget 5m", "50%", "exhausted", "detected", "resolved"} <= set(shown)
    assert "after the end" not in shown
    assert {"2026-11-27 03:00", "2026-11-27 03:20"} <= set(shown)


def test_text_is_escaped() -> None:
    root = chart(title="INC-3 <script> & co")
    assert root.find(f"{SVG}title") is not None
    assert root.find(f"{SVG}title").text == "INC-3 <script> & co"  # type: ignore[union-attr]
    assert not re.search(
        r"<script",
        burn_down_svg(title="<script>", points=[point(0, 1), point(1, 0)], budget=BUDGET),
    )


def test_one_point_is_not_a_chart() -> None:
    with pytest.raises(ValueError, match="two points"):
        burn_down_svg(title="x", points=[point(0, 1)], budget=BUDGET)
