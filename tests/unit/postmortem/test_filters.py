"""The template filters on their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.postmortem import filters


def test_utc_formats_in_utc_whatever_the_zone() -> None:
    assert filters.utc(datetime(2026, 11, 27, 3, 4, 5, tzinfo=UTC)) == "2026-11-27 03:04:05 UTC"
    east = timezone(timedelta(hours=2))
    assert filters.utc(datetime(2026, 11, 27, 5, 4, 5, tzinfo=east)) == "2026-11-27 03:04:05 UTC"
    assert filters.utc(datetime(2026, 11, 27, 3, 4, 5)) == "2026-11-27 03:04:05 UTC"
    # Fractions of a second are cut, not rounded up into the next second.
    late = datetime(2026, 11, 27, 3, 4, 5, 999_999, tzinfo=UTC)
    assert filters.utc(late) == "2026-11-27 03:04:05 UTC"
    assert filters.utc(None) == "—"


@pytest.mark.parametrize(
    ("delta", "shown"),
    [
        (timedelta(minutes=4, seconds=12), "4m 12s"),
        (timedelta(hours=1, seconds=5), "1h 5s"),
        (timedelta(days=30), "30d"),
        (timedelta(days=1, hours=2, minutes=3, seconds=4, milliseconds=900), "1d 2h 3m 4s"),
        (timedelta(milliseconds=350), "350ms"),
        (timedelta(0), "0s"),
        (timedelta(minutes=-5), "-5m"),
        (None, "—"),
    ],
)
def test_duration(delta: timedelta | None, shown: str) -> None:
    assert filters.duration(delta) == shown


def test_percent_and_number() -> None:
    assert filters.percent(10 / 43.2) == "23.1%"
    assert filters.percent(0.0004) == "0.04%"
    assert filters.percent(0) == "0.0%"
    assert filters.number(99.9) == "99.9"
    assert filters.number(99.0) == "99"
    assert filters.number(3_000_000) == "3,000,000"


def test_mention_names_known_people_and_keeps_ids_of_others() -> None:
    names = {"U0ANA0001": "Ana Ortiz"}
    assert filters.mention("U0ANA0001", names=names) == "Ana Ortiz"
    assert filters.mention("U0BEN0002", names=names) == "@U0BEN0002"
    assert filters.mention("<@U0ANA0001> asked <@U0BEN0002> and <@W0CAI|cai>", names=names) == (
        "Ana Ortiz asked @U0BEN0002 and @cai"
    )
    assert filters.mention("firebreak", names=names) == "firebreak"
    assert filters.mention(None, names=names) == "—"


def test_cell_escapes_what_would_split_a_table_row() -> None:
    assert filters.cell("a | b") == "a \\| b"
    assert filters.cell("one\ntwo\r\nthree\rfour") == "one<br>two<br>three<br>four"
    assert filters.cell("C:\\dir\\|x") == "C:\\\\dir\\\\\\|x"
    assert filters.cell(None) == ""


def test_oneline_quote_and_href() -> None:
    assert filters.oneline("a\n  b\tc ") == "a b c"
    assert filters.quote_block("first\n# second\n") == "> first\n> # second"
    assert filters.quote_block("a\n\nb") == "> a\n>\n> b"
    assert filters.href("https://x.example/a b|(c)?q=1&r=<2>") == (
        "https://x.example/a%20b%7C%28c%29?q=1&r=%3C2%3E"
    )
    assert filters.href(None) == ""
