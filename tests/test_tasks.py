"""Background work: failures are logged, a cut short by shutdown is not a failure."""

from __future__ import annotations

import logging

import pytest

from bot.incidents.ports import STOPPING, ChatError
from bot.tasks import Background


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
