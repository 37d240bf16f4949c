from __future__ import annotations

import base64
import re

import pytest

from bot.localslack.emoji import KNOWN
from bot.localslack.mrkdwn import Formatter, emoji, safe_url

fmt = Formatter(users={"U0ALICE001": "alice"}, channels={"C0INC00001": "inc-1"})


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("*SEV2* now", "<strong>SEV2</strong> now"),
        ("_slow_ and ~gone~", "<em>slow</em> and <s>gone</s>"),
        ("run `kubectl get pods`", "run <code>kubectl get pods</code>"),
        ("a\nb", "a<br>\nb"),
        (
            "<https://grafana.example/d/1|dashboard>",
            '<a href="https://grafana.example/d/1" rel="noopener noreferrer">dashboard</a>',
        ),
        ("<#C0INC00001>", '<span class="ref">#inc-1</span>'),
        ("<#C0INC00001|renamed>", '<span class="ref">#renamed</span>'),
        ("<@U0ALICE001> is commander", '<span class="ref">@alice</span> is commander'),
        ("<!here>", '<span class="ref">@here</span>'),
        ("2*3*4", "2*3*4"),
    ],
)
def test_mrkdwn(text: str, html: str) -> None:
    assert str(fmt.mrkdwn(text)) == html


def test_everything_else_is_escaped() -> None:
    html = str(fmt.mrkdwn("<script>alert('x')</script> & <javascript:alert(1)|click>"))
    assert "<script" not in html and "<a" not in html
    assert html.startswith("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; ")


def test_slack_entities_are_shown_as_characters_once() -> None:
    assert str(fmt.mrkdwn("p99 &gt; 2s &amp; rising")) == "p99 &gt; 2s &amp; rising"


def test_text_objects() -> None:
    assert str(fmt.text({"type": "plain_text", "text": "*not bold*"})) == "*not bold*"
    assert str(fmt.text({"type": "mrkdwn", "text": "*bold*"})) == "<strong>bold</strong>"
    assert str(fmt.text(None)) == ""


def test_safe_url() -> None:
    assert safe_url("https://x.example/a.png") == "https://x.example/a.png"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url(None) is None


def test_links_can_be_shown_as_text() -> None:
    # The sidebar's topics sit inside a link already; a link in a link breaks the page.
    html = str(fmt.mrkdwn("<@U0ALICE001> · <https://grafana.example/d/1|board>", links=False))
    assert html == '<span class="ref">@alice</span> · board'


def emoji_images(html: str) -> list[str]:
    """The alt text of each emoji image in `html`, in order."""
    return re.findall(
        r'<img class="emoji" alt="(:[^"]+:)" title="\1" src="data:image/svg\+xml', html
    )


@pytest.mark.parametrize("code", ["white_check_mark", "red_circle", "fire", "+1", "thumbsup"])
def test_known_emoji_codes_are_drawn_as_images(code: str) -> None:
    html = str(Formatter(users={}, channels={}).mrkdwn(f":{code}: rollback *done* at 02:55:00"))
    assert emoji_images(html) == [f":{code}:"]
    assert html.endswith(" rollback <strong>done</strong> at 02:55:00")
    assert html.count("<img") == 1  # "02:55:00" holds ":55:", which is no code


def test_unknown_codes_and_codes_in_code_stay_as_typed() -> None:
    # Slack shows a code it has no emoji for, and anything inside `code`, as typed.
    fmt = Formatter(users={}, channels={})
    assert str(fmt.mrkdwn(":party_parrot: `:rewind:`")) == ":party_parrot: <code>:rewind:</code>"
    assert str(fmt.mrkdwn("`/incident note :fire: &lt;b&gt;`")) == (
        "<code>/incident note :fire: &lt;b&gt;</code>"
    )


def test_emoji_next_to_styles_and_skin_tones() -> None:
    html = str(Formatter(users={}, channels={}).mrkdwn("*:x: failed*:+1::skin-tone-3:_:eyes:_"))
    assert emoji_images(html) == [":x:", ":+1:", ":eyes:"]
    assert html.startswith("<strong><img") and "<em><img" in html


def test_emoji_images_need_no_font() -> None:
    """Each image is an SVG of shapes: no <text> (it would need a font), nothing external."""
    for code in sorted(KNOWN):
        image = emoji(code)
        assert image is not None
        data = re.search(r'base64,([^"]+)"', str(image))
        assert data is not None
        svg = base64.b64decode(data[1]).decode()
        assert svg.startswith("<svg xmlns='http://www.w3.org/2000/svg'") and svg.endswith("</svg>")
        assert "<text" not in svg and "href" not in svg and "<script" not in svg
        assert all(ord(c) < 128 for c in svg), code
    assert emoji("pushpin::skin-tone-2") == emoji("pushpin")
    assert emoji("party_parrot") is None


@pytest.mark.parametrize(
    ("text", "html"),
    [
        # Slack's escaping holds inside code as anywhere: &lt; &gt; &amp; show as < > &.
        ("`/incident note &lt;text&gt;`", "<code>/incident note &lt;text&gt;</code>"),
        (
            "`a &amp;&amp; b` and `&amp;lt;`",
            "<code>a &amp;&amp; b</code> and <code>&amp;lt;</code>",
        ),
        # Two code spans on one line are two, not one from the first backtick to the last.
        (
            "• `/incident run &lt;playbook&gt;` — or `/incident run resume` later",
            "• <code>/incident run &lt;playbook&gt;</code> — or <code>/incident run resume</code>"
            " later",
        ),
        # A backtick left open at a line's end is shown as typed …
        ("run `kubectl\nthen *wait*", "run `kubectl<br>\nthen <strong>wait</strong>"),
        # … and a code span never crosses a line break, even with a closing backtick below.
        ("a `b\nc` d", "a `b<br>\nc` d"),
        ("• `one\n• `two` — x", "• `one<br>\n• <code>two</code> — x"),
        # Nothing is styled inside code.
        ("`*not bold* _nor this_`", "<code>*not bold* _nor this_</code>"),
        # A control sequence inside code stays one, and does not break the span.
        (
            "`/incident commander <@U0ALICE001>` done",
            '<code>/incident commander <span class="ref">@alice</span></code> done',
        ),
        (
            "`see <https://grafana.example/d/1|*board*>`",
            '<code>see <a href="https://grafana.example/d/1" rel="noopener noreferrer">'
            "*board*</a></code>",
        ),
    ],
)
def test_code_spans_follow_slacks_rules(text: str, html: str) -> None:
    assert str(fmt.mrkdwn(text)) == html
