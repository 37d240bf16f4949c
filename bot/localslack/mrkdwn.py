"""Just enough of Slack's mrkdwn and text objects, turned into safe HTML for the page.

Everything is escaped first; only tags built here are added, so message text can never
inject markup into the page.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup, escape

from bot.localslack.emoji import image

# Slack's control sequences: <https://x|label>, <#C123|name>, <@U123>, <!here>.
_ANGLE = re.compile(r"<([^<>|\s][^<>|]*)(?:\|([^<>]*))?>")
_CODE = re.compile(r"`([^`\n]+)`")
_STYLES = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "s"),
)
_LINK_SCHEMES = ("http://", "https://", "mailto:")
# A code, with or without a skin tone (":+1::skin-tone-2:", drawn as the plain one).
_EMOJI_CODE = re.compile(r":([a-z0-9_+'-]+)(?:::skin-tone-[2-6])?:")


def emoji(name: str) -> Markup | None:
    """The image for an emoji's code name (skin tones ignored), or None: any other code
    stays as typed, as Slack shows a code it does not know."""
    return image(name.split("::")[0])


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
        """`links=False` shows URLs as text, for places already inside a link (the sidebar).

        Slack's rules: `<…>` control sequences (mentions, channels, links) are read first, and
        stay what they are inside code too; a code span is one pair of backticks on one line,
        so a backtick left open at a line's end is shown as typed; nothing is styled inside
        code; `&lt;`, `&gt;` and `&amp;` show as `<`, `>` and `&` everywhere."""
        references = list(_ANGLE.finditer(text))
        # Where the code spans are, with each control sequence masked: one of them neither
        # opens nor closes a span, whatever it holds, and line breaks in it still end one.
        masked = list(text)
        for match in references:
            for i in range(match.start(), match.end()):
                if masked[i] != "\n":
                    masked[i] = "x"
        parts: list[Markup] = []
        position = 0
        for code in _CODE.finditer("".join(masked)):
            parts.append(self._run(text, position, code.start(), references, links, _inline))
            inner = self._run(text, code.start(1), code.end(1), references, links, _plain)
            parts.append(Markup("<code>{}</code>").format(inner))
            position = code.end()
        parts.append(self._run(text, position, len(text), references, links, _inline))
        return Markup("").join(parts)

    def _run(
        self,
        text: str,
        start: int,
        end: int,
        references: list[re.Match[str]],
        links: bool,
        render: Callable[[str], Markup],
    ) -> Markup:
        """text[start:end], its control sequences (wholly inside or outside it) rendered."""
        parts: list[Markup] = []
        position = start
        # In order and apart, so those inside are the ones from the first that starts in it.
        first = bisect.bisect_left(references, start, key=lambda m: m.start())
        for match in references[first:]:
            if match.end() > end:
                break
            parts.append(render(text[position : match.start()]))
            parts.append(self._reference(match, links=links, render=render))
            position = match.end()
        parts.append(render(text[position:end]))
        return Markup("").join(parts)

    def _reference(
        self, match: re.Match[str], *, links: bool, render: Callable[[str], Markup]
    ) -> Markup:
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
            shown = render(label) if label else escape(target)
            if not links:
                return shown
            return Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(target, shown)
        return render(match.group(0))  # not a control sequence: show it as typed


def _inline(text: str) -> Markup:
    """Escaped text with `code`, *bold*, _italic_, ~strike~ and line breaks."""
    text = _unescape(text)
    pieces: list[Markup] = []
    position = 0
    for match in _CODE.finditer(text):
        pieces.append(_styled(text[position : match.start()]))
        pieces.append(Markup("<code>{}</code>").format(match.group(1)))
        position = match.end()
    pieces.append(_styled(text[position:]))
    return Markup("").join(pieces)


def _plain(text: str) -> Markup:
    """Inside code: the characters, no styles (code never holds a line break)."""
    return escape(_unescape(text))


def _unescape(text: str) -> str:
    # Slack text arrives with &, < and > entity-escaped; undo that before escaping for HTML.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _styled(text: str) -> Markup:
    html = str(escape(text))
    for pattern, tag in _STYLES:
        html = pattern.sub(rf"<{tag}>\1</{tag}>", html)
    # After escaping and styling: an image's markup is never read as text again.
    html = _EMOJI_CODE.sub(lambda m: str(emoji(m[1]) or m[0]), html)
    return Markup(html.replace("\n", "<br>\n"))
