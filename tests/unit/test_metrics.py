"""GET /metrics of a running bot: the series move with webhooks, commands and Slack calls."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from subprocess import PIPE

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import FirebreakConfig
from bot.metrics import Metrics, Tally
from tests.payloads import am_notification
from tests.polling import wait_until
from tests.processes import require_binary
from tests.scenario import Bot, clean_env, running_bot


@pytest.fixture
def bot(tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as running:
        yield running


class Scrape:
    def __init__(self, bot: Bot) -> None:
        response = bot.http.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=")
        self.samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }

    def __call__(self, name: str, **labels: str) -> float:
        return self.samples.get((name, frozenset(labels.items())), 0.0)


def test_webhooks_are_counted_and_timed_by_source_and_outcome(bot: Bot) -> None:
    before = Scrape(bot)
    assert bot.webhook("alertmanager", am_notification()).status_code == 200
    assert bot.webhook("alertmanager", am_notification()).status_code == 200  # a repeat
    assert bot.webhook("alertmanager", am_notification(), token="wrong").status_code == 401
    assert bot.webhook("grafana", {"alerts": "nope"}).status_code == 422
    assert bot.webhook("nagios", am_notification()).status_code == 404
    bot.announced("INC-1")
    after = Scrape(bot)

    def moved(name: str, **labels: str) -> float:
        return after(name, **labels) - before(name, **labels)

    requests = "firebreak_webhook_requests_total"
    assert moved(requests, source="alertmanager", outcome="accepted", reason="") == 2
    assert moved(requests, source="alertmanager", outcome="rejected", reason="unauthorized") == 1
    assert moved(requests, source="grafana", outcome="rejected", reason="invalid_notification") == 1
    assert moved(requests, source="unknown", outcome="rejected", reason="unknown_source") == 1
    latency = "firebreak_webhook_request_duration_seconds"
    assert moved(f"{latency}_count", source="alertmanager", outcome="accepted") == 2
    assert moved(f"{latency}_bucket", source="alertmanager", outcome="accepted", le="+Inf") == 2
    assert after(f"{latency}_sum", source="alertmanager", outcome="accepted") > 0

    assert after("firebreak_open_incidents", severity="SEV1") == 1
    assert after("firebreak_open_incidents", severity="SEV3") == 0
    # The incident's set-up went through the counted client: channel, invite, announcements.
    calls = "firebreak_slack_api_calls_total"
    assert moved(calls, method="conversations.create") == 1
    assert moved(calls, method="chat.postMessage") >= 2
    assert after("process_resident_memory_bytes") > 0


def test_slash_commands_and_slack_errors_and_retries_are_counted(bot: Bot) -> None:
    before = Scrape(bot)
    assert bot.command("list").status_code == 200
    # With no title, a listener opens the declare form with Bolt's `client`: counted too.
    assert bot.command("declare").status_code == 200
    wait_until(lambda: bot.workspace.calls_to("views.open"), what="the declare form")
    bot.workspace.fail("conversations.create", status=429, retry_after=1)
    bot.workspace.fail("conversations.invite", status=400, retry_after=None, error="cant_invite")
    bot.webhook("alertmanager", am_notification())
    bot.announced("INC-1", timeout=15)
    after = Scrape(bot)

    def moved(name: str, **labels: str) -> float:
        return after(name, **labels) - before(name, **labels)

    assert moved("firebreak_slack_api_calls_total", method="views.open") == 1
    retries = "firebreak_slack_api_retries_total"
    assert moved(retries, method="conversations.create", reason="ratelimited") == 1
    # Writes go through the outbox, which retries by sending again: two calls, the first
    # answered 429 and counted as such.
    assert moved("firebreak_slack_api_calls_total", method="conversations.create") == 2
    errors = "firebreak_slack_api_errors_total"
    assert moved(errors, method="conversations.create", error="ratelimited") == 1
    assert moved(errors, method="conversations.invite", error="cant_invite") == 1


def assert_promtool_passes(exposition: bytes) -> None:
    checked = subprocess.run(
        [require_binary("promtool", "prometheus"), "check", "metrics"],
        input=exposition,
        capture_output=True,
        timeout=60,
        check=False,
    )
    # promtool also lints names and help texts: it prints nothing when all is well.
    assert checked.returncode == 0 and not checked.stdout + checked.stderr, checked.stderr


def test_the_exposition_passes_promtool(bot: Bot) -> None:
    bot.webhook("alertmanager", am_notification())
    bot.announced("INC-1")
    assert_promtool_passes(bot.http.get("/metrics").content)


def test_a_tally_hands_on_what_was_counted_since_its_last_ask_and_add_takes_it() -> None:
    """The chat process's Slack calls reach the serving process's /metrics this way."""
    away, here = Metrics(), Metrics()
    tally = Tally(away)
    away.slack_calls.labels("chat.postMessage").inc(3)
    away.slack_errors.labels("chat.postMessage", "ratelimited").inc()
    away.playbook_runs.labels("rollback", "succeeded").inc()  # not carried: its own process's
    here.slack_calls.labels("chat.postMessage").inc(2)  # the serving process's own calls
    here.add(tally.since_last())
    away.slack_calls.labels("chat.postMessage").inc()
    away.slack_calls.labels("conversations.create").inc()
    later = tally.since_last()
    assert later == {"slack_calls": [(["chat.postMessage"], 1.0), (["conversations.create"], 1.0)]}
    here.add(later)
    assert tally.since_last() == {}  # nothing new
    shown = here.exposition().decode()
    assert 'firebreak_slack_api_calls_total{method="chat.postMessage"} 6.0' in shown
    assert 'firebreak_slack_api_calls_total{method="conversations.create"} 1.0' in shown
    assert (
        'firebreak_slack_api_errors_total{error="ratelimited",method="chat.postMessage"} 1.0'
        in shown
    )
    assert "firebreak_playbook_runs_total{" not in shown


def test_another_process_s_memory_and_cpu_are_shown_while_it_runs() -> None:
    """The chat process's: serve's /metrics shows what the bot's processes use."""
    metrics = Metrics()
    now: dict[str, int | None] = {"pid": None}
    metrics.watch_process("chat", pid=lambda: now["pid"])

    def shown() -> dict[str, float]:
        return {
            sample.name: sample.value
            for family in text_string_to_metric_families(metrics.exposition().decode())
            for sample in family.samples
            if sample.name.startswith("firebreak_chat_process_")
        }

    assert shown() == {}  # none runs: no series, rather than a stale or a wrong one
    started = "print('reading', flush=True); import sys; sys.stdin.read()"
    # Leaving `with` closes its stdin, which ends it.
    with subprocess.Popen([sys.executable, "-c", started], stdin=PIPE, stdout=PIPE) as child:
        now["pid"] = child.pid
        assert child.stdout is not None and child.stdout.readline() == b"reading\n"
        # Waiting on its stdin from now on, so its memory stays as it is.
        pages = int(Path(f"/proc/{child.pid}/statm").read_text().split()[1])
        rss = shown()["firebreak_chat_process_resident_memory_bytes"]
        # The child's (a few MB), not this process's; the kernel's counts of a process's pages
        # are only near each other between two reads (it tallies them per thread in batches).
        assert abs(rss - pages * os.sysconf("SC_PAGE_SIZE")) < 512 * 1024
        assert "firebreak_chat_process_cpu_seconds_total" in shown()
        assert_promtool_passes(metrics.exposition())
