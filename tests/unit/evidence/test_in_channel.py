"""The whole bot with its Slack stand-in: an alert whose generatorURL points at a Prometheus gets
its graph posted in the incident's channel as a PNG, and again once it resolves; a Prometheus
that refuses or says nothing gets one line, after the announcement, which never waits for it."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bot.config import AlertsConfig, FirebreakConfig, PostmortemConfig, ServiceConfig
from bot.followups import GRAPHS_AT_ONCE
from tests.payloads import ZERO_TIME, am_alert, am_notification, grafana_notification
from tests.polling import wait_until
from tests.prometheus import PNG, prometheus_stub, refused_url, silent_server
from tests.scenario import Bot, clean_env, running_bot
from tests.unit.test_charts import SIGNATURE


def in_thread(tmp_path: Path, config: FirebreakConfig) -> AbstractContextManager[Bot]:
    # Graphs drawn in a thread: unit tests start no child process (the bot's drawing process
    # is tests/integration/evidence's).
    return running_bot(tmp_path, config, FIREBREAK_GRAPH_PROCESS=False)


def graphing(tmp_path: Path, **alerts: Any) -> FirebreakConfig:
    return FirebreakConfig(
        broadcast_channel="incidents",
        alerts=AlertsConfig(**alerts),
        postmortem=PostmortemConfig(folder=tmp_path / "postmortems", on_resolve=False),
        services={"search-ranker": ServiceConfig(owners=["U0ANA0001"])},
    )


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def alert_of(prometheus: str, *, started: datetime, status: str = "firing") -> dict[str, Any]:
    alert = am_alert(
        status=status,
        starts_at=stamp(started),
        ends_at=stamp(datetime.now(UTC)) if status == "resolved" else ZERO_TIME,
    )
    expr = quote('ndcg_at_10{service="search-ranker"} < 0.61', safe="")
    alert["generatorURL"] = f"{prometheus}/graph?g0.expr={expr}&g0.tab=1"
    return alert


def channel_of(bot: Bot) -> str:
    incident = bot.announced("INC-1")
    return str(incident["channel_id"])


def texts(bot: Bot, channel: str) -> list[str]:
    return [m.get("text", "") for m in bot.workspace.messages(channel)]


def test_a_set_up_finished_by_a_later_notification_still_gets_its_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    started = datetime.now(UTC) - timedelta(minutes=10)
    with prometheus_stub() as (prometheus, _), in_thread(tmp_path, graphing(tmp_path)) as bot:
        body = am_notification(alert_of(prometheus, started=started))
        # Slack refuses the channel once: the opening set-up stops there.
        bot.workspace.fail(
            "conversations.create", status=400, retry_after=None, error="restricted_action"
        )
        assert bot.webhook("alertmanager", body).status_code == 200
        wait_until(
            lambda: bot.workspace.calls_to("conversations.create"), what="the refused channel"
        )
        assert bot.webhook("alertmanager", body).status_code == 200  # Alertmanager repeats it
        channel = channel_of(bot)  # the repeat finished the set-up
        wait_until(
            lambda: [f for f in bot.workspace.files() if channel in f["channels"]],
            what="the graph after the late announcement",
        )


def test_the_graph_is_posted_as_a_png_and_again_when_the_alert_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    started = datetime.now(UTC) - timedelta(minutes=10)
    with prometheus_stub() as (prometheus, stub), in_thread(tmp_path, graphing(tmp_path)) as bot:
        answer = bot.webhook("alertmanager", am_notification(alert_of(prometheus, started=started)))
        assert answer.status_code == 200, answer.text
        channel = channel_of(bot)

        def pngs() -> list[dict[str, Any]]:
            return [
                f
                for f in bot.workspace.files()
                if f["filetype"] == "png" and channel in f["channels"]
            ]

        (graph,) = wait_until(pngs, what="the alert's graph in the channel")
        assert graph["name"] == "INC-1-alert.png"
        assert graph["mimetype"] == "image/png"
        assert bot.workspace.file_content(graph["id"]).startswith(SIGNATURE)
        (asked,) = stub.queries
        assert asked["query"] == 'ndcg_at_10{service="search-ranker"}'  # the threshold's left
        assert float(asked["start"]) == pytest.approx((started - timedelta(hours=1)).timestamp())
        points = (float(asked["end"]) - float(asked["start"])) / float(asked["step"].rstrip("s"))
        assert 300 <= points <= 600
        shared = [m for m in bot.workspace.messages(channel) if m.get("files")]
        assert "from an hour before *RankerNDCGDrop* started" in shared[0]["text"]
        kept = tmp_path / "postmortems" / "INC-1-rankerndcgdrop-on-search-ranker-alert.png"
        wait_until(kept.is_file, what="the copy kept for the postmortem")

        resolved = alert_of(prometheus, started=started, status="resolved")
        assert bot.webhook("alertmanager", am_notification(resolved)).status_code == 200
        both = wait_until(lambda: pngs() if len(pngs()) == 2 else None, what="the recovery")
        assert [f["name"] for f in both] == ["INC-1-alert.png", "INC-1-alert-recovered.png"]
        recovered = [m for m in bot.workspace.messages(channel) if m.get("files")][-1]
        assert recovered["text"].startswith(":white_check_mark: Recovered: ")


def test_a_storm_s_graphs_are_read_a_few_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each graph holds its query's answer until it is drawn, and they are drawn one at a time:
    the incidents of a storm read their graphs' series GRAPHS_AT_ONCE at a time, not all at
    once (which kept them all in memory)."""
    clean_env(monkeypatch)
    started = datetime.now(UTC) - timedelta(minutes=10)
    incidents = 2 * GRAPHS_AT_ONCE
    with prometheus_stub() as (prometheus, stub), in_thread(tmp_path, graphing(tmp_path)) as bot:
        stub.held.clear()
        for n in range(incidents):
            alert = alert_of(prometheus, started=started)
            alert["labels"]["alertname"] = f"RankerDrop{n}"
            alert["fingerprint"] = f"{n:016x}"
            body = am_notification(alert, group_key=f'{{}}:{{alertname="RankerDrop{n}"}}')
            assert bot.webhook("alertmanager", body).status_code == 200
        for n in range(1, incidents + 1):
            bot.announced(f"INC-{n}")
        wait_until(lambda: stub.in_flight >= GRAPHS_AT_ONCE, what="the first graphs' queries")
        stub.held.set()
        wait_until(
            lambda: len([f for f in bot.workspace.files() if f["filetype"] == "png"]) == incidents,
            what="every incident's graph",
        )
        assert len(stub.queries) == incidents
        assert stub.most_in_flight == GRAPHS_AT_ONCE


@pytest.mark.parametrize("where", ["refused", "silent"])
def test_a_prometheus_away_or_silent_gets_one_line_after_the_announcement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    clean_env(monkeypatch)
    started = datetime.now(UTC) - timedelta(minutes=10)
    config = graphing(tmp_path, graph_timeout=timedelta(seconds=0.5))
    with silent_server() as silent, in_thread(tmp_path, config) as bot:
        prometheus = refused_url() if where == "refused" else silent
        bot.webhook("alertmanager", am_notification(alert_of(prometheus, started=started)))
        channel = channel_of(bot)
        said = "did not answer in 0.5 s" if where == "silent" else "could not be reached"
        line = wait_until(
            lambda: [t for t in texts(bot, channel) if t.startswith(":chart_with_downwards")],
            what="the line saying why there is no graph",
        )
        assert len(line) == 1
        assert line[0].startswith(
            f":chart_with_downwards_trend: No graph: Prometheus at {prometheus} {said}"
        )
        said_in_order = texts(bot, channel)
        announced = next(i for i, t in enumerate(said_in_order) if t.startswith(":red_circle:"))
        assert announced < said_in_order.index(line[0])  # the announcement did not wait
        assert bot.workspace.files() == []


@pytest.mark.parametrize("with_image", [True, False])
def test_a_grafana_alert_gets_its_image_or_its_query_graphed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_image: bool
) -> None:
    clean_env(monkeypatch)
    with prometheus_stub() as (prometheus, stub):
        config = graphing(tmp_path, prometheus_url=prometheus)
        body = grafana_notification()
        alert = body["alerts"][0]
        alert["startsAt"] = stamp(datetime.now(UTC) - timedelta(minutes=5))
        alert["generatorURL"] = "https://grafana.example/alerting/grafana/abc/view?orgId=1"
        alert["annotations"]["promql"] = "sum(rate(conversions_total[5m])) < 0.025"
        if with_image:
            alert["imageURL"] = f"{prometheus}/render/alert.png"
        with in_thread(tmp_path, config) as bot:
            assert bot.webhook("grafana", body).status_code == 200
            channel = channel_of(bot)
            (graph,) = wait_until(
                lambda: [f for f in bot.workspace.files() if channel in f["channels"]],
                what="the Grafana alert's graph",
            )
            assert graph["filetype"] == "png"
            content = bot.workspace.file_content(graph["id"])
    if with_image:
        assert (stub.images, stub.queries, content) == (1, [], PNG)
    else:
        assert stub.images == 0
        assert [q["query"] for q in stub.queries] == ["sum(rate(conversions_total[5m]))"]
        assert content.startswith(SIGNATURE) and len(content) > 10_000
