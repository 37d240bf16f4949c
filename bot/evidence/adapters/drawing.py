"""Where graphs are drawn. matplotlib holds the GIL for most of a draw (about 0.4 s of CPU for an
alert graph): drawn in a thread of the serving process, a storm's two hundred graphs held up the
event loop that answers the webhooks for over a minute. `InProcess` draws them in a process of
its own; `InThread` is the plain thread, for tools and tests that draw one graph."""

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


class InThread:
    async def draw(self, draw: Callable[..., bytes], /, **parts: Any) -> bytes:
        return await asyncio.to_thread(draw, **parts)


class InProcess:
    """One drawing process, started when first needed (or by `warm`) and kept: its matplotlib
    import (about a second) is paid once. Spawned, not forked: a fork copies the serving
    process's threads' locks in whatever state they are. If it dies, the graph it was drawing
    fails with EvidenceError and the next one starts another."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def warm(self) -> None:
        """Start the process and load the drawing code now, so the first graph need not wait."""
        self._started().submit(_load)

    async def draw(self, draw: Callable[..., bytes], /, **parts: Any) -> bytes:
        pool = self._started()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, functools.partial(draw, **parts))
        except BrokenProcessPool as exc:
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise EvidenceError("the process drawing graphs stopped") from exc

    def close(self) -> None:
        """Stop the process without waiting for a graph it is drawing (nobody will post it)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

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
    # cannot. In a storm the two processes want the same cores: the kernel serves this one last.
    os.nice(NICENESS)


def _load() -> None:
    import bot.evidence.graph  # noqa: F401 - loads matplotlib, the slow part of a first graph
