"""Charts drawn as PNG images, for the chat to show inline (Slack shows an uploaded SVG as a file
to download, a PNG as a picture).

The shared parts of every chart the bot draws: a figure on matplotlib's Agg canvas, a time axis
in UTC, moments marked by a vertical line with a label above the plot, and the PNG bytes. Pure:
no Slack, HTTP or database. A chart is built with `new_figure`, drawn on, laid out with
`place_labels` and turned into bytes with `png`.

matplotlib is imported here and nowhere else, and only when a chart is drawn: importing it takes
a fraction of a second the bot need not pay at start (callers import this module in the function
that draws). It keeps a font cache in ~/.cache/matplotlib, or in MPLCONFIGDIR when set; where the
home directory is not writable it falls back to a temporary directory and logs a warning.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.dates import MINUTELY, SECONDLY, AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

FONT = "DejaVu Sans"  # ships inside matplotlib: the same glyphs on every machine
DPI = 150  # 1200 x 600 pixels at the default size: sharp on high-density screens
SIZE = (8.0, 4.0)  # inches
FONT_SIZE = 9.0
TITLE_SIZE = 11.0
MARKER_COLOUR = "#4a6fa5"
LABEL_GAP = 4.0  # pixels between the plot and the first row of labels, and between rows
LABEL_SPACING = 16.0  # pixels between two labels in a row: more than a space, so two read as two
SECONDS_A_DAY = 86_400.0

# matplotlib is not thread-safe when drawing (its font and text-layout caches are shared), and
# charts are drawn in worker threads: one drawing at a time. Charts are rare; nobody waits long.
_DRAWING = threading.RLock()


def text_style(*, size: float = FONT_SIZE, **more: Any) -> dict[str, Any]:
    """Keyword arguments for a text artist: the fixed font, and "$" taken literally (titles and
    labels come from incidents, and matplotlib would read $…$ as mathematics)."""
    return {"fontfamily": FONT, "fontsize": size, "parse_math": False, **more}


def new_figure(*, title: str, size: tuple[float, float] = SIZE) -> tuple[Figure, Axes]:
    """A white figure with one plot and a title, on the Agg canvas (never pyplot: it keeps
    global state). Constrained layout keeps titles, tick labels and marker labels inside it."""
    fig = Figure(figsize=size, dpi=DPI, facecolor="white", layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas
    fig.suptitle(title, wrap=True, **text_style(size=TITLE_SIZE, fontweight="bold"))
    ax = fig.add_subplot()
    ax.set_facecolor("white")
    ax.tick_params(labelsize=FONT_SIZE, labelfontfamily=FONT)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def x_of(at: datetime) -> float:
    """A moment on a time axis (matplotlib's days since its epoch; naive times taken as UTC)."""
    return float(date2num(at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)))


def xs_of_unix(seconds: Sequence[float]) -> list[float]:
    """Moments given in Unix seconds on a time axis, as x_of puts them, without a datetime for
    each (a series' 500 points took 500 conversions)."""
    zero = x_of(datetime.fromtimestamp(0, UTC))  # Unix time 0 in days since matplotlib's epoch
    return [zero + s / SECONDS_A_DAY for s in seconds]


def time_axis(ax: Axes, *, start: datetime, end: datetime) -> None:
    """The x axis from start to end, ticked in UTC: hours and minutes, the date once at the end."""
    ax.set_xlim(x_of(start), x_of(end))
    locator = AutoDateLocator(tz=UTC, minticks=4, maxticks=8)
    # A span just short of 4 minutes (or hours) has too few whole ones for 4 ticks, and too
    # many 30 seconds (minutes) for 8: matplotlib's own steps stop at 30, so it warned and
    # ticked every 30 anyway (a postmortem's burn-down of a 3m59s incident).
    for step in (SECONDLY, MINUTELY):
        locator.intervald[step] = [*locator.intervald[step], 60]
    formatter = ConciseDateFormatter(
        locator,
        tz=UTC,
        offset_formats=["", "%Y", "%Y-%m", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"],
    )
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)
    ax.xaxis.get_offset_text().set(**text_style())
    ax.set_xlabel("time (UTC)", color="#555555", **text_style())


def mark_time(
    ax: Axes, *, at: datetime, label: str, colour: str = MARKER_COLOUR, style: str = ":"
) -> Annotation:
    """A vertical line across the plot at `at`, labelled above the plot so the label never covers
    what is drawn; the label's edge sits on the line and it reads toward the middle, so it stays
    within the plot's width (keep it shorter than half of it). Mark after `time_axis`, whose span
    it reads; call `place_labels` with the labels once all are marked."""
    x = x_of(at)
    ax.axvline(x, color=colour, linestyle=style, linewidth=1.2, zorder=1)
    left, right = ax.get_xlim()
    in_left_half = (x - left) <= (right - left) / 2
    return ax.annotate(
        label,
        xy=(x, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(0.0, LABEL_GAP),
        textcoords="offset pixels",
        ha="left" if in_left_half else "right",
        va="bottom",
        color=colour,
        annotation_clip=False,  # drawn above the plot, outside its clipping box
        **text_style(),
    )


def place_labels(fig: Figure, labels: Sequence[Annotation]) -> None:
    """Lay the figure out, then raise labels that would overlap into rows above one another
    (milestones minutes apart would print over each other), and lay it out again around them.
    The layout is then kept as it is: drawing the PNG need not work it out a third time."""
    with _DRAWING:
        fig.draw_without_rendering()  # the constrained layout fixes where the plot is
        renderer = _renderer(fig)
        boxes = [label.get_window_extent(renderer) for label in labels]
        rows = stagger(boxes)
        if any(rows):  # else one row, where they were: the layout already has room for it
            step = max(box.height for box in boxes) + LABEL_GAP
            for label, row in zip(labels, rows, strict=True):
                label.set_position((0.0, LABEL_GAP + row * step))  # xytext, in offset pixels
            fig.draw_without_rendering()  # room above the plot for the rows
        fig.set_layout_engine("none")  # else the PNG's draw works the same layout out again


def stagger(boxes: Sequence[Bbox]) -> list[int]:
    """A row for each label box (0 nearest the plot) so that labels in one row are at least
    LABEL_SPACING apart: each, from left to right, goes in the lowest row it fits in."""
    rows = [0] * len(boxes)
    ends: list[float] = []  # the right edge of the last label placed in each row
    for i in sorted(range(len(boxes)), key=lambda i: (boxes[i].x0, i)):
        free = [r for r, end in enumerate(ends) if end + LABEL_SPACING <= boxes[i].x0]
        row = free[0] if free else len(ends)
        if row == len(ends):
            ends.append(boxes[i].x1)
        else:
            ends[row] = boxes[i].x1
        rows[i] = row
    return rows


def extents(fig: Figure, artists: Iterable[Text]) -> list[Bbox]:
    """Where the texts are drawn, in pixels of the figure (what tests check for overlaps)."""
    with _DRAWING:
        renderer = _renderer(fig)
        return [artist.get_window_extent(renderer) for artist in artists]


def _renderer(fig: Figure) -> RendererAgg:
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)  # new_figure's
    return canvas.get_renderer()


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes; the same chart gives the same bytes (no version stamp)."""
    out = io.BytesIO()
    with _DRAWING:
        fig.savefig(out, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return out.getvalue()
