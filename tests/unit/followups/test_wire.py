"""The events that cross between the serving process and the chat process."""

from __future__ import annotations

import json

import pytest

from bot.changes.events import ChangeRecorded
from bot.followups.wire import BACK, OUTWARD, decode, encode, encode_signal, encode_status
from bot.incidents.events import (
    AlertsChanged,
    InChat,
    IncidentAnnounced,
    IncidentOpened,
    IncidentResolved,
    SetUpUnfinished,
    SourceNoted,
)

CROSSING = [
    IncidentOpened(1),
    SetUpUnfinished(2),
    AlertsChanged(3, all_resolved=True),
    SourceNoted(4, 'Datadog said: "*p99* > 2s" <!here>\nsecond line'),
    ChangeRecorded(5, freeze_id=None),
    ChangeRecorded(6, freeze_id=9),
    InChat(7),
    IncidentAnnounced(8),
]


def test_every_kind_that_crosses_is_covered() -> None:
    assert {type(e) for e in CROSSING} == set(OUTWARD + BACK)


@pytest.mark.parametrize("event", CROSSING, ids=lambda e: type(e).__name__)
def test_an_event_comes_back_equal_from_one_line(event: object) -> None:
    line = encode(event)  # type: ignore[arg-type]
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode(line) == event


def test_a_status_line_is_told_apart_from_an_event() -> None:
    assert decode(encode_status(taken=3, busy=1)) == {"taken": 3, "busy": 1}
    counted = {"slack_calls": [(["chat.postMessage"], 2.0)]}
    assert decode(encode_status(taken=0, busy=0, counted=counted)) == {
        "taken": 0,
        "busy": 0,
        "counted": {"slack_calls": [[["chat.postMessage"], 2.0]]},
    }
    assert decode(encode_signal("reminders-planned")) == {"signal": "reminders-planned"}


def test_a_name_that_does_not_cross_is_refused() -> None:
    # Resolution is the serving process's own business: it never goes down the pipe.
    line = json.dumps({"event": "IncidentResolved", "incident_id": 1}).encode()
    with pytest.raises(KeyError):
        decode(line)
    assert IncidentResolved not in OUTWARD + BACK
