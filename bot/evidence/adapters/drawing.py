"""Where graphs are drawn. matplotlib holds the GIL for most of a draw (about 0.3 s of CPU for an
alert graph): drawn in a thread of the serving process, a storm's two hundred graphs held up the
event loop that answers the webhooks for over a minute. `InProcess` draws them in a process of
its own."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import sys
from collections.abc import Callable
from typing import IO, Any

from bot.evidence.ports import EvidenceError

IDLE_S = 30.0  # without a graph, the drawing process stops
NICENESS = 10  # added to the drawing process's: on a busy machine graphs wait, webhooks do not
# The drawing process's program: this module's draws(), in a fresh interpreter.
_PROGRAM = "from bot.evidence.adapters.drawing import draws; draws()"


class InProcess:
    """One drawing process, started when first needed and kept while graphs keep coming: its
    matplotlib import (2-3 s of CPU here) is paid once a storm. It stops after
    `idle_s` without a graph, giving back its memory (about 100 MB) until the next one.
    A fresh interpreter, not a fork (which copies the parent's threads' locks in whatever state
    they are), and not multiprocessing's spawn, which starts a resource tracker beside it (a
    12 MB process for as long as its parent lives). A graph is a pickled call down its stdin
    and a pickled answer up its stdout, one at a time. If it dies, the graph it was drawing
    fails with EvidenceError and the next one starts another."""

    def __init__(self, *, idle_s: float = IDLE_S) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._turn = asyncio.Lock()  # one graph at a time: one process draws
        self._idle_s = idle_s
        self._drawing = 0
        self._idle: asyncio.TimerHandle | None = None

    async def draw(self, draw: Callable[..., bytes], /, **parts: Any) -> bytes:
        loop = asyncio.get_running_loop()
        self._drawing += 1
        if self._idle is not None:
            self._idle.cancel()
        try:
            async with self._turn:
                process = await self._started()
                try:
                    drawn, value = await _asked(process, draw, parts)
                except (asyncio.IncompleteReadError, ConnectionError) as exc:
                    self._discard(process)
                    raise EvidenceError("the process drawing graphs stopped") from exc
                except BaseException:
                    self._discard(process)  # cancelled: its answer would be the next one's
                    raise
            if not drawn:
                raise value  # the drawing's own error, as it was raised
            return bytes(value)
        finally:
            self._drawing -= 1
            if not self._drawing:
                self._idle = loop.call_later(self._idle_s, self._stop_if_idle)

    def close(self) -> None:
        """Stop the process without waiting for a graph it is drawing (nobody will post it):
        its stdin closed, it ends by itself between graphs; killed in the middle of one."""
        process, self._process = self._process, None
        if self._idle is not None:
            self._idle.cancel()
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        if self._drawing and process.returncode is None:
            process.kill()

    async def stop(self) -> None:
        """`close`, and wait until the process has ended (its pipes closed while this event
        loop still runs)."""
        process = self._process
        self.close()
        if process is not None:
            await process.wait()

    def _discard(self, process: asyncio.subprocess.Process) -> None:
        if self._process is process:
            self.close()

    def _stop_if_idle(self) -> None:
        if not self._drawing:
            self.close()

    async def _started(self) -> asyncio.subprocess.Process:
        if self._process is not None and self._process.returncode is not None:
            self.close()  # it died between graphs: its pipe closed, another started
        if self._process is None:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                _PROGRAM,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            assert process.stdin is not None
            # Where to find what it is asked to call by name (a test's module too).
            process.stdin.write(_framed(sys.path))
            self._process = process
        return self._process


async def _asked(
    process: asyncio.subprocess.Process, draw: Callable[..., bytes], parts: dict[str, Any]
) -> tuple[bool, Any]:
    """Whether it was drawn, and the PNG or the exception the drawing raised."""
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(_framed((draw, parts)))
    await process.stdin.drain()
    size = int.from_bytes(await process.stdout.readexactly(4), "big")
    drawn, value = pickle.loads(await process.stdout.readexactly(size))
    return bool(drawn), value


def _framed(value: object) -> bytes:
    data = pickle.dumps(value)
    return len(data).to_bytes(4, "big") + data


def _frame(stream: IO[bytes]) -> bytes | None:
    head = stream.read(4)
    if len(head) < 4:
        return None  # its parent closed the pipe, or is gone
    return stream.read(int.from_bytes(head, "big"))


def draws() -> None:
    """The drawing process: each call read from stdin is made and its answer (the PNG, or the
    exception it raised) written to stdout, until stdin closes."""
    # Ctrl-C reaches the whole process group: the serving process stops this one, in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A graph can come a few seconds late; an alert's acknowledgement and its announcement
    # cannot. In a storm the processes want the same cores: this one gets a small share.
    os.nice(NICENESS)
    asked, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a print while drawing must not land in the answers
    found = _frame(asked)
    if found is None:
        return
    sys.path[:] = pickle.loads(found)
    while (call := _frame(asked)) is not None:
        try:
            draw, parts = pickle.loads(call)
            said: tuple[bool, object] = (True, draw(**parts))
        except Exception as exc:  # the caller raises it: sent back as it is
            said = (False, exc)
        try:
            answer = _framed(said)
        except Exception:  # an error that does not pickle: its text instead
            answer = _framed((False, RuntimeError(repr(said[1]))))
        answers.write(answer)
        answers.flush()
