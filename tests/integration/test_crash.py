"""Process faults: `firebreak serve` killed with SIGKILL in an alert storm, then restarted.

Slack rate-limits the announcements meanwhile, so the kill finds set-ups cut short. Checked:
no half-made incident and no acknowledged notification missing (each webhook is one
transaction); after the restart, and the re-sending of what was not acknowledged, one incident
per alert group, each with its channel and both announcements, and its reminders stored once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from tests.payloads import am_alert, am_notification
from tests.polling import wait_until
from tests.processes import firebreak_command, process
from tests.scenario import ENV
from tests.servers import free_port, tls

TOKEN = "xoxb-crash-test-1"
WEBHOOK_TOKEN = "crash-webhook-token"
GROUPS = 40
COPIES = 2  # Alertmanager delivers at least once: every notification is sent twice
THREADS = 12  # enough at once that the writer records several to a transaction
KILL_AFTER = 30  # acknowledged notifications before the SIGKILL
CONFIG = """\
services:
  search-ranker:
    owners: [U0ANA0001, U0BEN0002]
reminders:
  commander_after: 1h   # no reminder falls due during the test: all must be stored
"""


def notification(group: int) -> dict[str, Any]:
    return am_notification(
        am_alert(fingerprint=f"crash{group:04d}", alertname=f"Storm{group}"),
        group_key=f'{{}}:{{alertname="Storm{group}"}}',
    )


@dataclass
class Storm:
    acked: list[tuple[int, str]] = field(default_factory=list)  # (group, incident ref)
    unacked: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    enough: threading.Event = field(default_factory=threading.Event)

    def send(self, url: str, groups: list[int]) -> None:
        with httpx.Client(base_url=url, timeout=10, verify=tls()) as http:
            for group in groups:
                try:
                    answer = http.post(
                        "/webhooks/alertmanager",
                        json=notification(group),
                        headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
                    )
                    ok = answer.status_code == 200
                except httpx.HTTPError:
                    ok = False
                with self.lock:
                    if ok:
                        self.acked.append((group, answer.json()["incident"]))
                        if len(self.acked) >= KILL_AFTER:
                            self.enough.set()
                    else:
                        self.unacked.append(group)


def rows(db: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query).fetchall()


@contextmanager
def firebreak(tmp_path: Path, slack: LocalSlackServer, port: int, log: str) -> Iterator[Any]:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ENV},
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": "crash-signing-secret",
        "FIREBREAK_SLACK_API_URL": slack.base_url,
        "FIREBREAK_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "FIREBREAK_DATABASE_URL": f"sqlite:///{tmp_path / 'firebreak.db'}",
        "FIREBREAK_CONFIG": str(tmp_path / "firebreak.yaml"),
    }
    with process(
        firebreak_command("serve", "--port", str(port), "--log-level", "warning"),
        log=tmp_path / log,
        env=env,
        ready_url=f"http://127.0.0.1:{port}/healthz",
    ) as proc:
        yield proc


@pytest.fixture
def slack() -> Iterator[LocalSlackServer]:
    workspace = Workspace(tokens=[TOKEN])
    for user, name in (("U0ANA0001", "ana"), ("U0BEN0002", "ben")):
        workspace.add_user(user, name)
    workspace.ensure_channel("incidents")
    with LocalSlackServer(workspace) as server:
        yield server


def test_sigkill_in_an_alert_storm_loses_nothing(tmp_path: Path, slack: LocalSlackServer) -> None:
    (tmp_path / "firebreak.yaml").write_text(CONFIG)
    db = tmp_path / "firebreak.db"
    workspace = slack.workspace
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Slack rate-limits every announcement for now: set-ups are cut short when the kill comes.
    workspace.fail("chat.postMessage", status=429, retry_after=1, times=10_000)
    storm = Storm()
    deliveries = [group for group in range(GROUPS) for _ in range(COPIES)]
    with firebreak(tmp_path, slack, port, "first.log") as first:
        with ThreadPoolExecutor(THREADS) as pool:
            for share in range(THREADS):
                pool.submit(storm.send, url, deliveries[share::THREADS])
            assert storm.enough.wait(timeout=60), "the storm never got going"
            os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL

    # Dead: what it acknowledged is stored, and nothing is half-made.
    stored = {fp for (fp,) in rows(db, "SELECT fingerprint FROM alerts")}
    assert {f"crash{group:04d}" for group, _ in storm.acked} <= stored
    half_made = rows(
        db,
        "SELECT id FROM incidents i WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE "
        "a.incident_id = i.id) OR NOT EXISTS (SELECT 1 FROM timeline_entries t WHERE "
        "t.incident_id = i.id AND t.kind = 'incident.opened')",
    )
    assert half_made == []
    cut_short = rows(db, "SELECT count(*) FROM incidents WHERE broadcast_ts IS NULL")[0][0]
    assert cut_short > 0, "the kill found every set-up finished: nothing was tested"
    killed_with = len(rows(db, "SELECT id FROM incidents"))

    workspace.recover()
    with (
        firebreak(tmp_path, slack, port, "second.log"),
        httpx.Client(base_url=url, verify=tls()) as http,
    ):
        missing = sorted(set(storm.unacked))
        for group in missing:  # as Alertmanager would: again, until acknowledged
            answer = http.post(
                "/webhooks/alertmanager",
                json=notification(group),
                headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
            )
            assert answer.status_code == 200, answer.text

        def finished() -> bool:
            return not rows(
                db,
                "SELECT id FROM incidents WHERE channel_id IS NULL OR announcement_ts IS NULL "
                "OR broadcast_ts IS NULL",
            )

        wait_until(finished, timeout=60, what="every incident's set-up finished after restart")

        incidents = rows(db, "SELECT id, group_key, channel_id FROM incidents ORDER BY id")
        assert len(incidents) == GROUPS
        assert len({group_key for _, group_key, _ in incidents}) == GROUPS
        assert rows(db, "SELECT count(*) FROM alerts")[0][0] == GROUPS
        for incident_id, _, channel_id in incidents:
            posted = [m for m in workspace.messages(channel_id) if m.get("blocks")]
            assert posted, f"INC-{incident_id} has no announcement in its channel"
        broadcast = workspace.channel_by_name("incidents")
        assert broadcast is not None
        announced = [m["text"] for m in workspace.messages(broadcast["id"])]
        for incident_id, _, _ in incidents:
            assert any(f"INC-{incident_id} " in text for text in announced), incident_id

        planned = sorted(key for (key,) in rows(db, "SELECT key FROM reminders"))
        assert planned == sorted(
            f"INC-{incident_id}-{kind}"
            for incident_id, _, _ in incidents
            for kind in ("commander", "status-update")
        )

    orphans = [
        c["name"]
        for c in workspace.channels()
        if c["name"].startswith("inc-") and c["id"] not in {ch for _, _, ch in incidents}
    ]
    print(  # shown with -s: the figures of the run
        f"{len(deliveries)} deliveries ({COPIES} of each of {GROUPS} groups) from {THREADS} "
        f"threads; SIGKILL after {len(storm.acked)} acknowledged, {len(missing)} groups "
        f"re-sent; {killed_with} incidents at the kill, {cut_short} of them cut short; "
        f"429s answered: {sum(c.status == 429 for c in workspace.calls)}; "
        f"channels made at Slack but not recorded: {len(orphans)}"
    )
