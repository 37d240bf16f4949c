"""The reminder scheduler against a real database: due times, restarts, one owner, and a
reminder that outlives the process that was firing it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.context import Planned, utcnow
from bot.db.engine import make_engine, make_sessions
from bot.db.group_commit import shared_writes
from bot.db.reminders import reminders
from bot.metrics import Metrics
from bot.scheduler import ReminderScheduler, next_time
from tests import migrated
from tests.fakes import FakeClock
from tests.polling import eventually
from tests.statements import statements

Fired = list[tuple[int, str]]
QUICK = 0.2  # seconds between ownership checks, so a takeover shows within the test


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


def recorder(fired: Fired) -> Callable[[int, str], Awaitable[None]]:
    async def fire(incident_id: int, kind: str) -> None:
        fired.append((incident_id, kind))

    return fire


def scheduler(
    engine: AsyncEngine, fired: Fired, clock: Callable[[], datetime] = utcnow, **kw: object
) -> ReminderScheduler:
    return ReminderScheduler(engine=engine, fire=recorder(fired), clock=clock, **kw)  # type: ignore[arg-type]


async def stored(engine: AsyncEngine) -> dict[str, datetime]:
    """Each stored reminder's next due time."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(reminders.c.key, reminders.c.due_at))
        return {key: due for key, due in rows}


async def test_a_due_reminder_fires_once(engine: AsyncEngine) -> None:
    clock, fired = FakeClock(), []
    reminders_ = scheduler(engine, fired, clock)
    await reminders_.schedule(
        key="INC-1-commander", incident_id=1, kind="commander", at=clock() + timedelta(minutes=5)
    )
    assert await reminders_.fire_due() == 0  # not yet due
    clock.advance(minutes=5)
    assert await reminders_.fire_due() == 1
    assert await reminders_.fire_due() == 0
    assert fired == [(1, "commander")]
    assert await stored(engine) == {}  # a one-off reminder is gone once it fired


async def test_a_late_reminder_shows_as_scheduler_lag(engine: AsyncEngine) -> None:
    clock, fired, metrics = FakeClock(), [], Metrics()
    reminders_ = scheduler(engine, fired, clock, metrics=metrics)
    await reminders_.schedule(
        key="INC-4-status-update", incident_id=4, kind="x", at=clock() + timedelta(seconds=10)
    )
    clock.advance(seconds=100)  # due while no scheduler ran: 90 s late
    await reminders_.fire_due()

    def sample(name: str, **labels: str) -> float:
        value = metrics.registry.get_sample_value(name, {"job": "status-update", **labels})
        return value or 0.0

    assert fired == [(4, "x")]
    assert sample("firebreak_scheduler_jobs_total", outcome="executed") == 1
    assert sample("firebreak_scheduler_lag_seconds_count") == 1
    assert sample("firebreak_scheduler_lag_seconds_sum") == 90


async def test_a_reminder_survives_a_restart_and_fires_once(engine: AsyncEngine) -> None:
    clock, fired = FakeClock(), []
    at = clock() + timedelta(minutes=1)
    first = scheduler(engine, fired, clock)
    await first.start()
    await first.schedule(key="INC-2-commander", incident_id=2, kind="commander", at=at)
    # Planning again (as every change does) replaces the reminder instead of adding one.
    await first.schedule(key="INC-2-commander", incident_id=2, kind="commander", at=at)
    await first.stop()
    assert await stored(engine) == {"INC-2-commander": at} and fired == []

    clock.advance(minutes=2)  # it falls due while no scheduler runs
    for _ in range(2):  # the next start fires it; the one after finds nothing
        later = scheduler(engine, fired, clock)
        await later.start()
        await later.fire_due()
        await later.stop()
    assert fired == [(2, "commander")]


async def test_planning_what_the_store_holds_writes_nothing(engine: AsyncEngine) -> None:
    first, other = scheduler(engine, []), scheduler(engine, [])
    with statements() as said:

        def writes() -> list[str]:
            return [s.split()[0] for s in said if "reminders" in s and not s.startswith("SELECT")]

        at, every = utcnow() + timedelta(minutes=10), timedelta(minutes=15)
        for _ in range(3):
            await first.schedule(key="INC-5-status-update", incident_id=5, kind="s", at=at)
            await first.schedule(key="INC-5-budget", incident_id=5, kind="b", at=at, every=every)
            await first.cancel(key="INC-5-commander")
        assert writes() == ["INSERT", "INSERT"]  # once each; the cancels found nothing to remove
        later = at + timedelta(minutes=5)
        await first.schedule(key="INC-5-status-update", incident_id=5, kind="s", at=later)
        assert writes()[2:] == ["INSERT"]  # an upsert
        # What another process changed is seen: the table, not a memory, is compared with.
        await other.cancel(key="INC-5-budget")
        await first.schedule(key="INC-5-budget", incident_id=5, kind="b", at=at, every=every)
        assert writes()[3:] == ["DELETE", "INSERT"]
        assert await stored(engine) == {"INC-5-status-update": later, "INC-5-budget": at}


async def test_a_plan_of_several_reminders_is_one_read_and_writes_only_what_differs(
    engine: AsyncEngine,
) -> None:
    reminders_ = scheduler(engine, [])
    at, every = utcnow() + timedelta(minutes=10), timedelta(minutes=15)
    status = Planned("INC-6-status-update", 6, "status-update", at, every)
    budget = Planned("INC-6-budget", 6, "budget", at, every)
    await reminders_.plan(schedule=[status], cancel=["INC-6-budget"])
    with statements() as said:
        await reminders_.plan(schedule=[status], cancel=["INC-6-budget", "INC-6-commander"])
    assert [s.split()[0] for s in said if "reminders" in s] == ["SELECT"]  # one read; no change
    with statements() as said:
        await reminders_.plan(schedule=[budget], cancel=["INC-6-status-update"])
    assert [s.split()[0] for s in said if "reminders" in s] == ["SELECT", "INSERT", "DELETE"]
    assert set(await stored(engine)) == {"INC-6-budget"}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return migrated.sqlite_url(tmp_path / "firebreak.db")


async def test_plans_go_into_the_shared_writes_transactions_when_given(sqlite_url: str) -> None:
    # On SQLite the app gives the scheduler the chat's shared writes: plans asked together
    # share one commit with each other and with the chat's steps.
    engine = make_engine(sqlite_url)
    sessions = make_sessions(engine)
    writes = shared_writes(sessions)
    commits: list[object] = []
    event.listen(engine.sync_engine, "commit", commits.append)
    reminders_ = scheduler(engine, [], writes=writes)
    at = utcnow() + timedelta(minutes=10)

    async def chat_step(session: AsyncSession) -> str:
        return "the chat's step"

    planned = [Planned(f"INC-{n}-status-update", n, "status-update", at) for n in (7, 8)]
    done = await asyncio.gather(
        reminders_.plan(schedule=[planned[0]]),
        reminders_.plan(schedule=[planned[1]], cancel=["INC-7-budget"]),
        writes(chat_step),
    )
    try:
        assert done == [None, None, "the chat's step"]
        assert len(commits) == 1
        assert await stored(engine) == {"INC-7-status-update": at, "INC-8-status-update": at}
    finally:
        await engine.dispose()


async def test_a_repeating_reminder_fires_each_time_once_until_cancelled(
    engine: AsyncEngine,
) -> None:
    clock, fired = FakeClock(), []
    reminders_ = scheduler(engine, fired, clock)
    start, every = clock() + timedelta(minutes=30), timedelta(minutes=30)
    key = "INC-3-status-update"
    await reminders_.schedule(key=key, incident_id=3, kind="status-update", at=start, every=every)
    clock.now = start
    assert await reminders_.fire_due() == 1
    assert await stored(engine) == {key: start + every}
    clock.advance(hours=2, minutes=5)  # four times missed: said once, then on schedule again
    assert await reminders_.fire_due() == 1
    assert await stored(engine) == {key: start + 5 * every}
    # Planned again as it was, it keeps its place; cancelled, it is gone.
    await reminders_.schedule(key=key, incident_id=3, kind="status-update", at=start, every=every)
    assert await stored(engine) == {key: start + 5 * every}
    await reminders_.cancel(key=key)
    await reminders_.cancel(key=key)  # cancelling twice is fine
    clock.advance(hours=5)
    assert await reminders_.fire_due() == 0
    assert fired == [(3, "status-update")] * 2


async def test_a_failed_reminder_is_tried_again_later(engine: AsyncEngine) -> None:
    clock, fired = FakeClock(), []
    failures = iter([RuntimeError("the database went away")])

    async def fire(incident_id: int, kind: str) -> None:
        if (failure := next(failures, None)) is not None:
            raise failure
        fired.append((incident_id, kind))

    reminders_ = ReminderScheduler(engine=engine, fire=fire, clock=clock)
    await reminders_.schedule(key="INC-6-commander", incident_id=6, kind="commander", at=clock())
    assert await reminders_.fire_due() == 0
    assert await reminders_.fire_due() == 0  # not at once: in RETRY_AFTER
    clock.advance(seconds=30)
    assert await reminders_.fire_due() == 1
    assert fired == [(6, "commander")] and await stored(engine) == {}


async def test_a_reminder_being_fired_when_its_owner_dies_is_fired_by_the_next(
    engine: AsyncEngine,
) -> None:
    """The instant of the kill: the owner took the due reminder and had not yet stored what it
    says in the outbox. The row stays due, so the next owner says it."""
    clock, fired = FakeClock(), []
    started = asyncio.Event()

    async def dies_while_firing(incident_id: int, kind: str) -> None:
        started.set()
        await asyncio.Event().wait()  # never stores anything

    dying = ReminderScheduler(engine=engine, fire=dies_while_firing, clock=clock)
    await dying.schedule(key="INC-8-commander", incident_id=8, kind="commander", at=clock())
    firing = asyncio.create_task(dying.fire_due())
    await asyncio.wait_for(started.wait(), 10)
    firing.cancel()  # the process is gone: nothing after this point of fire() runs
    await asyncio.gather(firing, return_exceptions=True)

    survivor = scheduler(engine, fired, clock)
    assert await survivor.fire_due() == 1
    assert fired == [(8, "commander")] and await stored(engine) == {}


async def test_stopping_lets_the_reminder_being_fired_finish(engine: AsyncEngine) -> None:
    """A stop is not a kill: the reminder in hand is finished and marked, not said again."""
    fired: Fired = []
    started, go_on = asyncio.Event(), asyncio.Event()

    async def slow(incident_id: int, kind: str) -> None:
        started.set()
        await go_on.wait()
        fired.append((incident_id, kind))

    owner = ReminderScheduler(engine=engine, fire=slow)
    await owner.start()
    await owner.schedule(key="INC-7-commander", incident_id=7, kind="commander", at=utcnow())
    await asyncio.wait_for(started.wait(), 10)
    stopping = asyncio.create_task(owner.stop())
    go_on.set()
    await asyncio.wait_for(stopping, 10)
    assert fired == [(7, "commander")] and await stored(engine) == {}
    assert await scheduler(engine, fired).fire_due() == 0


async def test_only_one_process_runs_reminders(engine: AsyncEngine) -> None:
    fired_a: Fired = []
    fired_b: Fired = []
    a = scheduler(engine, fired_a, owner_check=QUICK)
    b = scheduler(engine, fired_b, owner_check=QUICK)
    await a.start()
    await b.start()
    try:
        assert a.owner and not b.owner
        # b plans a reminder: it lands in the shared table, and the owner fires it.
        await b.schedule(key="INC-4-commander", incident_id=4, kind="commander", at=utcnow())
        await eventually(lambda: fired_a, what="the owner to fire what b planned")
        assert fired_a == [(4, "commander")] and fired_b == []

        await a.stop()  # the owner goes away: b takes over at its next check
        await eventually(lambda: b.owner, what="b to take over")
        await b.schedule(key="INC-5-commander", incident_id=5, kind="commander", at=utcnow())
        await eventually(lambda: fired_b, what="b to fire")
        assert fired_b == [(5, "commander")] and fired_a == [(4, "commander")]
    finally:
        await a.stop()
        await b.stop()


async def test_the_owner_wakes_for_what_it_plans_itself(engine: AsyncEngine) -> None:
    fired: Fired = []
    owner = scheduler(engine, fired, owner_check=60)  # no periodic look within the test
    await owner.start()
    try:
        at = utcnow() + timedelta(seconds=0.3)
        await owner.schedule(key="INC-9-commander", incident_id=9, kind="commander", at=at)
        await eventually(lambda: fired, what="the reminder, long before the next check")
        assert fired == [(9, "commander")] and utcnow() >= at
    finally:
        await owner.stop()


def test_next_time_counts_whole_intervals_from_the_anchor() -> None:
    anchor, every = datetime(2026, 3, 29, 0, 30, tzinfo=UTC), timedelta(minutes=30)
    assert next_time(anchor, every, after=anchor - every, inclusive=True) == anchor
    assert next_time(anchor, every, after=anchor, inclusive=True) == anchor
    assert next_time(anchor, every, after=anchor, inclusive=False) == anchor + every
    after = anchor + timedelta(minutes=95)
    assert next_time(anchor, every, after=after, inclusive=True) == anchor + 4 * every
    assert next_time(anchor, every, after=anchor + 2 * every, inclusive=True) == anchor + 2 * every


async def test_the_owner_wakes_for_what_another_process_plans_when_told(
    engine: AsyncEngine,
) -> None:
    """The chat process plans reminders with a scheduler it never starts, and tells the serving
    process's (on_planned → wake), which fires them without waiting for its next look."""
    fired: Fired = []
    owner = scheduler(engine, fired, owner_check=60)  # no periodic look within the test
    told: list[str] = []
    planner = scheduler(engine, [], on_planned=lambda: told.append("planned"))
    with statements() as said:
        await owner.start()
        # Its first look found nothing due: it sleeps for the check's 60 s unless woken.
        await eventually(
            lambda: "SELECT reminders.due_at FROM reminders ORDER BY reminders.due_at" in said,
            what="its first look",
        )
    try:
        at = utcnow() + timedelta(seconds=0.3)
        await planner.schedule(key="INC-8-commander", incident_id=8, kind="commander", at=at)
        await planner.schedule(key="INC-8-commander", incident_id=8, kind="commander", at=at)
        assert told == ["planned"]  # the second plan stored nothing
        owner.wake()
        await eventually(lambda: fired, what="the reminder, long before the next check")
        assert fired == [(8, "commander")] and utcnow() >= at
    finally:
        await owner.stop()
