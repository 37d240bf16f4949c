"""Where graphs are drawn. matplotlib holds the GIL for most of a draw (about 0.3 s of CPU for an
alert graph): drawn in a thread of the serving process, a storm's two hundred graphs held up the
event loop that answers the webhooks for over a minute. `InProcess` draws them in a process of
its own."""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from bot.evidence.ports import EvidenceError

IDLE_S = 30.0  # without a graph, the drawing process stops


class InProcess:
    """One drawing process, started when first needed and kept while graphs keep coming: its
    matplotlib import (2-3 s of CPU here) is paid once a storm. It stops after
    `idle_s` without a graph, giving back its memory (about 100 MB) until the next one.
    Spawned, not forked: a fork copies the serving process's threads' locks in whatever state
    they are. If it dies, the graph it was drawing fails with EvidenceError and the next one
    starts another."""

    def __init__(self, *, idle_s: float = IDLE_S) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._idle_s = idle_s
        self._drawing = 0
        self._idle: asyncio.TimerHandle | None = None

    async def draw(self, draw: Callable[..., bytes], /, **parts: Any) -> bytes:
        pool = self._started()
        loop = asyncio.get_running_loop()
        self._drawing += 1
        if self._idle is not None:
            self._idle.cancel()
        try:
            return await loop.run_in_executor(pool, functools.partial(draw, **parts))
        except BrokenProcessPool as exc:
            if self._pool is pool:
                self.close()
            raise EvidenceError("the process drawing graphs stopped") from exc
        finally:
            self._drawing -= 1
            if not self._drawing:
                self._idle = loop.call_later(self._idle_s, self._stop_if_idle)

    def close(self) -> None:
        """Stop the process without waiting for a graph it is drawing (nobody will post it)."""
        pool, self._pool = self._pool, None
        if self._idle is not None:
            self._idle.cancel()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _stop_if_idle(self) -> None:
        if not self._drawing:
            self.close()

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_background,
            )
        return self._pool


NICENESS = 10  # added to the drawing process's: on a busy machine graphs wait, webhooks do not


def _background() -> None:
    # Ctrl-C reaches the whole process group: the serving process stops this one, in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A graph can come a few seconds late; an alert's acknowledgement and its announcement
    # cannot. In a storm the two processes want the same cores: this one gets a small share.
    os.nice(NICENESS)
