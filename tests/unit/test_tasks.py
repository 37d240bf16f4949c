"""Background work: failures are logged, a cut short by shutdown is not a failure."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.incidents.ports import STOPPING, ChatError
from bot.tasks import Background, Pace
from tests.polling import eventually


async def _fail(error: Exception) -> None:
    raise error


async def test_a_failure_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    background = Background()
    background.spawn(_fail(ChatError("channel_not_found")), name="INC-1-alerts")
    await background.drain(timeout=5)
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "background task INC-1-alerts failed"
    assert record.exc_info is not None and "channel_not_found" in str(record.exc_info[1])
    assert background.pending == 0


async def test_work_cut_short_by_shutdown_is_a_warning_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    background = Background()
    background.spawn(_fail(ChatError(STOPPING, "the call stays stored")), name="INC-2-open")
    await background.drain(timeout=5)
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "background task INC-2-open cut short: the bot is stopping"
    assert record.exc_info is None


async def test_work_asked_again_while_it_runs_runs_once_more_with_the_asks_merged() -> None:
    background = Background()
    release = asyncio.Event()
    runs: list[set[str]] = []

    async def work(asked: set[str]) -> None:
        runs.append(asked)
        if len(runs) == 1:
            await release.wait()

    background.spawn_merged("INC-1", work, {"a"}, merge=set.union, name="INC-1-alerts")
    await asyncio.sleep(0)  # a yield: the first run starts, and waits for `release`
    for asked in ({"b"}, {"c"}, {"d"}):  # while the first run waits
        background.spawn_merged("INC-1", work, asked, merge=set.union, name="INC-1-alerts")
    background.spawn_merged("INC-2", work, {"other"}, merge=set.union, name="INC-2-alerts")
    # Tasks start in the order they were made: once INC-2's run has started, any run the
    # three asks had started would have too.
    await eventually(lambda: {"other"} in runs, what="INC-2's run")
    assert runs == [{"a"}, {"other"}]  # another key runs beside it
    release.set()
    await background.drain(timeout=5)
    assert runs == [{"a"}, {"other"}, {"b", "c", "d"}]
    assert background.pending == 0
    # The key is free again: the next ask starts a run of its own.
    background.spawn_merged("INC-1", work, {"e"}, merge=set.union, name="INC-1-alerts")
    await background.drain(timeout=5)
    assert runs[-1] == {"e"}


async def test_a_failed_run_is_logged_and_the_merged_asks_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    background = Background()
    runs: list[int] = []

    async def work(asked: int) -> None:
        runs.append(asked)
        await asyncio.sleep(0.01)
        if asked == 1:
            raise ChatError("ratelimited")

    background.spawn_merged("k", work, 1, merge=max, name="INC-3-alerts")
    background.spawn_merged("k", work, 2, merge=max, name="INC-3-alerts")
    await background.drain(timeout=5)
    assert runs == [1, 2]
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.getMessage() == (
        "background task INC-3-alerts failed"
    )


def test_the_spacing_grows_with_the_paced_keys_under_way_up_to_the_longest() -> None:
    pace = Pace(each=0.05, longest=10)
    assert pace.spacing(1) == pytest.approx(0.05)  # a lone incident hardly waits
    assert pace.spacing(20) == pytest.approx(1.0)  # together: about 20 runs a second
    assert pace.spacing(200) == pytest.approx(10.0)
    assert pace.spacing(5000) == 10.0


async def test_a_paced_keys_runs_start_no_closer_than_its_spacing() -> None:
    background = Background(pace=Pace(each=0.1, longest=10))
    loop = asyncio.get_running_loop()
    release, hold = asyncio.Event(), asyncio.Event()
    started: list[tuple[str, float]] = []

    async def work(asked: str) -> None:
        started.append((asked, loop.time()))
        if asked == "first":
            await release.wait()
        if asked == "other":  # under way until the end of the test
            await hold.wait()

    def ask(key: str, asked: str) -> None:
        background.spawn_merged(key, work, asked, merge=max, name=f"{key}-alerts", paced=True)

    ask("INC-1", "first")
    ask("INC-2", "other")  # its own first run: it does not wait
    await eventually(lambda: len(started) == 2, what="both first runs")
    ask("INC-1", "second")  # while the first run is going on; two paced keys under way
    release.set()
    await eventually(lambda: len(started) == 3, what="INC-1's second run")
    (first, at_first), (second, at_second) = started[0], started[2]
    assert (first, second) == ("first", "second")
    assert at_second - at_first >= 0.2 - 0.001  # 0.1 s for each of the two keys under way
    # Asked again after its runs ended: the next run still keeps its distance.
    await eventually(lambda: background.pending == 1, what="INC-1's runs to end")
    ask("INC-1", "third")
    await eventually(lambda: len(started) == 4, what="INC-1's third run")
    assert started[3][1] - at_second >= 0.2 - 0.001
    hold.set()
    await background.drain(timeout=5)
    assert background.pending == 0


async def test_a_paced_run_waiting_its_turn_runs_at_once_when_the_bot_stops() -> None:
    background = Background(pace=Pace(each=60, longest=60))
    runs: list[str] = []

    async def work(asked: str) -> None:
        runs.append(asked)
        await asyncio.sleep(0)  # a yield: the second ask arrives during this run

    background.spawn_merged("k", work, "a", merge=max, name="INC-4-alerts", paced=True)
    await asyncio.sleep(0)
    background.spawn_merged("k", work, "b", merge=max, name="INC-4-alerts", paced=True)
    await eventually(lambda: runs == ["a"], what="the first run")
    # Its next run is a minute away; stopping runs it now instead of cancelling it.
    async with asyncio.timeout(5):
        await background.drain(timeout=30)
    assert runs == ["a", "b"]
    assert background.pending == 0
