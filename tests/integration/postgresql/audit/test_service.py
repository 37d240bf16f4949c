"""tests/unit/audit/test_service.py on PostgreSQL, and what holds on PostgreSQL only."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.context import Context
from tests.unit.audit.test_service import *  # noqa: F403
from tests.unit.audit.test_service import AT, write


async def test_postgresql_refuses_to_truncate_it(ctx: Context, db_url: str) -> None:
    await write(ctx, incident_id=1, at=AT)  # SQLite has no TRUNCATE to refuse
    with pytest.raises(DBAPIError, match="audit_log is append-only"):
        async with ctx.sessions.begin() as session:
            await session.execute(text("TRUNCATE audit_log"))
