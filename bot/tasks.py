"""Background work started by a request (Slack calls after a webhook is answered)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.incidents.ports import STOPPING, ChatError

log = logging.getLogger(__name__)

T = TypeVar("T")

_STARTS_KEPT = 1000  # paced keys' last starts kept before the ones older than any spacing go


@dataclass(frozen=True)
class Pace:
    """How far apart the runs of one paced key start: `each` seconds for every paced key
    under way (itself included), at most `longest`.

    So paced keys together start about 1/`each` runs a second however many are busy, up to
    `longest`/`each` keys: in a storm over 200 incidents each card is brought up to date
    every 10 s rather than after every alert (the chat work then cost most of the storm's
    CPU), while a lone incident waits 50 ms. A key's first run never waits.
    """

    each: float = 0.05
    longest: float = 10.0

    def spacing(self, under_way: int) -> float:
        return min(self.longest, self.each * under_way)


class Background:
    """Keeps a reference to every task (asyncio holds only weak ones) and logs failures."""

    def __init__(self, *, pace: Pace | None = None) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._asked: dict[Hashable, Any] = {}  # key → what to run once more when its run ends
        self._pace = pace or Pace()
        self._paced = 0  # paced keys with a run going on or waiting its turn
        self._started: dict[Hashable, float] = {}  # paced key → its last run's start (loop time)
        self._prune_at = _STARTS_KEPT
        self._hurry = asyncio.Event()  # set by drain: paced runs wait no more

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
        paced: bool = False,
    ) -> None:
        """Run `work(asked)`, one run per key at a time. Asked again while a run is going on,
        it runs once more after that run ends, with everything asked meanwhile merged.
        `paced`: a key's runs start at least the Pace's spacing apart; what is asked while a
        run waits its turn is merged into it.

        For work that brings something up to date from what is stored (a channel after an
        alert storm): ten changes that arrive during one run need one more run, not ten.
        """
        if key in self._asked:
            earlier = self._asked[key]
            self._asked[key] = asked if earlier is None else merge(earlier, asked)
            return
        self._asked[key] = None  # a run is going on; nothing more asked yet
        self._paced += int(paced)

        async def runs(first: T) -> None:
            current: T | None = first
            try:
                while current is not None:
                    if paced:
                        await self._turn_of(key)
                        later, self._asked[key] = self._asked[key], None
                        current = current if later is None else merge(current, later)
                    try:
                        await work(current)
                    except Exception as exc:  # the next run may still succeed: log and go on
                        self._log_failure(name, exc)
                    current, self._asked[key] = self._asked[key], None
            finally:
                del self._asked[key]
                self._paced -= int(paced)

        self.spawn(runs(asked), name=name)

    async def _turn_of(self, key: Hashable) -> None:
        """Wait until the paced key's spacing has passed since its last run started (not at
        all when the bot is stopping: what was asked still runs)."""
        loop = asyncio.get_running_loop()
        last = self._started.get(key)
        if last is not None and not self._hurry.is_set():
            wait = last + self._pace.spacing(self._paced) - loop.time()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._hurry.wait()
        now = loop.time()
        if len(self._started) > self._prune_at:  # forget keys whose spacing has passed
            longest = self._pace.longest
            self._started = {k: t for k, t in self._started.items() if now - t < longest}
            self._prune_at = max(_STARTS_KEPT, 2 * len(self._started))
        self._started[key] = now

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
        """Let running work finish at shutdown; cancel what is still running after `timeout`.
        Paced runs waiting their turn run now."""
        self._hurry.set()
        if not self._tasks:
            return
        _, still_running = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in still_running:
            task.cancel()
        if still_running:
            await asyncio.wait(still_running)
