"""Every ORM model, imported so that Base.metadata is complete (Alembic, tests)."""

from bot.alerts.models import AlertOccurrence
from bot.audit.models import AuditEntry
from bot.changes.models import Change, Freeze, RegistryAlias
from bot.db.base import Base
from bot.db.reminders import reminders
from bot.deploy.history import AliasSighting
from bot.incidents.models import Incident, TimelineEntry
from bot.playbooks.runs import PlaybookRun, StepRun
from bot.slack.outbox.models import OutboxMessage

__all__ = [
    "AlertOccurrence",
    "AliasSighting",
    "AuditEntry",
    "Base",
    "Change",
    "Freeze",
    "Incident",
    "OutboxMessage",
    "PlaybookRun",
    "RegistryAlias",
    "StepRun",
    "TimelineEntry",
    "reminders",
]
