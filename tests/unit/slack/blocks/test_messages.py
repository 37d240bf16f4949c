"""Messages asking before an action (bot/slack/blocks/messages.py)."""

from __future__ import annotations

from bot.slack.blocks import actions
from bot.slack.blocks.messages import resolve_confirmation


def _buttons(blocks: list[dict[str, object]]) -> list[tuple[str, str, str]]:
    elements = blocks[-1]["elements"]
    assert isinstance(elements, list)
    return [(e["text"]["text"], e["action_id"], e["value"]) for e in elements]


def test_resolving_with_nothing_firing_asks_once() -> None:
    text, blocks = resolve_confirmation(7, "INC-7", "Ranker <down>")
    assert text.startswith("Resolve INC-7?")
    assert "firing" not in str(blocks) and "Ranker &lt;down&gt;" in str(blocks)
    assert _buttons(blocks) == [
        ("Resolve", actions.RESOLVE_CONFIRM, "7"),
        ("Cancel", actions.RESOLVE_CANCEL, "7"),
    ]


def test_resolving_with_alerts_firing_warns_then_asks_again_with_its_own_button() -> None:
    _, first = resolve_confirmation(7, "INC-7", "Ranker down", firing=2)
    assert ":warning: 2 alerts are still firing." in first[0]["text"]["text"]
    assert _buttons(first)[0] == ("Resolve", actions.RESOLVE_CONFIRM, "7")

    text, again = resolve_confirmation(7, "INC-7", "Ranker down", firing=1, again=True)
    assert text == "1 alert is still firing on INC-7. Resolve it anyway?"
    assert "the impact may not be over" in again[0]["text"]["text"]
    assert _buttons(again) == [
        ("Resolve anyway", actions.RESOLVE_CONFIRM, "7:firing"),
        ("Cancel", actions.RESOLVE_CANCEL, "7"),
    ]
