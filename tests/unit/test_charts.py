"""bot.charts: PNG figures on the Agg canvas, a UTC time axis, and labelled time markers whose
labels stay inside the image and clear of each other and of the plot."""

from __future__ import annotations

import itertools
import struct
import subprocess
import sys
import warnings
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from bot import charts
from tests.paths import ROOT

SIGNATURE = b"\x89PNG\r\n\x1a\n"
T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG header: the signature, then the IHDR chunk first."""
    assert data.startswith(SIGNATURE)
    length, kind, width, height = struct.unpack(">I4sII", data[8:24])
    assert (length, kind) == (13, b"IHDR")
    return width, height


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def marked(minutes: list[float], labels: list[str] | None = None) -> tuple[Figure, list[Bbox]]:
    fig, ax = charts.new_figure(title="INC-3: alert")
    charts.time_axis(ax, start=at(0), end=at(30))
    ax.plot([charts.x_of(at(0)), charts.x_of(at(30))], [0.0, 1.0])
    names = labels or [f"label {i}" for i in range(len(minutes))]
    texts = [charts.mark_time(ax, at=at(m), label=n) for m, n in zip(minutes, names, strict=True)]
    charts.place_labels(fig, texts)
    return fig, charts.extents(fig, texts)


def test_a_figure_saves_as_a_png_of_its_size() -> None:
    fig, _ = charts.new_figure(title="INC-3")
    data = charts.png(fig)
    width, height = charts.SIZE
    assert png_size(data) == (int(width * charts.DPI), int(height * charts.DPI))


def test_the_same_chart_gives_the_same_bytes() -> None:
    def draw() -> bytes:
        fig, ax = charts.new_figure(title="INC-3")
        charts.time_axis(ax, start=at(0), end=at(10))
        charts.place_labels(fig, [charts.mark_time(ax, at=at(5), label="deploy")])
        return charts.png(fig)

    first = draw()
    assert draw() == first
    assert b"Matplotlib" not in first  # no version stamp in the metadata


def test_labels_crowded_together_stay_inside_apart_and_above_the_plot() -> None:
    # Two at the same moment, two a few seconds apart, one on each edge of the axis.
    fig, boxes = marked([0, 10, 10, 10.1, 10.2, 29.9, 30])
    whole, plot = fig.bbox, fig.axes[0].bbox
    for box in boxes:
        assert whole.x0 <= box.x0 and box.x1 <= whole.x1
        assert whole.y0 <= box.y0 and box.y1 <= whole.y1
        assert box.y0 >= plot.y1  # above the plot: never over what is drawn in it
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)  # touching counts


def test_labels_far_apart_share_the_first_row() -> None:
    _, boxes = marked([2, 15, 28])
    assert len({round(box.y0) for box in boxes}) == 1


def test_a_label_reads_toward_the_middle_from_its_line() -> None:
    fig, (left, right) = marked([1, 29])
    to_pixels = fig.axes[0].transData.transform
    assert abs(left.x0 - to_pixels((charts.x_of(at(1)), 0))[0]) < 1
    assert abs(right.x1 - to_pixels((charts.x_of(at(29)), 0))[0]) < 1


def test_stagger_puts_overlapping_boxes_in_rows_and_reuses_free_ones() -> None:
    boxes = [Bbox.from_extents(x0, 0, x1, 10) for x0, x1 in [(0, 50), (10, 60), (100, 150)]]
    assert charts.stagger(boxes) == [0, 1, 0]
    assert charts.stagger([]) == []


def test_dollar_signs_are_text_not_mathematics() -> None:
    fig, ax = charts.new_figure(title="cost $5 per $")
    charts.time_axis(ax, start=at(0), end=at(10))
    charts.place_labels(fig, [charts.mark_time(ax, at=at(5), label="$unbalanced")])
    assert png_size(charts.png(fig))[0] > 0


def test_times_are_shown_in_utc_whatever_their_zone() -> None:
    berlin = datetime(2026, 11, 27, 4, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # 03:00 UTC
    assert charts.x_of(berlin) == charts.x_of(T0)
    assert charts.x_of(T0.replace(tzinfo=None)) == charts.x_of(T0)  # naive: taken as UTC
    fig, ax = charts.new_figure(title="INC-3")
    charts.time_axis(ax, start=berlin, end=berlin + timedelta(hours=1))
    charts.png(fig)  # draws the ticks
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "03:00" in ticks and "04:00" in ticks
    assert ax.xaxis.get_offset_text().get_text() == "2026-11-27"


def test_every_span_gets_4_to_8_ticks_without_a_warning() -> None:
    # Spans around each of matplotlib's steps, to the second: those just short of 4 minutes
    # or 4 hours found no step of their own (a warning, and ticks every 30).
    spans = [timedelta(minutes=m) - timedelta(seconds=s) for m in (4, 240) for s in (0, 1, 15)]
    spans += [timedelta(seconds=30), timedelta(minutes=30), timedelta(hours=6), timedelta(days=3)]
    for span in spans:
        fig, ax = charts.new_figure(title="INC-3")
        charts.time_axis(ax, start=T0, end=T0 + span)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            charts.png(fig)
        ticks = [t for t in ax.get_xticks() if charts.x_of(T0) <= t <= charts.x_of(T0 + span)]
        assert 4 <= len(ticks) <= 8, (span, len(ticks))


def test_starting_the_bot_does_not_import_matplotlib() -> None:
    # Importing matplotlib takes a while: only drawing a chart pays for it.
    modules = ("matplotlib", "bot.charts", "bot.postmortem.chart")
    code = f"import sys, bot.app; print([m for m in {modules!r} if m in sys.modules])"
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
