"""Background work started by a request (Slack calls after a webhook is answered)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, TypeVar

from bot.incidents.ports import STOPPING, ChatError

log = logging.getLogger(__name__)

T = TypeVar("T")


class Background:
    """Keeps a reference to every task (asyncio holds only weak ones) and logs failures."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._asked: dict[Hashable, Any] = {}  # key → what to run once more when its run ends

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def spawn_merged(
        self,
        key: Hashable,
        work: Callable[[T], Coroutine[Any, Any, Any]],
        asked: T,
        *,
        merge: Callable[[T, T], T],
        name: str,
    ) -> None:
        """Run `work(asked)`, one run per key at a time. Asked again while a run is going on,
        it runs once more after that run ends, with everything asked meanwhile merged.

        For work that brings something up to date from what is stored (a channel after an
        alert storm): ten changes that arrive during one run need one more run, not ten.
        """
        if key in self._asked:
            earlier = self._asked[key]
            self._asked[key] = asked if earlier is None else merge(earlier, asked)
            return
        self._asked[key] = None  # a run is going on; nothing more asked yet

        async def runs(first: T) -> None:
            current: T | None = first
            try:
                while current is not None:
                    try:
                        await work(current)
                    except Exception as exc:  # the next run may still succeed: log and go on
                        self._log_failure(name, exc)
                    current = self._asked[key]
                    self._asked[key] = None
            finally:
                del self._asked[key]

        self.spawn(runs(asked), name=name)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log_failure(task.get_name(), task.exception())

    @staticmethod
    def _log_failure(name: str, failure: BaseException | None) -> None:
        if isinstance(failure, ChatError) and failure.code == STOPPING:
            # Not a fault, so no traceback: its calls are stored and sent after the next start,
            # which also resumes an unfinished channel set-up.
            log.warning("background task %s cut short: the bot is stopping", name)
            return
        log.error("background task %s failed", name, exc_info=failure)

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
