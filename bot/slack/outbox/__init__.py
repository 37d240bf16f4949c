"""Every Slack Web API write goes through a persisted outbox (see worker.py)."""

from bot.slack.outbox.models import OutboxMessage
from bot.slack.outbox.worker import Backlog, Outbox

__all__ = ["Backlog", "Outbox", "OutboxMessage"]
