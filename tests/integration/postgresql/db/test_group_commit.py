"""tests/unit/db/test_group_commit.py on PostgreSQL, and what holds on PostgreSQL only."""

from __future__ import annotations

import asyncio

from bot.db.group_commit import GroupCommit
from tests.unit.db.test_group_commit import *  # noqa: F403
from tests.unit.db.test_group_commit import Notes


# SQLite has one writer: there a second group waits for the first's write lock.
async def test_with_two_writers_a_second_group_is_written_while_the_first_waits(
    sessions: object,
) -> None:
    notes = Notes()
    hold = notes.hold = asyncio.Event()
    group = GroupCommit[str, str](sessions=sessions, write=notes.write, writers=2)
    first = asyncio.create_task(group("a"))
    await notes.started.wait()
    assert await asyncio.wait_for(asyncio.gather(group("b"), group("c")), 5) == ["B", "C"]
    assert not first.done()
    hold.set()
    assert await first == "A"
    assert notes.groups == [["a"], ["b", "c"]]
