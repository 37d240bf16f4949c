"""The outbox table: one row per Slack Web API write, in the order it was asked for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


class OutboxMessage(Base):
    __tablename__ = "slack_outbox"
    __table_args__ = (
        Index("ix_slack_outbox_state_queue", "state", "queue", "id"),
        # The latest call under a `replaces` key, whatever its state (Outbox.send).
        Index("ix_slack_outbox_queue_replaces", "queue", "replaces", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Writes to one queue (a channel, a user's DM) are delivered one at a time, by id.
    queue: Mapped[str] = mapped_column(String(120))
    method: Mapped[str] = mapped_column(String(64))  # slack_sdk's name: chat_postMessage
    args: Mapped[str] = mapped_column(Text)  # JSON
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON, for waiting callers
    # Calls that set state whole (chat.update of one message, a topic): an unsent one under the
    # same key is replaced, not queued behind (see Outbox.send).
    replaces: Mapped[str | None] = mapped_column(String(160), nullable=True)
