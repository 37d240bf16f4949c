"""What happens to incidents, announced for whoever subscribes (bot/app.py wires them)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.events import Event


@dataclass(frozen=True)
class IncidentOpened(Event):
    """Stored, not yet in chat: its channel and announcements are still to be made."""

    incident_id: int


@dataclass(frozen=True)
class AlertsChanged(Event):
    """Alerts of an open incident fired or resolved; `all_resolved`: none is firing now."""

    incident_id: int
    all_resolved: bool = False


@dataclass(frozen=True)
class SetUpUnfinished(Event):
    """A repeated notification found the incident's chat set-up unfinished (a failure or a
    restart cut it short): nothing new happened, but the channel is still owed."""

    incident_id: int


@dataclass(frozen=True)
class IncidentResolved(Event):
    incident_id: int
    drill: bool = False


@dataclass(frozen=True)
class SourceNoted(Event):
    """An alert source said something about the incident (acknowledged, a note…): on the
    timeline now; `text` is plain text."""

    incident_id: int
    text: str


@dataclass(frozen=True)
class IncidentAnnounced(Event):
    """Its announcement was just posted in its channel (once per incident)."""

    incident_id: int


@dataclass(frozen=True)
class InChat(Event):
    """Its chat set-up is complete: channel made, announced there and in the broadcast
    channel. Said by every set-up run that ends so, so a repeat needs no chat work."""

    incident_id: int
