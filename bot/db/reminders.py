"""The reminders table: when each incident's reminders fall due (see bot/scheduler.py)."""

from sqlalchemy import Column, Float, Integer, String, Table

from bot.db.base import Base, UTCDateTime

reminders = Table(
    "reminders",
    Base.metadata,
    Column("key", String(100), primary_key=True),  # stable: INC-7-status-update
    Column("incident_id", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    # As planned: the one time, or the first of a repeating reminder's times.
    Column("anchor_at", UTCDateTime(), nullable=False),
    Column("every_s", Float, nullable=True),  # a repeating reminder's interval
    Column("due_at", UTCDateTime(), nullable=False, index=True),  # the next time not yet fired
)
