from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from bot.oncall import Rotation

A, B, C = "U0AAA0001", "U0BBB0002", "U0CCC0003"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_hands_over_weekly_at_local_time() -> None:
    rota = Rotation(
        users=[A, B, C],
        handover_day="monday",
        handover_time="09:00",
        timezone="Europe/Berlin",
        start="2026-11-02",
    )
    assert rota.on_call(at("2026-11-02T07:59:00+00:00")) == C  # 08:59 in Berlin: not yet
    assert rota.on_call(at("2026-11-02T08:00:00+00:00")) == A  # 09:00 in Berlin
    assert rota.on_call(at("2026-11-09T07:59:59+00:00")) == A
    assert rota.on_call(at("2026-11-09T08:00:00+00:00")) == B
    assert rota.on_call(at("2026-11-16T08:00:00+00:00")) == C
    assert rota.on_call(at("2026-11-23T08:00:00+00:00")) == A


def test_wall_clock_hand_over_survives_daylight_saving() -> None:
    # Berlin leaves summer time on 2026-10-25: 09:00 local is 07:00 UTC before, 08:00 after.
    rota = Rotation(users=[A, B], timezone="Europe/Berlin", start="2026-10-19")
    assert rota.on_call(at("2026-10-19T07:00:00+00:00")) == A
    assert rota.on_call(at("2026-10-26T07:30:00+00:00")) == A  # 08:30 local: still A
    assert rota.on_call(at("2026-10-26T08:00:00+00:00")) == B


def test_start_on_another_weekday_waits_for_the_hand_over_day() -> None:
    rota = Rotation(users=[A, B], handover_day="thursday", start="2026-11-02")  # a Monday
    assert rota.on_call(at("2026-11-04T12:00:00+00:00")) == B  # before the first hand-over
    assert rota.on_call(at("2026-11-05T09:00:00+00:00")) == A


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("users", ["ana"], "not a Slack user ID"),
        ("users", [], "at least 1"),
        ("handover_day", "someday", "not a weekday"),
        ("timezone", "Mars/Olympus", "not an IANA"),
    ],
)
def test_invalid_rotations_say_why(field: str, value: object, message: str) -> None:
    data = {"users": [A], field: value}
    with pytest.raises(ValidationError, match=message):
        Rotation.model_validate(data)


def test_aware_times_in_any_zone() -> None:
    rota = Rotation(users=[A, B], timezone="UTC", start="2026-11-02")
    assert rota.on_call(datetime(2026, 11, 9, 9, 0, tzinfo=UTC)) == B
