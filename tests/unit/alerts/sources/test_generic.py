from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.alerts.sources import generic


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


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        generic.parse(body(sevrity="high"))


def test_start_time_is_required_for_dedup() -> None:
    data = body()
    data.pop("started_at")
    with pytest.raises(ValidationError):
        generic.parse(data)
