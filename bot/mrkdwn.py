"""Slack mrkdwn: the one escaping boundary.

Outside text is data. Everything Firebreak did not make itself — alert labels, annotations,
titles, summaries and descriptions (Alertmanager, Grafana, generic webhooks), change-feed fields,
whatever people type (`/incident declare <title>`, notes, updates, reasons, `key=value` playbook
parameters, modal inputs, messages flagged onto the timeline) — goes through `escape()` before
it enters any mrkdwn: Block Kit `mrkdwn` text objects, the `text` of chat.postMessage,
chat.update, chat.postEphemeral and response_url replies (Slack renders it as mrkdwn, and shows
it in notifications), and channel topics. Slack's "Escaping text" rule, and nothing more:
`&` → `&amp;`, `<` → `&lt;`, `>` → `&gt;`. `*bold*`, `_italic_` and backticks stay as typed:
they style text but cannot mention anyone or link anywhere.

Escaping is deliberately not idempotent: `escape("&lt;")` is `"&amp;lt;"`, which Slack shows as
the four characters `&lt;` the sender typed. Already-escaped text never turns back into an
active `<`.

The active constructs — `<@U…>`, `<#C…>`, `<url|label>`, `<!date^…>` — are built only here,
from values checked here: a Slack ID matching `[UW][A-Z0-9]{2,}` (people) or `[CG][A-Z0-9]{2,}`
(channels), an http(s) URL with `|`, `<`, `>` and white space percent-encoded, a label escaped.
A value that fails the check comes out escaped, as text. Firebreak never builds `<!here>`,
`<!channel>` or `<!everyone>`.

Block Kit `plain_text` objects (headers, buttons, modal labels) are not mrkdwn: Slack parses
nothing in them and shows them as given, so they take the plain text, unescaped.

Where the boundary sits:
- The domain (incidents, alerts, changes, budget, drills, postmortem, playbooks) writes the
  texts it hands the Chat port (`say`, `whisper`, `direct_message`, `remind`, `offer_playbook`,
  `share_files`' comment, `set_topic`, and `Refused` messages, which go back to the person who
  asked) as mrkdwn: outside values through `escape()`, people through `mention()`
  (`bot.incidents.people.mention`), channels through `channel_link()`.
- The cards and views the port takes (IncidentCard, StatusUpdate, RunView, ChangeLine …) carry
  plain text; the block builders in `bot.slack.blocks` escape every field of them, except the
  IDs and URLs they turn into mentions and links here.
- What Slack sends us (command text, message text) comes escaped: `unescape()` gives what the
  person typed, which is what Firebreak stores.

Timeline entries are stored as plain text — what the sender sent, unescaped — so the JSON API
and the postmortem show it as it was. Firebreak's own entries name people as `<@U…>` (built by
`mention()`), and the entry records the people it names structurally (its actor, and the
person keys of its data: `bot.incidents.timeline.people_of`). The Slack timeline listing
escapes the whole text with `escape_except()`, which keeps a mention only of those people:
anything else that looks like a mention, a link or `<!channel>` is shown as text. A text the
domain says in Slack *and* keeps on the timeline is written once as mrkdwn and stored as
`unescape()` of it.

Pure: no Slack, HTTP or framework imports; any layer may use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import TypeGuard
from urllib.parse import quote, urlsplit

USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CONTROL = re.compile(r"[&<>]")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_UNESCAPES = {"amp": "&", "lt": "<", "gt": ">"}
# A mention as escape() leaves it: &lt;@U123&gt; or &lt;@U123|name&gt;.
_ESCAPED_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]{2,})(?:\|(?:(?!&gt;).)*)?&gt;")
# In a link's URL, these end the link or the URL early (or split it): percent-encoded.
_URL_UNSAFE = re.compile(r"[|<>\s\x00-\x1f\x7f]")


def escape(text: object) -> str:
    """Outside text, made inert for mrkdwn (Slack's &, <, > escaping)."""
    return _CONTROL.sub(lambda m: _ESCAPES[m[0]], str(text))


def unescape(text: str) -> str:
    """The exact inverse of escape(): what Slack sends (a command's text, a message) back to
    what the person typed. Its own markup (<@U123|name>, <https://…>) keeps its brackets."""
    return _ENTITY.sub(lambda m: _UNESCAPES[m[1]], text)


def is_user_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and USER_ID.fullmatch(value) is not None


def is_channel_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and CHANNEL_ID.fullmatch(value) is not None


def mention(user_id: str) -> str:
    """<@U123> for a Slack user ID; anything else (a name, "firebreak") as escaped text."""
    return f"<@{user_id}>" if is_user_id(user_id) else escape(user_id)


def channel_link(channel_id: str) -> str:
    """<#C123> for a Slack channel ID; anything else as escaped text."""
    return f"<#{channel_id}>" if is_channel_id(channel_id) else escape(channel_id)


def is_web_url(url: object) -> TypeGuard[str]:
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def link(url: str | None, label: str) -> str:
    """<url|label> for an http(s) URL; otherwise just the label. The label is escaped; in the
    URL, '|', '<', '>' and white space (which would end the link early) are percent-encoded."""
    if not url or not is_web_url(url):
        return escape(label)
    safe = _URL_UNSAFE.sub(lambda m: quote(m[0], safe=""), url.strip())
    return f"<{safe}|{escape(label)}>"


def date(at: datetime, tokens: str, fallback: str) -> str:
    """Slack's <!date^…> (each reader sees their own time zone); `fallback` (escaped) where a
    client cannot format it. `tokens` is Firebreak's own, like "{date_short} {time}"."""
    return f"<!date^{int(at.timestamp())}^{tokens}|{escape(fallback)}>"


def escape_except(text: str, people: Iterable[str]) -> str:
    """escape(text), except that a mention of one of `people` (checked IDs) stays a mention.

    For plain text Firebreak stored with its own `<@U…>` mentions in it (timeline entries):
    who the text may mention comes from the entry's structure, never from the text."""
    known = {p for p in people if is_user_id(p)}
    escaped = escape(text)
    if not known or "&lt;@" not in escaped:
        return escaped
    return _ESCAPED_MENTION.sub(lambda m: f"<@{m[1]}>" if m[1] in known else m[0], escaped)
