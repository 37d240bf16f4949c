"""The alert's graph against the real Prometheus (Debian's binary), its samples backfilled for
the last two hours: the range query the bot makes is one Prometheus answers, and the whole bot
posts the graph of an Alertmanager alert whose generatorURL names it."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from bot.config import AlertsConfig, FirebreakConfig, PostmortemConfig, ServiceConfig
from bot.evidence.adapters.prometheus import HttpEvidence
from bot.evidence.flows import step_for
from bot.evidence.promql import split_threshold
from tests.payloads import am_alert, am_notification
from tests.polling import wait_until
from tests.prometheus import GRAPH_WAIT_S, real_prometheus
from tests.scenario import clean_env, running_bot
from tests.unit.test_charts import SIGNATURE

NOW = datetime.now(UTC)
DROP = NOW - timedelta(minutes=25)  # when v43-bad went out and NDCG fell
EXPR = 'avg by (model) (ndcg_at_10{service="search-ranker"}) < 0.61'


def ndcg(at: float) -> float:
    base = 0.68 if at < DROP.timestamp() else 0.55
    return base + 0.01 * math.sin(at / 240)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with real_prometheus(
        tmp_path_factory.mktemp("prometheus"),
        samples=ndcg,
        labels='service="search-ranker",model="ranker"',
        metric="ndcg_at_10",
        now=NOW,
    ) as url:
        yield url


async def test_prometheus_answers_the_range_query_the_bot_makes(prometheus: str) -> None:
    query = split_threshold(EXPR)
    start, end = NOW - timedelta(minutes=80), NOW
    async with httpx.AsyncClient() as client:
        (series,) = await HttpEvidence(client).query_range(
            base_url=prometheus,
            expr=query.expr,
            start=start,
            end=end,
            step=step_for(start, end),
            timeout=5,
        )
    assert series.labels == {"model": "ranker"}
    assert 300 <= len(series.points) <= 600
    before = [v for at, v in series.points if at < DROP - timedelta(minutes=5)]
    after = [v for at, v in series.points if at > DROP + timedelta(minutes=5)]
    assert before and after
    assert min(before) > 0.61 > max(after)  # the threshold the graph draws splits them


def test_the_bot_posts_the_graph_from_the_real_prometheus(
    prometheus: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    config = FirebreakConfig(
        broadcast_channel="incidents",
        alerts=AlertsConfig(),
        postmortem=PostmortemConfig(folder=tmp_path / "postmortems", on_resolve=False),
        services={"search-ranker": ServiceConfig(owners=["U0ANA0001"])},
    )
    alert = am_alert(starts_at=(DROP + timedelta(minutes=5)).isoformat().replace("+00:00", "Z"))
    alert["generatorURL"] = f"{prometheus}/graph?g0.expr={quote(EXPR, safe='')}&g0.tab=1"
    with running_bot(tmp_path, config) as bot:
        change = {
            "id": "deploy-v43-bad",
            "kind": "deploy",
            "service": "search-ranker",
            "version": "v43-bad",
            "previous_version": "v42",
            "time": DROP.isoformat(),
        }
        assert bot.webhook("changes", change).status_code in (200, 201, 202)
        assert bot.webhook("alertmanager", am_notification(alert)).status_code == 200
        channel = bot.announced("INC-1")["channel_id"]
        (graph,) = wait_until(
            lambda: [f for f in bot.workspace.files() if channel in f["channels"]],
            what="the graph in the incident's channel",
            timeout=GRAPH_WAIT_S,
        )
        assert (graph["name"], graph["filetype"]) == ("INC-1-alert.png", "png")
        assert bot.workspace.file_content(graph["id"]).startswith(SIGNATURE)
        texts = [m.get("text", "") for m in bot.workspace.messages(channel)]
        assert not [t for t in texts if "No graph" in t]
