from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.text import Annotation, Text

from bot import charts
from bot.budget.burn import BurnPoint
from bot.postmortem.chart import Marker, burn_down_figure, burn_down_png

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
BUDGET = timedelta(minutes=5)
MILESTONES = ("impact", "detected", "mitigated", "resolved")


def point(minute: float, remaining_s: float) -> BurnPoint:
    return BurnPoint(at=T0 + timedelta(minutes=minute), remaining=timedelta(seconds=remaining_s))


def marker(label: str, minute: float) -> Marker:
    return Marker(label=label, at=T0 + timedelta(minutes=minute))


def chart(**kw: object) -> Figure:
    args: dict[str, object] = {
        "title": "INC-3: error budget left",
        "points": [point(0, 300), point(5, 300), point(10, 0), point(20, -300)],
        "budget": BUDGET,
    }
    args.update(kw)
    return burn_down_figure(**args)  # type: ignore[arg-type]


def texts(fig: Figure) -> dict[str, Text]:
    """Every text drawn, by what it says (tick labels, title, annotations)."""
    found = fig.findobj(lambda a: isinstance(a, Text) and a.get_visible() and bool(a.get_text()))
    return {t.get_text(): t for t in found if isinstance(t, Text)}


def test_the_chart_is_a_png() -> None:
    data = burn_down_png(
        title="INC-3: error budget left",
        points=[point(0, 300), point(20, -300)],
        budget=BUDGET,
        markers=[marker("detected", 2)],
    )
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = charts.SIZE
    assert imread(io.BytesIO(data), format="png").shape[:2] == (
        int(height * charts.DPI),
        int(width * charts.DPI),
    )


def test_the_same_burn_down_gives_the_same_bytes() -> None:
    def draw() -> bytes:
        return burn_down_png(
            title="INC-3",
            points=[point(0, 300), point(20, -300)],
            budget=BUDGET,
            markers=[marker("resolved", 19)],
        )

    assert draw() == draw()


def test_the_line_spans_the_time_axis_from_full_budget_to_overspent() -> None:
    fig = chart()
    ax = fig.axes[0]
    [line] = [line for line in ax.get_lines() if len(line.get_xdata()) == 4]  # type: ignore[arg-type]
    assert list(line.get_ydata()) == [300, 300, 0, -300]  # type: ignore[arg-type]
    assert ax.get_xlim() == (charts.x_of(T0), charts.x_of(T0 + timedelta(minutes=20)))
    bottom, top = ax.get_ylim()
    assert bottom < -300 and top > 300  # a margin: the line never lies on the frame
    assert "-5m left" in texts(fig)


def test_levels_and_milestones_are_labelled() -> None:
    markers = [marker("detected", 2), marker("resolved", 19), marker("after the end", 40)]
    shown = texts(chart(markers=markers))
    assert {"budget 5m", "50%", "exhausted", "detected", "resolved"} <= set(shown)
    assert "after the end" not in shown
    assert {"03:00", "03:20", "2026-11-27", "time (UTC)"} <= set(shown)


def test_crowded_levels_keep_their_lines_but_not_all_their_names() -> None:
    # Overspent 100 times over: the budget, half of it and zero sit a few pixels apart.
    shown = texts(chart(points=[point(0, 300), point(20, -30000)]))
    assert "budget 5m" in shown and "50%" not in shown


@pytest.mark.parametrize(
    "minutes",
    [
        (2, 3, 12, 20),  # as in the golden incident: mitigated and resolved near the right edge
        (0, 0, 0.1, 20),  # impact and detection together, resolution on the edge
        (0, 19.8, 19.9, 20),  # everything at the end
    ],
)
def test_milestone_labels_stay_inside_and_clear_of_each_other_and_the_line(
    minutes: tuple[float, ...],
) -> None:
    fig = chart(markers=[marker(name, m) for name, m in zip(MILESTONES, minutes, strict=True)])
    drawn = texts(fig)
    labels = [drawn[name] for name in MILESTONES]
    assert all(isinstance(label, Annotation) for label in labels)
    boxes = dict(zip(drawn, charts.extents(fig, drawn.values()), strict=True))
    plot = fig.axes[0].bbox
    for name in MILESTONES:
        box = boxes[name]
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, f"{name} cut off"
        assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1, f"{name} cut off"
        assert box.y0 >= plot.y1, f"{name} inside the plot, where the line is"
        for other, elsewhere in boxes.items():
            if other != name:
                assert not box.overlaps(elsewhere), f"{name} over {other}"
    for a, b in itertools.combinations(MILESTONES, 2):
        assert not boxes[a].overlaps(boxes[b])


def test_the_amount_left_is_beside_the_line_not_on_it() -> None:
    fig = chart()
    [box] = charts.extents(fig, [texts(fig)["-5m left"]])
    assert box.x0 >= fig.axes[0].bbox.x1 and box.x1 <= fig.bbox.x1


def test_text_is_drawn_as_given() -> None:
    fig = chart(title="INC-3 <script> & $5 $co", markers=[marker("$x", 2)])
    assert "INC-3 <script> & $5 $co" in texts(fig)
    assert charts.png(fig).startswith(b"\x89PNG")  # a lone $ is not mathematics


def test_one_point_is_not_a_chart() -> None:
    with pytest.raises(ValueError, match="two points"):
        burn_down_png(title="x", points=[point(0, 1)], budget=BUDGET)
