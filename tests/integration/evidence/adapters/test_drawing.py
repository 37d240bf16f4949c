"""The drawing process (bot.evidence.adapters.drawing.InProcess): graphs are drawn in one child
process kept from graph to graph, and stopped after a while without one; if it dies, that graph
fails with a reason and the next starts another; an error of the drawing itself comes back as it
was raised."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.evidence import drawing
from bot.evidence.adapters.drawing import NICENESS, InProcess
from bot.evidence.ports import EvidenceError, Series
from bot.evidence.promql import split_threshold
from tests.polling import eventually
from tests.unit.test_charts import SIGNATURE


# Module-level: the process unpickles them by name.
def whose(**_: object) -> bytes:
    return str(os.getpid()).encode()


def niceness(**_: object) -> bytes:
    return str(os.getpriority(os.PRIO_PROCESS, 0)).encode()


def slow(*, seconds: float) -> bytes:
    time.sleep(seconds)
    return str(os.getpid()).encode()


def late(*, seconds: float) -> bytes:
    time.sleep(seconds)
    return b"late"


def dies(**_: object) -> bytes:
    os._exit(3)


def fails(*, why: str) -> bytes:
    raise ValueError(why)


@pytest.fixture
async def drawer() -> AsyncIterator[InProcess]:
    drawer = InProcess()
    yield drawer
    await drawer.stop()


async def test_graphs_are_drawn_in_one_process_of_their_own(drawer: InProcess) -> None:
    first = await drawer.draw(whose)
    assert int(first) != os.getpid()
    assert await drawer.draw(whose) == first  # kept: matplotlib's import is paid once


async def test_the_drawing_process_yields_the_cores_to_the_serving_one(drawer: InProcess) -> None:
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert int(await drawer.draw(niceness)) == min(ours + NICENESS, 19)


async def test_a_process_that_dies_fails_its_graph_and_the_next_starts_another(
    drawer: InProcess,
) -> None:
    before = await drawer.draw(whose)
    with pytest.raises(EvidenceError, match="the process drawing graphs stopped"):
        await drawer.draw(dies)
    after = await drawer.draw(whose)
    assert after != before


async def test_a_graph_given_up_leaves_no_answer_for_the_next(drawer: InProcess) -> None:
    await drawer.draw(whose)  # started
    given_up = asyncio.create_task(drawer.draw(late, seconds=1))
    await asyncio.sleep(0)  # it asked, and waits for the answer
    given_up.cancel()
    with pytest.raises(asyncio.CancelledError):
        await given_up
    assert (await drawer.draw(whose)).isdigit()  # its own answer, not the late one


async def test_an_error_in_the_drawing_is_raised_as_it_is(drawer: InProcess) -> None:
    with pytest.raises(ValueError, match="no axes"):
        await drawer.draw(fails, why="no axes")
    assert await drawer.draw(whose)  # the process lives on


async def test_the_alert_graph_crosses_over_and_comes_back_a_png(drawer: InProcess) -> None:
    end = datetime(2026, 3, 1, 12, tzinfo=UTC)
    points = [(end - timedelta(seconds=15 * i), 0.6 + (i % 5) / 100) for i in range(240, 0, -1)]
    png = await drawer.draw(
        drawing.alert_graph,
        title="INC-7: RankerNDCGDrop",
        query=split_threshold("ndcg_at_10 < 0.61"),
        series=[Series.of(labels={"model": "ranker"}, points=points)],
        start=end - timedelta(hours=1),
        end=end,
        started=end - timedelta(minutes=20),
        resolved=None,
        changes=[(end - timedelta(minutes=22), "v43-bad")],
    )
    assert png.startswith(SIGNATURE)
    assert len(png) > 10_000  # a drawn chart, not an empty canvas


async def test_after_close_a_graph_starts_a_new_process(drawer: InProcess) -> None:
    before = await drawer.draw(whose)
    drawer.close()
    assert await drawer.draw(whose) != before


async def test_a_drawing_process_without_graphs_for_a_while_stops() -> None:
    drawer = InProcess(idle_s=0.3)
    try:
        pid = int(await drawer.draw(whose))
        assert alive(pid)
        await eventually(lambda: not alive(pid), what="the idle drawing process to stop")
        assert int(await drawer.draw(whose)) != pid  # the next graph starts another
    finally:
        await drawer.stop()


async def test_a_graph_in_progress_keeps_the_process() -> None:
    drawer = InProcess(idle_s=0.2)
    try:
        first = await drawer.draw(whose)
        assert await drawer.draw(slow, seconds=0.6) == first  # longer than idle_s: not stopped
    finally:
        await drawer.stop()


def alive(pid: int) -> bool:
    # A child that has exited but is not yet reaped shows as a zombie ("Z"): gone all the same.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"
