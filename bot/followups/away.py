"""The chat follow-ups in a process of their own.

In an alert storm the chat work of each incident (its channel, announcements, budget message,
graph and card syncs, each Slack call stored, sent and recorded) took more of the serving
process's CPU than intake itself, and every webhook waited behind it (bench.storm). Here the
serving process only forwards what intake and the change feed announce (wire.OUTWARD) down a
pipe; a child process runs bot.followups on them with its own store connections and Slack
clients, and sends back what the serving process acts on (wire.BACK).

What survives a crash is what survived before: Slack calls are in the outbox, and a set-up left
unfinished is resumed when the chat process (re)starts. What is forwarded while none runs (it
is restarting: about two seconds) is held and given to the next; what the one that died had
been given and not yet taken goes with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol

from bot.events import Bus, Event
from bot.followups.wire import BACK, OUTWARD, decode, encode, encode_status
from bot.incidents.events import InChat, IncidentOpened, SetUpUnfinished
from bot.metrics import Counts
from bot.tasks import Background

log = logging.getLogger(__name__)

CHAT_PROCESS_COMMAND = "chat-process"  # firebreak's, hidden: `python -m bot chat-process`
RESTART_AFTER_S = 1.0  # between a chat process's unexpected exit and its successor
STOP_GRACE_S = 15.0  # for the chat process to finish what it was doing once told to stop
STATUS_EVERY_S = 0.1  # how often the chat process says how much work it has, when it changed
# A set-up asked of the chat process is not asked again for this long, unless it said the
# incident is in chat: until it does, every repeat of the group asks (SetUpUnfinished), and in
# a storm that was thousands of lines a second for runs the chat process merges into one.
REASK_S = 1.0
# Events held while no chat process runs (a restart takes about 2 s), for the next; beyond this
# (some 10 MB of JSON lines) they are dropped, counted and logged, and an incident's card shows
# them at its next change.
HELD_MOST = 50_000


class Away:
    """The serving process's side: starts the chat process, forwards events to it, publishes
    what it sends back, and starts another if it dies."""

    def __init__(
        self,
        *,
        command: Sequence[str],
        hello: Mapping[str, str],
        publish: Callable[[Event], Awaitable[None]],
        restart_after: float = RESTART_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
        counted: Callable[[Counts], None] | None = None,
        signals: Mapping[str, Callable[[], None]] | None = None,
        held_most: int = HELD_MOST,
    ) -> None:
        """`hello`: the first line the chat process reads (the Slack token and address it is
        to use: secrets go down the pipe, not into its environment or command line);
        `counted`: takes what the chat process's metrics counted (Metrics.add); `signals`:
        what to do when it signals a name (wire.encode_signal)."""
        self._command = list(command)
        self._hello = json.dumps(dict(hello)).encode() + b"\n"
        self._publish = publish
        self._restart_after = restart_after
        self._process: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False
        self._stop_asked = asyncio.Event()  # wakes a supervisor waiting to start another
        self._ready = False
        self._sent = self._taken = self._busy = 0
        self._held: deque[bytes] = deque()  # forwarded while none ran, for the next
        self._held_most = held_most
        self.dropped = 0  # events not held: told to stop, or more than held_most
        self._clock = clock
        self._counted = counted
        self._signals = dict(signals or {})
        self._asked: dict[int, float] = {}  # incident → when its set-up was last asked
        self.coalesced = 0  # set-ups not asked again (REASK_S)

    def subscribe(self, bus: Bus) -> None:
        for kind in OUTWARD:
            bus.subscribe(kind, self.forward)

    async def forward(self, event: Event) -> None:
        if isinstance(event, IncidentOpened | SetUpUnfinished) and self._asked_lately(event):
            self.coalesced += 1
            return
        process = self._process
        if process is None or process.stdin is None or process.stdin.is_closing():
            if self._stopping or len(self._held) >= self._held_most:
                self.dropped += 1
                log.warning("chat process not running: %s not followed up", event)
            else:
                self._held.append(encode(event))
            return
        # Buffered by the pipe's transport: never waits, however far behind the child is.
        process.stdin.write(encode(event))
        self._sent += 1

    def _asked_lately(self, event: IncidentOpened | SetUpUnfinished) -> bool:
        now = self._clock()
        asked = self._asked.get(event.incident_id)
        if asked is not None and now - asked < REASK_S:
            return True
        self._asked[event.incident_id] = now
        return False

    @property
    def pid(self) -> int | None:
        """The chat process's, while one runs (not one that has ended: its pid may be reused)."""
        process = self._process
        return None if process is None or process.returncode is not None else process.pid

    @property
    def running(self) -> bool:
        """Started, and has said it is taking events."""
        return self._ready and self._process is not None and self._process.returncode is None

    @property
    def pending(self) -> int:
        """Events not yet taken by the chat process (held for one included), and its work
        under way."""
        return len(self._held) + self._sent - self._taken + self._busy

    async def start(self) -> None:
        self._stopping = False
        self._stop_asked = asyncio.Event()
        await self._spawn()
        self._supervisor = asyncio.create_task(self._supervise(), name="chat-process")

    async def stop(self, *, grace: float = STOP_GRACE_S) -> None:
        """Close the pipe (the chat process finishes its work and exits); kill it after
        `grace`. What it had not sent is in the outbox, for the next start."""
        self._stopping = True
        self._stop_asked.set()
        process = self._process
        if process is not None and process.stdin is not None:
            process.stdin.close()
        if self._supervisor is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._supervisor), grace)
            except TimeoutError:
                log.warning("chat process still busy after %.0f s: killed", grace)
                if process is not None and process.returncode is None:
                    process.kill()
                await self._supervisor

    async def _spawn(self) -> None:
        process = await asyncio.create_subprocess_exec(
            *self._command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert process.stdin is not None
        process.stdin.write(self._hello)
        while self._held:
            process.stdin.write(self._held.popleft())
            self._sent += 1
        self._process = process
        log.info("chat process %d started", process.pid)

    async def _supervise(self) -> None:
        while True:
            process = self._process
            assert process is not None and process.stdout is not None
            async for line in process.stdout:
                await self._take(line)
            code = await process.wait()
            # What it was asked, said and had taken goes with it; its successor resumes
            # unfinished set-ups from the store.
            self._sent = self._taken = self._busy = 0
            self._ready = False
            self._asked.clear()
            if self._stopping:
                log.info("chat process %d stopped (exit %d)", process.pid, code)
                return
            self._process = None
            log.error("chat process %d exited (%d); starting another", process.pid, code)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._restart_after):
                    await self._stop_asked.wait()
            if self._stopping:  # told to stop meanwhile: none to start
                return
            await self._spawn()

    async def _take(self, line: bytes) -> None:
        try:
            said = decode(line)
        except (ValueError, KeyError, TypeError):
            log.error("chat process: not understood: %r", line[:200])
            return
        if isinstance(said, dict) and "signal" in said:
            signalled = self._signals.get(said["signal"])
            if signalled is not None:
                signalled()
        elif isinstance(said, dict):
            self._taken, self._busy = said["taken"], said["busy"]
            self._ready = True
            if self._counted is not None and "counted" in said:
                self._counted(said["counted"])
        else:
            if isinstance(said, InChat):
                self._asked.pop(said.incident_id, None)
            await self._publish(said)


class Outlet(Protocol):
    def write(self, data: bytes) -> None: ...


async def take_events(
    *,
    bus: Bus,
    background: Background,
    inbox: asyncio.StreamReader,
    outlet: Outlet,
    tally: Callable[[], Counts] = dict,
) -> None:
    """The chat process's side, until the serving process closes the pipe: each event it sends
    is published on this process's bus (where bot.followups is subscribed), and what BACK names
    is sent back, with how much work is under way and what `tally` says was counted."""

    async def send_back(event: Event) -> None:
        outlet.write(encode(event))

    for kind in BACK:
        bus.subscribe(kind, send_back)
    taken = 0

    async def report() -> None:
        said = (-1, -1)  # the first status goes at once: it says this process is ready
        while True:
            now, counted = (taken, background.pending), tally()
            if now != said or counted:
                outlet.write(encode_status(taken=now[0], busy=now[1], counted=counted))
                said = now
            await asyncio.sleep(STATUS_EVERY_S)

    reporting = asyncio.create_task(report(), name="chat-process-status")
    try:
        async for line in inbox:
            await bus.publish(decode_event(line))
            taken += 1  # counted once its follow-up is under way (background.pending)
    finally:
        reporting.cancel()


def decode_event(line: bytes) -> Event:
    said = decode(line)
    if not isinstance(said, Event):
        raise ValueError(f"an event was expected: {line[:200]!r}")
    return said


async def stdio() -> tuple[asyncio.StreamReader, asyncio.WriteTransport]:
    """The chat process's pipe to the serving process, on its stdin and stdout. Standard output
    is then pointed at standard error, so that nothing printed by accident reaches the pipe."""
    loop = asyncio.get_running_loop()
    # Ctrl-C reaches the whole process group: this process stops when the serving one closes
    # the pipe, after finishing what it was doing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inbox = asyncio.StreamReader(limit=2**20)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(inbox), os.fdopen(sys.stdin.fileno(), "rb", 0)
    )
    pipe = os.fdopen(os.dup(sys.stdout.fileno()), "wb", 0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    # Only written to, never drained: what the serving process has not read yet is buffered.
    transport, _ = await loop.connect_write_pipe(asyncio.Protocol, pipe)
    return inbox, transport
