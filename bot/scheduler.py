"""Reminders on APScheduler 3, persisted in the project's database; one process runs them.

The job store is synchronous. Its SQLite writes must never run on the event loop's thread: a
write waiting for SQLite's lock there would block the very coroutine that holds the lock. So
the scheduler runs in its own thread (BackgroundScheduler), schedule/cancel go through
asyncio.to_thread, and a due reminder is handed back to the bot's event loop to run.

Jobs live in the `apscheduler_jobs` table (created by our migrations) under stable ids such as
`INC-7-status-update`, added with replace_existing: planning again or restarting never
duplicates a reminder, and a reminder due while the bot was down runs once at start
(coalesce, no misfire limit).

APScheduler 3 has no locking between processes sharing a job store, so exactly one process
owns it: the holder of a lock (an exclusive flock on `<database>.scheduler.lock` for SQLite,
a session advisory lock on PostgreSQL). Every other process starts its scheduler paused: it
still writes the jobs it plans into the store, but never runs one. Each process retries the
lock every `owner_check` seconds (FIREBREAK_SCHEDULER_TAKEOVER_S), so a new owner takes over
within that time when the old one stops or dies (PostgreSQL frees a dead session's advisory
lock when its connection drops; the kernel frees a dead process's flock), and the owner wakes
up that often to see jobs other processes added.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.metrics import Metrics

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"
OWNER_CHECK_S = 10.0
_ADVISORY_LOCK_KEY = 0x46697265  # "Fire": one scheduler per PostgreSQL database

FIRE_TIMEOUT_S = 60.0

Fire = Callable[[int, str], Coroutine[Any, Any, None]]
# Each scheduler's worker threads know which event loop and flow their jobs belong to.
_worker = threading.local()


def run_reminder(incident_id: int, kind: str) -> None:
    """The job function, run in the scheduler's worker thread. Module-level, because
    APScheduler stores jobs as pickled references."""
    loop: asyncio.AbstractEventLoop = _worker.loop
    fire: Fire = _worker.fire
    asyncio.run_coroutine_threadsafe(fire(incident_id, kind), loop).result(FIRE_TIMEOUT_S)


def _bind_worker(loop: asyncio.AbstractEventLoop, fire: Fire) -> None:
    _worker.loop, _worker.fire = loop, fire


def _same_trigger(stored: Any, planned: Any) -> bool:
    return bool(type(stored) is type(planned) and stored.__getstate__() == planned.__getstate__())


def job_kind(job_id: str) -> str:
    """'INC-7-status-update' → 'status-update': a bounded label, unlike the job id."""
    ref, _, kind = job_id.partition("-")[2].partition("-")
    return kind if ref.isdigit() and kind else "other"


def sync_url(database_url: str) -> str:
    """The job store is synchronous: the same database through a sync driver."""
    url = make_url(database_url)
    driver = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}.get(
        url.get_backend_name(), url.drivername
    )
    return url.set(drivername=driver).render_as_string(hide_password=False)


class ReminderScheduler:
    """The Reminders port. schedule/cancel work whether or not this process owns the store."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        fire: Fire,
        owner_check: float = OWNER_CHECK_S,
        metrics: Metrics | None = None,
    ) -> None:
        self._engine = engine
        self._fire = fire
        self._owner_check = owner_check
        self._metrics = metrics
        store = SQLAlchemyJobStore(
            url=sync_url(engine.url.render_as_string(hide_password=False)),
            tablename=JOB_TABLE,
            engine_options={"connect_args": {"timeout": 30}} if _is_sqlite(engine) else {},
        )
        self._scheduler = BackgroundScheduler(
            jobstores={"default": store},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self._lock: _Lock = _FileLock(engine) if _is_sqlite(engine) else _AdvisoryLock(engine)
        self._watch: asyncio.Task[None] | None = None
        if metrics is not None:
            self._scheduler.add_listener(
                self._observe,
                EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED,
            )

    @property
    def owner(self) -> bool:
        return self._lock.held

    async def start(self) -> None:
        """Call from the bot's running event loop: due reminders are run on it."""
        workers = ThreadPoolExecutor(
            max_workers=4,
            pool_kwargs={
                "initializer": _bind_worker,
                "initargs": (asyncio.get_running_loop(), self._fire),
            },
        )
        self._scheduler.add_executor(workers, "default")
        await asyncio.to_thread(self._scheduler.start, paused=True)
        await self._claim()
        self._watch = asyncio.create_task(self._watch_ownership(), name="scheduler-owner")

    async def stop(self) -> None:
        if self._watch:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self._scheduler.running:
            await asyncio.to_thread(self._scheduler.shutdown, wait=False)
        await self._lock.release()

    async def schedule(
        self, *, key: str, incident_id: int, kind: str, at: datetime, every: timedelta | None = None
    ) -> None:
        trigger: Any = (
            IntervalTrigger(seconds=every.total_seconds(), start_date=at, timezone=UTC)
            if every
            else DateTrigger(run_date=at, timezone=UTC)
        )
        await asyncio.to_thread(self._put, key, trigger, (incident_id, kind))

    async def cancel(self, *, key: str) -> None:
        await asyncio.to_thread(self._remove, key)

    # Every change of an incident plans all its reminders again, and most plans are what the
    # store already holds (an alert storm re-plans each incident hundreds of times). A read
    # first, in the shared store itself, skips those writes: each one took the job store's
    # lock and the database's write lock, and stalled the bot's own writes behind it.

    def _put(self, key: str, trigger: Any, args: tuple[int, str]) -> None:
        job = self._scheduler.get_job(key)
        if job is not None and tuple(job.args) == args and _same_trigger(job.trigger, trigger):
            return
        self._scheduler.add_job(
            run_reminder, trigger=trigger, id=key, args=list(args), replace_existing=True
        )

    def _remove(self, key: str) -> None:
        if self._scheduler.get_job(key) is None:
            return
        with contextlib.suppress(JobLookupError):  # another process removed it meanwhile
            self._scheduler.remove_job(key)

    def _observe(self, event: JobEvent) -> None:
        """Runs in the scheduler's threads. Lag is measured when a due job is handed to a
        worker: measured when it has executed, it would also count the reminder's own Slack
        calls, and a slow Slack is not a late scheduler."""
        assert self._metrics is not None
        job = job_kind(event.job_id)
        if isinstance(event, JobSubmissionEvent):
            due = min(event.scheduled_run_times)
            lag = (datetime.now(UTC) - due).total_seconds()
            self._metrics.scheduler_lag.labels(job).observe(max(lag, 0.0))
        elif isinstance(event, JobExecutionEvent):
            outcome = {EVENT_JOB_EXECUTED: "executed", EVENT_JOB_ERROR: "error"}.get(
                event.code, "missed"
            )
            self._metrics.scheduler_jobs.labels(job, outcome).inc()

    async def _claim(self) -> None:
        if self._lock.held and not await self._lock.alive():
            log.warning("lost the scheduler lock: pausing reminders in this process")
            await asyncio.to_thread(self._scheduler.pause)
        if not self._lock.held and await self._lock.acquire():
            log.info("this process runs the reminders")
            await asyncio.to_thread(self._scheduler.resume)

    async def _watch_ownership(self) -> None:
        while True:
            await asyncio.sleep(self._owner_check)
            try:
                await self._claim()
                if self._lock.held:
                    self._scheduler.wakeup()  # see jobs that other processes added (no I/O)
            except Exception:
                log.exception("scheduler ownership check failed")


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


def _is_sqlite(engine: AsyncEngine) -> bool:
    return engine.url.get_backend_name() == "sqlite"
