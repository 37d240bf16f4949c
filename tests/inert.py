"""Checking that what Firebreak hands Slack is inert: no control sequence survives in mrkdwn
except the ones Firebreak builds itself (bot.mrkdwn): mentions of people and channels the test
knows, <!date^…> and links with Firebreak's own labels."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Set
from dataclasses import dataclass, field

# Text that would mention, link or ping if Slack took it as mrkdwn, in every form a sender may try.
HOSTILE = (
    "<!channel>",
    "<!here|here>",
    "<!everyone>",
    "<@U0EVIL0001>",
    "<#C0EVIL0001>",
    "<https://evil.example|click me>",
    "<mailto:a@b.c|x>",
    "&lt;!channel&gt;",  # already escaped: must not be un-escaped into an active <!channel>
    "*bold*",  # fine: styling, not a control sequence
)
HOSTILE_TEXT = " ".join(HOSTILE)

# The labels Firebreak gives the links it builds (announcement, changes, timeline).
BOT_LINK_LABELS = {"Alert source", "Runbook", "details", "link"}
_SEQUENCE = re.compile(r"<([^<>]*)>")
_DATE = re.compile(r"!date\^\d+\^[^|<>]*\|[^<>]*")
_LINK = re.compile(r"https?://[^\s|<>]+\|([^<>|]*)")
_MENTION = re.compile(r"@([UW][A-Z0-9]{2,})")
_CHANNEL = re.compile(r"#([CG][A-Z0-9]{2,})(?:\|[a-z0-9_-]*)?")
# Keys whose string value Slack shows as mrkdwn (outside Block Kit text objects).
_MRKDWN_KEYS = {"text", "topic", "purpose", "initial_comment"}
_JSON_KEYS = {"blocks", "attachments", "view"}


@dataclass
class Seen:
    """Every text found: mrkdwn (must be inert) and plain_text (Slack parses nothing in it)."""

    mrkdwn: list[str] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)

    def all(self) -> str:
        return "\n".join(self.mrkdwn + self.plain)


def texts(value: object, seen: Seen | None = None, *, key: str | None = None) -> Seen:
    """The texts of a message, a view, a response or an API call's arguments."""
    seen = seen if seen is not None else Seen()
    if isinstance(value, str) and key in _JSON_KEYS and value[:1] in "[{":
        texts(json.loads(value), seen)  # a form-encoded call sends its blocks as JSON
    elif isinstance(value, str):
        if key is None or key in _MRKDWN_KEYS:
            seen.mrkdwn.append(value)
    elif isinstance(value, dict):
        kind = value.get("type")
        if kind == "plain_text" and isinstance(value.get("text"), str):
            seen.plain.append(value["text"])
        elif kind == "mrkdwn" and isinstance(value.get("text"), str):
            seen.mrkdwn.append(value["text"])
        else:
            for k, v in value.items():
                texts(v, seen, key=str(k))
    elif isinstance(value, list | tuple):
        for item in value:
            texts(item, seen, key=key if isinstance(item, str) else None)
    return seen


def active(
    text: str, *, users: Set[str] = frozenset(), channels: Set[str] = frozenset()
) -> Iterator[str]:
    """The control sequences in mrkdwn `text` that Firebreak did not build for the test's own
    people and channels."""
    for found in _SEQUENCE.finditer(text):
        body = found[1]
        mention = _MENTION.fullmatch(body)
        channel = _CHANNEL.fullmatch(body)
        link = _LINK.fullmatch(body)
        if mention and mention[1] in users:
            continue
        if channel and channel[1] in channels:
            continue
        if _DATE.fullmatch(body):
            continue
        if link and link[1] in BOT_LINK_LABELS:
            continue
        yield found[0]


def violations(
    value: object, *, users: Set[str] = frozenset(), channels: Set[str] = frozenset()
) -> list[tuple[str, str]]:
    """(the sequence, the text it is in) for every active sequence in value's mrkdwn."""
    return [
        (sequence, text)
        for text in texts(value).mrkdwn
        for sequence in active(text, users=users, channels=channels)
    ]
