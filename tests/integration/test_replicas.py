"""Two `firebreak serve` replicas on one PostgreSQL, requests spread across both: one incident
and one channel per alert group; one replica runs the reminders, and when it is killed at the
instant it is firing them, the other takes over within FIREBREAK_SCHEDULER_TAKEOVER_S and
fires each of them once."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bot.db.migrate import upgrade
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from tests.payloads import am_alert, am_notification
from tests.polling import wait_until
from tests.postgres import create_database
from tests.processes import firebreak_command, process
from tests.scenario import ENV
from tests.servers import free_port, tls

TOKEN = "xoxb-replicas-1"
WEBHOOK_TOKEN = "replicas-webhook-token"
API_TOKEN = "replicas-api-token"
API = {"Authorization": f"Bearer {API_TOKEN}"}  # /api, /metrics and /readyz's detail
GROUPS = 20
TAKEOVER_S = 1.0
NO_COMMANDER = "has had no incident commander"
CONFIG = """\
services:
  search-ranker:
    owners: [U0ANA0001, U0BEN0002]
reminders:
  commander_after: 20s   # falls due after every channel is made and the outbox is held
"""


def notification(group: int) -> dict[str, Any]:
    return am_notification(
        am_alert(fingerprint=f"repl{group:04d}", alertname=f"Replica{group}"),
        group_key=f'{{}}:{{alertname="Replica{group}"}}',
    )


def alert(url: str, group: int) -> httpx.Response:
    """The group's notification, as its Alertmanager sends it."""
    return httpx.post(
        f"{url}/webhooks/alertmanager",
        json=notification(group),
        headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
        timeout=15,
        verify=tls(),
    )


@dataclass
class Replica:
    pid: int
    url: str


@contextmanager
def replica(
    tmp_path: Path, database_url: str, slack: LocalSlackServer, name: str
) -> Iterator[Replica]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ENV},
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": "replicas-signing-secret",
        "FIREBREAK_SLACK_API_URL": slack.base_url,
        "FIREBREAK_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "FIREBREAK_API_TOKEN": API_TOKEN,
        "FIREBREAK_DATABASE_URL": database_url,
        "FIREBREAK_CONFIG": str(tmp_path / "firebreak.yaml"),
        "FIREBREAK_SCHEDULER_TAKEOVER_S": str(TAKEOVER_S),
    }
    with process(
        firebreak_command("serve", "--port", str(port), "--log-level", "warning"),
        log=tmp_path / f"{name}.log",
        env=env,
        ready_url=f"http://127.0.0.1:{port}/healthz",
    ) as proc:
        yield Replica(pid=proc.pid, url=f"http://127.0.0.1:{port}")


def prepared(tmp_path: Path, postgres: str, name: str) -> tuple[str, Workspace]:
    """The config written, a migrated database of the test's own, and a workspace with the
    service's owners and a channel named #incidents."""
    (tmp_path / "firebreak.yaml").write_text(CONFIG)
    database_url = asyncio.run(create_database(postgres, name))
    upgrade(database_url)
    workspace = Workspace(tokens=[TOKEN])
    for user, person in (("U0ANA0001", "ana"), ("U0BEN0002", "ben")):
        workspace.add_user(user, person)
    workspace.ensure_channel("incidents")
    return database_url, workspace


def role(url: str) -> str | None:
    try:
        return str(
            httpx.get(f"{url}/readyz", headers=API, timeout=2, verify=tls()).json()["reminders"]
        )
    except httpx.HTTPError:
        return None


def test_two_replicas_share_the_work_and_survive_the_death_of_the_reminders_owner(
    tmp_path: Path, postgres: str
) -> None:
    database_url, workspace = prepared(tmp_path, postgres, "replicas")

    with LocalSlackServer(workspace) as slack, ExitStack() as stack:
        first = stack.enter_context(replica(tmp_path, database_url, slack, "first"))
        second = stack.enter_context(replica(tmp_path, database_url, slack, "second"))
        urls = [first.url, second.url]

        def deliver(job: tuple[int, str]) -> int:
            group, url = job
            return alert(url, group).status_code

        # Every group to both replicas at once, as two Alertmanagers behind a balancer would.
        jobs = [(group, url) for group in range(GROUPS) for url in urls]
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(deliver, jobs)) == {200}

        def incidents(url: str) -> list[tuple[str, str]]:
            listed = httpx.get(
                f"{url}/api/incidents", params={"limit": 100}, headers=API, verify=tls()
            ).json()
            return sorted((i["id"], i["title"]) for i in listed)

        opened = incidents(first.url)
        assert len(opened) == len({title for _, title in opened}) == GROUPS
        assert incidents(second.url) == opened  # one store, whichever replica answers

        def channels() -> list[str]:
            return [c["name"] for c in workspace.channels() if c["name"].startswith("inc-")]

        wait_until(lambda: len(channels()) >= GROUPS, timeout=60, what="every channel made")
        assert len(channels()) == len(set(channels())) == GROUPS

        roles = {url: role(url) for url in urls}
        assert sorted(roles.values()) == ["owner", "standby"], roles
        owner = first if roles[first.url] == "owner" else second
        survivor = second if owner is first else first
        ids = {c["id"] for c in workspace.channels() if c["name"].startswith("inc-")}

        def reminded() -> dict[str, int]:
            return {
                channel: sum(NO_COMMANDER in m["text"] for m in workspace.messages(channel))
                for channel in ids
            }

        with Database(database_url) as db:
            # Every set-up is sent; then no chat write can be stored until the test says so.
            wait_until(lambda: db.value(PENDING) == 0, timeout=60, what="the outbox sent")
            assert set(reminded().values()) == {0}, "a reminder fell due before the test held it"
            db.hold_the_outbox()
            # The instant of the kill: the owner took a due reminder and waits to store it.
            wait_until(
                lambda: db.value(STORING) > 0 and firing(owner.url),
                timeout=60,
                what="the owner firing a reminder, its outbox write waiting",
            )
            os.killpg(owner.pid, signal.SIGKILL)
            killed = time.monotonic()
            db.release()
            wait_until(lambda: role(survivor.url) == "owner", timeout=15, what="the takeover")
            took = time.monotonic() - killed
            assert took <= TAKEOVER_S + 3, f"the survivor took {took:.1f}s to take over"

            # Each reminder the owner was firing, or had yet to fire, is fired by the survivor.
            wait_until(lambda: all(reminded().values()), timeout=60, what="every reminder fired")
            wait_until(
                lambda: db.value(COMMANDER_DUE) == 0 and db.value(PENDING) == 0,
                timeout=30,
                what="no commander reminder left and the outbox sent",
            )
        assert set(reminded().values()) == {1}, reminded()


def firing(url: str) -> bool:
    """The replica took a commander reminder (its lag is measured as it does) and has not
    finished one."""
    text = httpx.get(f"{url}/metrics", headers=API, timeout=5, verify=tls()).text

    def sample(name: str) -> float:
        found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
        return float(found[1]) if found else 0.0

    taken = sample('firebreak_scheduler_lag_seconds_count{job="commander"}')
    done = sample('firebreak_scheduler_jobs_total{job="commander",outcome="executed"}')
    return taken >= 1 and done == 0


PENDING = "SELECT count(*) FROM slack_outbox WHERE state IN ('pending', 'sending')"
STORING = (
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
    "AND query LIKE 'INSERT INTO slack_outbox%'"
)
COMMANDER_DUE = "SELECT count(*) FROM reminders WHERE kind = 'commander'"


class Database:
    """The replicas' database, as the test reads it, and a lock of the test's own on the outbox
    table: a replica that writes to it waits until the test releases it."""

    def __init__(self, url: str) -> None:
        self._url = url.replace("+asyncpg", "")
        self._loop = asyncio.new_event_loop()

    def __enter__(self) -> Database:
        self._reads = self._run(asyncpg.connect(self._url))
        self._holds = self._run(asyncpg.connect(self._url))
        return self

    def __exit__(self, *_: object) -> None:
        self._run(self._reads.close())
        self._run(self._holds.close())
        self._loop.close()

    def value(self, query: str) -> int:
        return int(self._run(self._reads.fetchval(query)))

    def hold_the_outbox(self) -> None:
        self._run(self._holds.execute("BEGIN; LOCK TABLE slack_outbox IN EXCLUSIVE MODE"))

    def release(self) -> None:
        self._run(self._holds.execute("ROLLBACK"))

    def _run(self, work: Any) -> Any:
        return self._loop.run_until_complete(work)
