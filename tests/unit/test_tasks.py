"""Background work: failures are logged, a cut short by shutdown is not a failure."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.incidents.ports import STOPPING, ChatError
from bot.tasks import Background
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
