"""Every ORM model, imported so that Base.metadata is complete (Alembic, tests)."""

from bot.alerts.models import AlertOccurrence
from bot.db.base import Base
from bot.incidents.models import Incident, TimelineEntry

__all__ = ["AlertOccurrence", "Base", "Incident", "TimelineEntry"]
