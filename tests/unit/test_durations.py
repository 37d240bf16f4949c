from __future__ import annotations

from datetime import timedelta

import pytest

from bot.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("2m", 120),
        ("1h30m", 5400),
        ("7d", 604800),
        ("0.5s", 0.5),
        (45, 45),
        (" 1h 5m ", 3900),
    ],
)
def test_parse(text: object, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", ["soon", "5", "m", "1x", "", True, None])
def test_parse_refuses_what_is_not_a_duration(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_format() -> None:
    assert format_duration(timedelta(seconds=5400)) == "1h30m"
    assert format_duration(timedelta(minutes=15)) == "15m"
    assert format_duration(timedelta(0)) == "0s"
