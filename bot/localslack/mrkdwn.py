"""Just enough of Slack's mrkdwn and text objects, turned into safe HTML for the page.

Everything is escaped first; only tags built here are added, so message text can never
inject markup into the page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

# Slack's control sequences: <https://x|label>, <#C123|name>, <@U123>, <!here>.
_ANGLE = re.compile(r"<([^<>|\s][^<>|]*)(?:\|([^<>]*))?>")
_CODE = re.compile(r"`([^`\n]+)`")
_STYLES = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "s"),
)
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_EMOJI_CODE = re.compile(r":([a-z0-9_+'-]+):")
# The emoji Firebreak and responders use most, drawn as Slack draws their :codes:; any other
# code stays as typed.
EMOJI = {
    "pushpin": "📌",
    "+1": "👍",
    "thumbsup": "👍",
    "eyes": "👀",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "fire": "🔥",
    "rotating_light": "🚨",
    "warning": "⚠️",
    "rewind": "⏪",
    "page_facing_up": "📄",
    "hourglass_flowing_sand": "⏳",
    "stopwatch": "⏱️",
    "bell": "🔔",
    "rocket": "🚀",
    "tada": "🎉",
    "ice_cube": "🧊",
    "no_entry": "⛔",
    "arrows_counterclockwise": "🔄",
    "memo": "📝",
    "pencil": "✏️",
    "writing_hand": "✍️",
    "handshake": "🤝",
    "saluting_face": "🫡",
    "star": "⭐",
    "red_circle": "🔴",
    "large_orange_circle": "🟠",
    "large_yellow_circle": "🟡",
    "white_circle": "⚪",
    "grey_question": "❔",
    "fast_forward": "⏩",
    "leftwards_arrow_with_hook": "↩️",
    "ballot_box_with_check": "☑️",
}


def emoji(name: str) -> str | None:
    """The emoji for a code name (skin tones ignored), or None."""
    return EMOJI.get(name.split("::")[0])


def safe_url(url: Any) -> str | None:
    """The URL if a browser may follow it from this page (no javascript: and friends)."""
    if isinstance(url, str) and url.startswith(_LINK_SCHEMES):
        return url
    return None


class Formatter:
    """Renders message text, knowing the workspace's names for <@U…> and <#C…> references."""

    def __init__(self, users: Mapping[str, str], channels: Mapping[str, str]) -> None:
        self._users = users
        self._channels = channels

    def text(self, obj: Any) -> Markup:
        """A Block Kit text object (plain_text or mrkdwn), or a bare string as mrkdwn."""
        if isinstance(obj, str):
            return self.mrkdwn(obj)
        if not isinstance(obj, dict):
            return Markup("")
        if obj.get("type") == "plain_text":
            return escape(str(obj.get("text", "")))
        return self.mrkdwn(str(obj.get("text", "")))

    def mrkdwn(self, text: str, *, links: bool = True) -> Markup:
        """`links=False` shows URLs as text, for places already inside a link (the sidebar)."""
        parts: list[Markup] = []
        position = 0
        for match in _ANGLE.finditer(text):
            parts.append(_inline(text[position : match.start()]))
            parts.append(self._reference(match, links=links))
            position = match.end()
        parts.append(_inline(text[position:]))
        return Markup("").join(parts)

    def _reference(self, match: re.Match[str], *, links: bool) -> Markup:
        target, label = match.group(1), match.group(2)
        if target.startswith("#"):
            name = label or self._channels.get(target[1:], target[1:])
            return Markup('<span class="ref">#{}</span>').format(name)
        if target.startswith("@"):
            name = label or self._users.get(target[1:], target[1:])
            return Markup('<span class="ref">@{}</span>').format(name)
        if target.startswith("!"):
            name = label or "@" + target[1:].split("^", 1)[0]
            return Markup('<span class="ref">{}</span>').format(name)
        if safe_url(target):
            shown = _inline(label) if label else escape(target)
            if not links:
                return shown
            return Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(target, shown)
        return _inline(match.group(0))  # not a control sequence: show it as typed


def _inline(text: str) -> Markup:
    """Escaped text with `code`, *bold*, _italic_, ~strike~ and line breaks."""
    # Slack text arrives with &, < and > entity-escaped; undo that before escaping for HTML.
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    pieces: list[Markup] = []
    position = 0
    for match in _CODE.finditer(text):
        pieces.append(_styled(text[position : match.start()]))
        pieces.append(Markup("<code>{}</code>").format(match.group(1)))
        position = match.end()
    pieces.append(_styled(text[position:]))
    return Markup("").join(pieces)


def _styled(text: str) -> Markup:
    html = str(escape(text))
    for pattern, tag in _STYLES:
        html = pattern.sub(rf"<{tag}>\1</{tag}>", html)
    html = _EMOJI_CODE.sub(lambda m: emoji(m[1]) or m[0], html)
    return Markup(html.replace("\n", "<br>\n"))
