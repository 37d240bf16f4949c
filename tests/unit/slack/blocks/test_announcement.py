from __future__ import annotations

import json

from bot.incidents.ports import IncidentCard
from bot.slack.blocks.announcement import announcement


def card(**kw: object) -> IncidentCard:
    base: dict[str, object] = dict(
        incident_id=7,
        ref="INC-7",
        title="Ranker <quality> drop",
        severity="SEV1",
        status="investigating",
        service="search-ranker",
        summary="NDCG fell",
        description="<@U0EVIL> <!channel> see >here",
        source_url="http://prom.example/graph?g0.expr=a|b",
        runbook_url="javascript:alert(1)",
        channel_id="C0000000001",
        channel_name="inc-7-ranker",
        declared_by=None,
        alerts_firing=2,
    )
    base.update(kw)
    return IncidentCard(**base)  # type: ignore[arg-type]


def test_announcement_shows_what_responders_need() -> None:
    text, blocks = announcement(card())
    assert text == ":red_circle: INC-7 · SEV1 · Ranker &lt;quality&gt; drop"
    assert (
        blocks[0]["text"]["text"] == "INC-7: Ranker <quality> drop"
    )  # plain_text needs no escaping
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert "*Service*\nsearch-ranker" in fields and "*Channel*\n<#C0000000001>" in fields
    assert "*Alerts firing*\n2" in fields


def test_alert_text_cannot_mention_or_forge_links() -> None:
    _, blocks = announcement(card())
    rendered = json.dumps(blocks)
    assert "<@U0EVIL>" not in rendered and "<!channel>" not in rendered
    assert "&lt;@U0EVIL&gt; &lt;!channel&gt;" in rendered
    # Only web links are linked, and a '|' cannot cut the link short.
    assert "javascript:" not in rendered
    assert "<http://prom.example/graph?g0.expr=a%7Cb|Alert source>" in rendered
