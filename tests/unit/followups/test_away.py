"""The chat follow-ups' process, from the serving process's side (Away) and its own
(stdio, take_events): a real child process over real pipes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.events import Bus, Event
from bot.followups.away import REASK_S, Away, take_events
from bot.followups.wire import decode, encode
from bot.incidents.events import (
    AlertsChanged,
    InChat,
    IncidentAnnounced,
    IncidentOpened,
    SetUpUnfinished,
    SourceNoted,
)
from bot.metrics import Counts
from bot.tasks import Background
from tests.polling import eventually

# A chat process whose follow-up of an opened incident says it is in chat once the hello's
# `release` file exists (so a test can see its work under way), after printing to stdout by
# accident: that must not reach the pipe.
CHILD = textwrap.dedent(
    """
    import asyncio, json, os
    from bot.events import Bus
    from bot.followups.away import stdio, take_events
    from bot.followups.wire import encode_signal
    from bot.incidents.events import IncidentOpened, InChat
    from bot.tasks import Background

    async def main():
        inbox, outlet = await stdio()
        hello = json.loads(await inbox.readline())
        outlet.write(encode_signal("hello"))
        print("printed by accident")
        bus, background = Bus(), Background()

        async def opened(event):
            async def set_up():
                while not os.path.exists(hello["release"]):
                    await asyncio.sleep(0.01)
                await bus.publish(InChat(event.incident_id))
            background.spawn(set_up(), name="set-up")

        bus.subscribe(IncidentOpened, opened)
        counted = [{"slack_calls": [(["conversations.create"], 1.0)]}]  # once, at the start
        await take_events(
            bus=bus,
            background=background,
            inbox=inbox,
            outlet=outlet,
            tally=lambda: counted.pop() if counted else {},
        )
        await background.drain(timeout=10)

    asyncio.run(main())
    """
)


class Told:
    """What the chat process sent back, as the serving process's bus would publish it."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.counted: list[Counts] = []  # what its metrics counted
        self.signalled: list[str] = []

    async def publish(self, event: Event) -> None:
        self.events.append(event)


def chat_process(told: Told, tmp_path: Path, **options: Any) -> Away:
    return Away(
        command=[sys.executable, "-c", CHILD],
        hello={"release": str(tmp_path / "release")},
        publish=told.publish,
        counted=told.counted.append,
        signals={"hello": lambda: told.signalled.append("hello")},
        **{"restart_after": 0.05, **options},
    )


@contextlib.asynccontextmanager
async def started(tmp_path: Path, **options: Any) -> AsyncIterator[tuple[Away, Bus, Told]]:
    """A chat process that takes what `bus` publishes; stopped after."""
    told, bus = Told(), Bus()
    away = chat_process(told, tmp_path, **options)
    away.subscribe(bus)
    await away.start()
    try:
        yield away, bus, told
    finally:
        await away.stop()


async def test_events_go_to_the_chat_process_and_what_it_says_comes_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with started(tmp_path) as (away, bus, told):
        await bus.publish(IncidentOpened(7))
        await bus.publish(IncidentAnnounced(7))  # not forwarded: it comes from the chat process
        # Taken, and its follow-up under way (waiting for the release file).
        await eventually(lambda: away.pending == 1, what="the set-up under way", timeout=30)
        assert told.events == []
        (tmp_path / "release").touch()
        await eventually(lambda: told.events == [InChat(7)], what="InChat back", timeout=10)
        await eventually(lambda: away.pending == 0, what="nothing pending", timeout=10)
        assert told.counted == [{"slack_calls": [[["conversations.create"], 1.0]]}]
        assert told.signalled == ["hello"]
    assert not away.running
    assert "not understood" not in caplog.text  # the child's print went to stderr


async def test_a_chat_process_that_dies_is_started_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "release").touch()
    async with started(tmp_path) as (away, bus, told):
        first = away.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await eventually(
            lambda: away.running and away.pid != first, what="another chat process", timeout=30
        )
        await bus.publish(IncidentOpened(8))
        await eventually(lambda: InChat(8) in told.events, what="InChat from the new one")
    assert "exited (-9); starting another" in caplog.text


async def test_one_told_to_stop_while_waiting_to_start_another_starts_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with started(tmp_path, restart_after=3600) as (away, _, _):
        first = away.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await eventually(lambda: away.pid is None, what="its exit seen")
        await away.stop()
        assert away.pid is None and not away.running
    assert "killed" not in caplog.text


async def test_a_set_up_is_asked_again_only_after_a_while_or_once_in_chat(
    tmp_path: Path,
) -> None:
    (tmp_path / "release").touch()
    now = [100.0]
    async with started(tmp_path, clock=lambda: now[0]) as (away, _, told):
        # Every repeat of a group asks until its set-up is done: one ask goes down the pipe.
        await away.forward(SetUpUnfinished(5))
        await away.forward(SetUpUnfinished(5))
        assert away.coalesced == 1
        now[0] += REASK_S  # a set-up that failed is asked again by the next repeat
        await away.forward(SetUpUnfinished(5))
        assert away.coalesced == 1
        await away.forward(IncidentOpened(6))
        await eventually(lambda: InChat(6) in told.events, what="InChat back")
        await away.forward(SetUpUnfinished(6))  # asked after it was in chat: goes on
        assert away.coalesced == 1


async def test_what_is_forwarded_while_none_runs_is_given_to_the_next(tmp_path: Path) -> None:
    told = Told()
    away = chat_process(told, tmp_path)
    await away.forward(IncidentOpened(3))  # not started yet, as while one restarts
    assert away.pending == 1
    assert away.dropped == 0
    (tmp_path / "release").touch()
    await away.start()
    try:
        await eventually(lambda: InChat(3) in told.events, what="the held set-up", timeout=30)
    finally:
        await away.stop()


async def test_beyond_what_is_held_or_once_told_to_stop_events_are_dropped_and_counted(
    tmp_path: Path,
) -> None:
    away = chat_process(Told(), tmp_path, held_most=2)
    for incident_id in range(3):
        await away.forward(AlertsChanged(incident_id))
    assert (away.pending, away.dropped) == (2, 1)
    await away.stop()
    await away.forward(AlertsChanged(4))
    assert away.dropped == 2


async def test_a_chat_process_that_does_not_stop_is_killed_after_the_grace(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    # Its set-up waits for a release that never comes.
    async with started(tmp_path) as (away, bus, _):
        await bus.publish(IncidentOpened(9))
        await eventually(lambda: away.pending == 1, what="the set-up under way", timeout=30)
        await away.stop(grace=0.5)
        assert not away.running
        assert "killed" in caplog.text


class Outlet:
    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.lines.append(data)

    def said(self) -> list[object]:
        return [decode(line) for line in self.lines]


async def test_take_events_publishes_each_line_and_sends_back_what_back_names() -> None:
    bus, background, outlet = Bus(), Background(), Outlet()
    seen: list[Event] = []
    done = asyncio.Event()

    async def opened(event: IncidentOpened) -> None:
        seen.append(event)

        async def set_up() -> None:
            await done.wait()
            await bus.publish(IncidentAnnounced(event.incident_id))

        background.spawn(set_up(), name="set-up")

    async def noted(event: SourceNoted) -> None:
        seen.append(event)

    bus.subscribe(IncidentOpened, opened)
    bus.subscribe(SourceNoted, noted)
    inbox = asyncio.StreamReader()
    inbox.feed_data(encode(IncidentOpened(1)) + encode(SourceNoted(1, "said")))
    taking = asyncio.create_task(
        take_events(bus=bus, background=background, inbox=inbox, outlet=outlet)
    )
    await eventually(
        lambda: {"taken": 2, "busy": 1} in outlet.said(), what="two taken, one under way"
    )
    assert seen == [IncidentOpened(1), SourceNoted(1, "said")]
    done.set()
    await eventually(lambda: IncidentAnnounced(1) in outlet.said(), what="announced, sent back")
    await eventually(lambda: outlet.said()[-1] == {"taken": 2, "busy": 0}, what="all done")
    inbox.feed_eof()
    await asyncio.wait_for(taking, 5)  # the pipe closed: it returns
