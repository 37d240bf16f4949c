"""Every ORM model, imported so that Base.metadata is complete (Alembic, tests)."""

from bot.alerts.models import AlertOccurrence
from bot.audit.models import AuditEntry
from bot.db.base import Base
from bot.db.jobs import apscheduler_jobs
from bot.deploy.history import AliasSighting
from bot.incidents.models import Incident, TimelineEntry
from bot.playbooks.runs import PlaybookRun, StepRun

__all__ = [
    "AlertOccurrence",
    "AliasSighting",
    "AuditEntry",
    "Base",
    "Incident",
    "PlaybookRun",
    "StepRun",
    "TimelineEntry",
    "apscheduler_jobs",
]
