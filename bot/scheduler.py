"""Reminders: due times kept in the project's database, fired by one process, at least once.

Each reminder is a row of `reminders` under a stable key (`INC-7-status-update`): planning it
again replaces it, so planning twice, or after a restart, never duplicates one. A row is removed
(or moved on to its next time) only after fire() returned, that is after what the reminder says
is stored in the Slack outbox. A process killed at the instant a reminder fell due leaves its
row due, and the next owner fires it: at least once (a kill between the outbox's commit and the
row's update says it twice; saying nothing would be worse at 3 a.m.).

Exactly one process fires: the holder of a lock (an exclusive flock on
`<database>.scheduler.lock` for SQLite, a session advisory lock on PostgreSQL). Every process
writes the rows it plans. The owner sleeps until its next due row or until its own planning
wakes it, and every `owner_check` seconds (FIREBREAK_SCHEDULER_TAKEOVER_S) looks again at the
table (rows other processes planned) and at the lock: a standby takes over within that time
when the owner stops or dies (PostgreSQL frees a dead session's advisory lock when its
connection drops; the kernel frees a dead process's flock).

APScheduler's job store kept reminders before. It removes a one-shot job from the store as it
hands it to a worker (a kill at that instant lost the reminder) and has no locking between
processes, so behind our own lock it was only a timer: an asyncio sleep does that job here.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bot.context import Planned, Writes, utcnow
from bot.db.engine import make_sessions
from bot.db.reminders import reminders
from bot.metrics import Metrics

log = logging.getLogger(__name__)

OWNER_CHECK_S = 10.0
FIRE_TIMEOUT_S = 60.0
RETRY_AFTER = timedelta(seconds=30)  # a reminder whose fire() failed is tried again then
_ADVISORY_LOCK_KEY = 0x46697265  # "Fire": one scheduler per PostgreSQL database

Fire = Callable[[int, str], Awaitable[None]]


def job_kind(key: str) -> str:
    """'INC-7-status-update' → 'status-update': a bounded label, unlike the key."""
    ref, _, kind = key.partition("-")[2].partition("-")
    return kind if ref.isdigit() and kind else "other"


def _holds(stored: Any, planned: Planned) -> bool:
    """The stored row is the plan already (its due time moves on by itself)."""
    every_s = planned.every.total_seconds() if planned.every else None
    return stored is not None and (
        stored.incident_id,
        stored.kind,
        stored.anchor_at,
        stored.every_s,
    ) == (planned.incident_id, planned.kind, planned.at, every_s)


def next_time(anchor: datetime, every: timedelta, *, after: datetime, inclusive: bool) -> datetime:
    """The first anchor + k·every (k ≥ 0) at or after (`inclusive`) or past `after`."""
    if anchor > after or (inclusive and anchor == after):
        return anchor
    steps = (after - anchor) // every
    candidate = anchor + steps * every
    return candidate if inclusive and candidate == after else candidate + every


@dataclass(frozen=True)
class _Due:
    key: str
    incident_id: int
    kind: str
    anchor_at: datetime
    every: timedelta | None
    due_at: datetime


class ReminderScheduler:
    """The Reminders port. schedule/cancel work whether or not this process owns the store."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        fire: Fire,
        clock: Callable[[], datetime] = utcnow,
        owner_check: float = OWNER_CHECK_S,
        metrics: Metrics | None = None,
        writes: Writes | None = None,
        on_planned: Callable[[], None] | None = None,
    ) -> None:
        """`writes`: the process's shared writes (SQLite), whose transactions plans then go
        into (bot.db.group_commit.shared_writes); by default each plan commits alone.
        `on_planned`: told of each plan that stored a reminder, for a scheduler in another
        process (the chat process's plans are fired by the serving process's: `wake`)."""
        self._sessions = make_sessions(engine)
        self._writes = writes
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._fire = fire
        self._clock = clock
        self._owner_check = owner_check
        self._metrics = metrics
        sqlite_file = engine.dialect.name == "sqlite"
        self._lock: _Lock = _FileLock(engine) if sqlite_file else _AdvisoryLock(engine)
        self._wake = asyncio.Event()
        self._on_planned = on_planned
        self._firing = asyncio.Lock()  # one pass over the due rows at a time in this process
        self._stopping = False
        self._loop: asyncio.Task[None] | None = None

    @property
    def owner(self) -> bool:
        return self._lock.held

    async def start(self) -> None:
        self._stopping = False
        await self._claim()
        self._loop = asyncio.create_task(self._run(), name="reminders")

    async def stop(self) -> None:
        """Stop after the reminder being fired, if any: cut short, it would be said again."""
        self._stopping = True
        acquired = False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FIRE_TIMEOUT_S):
                acquired = await self._firing.acquire()
        if self._loop:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        if acquired:
            self._firing.release()
        await self._lock.release()

    async def schedule(
        self, *, key: str, incident_id: int, kind: str, at: datetime, every: timedelta | None = None
    ) -> None:
        await self.plan(schedule=[Planned(key, incident_id, kind, at, every)])

    async def cancel(self, *, key: str) -> None:
        await self.plan(cancel=[key])

    async def plan(self, *, schedule: Sequence[Planned] = (), cancel: Sequence[str] = ()) -> None:
        # Every change of an incident plans all its reminders again, and most plans are what
        # the table already holds (a storm re-plans each incident hundreds of times): one read
        # first skips those writes.
        keys = [p.key for p in schedule] + list(cancel)
        if not keys:
            return
        async with self._sessions() as session:
            rows = await session.execute(select(reminders).where(reminders.c.key.in_(keys)))
            stored = {row.key: row for row in rows}
        changed = [p for p in schedule if not _holds(stored.get(p.key), p)]
        gone = [key for key in cancel if key in stored]
        if not changed and not gone:
            return
        now = self._clock()

        async def write(session: AsyncSession) -> None:
            for planned in changed:
                await session.execute(self._upsert(planned, now))
            if gone:
                await session.execute(delete(reminders).where(reminders.c.key.in_(gone)))

        if self._writes is None:
            async with self._sessions.begin() as session:
                await write(session)
        else:
            # On SQLite a plan of its own waited ~100 ms for the write turn in a storm, and held
            # it through its commit while intake's writer waited (bench.storm).
            await self._writes(write)
        if changed:
            self.wake()
            if self._on_planned is not None:
                self._on_planned()

    def wake(self) -> None:
        """Look at the table now: a reminder was planned, here or in another process."""
        self._wake.set()

    def _upsert(self, planned: Planned, now: datetime) -> Any:
        every = planned.every
        # A one-off time in the past is due now; a repeating one goes on from its next time.
        due = next_time(planned.at, every, after=now, inclusive=True) if every else planned.at
        row = {
            "incident_id": planned.incident_id,
            "kind": planned.kind,
            "anchor_at": planned.at,
            "every_s": every.total_seconds() if every else None,
        }
        statement = self._insert(reminders).values(key=planned.key, due_at=due, **row)
        return statement.on_conflict_do_update(
            index_elements=[reminders.c.key], set_={**row, "due_at": due}
        )

    async def fire_due(self) -> int:
        """Fire every reminder due by the clock, oldest first; how many fired. The owner's loop
        calls it; a test may too, after moving its clock."""
        async with self._firing:
            return await self._fire_due()

    async def _fire_due(self) -> int:
        now = self._clock()
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(reminders).where(reminders.c.due_at <= now).order_by(reminders.c.due_at)
                )
            ).all()
        fired = 0
        for row in rows:
            if self._stopping:
                break
            every = timedelta(seconds=row.every_s) if row.every_s else None
            fired += await self._fire_one(
                _Due(row.key, row.incident_id, row.kind, row.anchor_at, every, row.due_at), now
            )
        return fired

    async def _fire_one(self, due: _Due, now: datetime) -> bool:
        """`now`: when this pass found it due; a repeating reminder's next time is the first
        after that, not after the fire ends, so a slow fire skips no time (nor does a clock
        moved on meanwhile)."""
        label = job_kind(due.key)
        if self._metrics is not None:
            lag = (self._clock() - due.due_at).total_seconds()
            self._metrics.scheduler_lag.labels(label).observe(max(lag, 0.0))
        try:
            async with asyncio.timeout(FIRE_TIMEOUT_S):
                await self._fire(due.incident_id, due.kind)
        except Exception:
            log.exception("reminder %s failed; trying again in %s", due.key, RETRY_AFTER)
            self._count(label, "error")
            await self._move(due, to=self._clock() + RETRY_AFTER)
            return False
        self._count(label, "executed")
        if due.every is None:
            await self._done(due)
        else:
            await self._move(
                due, to=next_time(due.anchor_at, due.every, after=now, inclusive=False)
            )
        return True

    async def _done(self, due: _Due) -> None:
        # Only the time that fired: planned again meanwhile, the row stays for its new time.
        async with self._sessions.begin() as session:
            await session.execute(
                delete(reminders).where(
                    reminders.c.key == due.key, reminders.c.due_at == due.due_at
                )
            )

    async def _move(self, due: _Due, *, to: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(reminders)
                .where(reminders.c.key == due.key, reminders.c.due_at == due.due_at)
                .values(due_at=to)
            )

    def _count(self, label: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.scheduler_jobs.labels(label, outcome).inc()

    async def _run(self) -> None:
        checked = asyncio.get_running_loop().time()
        while True:
            # Cleared before the table is read: a plan stored during this pass wakes the next.
            self._wake.clear()
            try:
                if asyncio.get_running_loop().time() - checked >= self._owner_check:
                    checked = asyncio.get_running_loop().time()
                    await self._claim()
                if self._lock.held:
                    await self.fire_due()
                wait = await self._until_next()
            except Exception:
                log.exception("the reminder loop failed; trying again shortly")
                wait = self._owner_check
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def _until_next(self) -> float:
        """Seconds to sleep: until the next due row, at most until the next ownership check."""
        if not self._lock.held:
            return self._owner_check
        async with self._sessions() as session:
            due = await session.scalar(select(reminders.c.due_at).order_by(reminders.c.due_at))
        if due is None:
            return self._owner_check
        return min(max((due - self._clock()).total_seconds(), 0.0), self._owner_check)

    async def _claim(self) -> None:
        if self._lock.held and not await self._lock.alive():
            log.warning("lost the scheduler lock: this process stops firing reminders")
        if not self._lock.held and await self._lock.acquire():
            log.info("this process runs the reminders")


class _Lock:
    held = False

    async def acquire(self) -> bool:
        raise NotImplementedError

    async def alive(self) -> bool:
        return self.held

    async def release(self) -> None:
        raise NotImplementedError


class _FileLock(_Lock):
    def __init__(self, engine: AsyncEngine) -> None:
        database = engine.url.database or ""
        self._path = f"{database}.scheduler.lock" if database not in ("", ":memory:") else None
        self._file: IO[str] | None = None

    async def acquire(self) -> bool:
        if self._path is None:  # an in-memory database has one process by nature
            self.held = True
            return True
        # A lock file beside the database; held open (and locked) for the life of the process.
        handle = open(self._path, "a")  # noqa: SIM115, ASYNC230
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file, self.held = handle, True
        return True

    async def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
        self._file, self.held = None, False


class _AdvisoryLock(_Lock):
    """A session-level advisory lock: PostgreSQL frees it when this connection closes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None

    async def acquire(self) -> bool:
        conn = await self._engine.connect()
        got = await conn.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
        )
        await conn.commit()
        if not got:
            await conn.close()
            return False
        self._conn, self.held = conn, True
        return True

    async def alive(self) -> bool:
        if self._conn is None:
            return False
        try:
            await self._conn.execute(text("SELECT 1"))
            return True
        except Exception:
            # The session is gone, and PostgreSQL released the lock with it.
            self._conn, self.held = None, False
            return False

    async def release(self) -> None:
        if self._conn is not None:
            try:
                # Pooled connections outlive close(): unlock explicitly.
                await self._conn.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _ADVISORY_LOCK_KEY}
                )
                await self._conn.commit()
            finally:
                await self._conn.close()
        self._conn, self.held = None, False
