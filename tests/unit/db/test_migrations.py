from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bot.db.engine import make_engine
from bot.db.migrate import alembic_config, current_revision, head_revision, upgrade
from bot.schema import Base


async def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


def test_models_and_migrations_agree(db_url: str) -> None:
    import asyncio

    diff = asyncio.run(_diff(db_url))
    assert diff == [], f"models and migrations disagree; write a migration for: {diff}"


def test_upgrade_is_at_head_and_downgrade_removes_everything(tmp_path: Path) -> None:
    import asyncio

    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    assert current_revision(url) == head_revision() is not None
    upgrade(url)  # a second run is a no-op
    command.downgrade(alembic_config(url), "base")
    assert asyncio.run(_tables(url)) == {"alembic_version"}


def test_reminders_move_out_of_apschedulers_job_store(tmp_path: Path) -> None:
    """0011: the jobs APScheduler's store held become rows of `reminders`, with their times."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.date import DateTrigger
    from apscheduler.triggers.interval import IntervalTrigger
    from sqlalchemy import select

    from bot.db.reminders import reminders

    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    command.upgrade(alembic_config(url), "0010")
    # Ahead of now: the store keeps a repeating job's next time, which for a past start is
    # a later one.
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    # As bot/scheduler.py stored them up to 0010 (the job function is referred to by name).
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{tmp_path / 'm.db'}")},
        timezone=UTC,
    )
    scheduler.start(paused=True)
    for key, trigger, args in [
        ("INC-7-commander", DateTrigger(run_date=at, timezone=UTC), [7, "commander"]),
        (
            "INC-7-status-update",
            IntervalTrigger(seconds=1800, start_date=at, timezone=UTC),
            [7, "status-update"],
        ),
    ]:
        scheduler.add_job("builtins:print", trigger=trigger, id=key, args=args)
    scheduler.shutdown(wait=False)

    upgrade(url)

    async def rows() -> list[tuple[object, ...]]:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                found = await conn.execute(select(reminders).order_by(reminders.c.key))
                return [tuple(row) for row in found]
        finally:
            await engine.dispose()

    assert asyncio.run(rows()) == [
        ("INC-7-commander", 7, "commander", at, None, at),
        ("INC-7-status-update", 7, "status-update", at, 1800.0, at),
    ]
    assert "apscheduler_jobs" not in asyncio.run(_tables(url))
