"""The escaping boundary: escape and unescape, and the only builders of active mrkdwn."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.mrkdwn import (
    channel_link,
    date,
    escape,
    escape_except,
    is_user_id,
    is_web_url,
    link,
    mention,
    unescape,
)


def test_escape_is_slacks_three_characters_and_nothing_else() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape("<!channel>") == "&lt;!channel&gt;"
    assert escape("*bold* _it_ `code` ~s~ \"q\" 'a' :fire:") == (
        "*bold* _it_ `code` ~s~ \"q\" 'a' :fire:"
    )
    assert escape(42) == "42" and escape(ValueError("<x>")) == "&lt;x&gt;"


def test_escaped_text_is_escaped_again_so_slack_shows_it_as_typed() -> None:
    """Not idempotent, on purpose: someone who typed `&lt;` sees `&lt;`, never an active <."""
    assert escape("&lt;!channel&gt;") == "&amp;lt;!channel&amp;gt;"
    assert escape(escape("<")) == "&amp;lt;"
    assert unescape(escape("&lt;!channel&gt;")) == "&lt;!channel&gt;"


@given(st.text())
def test_unescape_undoes_escape(text: str) -> None:
    assert unescape(escape(text)) == text
    assert "<" not in escape(text) and ">" not in escape(text)


def test_unescape_reads_what_slack_sends() -> None:
    # Slack escapes what was typed and leaves its own markup's brackets.
    assert unescape("a &amp; b &lt;x&gt; <@U0ANA0001|ana>") == "a & b <x> <@U0ANA0001|ana>"
    assert unescape("&amp;lt;") == "&lt;"  # a typed "&lt;" stays what was typed
    assert unescape("&quot; &#39; &") == "&quot; &#39; &"  # not Slack's: left alone


def test_mentions_only_of_slack_ids() -> None:
    assert mention("U0ANA0001") == "<@U0ANA0001>" and mention("W0ENT0001") == "<@W0ENT0001>"
    for bad in ("firebreak", "U0ANA0001>", "<!channel>", "U0ANA0001|x", "u0ana0001", "U1", ""):
        assert "<" not in mention(bad), bad
    assert mention("<!channel>") == "&lt;!channel&gt;"
    assert is_user_id("U0ANA0001") and not is_user_id("U0ANA0001\n") and not is_user_id(None)


def test_channel_links_only_of_slack_ids() -> None:
    assert channel_link("C0INC00001") == "<#C0INC00001>"
    assert channel_link("incidents") == "incidents"
    assert channel_link("C0X><!here") == "C0X&gt;&lt;!here"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://runbooks.example.com/a?b=1&c=2", "<https://runbooks.example.com/a?b=1&c=2|Run>"),
        ("http://prom.example/graph?g0.expr=a|b", "<http://prom.example/graph?g0.expr=a%7Cb|Run>"),
        (
            "https://evil.example/x>|click me <!channel>",
            "<https://evil.example/x%3E%7Cclick%20me%20%3C!channel%3E|Run>",
        ),
        ("javascript:alert(1)", "Run"),
        ("mailto:a@b.c", "Run"),
        ("https://", "Run"),
        ("<https://evil.example|click me>", "Run"),
        (None, "Run"),
    ],
)
def test_links_only_to_the_web_and_never_cut_short(url: str | None, expected: str) -> None:
    assert link(url, "Run") == expected


def test_a_links_label_is_escaped() -> None:
    assert link("https://x.example", "<!here> & co") == "<https://x.example|&lt;!here&gt; &amp; co>"
    assert is_web_url("HTTPS://X.EXAMPLE/") and not is_web_url("ftp://x.example")


def test_dates_are_slacks_with_an_escaped_fallback() -> None:
    at = datetime(2026, 11, 27, 3, 4, tzinfo=UTC)
    assert (
        date(at, "{time}", "03:04 <UTC>")
        == f"<!date^{int(at.timestamp())}^{{time}}|03:04 &lt;UTC&gt;>"
    )


def test_escape_except_keeps_mentions_of_the_people_given_only() -> None:
    text = "<@U0ANA0001> handed command to <@U0BEN0002|ben>; <@U0EVIL0001> <!channel> & co"
    assert escape_except(text, {"U0ANA0001", "U0BEN0002", "<!here>"}) == (
        "<@U0ANA0001> handed command to <@U0BEN0002>; &lt;@U0EVIL0001&gt; &lt;!channel&gt; &amp; co"
    )
    assert escape_except(text, ()) == escape(text)
    # Only a whole mention: not one spelled inside escaped text.
    assert escape_except("&lt;@U0ANA0001&gt;", {"U0ANA0001"}) == "&amp;lt;@U0ANA0001&amp;gt;"
