"""Background work started by a request (Slack calls after a webhook is answered)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bot.incidents.ports import STOPPING, ChatError

log = logging.getLogger(__name__)


class Background:
    """Keeps a reference to every task (asyncio holds only weak ones) and logs failures."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        failure = task.exception()
        if isinstance(failure, ChatError) and failure.code == STOPPING:
            # Not a fault, so no traceback: its calls are stored and sent after the next start,
            # which also resumes an unfinished channel set-up.
            log.warning("background task %s cut short: the bot is stopping", task.get_name())
            return
        log.error("background task %s failed", task.get_name(), exc_info=failure)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109 - a grace period, not a deadline
        """Let running work finish at shutdown; cancel what is still running after `timeout`."""
        if not self._tasks:
            return
        _, still_running = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in still_running:
            task.cancel()
        if still_running:
            await asyncio.wait(still_running)
