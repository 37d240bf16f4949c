"""What Firebreak has seen a model registry's serving alias point at, kept in the database.

MLflow keeps no history of an alias, so "roll back to the version before" needs ours; it must
survive restarts to be worth anything at 3 a.m.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Index, String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class AliasSighting(Base):
    __tablename__ = "alias_sightings"
    __table_args__ = (Index("ix_alias_sightings_model_alias", "model", "alias", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    alias: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime]


class DbAliasHistory:
    """The mlflow adapter's AliasHistory: one row each time the alias is seen to have moved."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
    ) -> None:
        self._sessions = sessions
        self._clock = clock

    async def seen(self, *, model: str, alias: str) -> list[str]:
        """Versions the alias was seen at, newest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AliasSighting.version)
                .where(AliasSighting.model == model, AliasSighting.alias == alias)
                .order_by(AliasSighting.id.desc())
            )
            return list(rows)

    async def record(self, *, model: str, alias: str, version: str) -> None:
        async with self._sessions.begin() as session:
            latest = await session.scalar(
                select(AliasSighting.version)
                .where(AliasSighting.model == model, AliasSighting.alias == alias)
                .order_by(AliasSighting.id.desc())
                .limit(1)
            )
            if latest != version:  # seeing the same value again is no move
                session.add(
                    AliasSighting(model=model, alias=alias, version=version, seen_at=self._clock())
                )
