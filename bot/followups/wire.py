"""The events that cross between the serving process and the chat process (bot.followups.away),
one JSON object a line.

Only events made of plain values cross, each named by its class: the two processes run the same
code, so a name the reader does not know is a bug and raises.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from bot.changes.events import ChangeRecorded
from bot.events import Event
from bot.incidents.events import (
    AlertsChanged,
    InChat,
    IncidentAnnounced,
    IncidentOpened,
    SetUpUnfinished,
    SourceNoted,
)
from bot.metrics import Counts

# What intake and the change feed announce, for the chat process to follow up.
OUTWARD: tuple[type[Event], ...] = (
    IncidentOpened,
    SetUpUnfinished,
    AlertsChanged,
    SourceNoted,
    ChangeRecorded,
)
# What the chat process announces that the serving process acts on: intake's memory learns an
# incident is in chat (bot.incidents.known), and the model card, which reads the drills'
# targets held by the serving process, follows the announcement.
BACK: tuple[type[Event], ...] = (InChat, IncidentAnnounced)

_BY_NAME = {kind.__name__: kind for kind in OUTWARD + BACK}


def encode(event: Event) -> bytes:
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    return json.dumps({"event": type(event).__name__, **fields}).encode() + b"\n"


def encode_status(*, taken: int, busy: int, counted: Counts | None = None) -> bytes:
    """A line that is not an event: how much work the chat process has (see Away.pending),
    and what its carried metrics counted since its last status (bot.metrics.Tally)."""
    status: dict[str, Any] = {"taken": taken, "busy": busy}
    if counted:
        status["counted"] = counted
    return json.dumps({"status": status}).encode() + b"\n"


def encode_signal(name: str) -> bytes:
    """A line that is not an event: something for the serving process to look at now (see
    Away's `signals`)."""
    return json.dumps({"status": {"signal": name}}).encode() + b"\n"


def decode(line: bytes) -> Event | dict[str, Any]:
    """An event, or a status line's values."""
    data: dict[str, Any] = json.loads(line)
    if "status" in data:
        return dict(data["status"])
    kind = _BY_NAME[data.pop("event")]
    return kind(**data)
