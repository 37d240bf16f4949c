"""bot.evidence.flows: which alert is graphed from where, the graph posted as a PNG with the
service's changes marked, a copy kept for the postmortem, and one line when there is none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.alerts.sources import alertmanager, grafana
from bot.changes.models import Change
from bot.config import AlertsConfig, FirebreakConfig, PostmortemConfig, ServiceConfig
from bot.context import Context
from bot.evidence import flows
from bot.evidence.ports import EvidenceError, Series
from bot.evidence.promql import Query, Threshold
from bot.incidents import flows as incident_flows
from bot.incidents import intake
from bot.postmortem.ports import Upload
from tests.domain import incident_with_channel, load_incident
from tests.fakes import FakeChat, FakeClock
from tests.payloads import am_alert, am_notification, grafana_notification
from tests.statements import statements
from tests.unit.test_charts import SIGNATURE

PNG = SIGNATURE + b"grafana's picture"


@dataclass
class CommentedChat(FakeChat):
    """Keeps the comments files are shared with, too."""

    comments: list[str] = field(default_factory=list)

    async def share_files(
        self, *, channel: str, files: Sequence[Upload], comment: str
    ) -> str | None:
        self.comments.append(comment)
        return await super().share_files(channel=channel, files=files, comment=comment)


@pytest.fixture
def chat() -> CommentedChat:
    return CommentedChat()


@dataclass
class FakeEvidence:
    """Prometheus and image links in memory: what was asked, and what to answer."""

    series: list[Series] = field(default_factory=list)
    failure: str | None = None
    queries: list[dict[str, Any]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)

    async def query_range(self, **asked: Any) -> list[Series]:
        self.queries.append(asked)
        if self.failure:
            raise EvidenceError(self.failure)
        return self.series

    async def fetch_image(self, *, url: str, timeout: float) -> bytes:  # noqa: ASYNC109
        self.images.append(url)
        if self.failure:
            raise EvidenceError(self.failure)
        return PNG


@pytest.fixture
def config(tmp_path: Path) -> FirebreakConfig:
    return FirebreakConfig(
        broadcast_channel="incidents",
        alerts=AlertsConfig(graph_timeout=timedelta(seconds=5)),
        postmortem=PostmortemConfig(folder=tmp_path / "postmortems"),
        services={"search-ranker": ServiceConfig(owners=["U0ANA0001"])},
    )


def ndcg(clock: FakeClock) -> list[Series]:
    start = clock.now - timedelta(hours=1)
    points = [(start + timedelta(minutes=m), 0.7 if m < 58 else 0.55) for m in range(0, 61)]
    return [Series.of(labels={"__name__": "ndcg_at_10", "service": "search-ranker"}, points=points)]


async def test_the_graph_of_a_prometheus_alert_is_posted_and_kept(
    ctx: Context, chat: FakeChat, clock: FakeClock, config: FirebreakConfig
) -> None:
    incident = await incident_with_channel(ctx)
    evidence = FakeEvidence(series=ndcg(clock))

    await flows.post_graph(ctx, incident_id=incident.id, evidence=evidence)

    (asked,) = evidence.queries
    started = datetime(2026, 11, 27, 2, 58, 0, 123456, tzinfo=UTC)
    assert asked["base_url"] == "http://prometheus.example:9090"  # the generatorURL's
    assert asked["expr"] == "ndcg_at_10"
    assert asked["start"] == started - timedelta(hours=1)
    assert asked["end"] == clock.now  # now, not after: nothing is drawn past what is known
    assert asked["step"] == timedelta(seconds=8)  # 62 minutes in about 500 points
    assert asked["timeout"] == 5.0
    ((channel, name, content),) = chat.files
    assert (channel, name) == (incident.channel_id, "INC-1-alert.png")
    assert content.startswith(SIGNATURE)
    kept = config.postmortem.folder / "INC-1-rankerndcgdrop-on-search-ranker-alert.png"
    assert kept.read_bytes() == content


async def test_the_graph_reads_the_incident_s_alerts_not_its_timeline(
    ctx: Context, chat: FakeChat, clock: FakeClock
) -> None:
    # A long incident's timeline runs to thousands of entries, of no use to its graph.
    incident = await incident_with_channel(ctx)
    with statements() as said:
        await flows.post_graph(ctx, incident_id=incident.id, evidence=FakeEvidence(ndcg(clock)))
    assert chat.files
    assert any("FROM alerts" in s for s in said)
    assert not any("FROM timeline_entries" in s for s in said)


async def test_data_that_begins_late_is_asked_again_at_a_finer_step(
    ctx: Context, clock: FakeClock
) -> None:
    incident = await incident_with_channel(ctx)  # the alert started 2 minutes ago
    fresh = [
        Series.of(
            labels={"__name__": "ndcg_at_10"},
            points=[(clock.now - timedelta(minutes=3, seconds=-s), 0.5) for s in range(0, 180, 8)],
        )
    ]
    evidence = FakeEvidence(series=fresh)

    await flows.post_graph(ctx, incident_id=incident.id, evidence=evidence)

    whole, close = evidence.queries
    assert whole["step"] == timedelta(seconds=8)
    assert whole["start"] < close["start"] < clock.now - timedelta(minutes=3)
    assert close["end"] == clock.now and close["step"] == timedelta(seconds=1)


async def test_a_sender_clock_ahead_of_ours_still_gets_a_window(
    ctx: Context, clock: FakeClock
) -> None:
    incident = await incident_with_channel(ctx)
    started = datetime(2026, 11, 27, 2, 58, 0, 123456, tzinfo=UTC)
    clock.now = started - timedelta(seconds=20)  # the alert "started" after our now
    evidence = FakeEvidence(series=ndcg(clock))

    await flows.post_graph(ctx, incident_id=incident.id, evidence=evidence)

    (asked,) = evidence.queries
    assert asked["end"] == started + flows.SKEW_WINDOW


async def test_a_configured_prometheus_comes_before_the_link_and_a_service_s_first(
    ctx: Context, chat: FakeChat, clock: FakeClock, config: FirebreakConfig
) -> None:
    incident = await incident_with_channel(ctx)
    config.alerts.prometheus_url = "http://prometheus.monitoring:9090"
    evidence = FakeEvidence(series=ndcg(clock))
    await flows.post_graph(ctx, incident_id=incident.id, evidence=evidence)
    config.services["search-ranker"].prometheus_url = "https://ranker-prom.example/prometheus"
    await flows.post_graph(ctx, incident_id=incident.id, evidence=evidence)
    assert [q["base_url"] for q in evidence.queries] == [
        "http://prometheus.monitoring:9090",
        "https://ranker-prom.example/prometheus",
    ]


async def test_the_threshold_and_the_changes_of_the_service_are_drawn(
    ctx: Context, chat: FakeChat, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert = am_alert()
    alert["generatorURL"] = "http://prom:9090/graph?g0.expr=ndcg_at_10+%3C+0.61&g0.tab=1"
    await intake.receive(ctx=ctx, batch=alertmanager.parse(am_notification(alert)))
    await incident_flows.open_in_chat(ctx=ctx, incident_id=1)
    async with ctx.sessions.begin() as session:
        for version, service, minutes in (
            ("v43-bad", "search-ranker", -5),
            ("v9", "checkout-fraud", -4),  # another service
            ("v40", "search-ranker", -180),  # before the window
        ):
            session.add(
                Change(
                    event_id=f"{service}-{version}",
                    kind="deploy",
                    service=service,
                    version=version,
                    at=clock.now + timedelta(minutes=minutes),
                    received_at=clock.now,
                )
            )
    drawn: list[dict[str, Any]] = []

    def draw(**asked: Any) -> bytes:
        drawn.append(asked)
        return SIGNATURE

    monkeypatch.setattr("bot.evidence.graph.alert_graph_png", draw)
    evidence = FakeEvidence(series=ndcg(clock))
    await flows.post_graph(ctx, incident_id=1, evidence=evidence)

    assert evidence.queries[0]["expr"] == "ndcg_at_10"  # the left side is what is plotted
    (picture,) = drawn
    assert picture["threshold"] == Threshold(op="<", value=0.61)
    assert picture["expr"] == "ndcg_at_10 < 0.61"
    assert [(c.label, c.at) for c in picture["changes"]] == [
        ("v43-bad", clock.now - timedelta(minutes=5))
    ]
    assert picture["resolved"] is None
    assert picture["title"] == "INC-1: RankerNDCGDrop"
    assert isinstance(chat, CommentedChat)
    assert chat.comments == [
        ":chart_with_upwards_trend: `ndcg_at_10 &lt; 0.61` from an hour before *RankerNDCGDrop* "
        "started."
    ]


async def test_a_failure_is_one_escaped_line_and_no_file(ctx: Context, chat: FakeChat) -> None:
    incident = await incident_with_channel(ctx)
    evidence = FakeEvidence(failure="Prometheus at http://prom:9090 did not answer in 5 s <!here>")
    await flows.post_graph(ctx, incident_id=incident.id, evidence=evidence)
    assert chat.files == []
    assert chat.said[-1] == (
        incident.channel_id,
        ":chart_with_downwards_trend: No graph: Prometheus at http://prom:9090 did not answer "
        "in 5 s &lt;!here&gt;",
    )


async def test_the_recovery_is_posted_once_every_alert_has_resolved(
    ctx: Context, chat: FakeChat, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = await incident_with_channel(ctx)
    evidence = FakeEvidence(series=ndcg(clock))
    await flows.post_graph(ctx, incident_id=incident.id, evidence=evidence, recovered=True)
    assert chat.files == [] and evidence.queries == []  # still firing: nothing to show

    resolved = am_notification(am_alert(status="resolved", ends_at="2026-11-27T03:10:00Z"))
    await intake.receive(ctx=ctx, batch=alertmanager.parse(resolved))
    clock.advance(minutes=20)
    drawn: list[dict[str, Any]] = []

    def draw(**asked: Any) -> bytes:
        drawn.append(asked)
        return SIGNATURE

    monkeypatch.setattr("bot.evidence.graph.alert_graph_png", draw)
    await flows.post_graph(ctx, incident_id=incident.id, evidence=evidence, recovered=True)
    assert [name for _, name, _ in chat.files] == ["INC-1-alert-recovered.png"]
    assert drawn[0]["resolved"] == datetime(2026, 11, 27, 3, 10, tzinfo=UTC)
    assert drawn[0]["title"] == "INC-1: RankerNDCGDrop (recovered)"
    assert isinstance(chat, CommentedChat)
    assert chat.comments[-1].startswith(":white_check_mark: Recovered: `ndcg_at_10`")
    assert evidence.queries[0]["end"] == clock.now


async def test_grafana_s_image_is_fetched_and_posted(ctx: Context, chat: FakeChat) -> None:
    body = grafana_notification()
    body["alerts"][0]["imageURL"] = "https://grafana.example/public/img/attachments/abc.png"
    body["alerts"][0]["generatorURL"] = "https://grafana.example/alerting/grafana/x/view"
    result = await intake.receive(ctx=ctx, batch=grafana.parse(body))
    assert result.incident_id is not None
    await incident_flows.open_in_chat(ctx=ctx, incident_id=result.incident_id)
    evidence = FakeEvidence()

    await flows.post_graph(ctx, incident_id=result.incident_id, evidence=evidence)

    assert evidence.images == ["https://grafana.example/public/img/attachments/abc.png"]
    assert evidence.queries == []
    assert [(name, content) for _, name, content in chat.files] == [("INC-1-alert.png", PNG)]
    # A recovery is not the picture of the moment it fired: without a query, nothing.
    await flows.post_graph(ctx, incident_id=result.incident_id, evidence=evidence, recovered=True)
    assert len(chat.files) == 1


async def test_grafana_without_an_image_is_queried_through_the_configured_prometheus(
    ctx: Context, chat: FakeChat, clock: FakeClock, config: FirebreakConfig
) -> None:
    body = grafana_notification()
    body["alerts"][0]["generatorURL"] = "https://grafana.example/alerting/grafana/x/view"
    body["alerts"][0]["annotations"]["promql"] = "sum(rate(conversions_total[5m])) < 0.025"
    result = await intake.receive(ctx=ctx, batch=grafana.parse(body))
    assert result.incident_id is not None
    await incident_flows.open_in_chat(ctx=ctx, incident_id=result.incident_id)
    evidence = FakeEvidence(series=ndcg(clock))

    await flows.post_graph(ctx, incident_id=result.incident_id, evidence=evidence)
    assert evidence.queries == []  # no Prometheus to ask: the channel is told what to set
    assert "set alerts.prometheus_url" in chat.said[-1][1]

    config.alerts.prometheus_url = "http://prometheus.monitoring:9090"
    await flows.post_graph(ctx, incident_id=result.incident_id, evidence=evidence)
    (asked,) = evidence.queries
    assert asked["base_url"] == "http://prometheus.monitoring:9090"
    assert asked["expr"] == "sum(rate(conversions_total[5m]))"
    assert [name for _, name, _ in chat.files] == ["INC-1-alert.png"]


async def test_an_alert_with_nothing_to_graph_gets_no_word(ctx: Context, chat: FakeChat) -> None:
    body = grafana_notification()
    body["alerts"][0]["generatorURL"] = "https://grafana.example/alerting/grafana/x/view"
    result = await intake.receive(ctx=ctx, batch=grafana.parse(body))
    assert result.incident_id is not None
    await incident_flows.open_in_chat(ctx=ctx, incident_id=result.incident_id)
    said = list(chat.said)
    evidence = FakeEvidence()
    await flows.post_graph(ctx, incident_id=result.incident_id, evidence=evidence)
    assert (chat.said, chat.files, evidence.queries) == (said, [], [])


async def test_graphs_can_be_turned_off(
    ctx: Context, chat: FakeChat, config: FirebreakConfig
) -> None:
    incident = await incident_with_channel(ctx)
    config.alerts.graphs = False
    evidence = FakeEvidence()
    await flows.post_graph(ctx, incident_id=incident.id, evidence=evidence)
    assert (chat.files, evidence.queries) == ([], [])


def test_the_step_gives_about_five_hundred_points() -> None:
    start = datetime(2026, 11, 27, tzinfo=UTC)
    for span in (timedelta(hours=1, minutes=5), timedelta(hours=6), timedelta(days=3)):
        step = flows.step_for(start, start + span)
        assert step == timedelta(seconds=step.total_seconds() // 1)  # whole seconds
        assert 300 <= span / step <= 600
    assert flows.step_for(start, start) == timedelta(seconds=1)


async def test_the_first_alert_that_says_how_is_graphed(ctx: Context) -> None:
    plain = am_alert(fingerprint="a" * 16, starts_at="2026-11-27T02:50:00Z")
    plain["generatorURL"] = "http://prom:9090/graph?g0.tab=1"  # no expression
    later = am_alert(fingerprint="b" * 16, alertname="Later", starts_at="2026-11-27T02:55:00Z")
    later["generatorURL"] = "http://prom:9090/graph?g0.expr=up+%3D%3D+0"
    await intake.receive(ctx=ctx, batch=alertmanager.parse(am_notification(plain, later)))
    incident = await load_incident(ctx, 1)
    plan = flows.plan_of(incident.alerts, config=ctx.config, service_name=incident.service)
    assert isinstance(plan, flows.QueryPlan)
    assert (plan.alert.name, plan.base_url, plan.query) == (
        "Later",
        "http://prom:9090",
        Query(expr="up == 0"),  # == is a filter, not a threshold line
    )
