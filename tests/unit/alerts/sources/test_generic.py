from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.alerts.sources import generic
from bot.alerts.sources.errors import Unreadable


def body(**kw: object) -> dict[str, object]:
    return {
        "dedup_key": "batch-scorer-late",
        "title": "Batch scorer is 2h late",
        "service": "search-ranker",
        "severity": "high",
        "started_at": "2026-11-27T01:00:00Z",
        **kw,
    }


def test_one_dedup_key_is_one_group_and_one_alert() -> None:
    batch = generic.parse(body())
    assert batch.group_key == "batch-scorer-late"
    [alert] = batch.alerts
    assert alert.labels == {
        "alertname": "Batch scorer is 2h late",
        "service": "search-ranker",
        "severity": "high",
    }
    assert batch.title == "Batch scorer is 2h late"


def test_fields_it_does_not_know_are_ignored() -> None:
    batch = generic.parse(body(sevrity="high", routing_key="abc", payload={"x": 1}))
    assert batch.alerts[0].labels["severity"] == "high"


def test_without_a_start_time_it_starts_when_received_and_is_matched_by_key() -> None:
    data = body()
    data.pop("started_at")
    received = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    batch = generic.parse(data, received=lambda: received)
    assert batch.alerts[0].starts_at == received
    assert batch.keyed  # its repeats, each "received" anew, are the same alert
    assert not generic.parse(body()).keyed  # a start time given names the occurrence
    with pytest.raises(Unreadable, match="started_at"):
        generic.parse(data)  # a replayed drill has no time of receipt
