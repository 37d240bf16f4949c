"""Group commit: many callers' writes in one transaction, each answered after its commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import make_engine, make_sessions
from bot.db.group_commit import GroupCommit, Rounds, Step, shared_writes
from tests.statements import commits


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[object]:
    engine = make_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (word VARCHAR(40) PRIMARY KEY)"))
    yield make_sessions(engine)
    await engine.dispose()


class Notes:
    """Writes each word as a row; answers its upper case. Remembers each group's words."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.hold: asyncio.Event | None = None  # set: the next group waits for it
        self.started = asyncio.Event()  # a group is being written

    async def write(self, session: AsyncSession, words: Sequence[str]) -> list[str]:
        self.groups.append(list(words))
        self.started.set()
        hold, self.hold = self.hold, None
        if hold is not None:
            await hold.wait()
        for word in words:
            await session.execute(text("INSERT INTO notes (word) VALUES (:w)"), {"w": word})
        return [word.upper() for word in words]


async def stored(sessions: object) -> list[str]:
    async with sessions() as session:  # type: ignore[operator]
        return list((await session.scalars(text("SELECT word FROM notes ORDER BY word"))).all())


async def test_writes_asked_together_share_one_commit_and_each_caller_gets_its_own_answer(
    sessions: object,
) -> None:
    notes = Notes()
    group = GroupCommit[str, str](sessions=sessions, write=notes.write)
    words = [f"w{i}" for i in range(10)]
    with commits() as committed:
        answers = await asyncio.gather(*(group(word) for word in words))
    assert answers == [word.upper() for word in words]
    assert notes.groups == [words]
    assert len(committed) == 1
    assert await stored(sessions) == sorted(words)


async def test_a_write_asked_as_soon_as_the_last_is_answered_is_written(
    sessions: object,
) -> None:
    """The caller resumes before its writer's task has ended: a new writer must start."""
    group = GroupCommit[str, str](sessions=sessions, write=Notes().write)
    assert await group("a") == "A"
    async with asyncio.timeout(5):  # not wait_for: its task would start only after that end
        assert await group("b") == "B"


async def test_what_is_asked_while_a_group_is_written_goes_into_the_next(
    sessions: object,
) -> None:
    notes = Notes()
    hold = notes.hold = asyncio.Event()
    group = GroupCommit[str, str](sessions=sessions, write=notes.write)
    first = asyncio.create_task(group("a"))
    await notes.started.wait()  # the first group is being written
    later = [asyncio.create_task(group(word)) for word in ("b", "c", "d")]
    await asyncio.sleep(0.05)
    assert not first.done()  # answered only once its group is committed
    hold.set()
    assert await asyncio.gather(first, *later) == ["A", "B", "C", "D"]
    assert notes.groups == [["a"], ["b", "c", "d"]]


async def test_a_group_is_no_bigger_than_most(sessions: object) -> None:
    notes = Notes()
    group = GroupCommit[str, str](sessions=sessions, write=notes.write, most=4)
    await asyncio.gather(*(group(f"w{i}") for i in range(10)))
    assert [len(words) for words in notes.groups] == [4, 4, 2]


async def test_a_write_that_fails_fails_its_own_caller_and_the_others_are_written(
    sessions: object,
) -> None:
    notes = Notes()
    group = GroupCommit[str, str](sessions=sessions, write=notes.write)
    await group("taken")
    answers = await asyncio.gather(group("x"), group("taken"), group("y"), return_exceptions=True)
    assert answers[0] == "X" and answers[2] == "Y"
    assert isinstance(answers[1], IntegrityError)
    # The group's transaction failed, then each was tried in one of its own.
    assert notes.groups == [["taken"], ["x", "taken", "y"], ["x"], ["taken"], ["y"]]
    assert await stored(sessions) == ["taken", "x", "y"]


async def test_callers_waiting_when_the_writer_is_cancelled_get_an_error(
    sessions: object,
) -> None:
    notes = Notes()
    notes.hold = asyncio.Event()
    group = GroupCommit[str, str](sessions=sessions, write=notes.write, name="notes-writer")
    first = asyncio.create_task(group("a"))
    await notes.started.wait()
    second = asyncio.create_task(group("b"))
    await asyncio.sleep(0)
    (writer,) = [t for t in asyncio.all_tasks() if t.get_name() == "notes-writer"]
    writer.cancel()  # as at shutdown
    for waiting in (first, second):
        with pytest.raises(RuntimeError, match="notes-writer stopped before writing this"):
            await asyncio.wait_for(waiting, 5)
    assert await stored(sessions) == []
    # The next caller starts a writer again.
    assert await group("c") == "C"


class NoTransactions:
    """A session factory whose transactions cannot begin (the store is gone)."""

    def __init__(self) -> None:
        self.begun = 0

    def begin(self) -> object:
        self.begun += 1
        raise ConnectionRefusedError("the store is gone")


async def test_when_no_transaction_can_begin_every_waiting_caller_gets_that_error_at_once() -> None:
    notes, store = Notes(), NoTransactions()
    group = GroupCommit[str, str](sessions=store, write=notes.write)
    answers = await asyncio.gather(*(group(w) for w in "abc"), return_exceptions=True)
    assert [type(a) for a in answers] == [ConnectionRefusedError] * 3
    assert store.begun == 1  # not once more for each, alone
    assert notes.groups == []


async def test_shared_writes_run_steps_in_order_in_one_commit_and_a_failing_step_alone(
    sessions: object,
) -> None:
    """The chat's set-up steps (bot.context.Context.write): many to a commit, each answered
    with what it returned; one that fails fails its own caller only."""
    writes = shared_writes(sessions)

    def insert(word: str) -> Step:
        async def step(session: AsyncSession) -> str:
            await session.execute(text("INSERT INTO notes (word) VALUES (:w)"), {"w": word})
            return word

        return step

    with commits() as committed:
        answers = await asyncio.gather(
            *(writes(insert(w)) for w in ["a", "b", "a", "c"]), return_exceptions=True
        )
    assert answers[:2] == ["a", "b"] and answers[3] == "c"
    assert isinstance(answers[2], IntegrityError)  # the second "a"
    assert await stored(sessions) == ["a", "b", "c"]
    # The group's commit failed on the second "a"; then each step in a transaction of its own.
    assert len(committed) == 3


async def test_group_commits_sharing_rounds_write_together_and_fall_back_each_alone(
    sessions: object,
) -> None:
    """Intake, the outbox and the chat's steps on SQLite: one writer, one transaction for what
    they were all asked; a round that fails is written item by item, so only the bad one fails."""
    rounds = Rounds(sessions=sessions, name="writer")
    upper, lower = Notes(), Notes()
    shouting = GroupCommit[str, str](sessions=sessions, write=upper.write, rounds=rounds)

    async def write_lower(session: AsyncSession, words: Sequence[str]) -> list[str]:
        await lower.write(session, [word.lower() for word in words])
        return [word.lower() for word in words]

    quiet = GroupCommit[str, str](sessions=sessions, write=write_lower, rounds=rounds)
    with commits() as committed:
        answers = await asyncio.gather(shouting("a"), quiet("B"), shouting("c"), quiet("D"))
    assert answers == ["A", "b", "C", "d"]
    assert len(committed) == 1  # both groups in one transaction
    assert upper.groups == [["a", "c"]] and lower.groups == [["b", "d"]]

    with commits() as committed:
        again = await asyncio.gather(
            shouting("e"), quiet("A"), shouting("f"), return_exceptions=True
        )
    assert again[0] == "E" and again[2] == "F"
    assert isinstance(again[1], IntegrityError)  # "a" is stored already
    assert len(committed) == 2  # the round failed; then e and f alone, each committed
    assert await stored(sessions) == ["a", "b", "c", "d", "e", "f"]
