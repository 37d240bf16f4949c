"""Reading people out of command text: Slack sends mentions as <@U123|name> or <@U123>."""

from __future__ import annotations

import re

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def parse_user(word: str, *, me: str) -> str | None:
    """A mention, or 'me' / '@me' for the person typing; None for anything else."""
    word = word.strip()
    if word.lower() in ("me", "@me"):
        return me
    found = _MENTION.match(word)
    return found.group(1) if found else None
