"""bot.evidence.graph: the alert's graph as a PNG, with its series named by their labels, the
threshold, and labelled moments that stay clear of each other."""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from matplotlib.lines import Line2D

from bot import charts
from bot.evidence.graph import (
    LEGEND_CHARS,
    Moment,
    alert_graph_figure,
    alert_graph_png,
    legend_labels,
    shorten,
)
from bot.evidence.ports import Series
from bot.evidence.promql import Threshold
from bot.evidence.series import MAX_SERIES, chosen, shown_from
from tests.paths import ROOT
from tests.unit.test_charts import png_size

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
START, END = T0 - timedelta(hours=1), T0 + timedelta(minutes=30)


def series(peak: float, **labels: str) -> Series:
    points = [(START + timedelta(minutes=m), peak if m > 55 else 0.1) for m in range(0, 91)]
    return Series.of(labels={"__name__": "errors_ratio", **labels}, points=points)


def test_the_graph_is_a_png_of_the_usual_size() -> None:
    data = alert_graph_png(
        title="INC-7: RankerErrors",
        expr="errors_ratio > 0.5",
        series=[series(0.9, pod="a")],
        start=START,
        end=END,
        started=T0,
        threshold=Threshold(op=">", value=0.5),
    )
    assert png_size(data) == (1200, 600)


def test_series_threshold_and_moments_are_drawn_and_labelled() -> None:
    fig = alert_graph_figure(
        title="INC-7: RankerErrors",
        expr="errors_ratio",
        series=[series(0.9, pod="a"), series(0.7, pod="b")],
        start=START,
        end=END,
        started=T0,
        resolved=T0 + timedelta(minutes=20),
        threshold=Threshold(op=">", value=0.5),
        changes=[
            Moment(label="v43-bad", at=T0 - timedelta(minutes=3)),
            Moment(label="v44", at=T0 - timedelta(minutes=2)),
            Moment(label="too early", at=START - timedelta(minutes=1)),  # outside: not shown
        ],
    )
    (ax,) = fig.axes
    lines = [line for line in ax.get_lines() if isinstance(line, Line2D)]
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [
        '{pod="a"}',
        '{pod="b"}',
        "threshold > 0.5",
    ]
    dashed = [list(line.get_ydata()) for line in lines if line.get_linestyle() == "--"]
    assert [0.5, 0.5] in dashed  # the threshold, across the plot
    marks = [t for t in ax.texts if t.get_text() in ("alert started", "resolved", "v43-bad", "v44")]
    assert sorted(t.get_text() for t in marks) == ["alert started", "resolved", "v43-bad", "v44"]
    assert not any(t.get_text() == "too early" for t in ax.texts)
    # Moments a minute apart: their labels are stacked, not printed over each other.
    boxes = charts.extents(fig, marks)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    width, height = fig.canvas.get_width_height()
    for box in boxes:
        assert box.x0 >= 0 and box.x1 <= width and box.y0 >= 0 and box.y1 <= height


def test_label_values_are_shown_literally_and_cut() -> None:
    weird = "$x$ <b>" + "y" * 200
    fig = alert_graph_figure(
        title="INC-7: $HOME",
        expr="x",
        series=[series(1.0, model=weird)],
        start=START,
        end=END,
        started=T0,
    )
    (ax,) = fig.axes
    legend = ax.get_legend()
    assert legend is not None
    (text,) = legend.get_texts()
    assert text.get_text().startswith('errors_ratio{model="$x$ <b>')
    assert len(text.get_text()) == LEGEND_CHARS and text.get_text().endswith("…")
    assert text.get_parse_math() is False
    charts.png(fig)  # draws: a mathtext parse of "$x$" would raise here only if read as maths


def test_no_data_says_so() -> None:
    fig = alert_graph_figure(
        title="INC-7: A", expr="x", series=[], start=START, end=END, started=T0
    )
    (ax,) = fig.axes
    assert "no data in this window" in [t.get_text() for t in ax.texts]
    assert ax.get_legend() is None


def test_the_axis_begins_where_the_data_does_with_the_alert_in_view() -> None:
    # A metric born two minutes before its alert: the hour before would be empty.
    fresh = Series.of(
        labels={"__name__": "ctr"},
        points=[(T0 - timedelta(minutes=2) + timedelta(seconds=s), 0.1) for s in range(0, 300)],
    )
    begins = shown_from(START, END, series=[fresh], moments=[T0])
    assert T0 - timedelta(minutes=6) < begins < T0 - timedelta(minutes=2)
    # A change before the data stays in view; one before the window does not pull it back.
    early = T0 - timedelta(minutes=20)
    assert shown_from(START, END, series=[fresh], moments=[T0, early]) < early
    assert shown_from(START, END, series=[fresh], moments=[T0, START - timedelta(days=1)]) == (
        begins
    )
    # Data from the window's start, or none at all: the whole window.
    assert shown_from(START, END, series=[series(1.0)], moments=[T0]) == START
    assert shown_from(START, END, series=[], moments=[T0]) == START
    fig = alert_graph_figure(
        title="t", expr="ctr", series=[fresh], start=START, end=END, started=T0
    )
    left, _ = fig.axes[0].get_xlim()
    assert left == charts.x_of(begins)


def test_legend_names_only_the_labels_that_differ() -> None:
    one = {"__name__": "up", "job": "ranker", "pod": "a"}
    assert legend_labels([one]) == ['up{job="ranker", pod="a"}']
    assert legend_labels([one, {**one, "pod": "b"}]) == ['{pod="a"}', '{pod="b"}']
    assert legend_labels([{}]) == ["{}"]
    assert legend_labels([{"__name__": "up"}]) == ["up"]


def test_the_series_worth_seeing_are_chosen() -> None:
    many = [series(float(i), pod=str(i)) for i in range(12)]
    top = chosen(many, threshold=Threshold(op=">", value=5))
    assert [s.labels["pod"] for s in top] == ["11", "10", "9", "8", "7"]
    assert len(top) == MAX_SERIES
    low = [Series.of(labels={"pod": str(i)}, points=[(T0, float(i))]) for i in range(8)]
    assert [s.labels["pod"] for s in chosen(low, threshold=Threshold(op="<", value=3))] == [
        "0",
        "1",
        "2",
        "3",
        "4",
    ]
    assert chosen([Series.of(labels={}, points=[])], threshold=None) == []


def test_shorten_makes_one_line() -> None:
    assert shorten("a\n  b", 10) == "a b"
    assert shorten("abcdefghij", 5) == "abcd…"


def test_starting_the_bot_does_not_import_the_graph() -> None:
    modules = ("matplotlib", "bot.charts", "bot.evidence.graph")
    code = f"import sys, bot.app; print([m for m in {modules!r} if m in sys.modules])"
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
