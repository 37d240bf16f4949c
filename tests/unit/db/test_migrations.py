from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bot.db.engine import make_engine
from bot.db.migrate import alembic_config, current_revision, head_revision, upgrade
from bot.db.models import Base


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
