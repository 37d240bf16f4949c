"""The reminder scheduler against a real database: persistence, restarts, one owner."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import make_engine
from bot.db.jobs import apscheduler_jobs
from bot.metrics import Metrics
from bot.scheduler import ReminderScheduler

Fired = list[tuple[int, str]]


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


QUICK = 0.2  # seconds between ownership checks, so a takeover shows within the test


def recorder(fired: Fired) -> Callable[[int, str], object]:
    async def fire(incident_id: int, kind: str) -> None:
        fired.append((incident_id, kind))

    return fire


async def eventually(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not check():  # noqa: ASYNC110 - other threads change what it checks
            await asyncio.sleep(0.05)


async def stored_jobs(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(apscheduler_jobs)) or 0)


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def test_a_due_reminder_fires_once(engine: AsyncEngine) -> None:
    fired: Fired = []
    reminders = ReminderScheduler(engine=engine, fire=recorder(fired), owner_check=QUICK)  # type: ignore[arg-type]
    await reminders.start()
    try:
        assert reminders.owner
        await reminders.schedule(
            key="INC-1-commander", incident_id=1, kind="commander", at=soon(0.3)
        )
        await eventually(lambda: bool(fired))
        await asyncio.sleep(0.5)
        assert fired == [(1, "commander")]
        assert await stored_jobs(engine) == 0  # a one-off reminder is gone once it ran
    finally:
        await reminders.stop()


async def test_a_late_reminder_shows_as_scheduler_lag(engine: AsyncEngine) -> None:
    fired: Fired = []
    first = ReminderScheduler(engine=engine, fire=recorder(fired))  # type: ignore[arg-type]
    await first.start()
    await first.schedule(key="INC-4-status-update", incident_id=4, kind="x", at=soon(0.2))
    await first.stop()
    await asyncio.sleep(1.0)  # due while no scheduler runs: at least 0.8 s late
    metrics = Metrics()
    second = ReminderScheduler(
        engine=engine,
        fire=recorder(fired),  # type: ignore[arg-type]
        metrics=metrics,
    )
    await second.start()
    try:
        job = {"job": "status-update"}

        def sample(name: str, **labels: str) -> float:
            return metrics.registry.get_sample_value(name, {**job, **labels}) or 0.0

        await eventually(lambda: sample("firebreak_scheduler_jobs_total", outcome="executed") == 1)
        assert fired == [(4, "x")]
        assert sample("firebreak_scheduler_lag_seconds_count") == 1
        assert sample("firebreak_scheduler_lag_seconds_sum") >= 0.8
    finally:
        await second.stop()


async def test_a_reminder_survives_a_restart_and_fires_once(engine: AsyncEngine) -> None:
    fired: Fired = []
    first = ReminderScheduler(engine=engine, fire=recorder(fired), owner_check=QUICK)  # type: ignore[arg-type]
    await first.start()
    at = soon(1.0)
    await first.schedule(key="INC-2-commander", incident_id=2, kind="commander", at=at)
    # Planning again (as every change does) replaces the job instead of adding one.
    await first.schedule(key="INC-2-commander", incident_id=2, kind="commander", at=at)
    await first.stop()
    assert await stored_jobs(engine) == 1 and fired == []

    await asyncio.sleep(1.3)  # it falls due while no scheduler runs
    second = ReminderScheduler(engine=engine, fire=recorder(fired), owner_check=QUICK)  # type: ignore[arg-type]
    await second.start()
    try:
        await eventually(lambda: bool(fired))
        await asyncio.sleep(0.5)
        assert fired == [(2, "commander")]
    finally:
        await second.stop()
    third = ReminderScheduler(engine=engine, fire=recorder(fired), owner_check=QUICK)  # type: ignore[arg-type]
    await third.start()
    await asyncio.sleep(0.5)
    await third.stop()
    assert fired == [(2, "commander")]


async def test_planning_what_the_store_holds_writes_nothing(engine: AsyncEngine) -> None:
    writes: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "apscheduler_jobs" in statement and not statement.lstrip().startswith("SELECT"):
            writes.append(statement.split()[0])

    first = ReminderScheduler(engine=engine, fire=recorder([]))  # type: ignore[arg-type]
    other = ReminderScheduler(engine=engine, fire=recorder([]))  # type: ignore[arg-type]
    await first.start()
    await other.start()
    event.listen(Engine, "before_cursor_execute", count)
    try:
        at, every = soon(600), timedelta(minutes=15)
        for _ in range(3):
            await first.schedule(key="INC-5-status-update", incident_id=5, kind="s", at=at)
            await first.schedule(key="INC-5-budget", incident_id=5, kind="b", at=at, every=every)
            await first.cancel(key="INC-5-commander")
        assert writes == ["INSERT", "INSERT"]  # once each; the cancels found nothing to remove
        await first.schedule(key="INC-5-status-update", incident_id=5, kind="s", at=soon(900))
        assert writes[2:] == ["INSERT", "UPDATE"]  # replace_existing: the insert fails first
        # What another process changed is seen: the store, not a memory, is compared with.
        await other.cancel(key="INC-5-budget")
        await first.schedule(key="INC-5-budget", incident_id=5, kind="b", at=at, every=every)
        assert writes[4:] == ["DELETE", "INSERT"]
        assert await stored_jobs(engine) == 2
    finally:
        event.remove(Engine, "before_cursor_execute", count)
        await first.stop()
        await other.stop()


async def test_repeating_reminder_until_cancelled(engine: AsyncEngine) -> None:
    fired: Fired = []
    reminders = ReminderScheduler(engine=engine, fire=recorder(fired), owner_check=QUICK)  # type: ignore[arg-type]
    await reminders.start()
    try:
        await reminders.schedule(
            key="INC-3-status-update",
            incident_id=3,
            kind="status-update",
            at=soon(0.2),
            every=timedelta(seconds=0.3),
        )
        await eventually(lambda: len(fired) >= 2)
        await reminders.cancel(key="INC-3-status-update")
        await reminders.cancel(key="INC-3-status-update")  # cancelling twice is fine
        count = len(fired)
        await asyncio.sleep(0.8)
        assert len(fired) == count and set(fired) == {(3, "status-update")}
    finally:
        await reminders.stop()


async def test_only_one_process_runs_reminders(engine: AsyncEngine) -> None:
    fired_a: Fired = []
    fired_b: Fired = []
    a = ReminderScheduler(engine=engine, fire=recorder(fired_a), owner_check=QUICK)  # type: ignore[arg-type]
    b = ReminderScheduler(engine=engine, fire=recorder(fired_b), owner_check=QUICK)  # type: ignore[arg-type]
    await a.start()
    await b.start()
    try:
        assert a.owner and not b.owner
        # b plans a reminder: it lands in the shared store, and the owner runs it.
        await b.schedule(key="INC-4-commander", incident_id=4, kind="commander", at=soon(0.3))
        await eventually(lambda: bool(fired_a))
        assert fired_a == [(4, "commander")] and fired_b == []

        await a.stop()  # the owner goes away: b takes over at its next check
        await eventually(lambda: b.owner)
        await b.schedule(key="INC-5-commander", incident_id=5, kind="commander", at=soon(0.2))
        await eventually(lambda: bool(fired_b))
        assert fired_b == [(5, "commander")]
    finally:
        await a.stop()
        await b.stop()
