"""People's names from users.info: against the local Slack stand-in over HTTP, and against
stand-in clients for what it cannot show (an empty display name, a crowd, a hung Slack)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import FirebreakConfig
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from bot.postmortem.ports import Directory
from bot.slack.directory import SlackDirectory, display_name
from tests.fakes import FakeClock
from tests.payloads import am_notification
from tests.polling import wait_until
from tests.scenario import clean_env, running_bot

TOKEN = "xoxb-directory-test"
ANA, BEN, NOBODY = "U0ANA0001", "U0BEN0002", "U0NOBODY01"


@pytest.fixture
def ws() -> Workspace:
    workspace = Workspace(tokens=[TOKEN])
    workspace.add_user(ANA, "ana", real_name="Ana Ortiz")
    workspace.add_user(BEN, "ben")
    return workspace


@pytest.fixture
def slack(ws: Workspace) -> Iterator[LocalSlackServer]:
    with LocalSlackServer(ws) as server:
        yield server


@pytest.fixture
def directory(slack: LocalSlackServer, clock: FakeClock) -> SlackDirectory:
    client = AsyncWebClient(token=TOKEN, base_url=slack.base_url, timeout=5)
    return SlackDirectory(client, clock=clock)


def test_slacks_rule_for_the_name_it_shows() -> None:
    user = {
        "id": ANA,
        "name": "ana.o",
        "real_name": "Ana Ortiz",
        "profile": {"display_name": "Ana", "real_name": "Ana Ortiz"},
    }
    assert display_name(user) == "Ana"
    blank = {**user, "profile": {"display_name": "  ", "real_name": "Ana  Ortiz\n"}}
    assert display_name(blank) == "Ana Ortiz"  # on one line
    assert display_name({"name": "ana.o", "real_name": "Ana Ortiz", "profile": {}}) == "Ana Ortiz"
    assert display_name({"name": "ana.o", "profile": None}) == "ana.o"
    assert display_name({"profile": {"display_name": ""}}) is None
    assert display_name(None) is None


async def test_names_from_the_stand_in(directory: SlackDirectory, ws: Workspace) -> None:
    assert isinstance(directory, Directory)
    names = await directory.names([ANA, BEN, NOBODY, ANA, "firebreak"])
    # The stand-in fills profile.display_name with the username: that is what Slack shows.
    assert names == {ANA: "Ana Ortiz", BEN: "ben"}
    # Each person asked for once; "firebreak" is no user ID and is not asked about.
    assert sorted(c.args["user"] for c in ws.calls_to("users.info")) == [ANA, BEN, NOBODY]


async def test_names_are_cached_for_an_hour(
    directory: SlackDirectory, ws: Workspace, clock: FakeClock
) -> None:
    assert await directory.names([ANA, NOBODY]) == {ANA: "Ana Ortiz"}
    ws.add_user(ANA, "ana.ortiz")  # renamed meanwhile
    clock.advance(minutes=59)
    assert await directory.names([ANA, NOBODY]) == {ANA: "Ana Ortiz"}
    assert len(ws.calls_to("users.info")) == 2  # user_not_found is remembered too
    clock.advance(minutes=1)
    assert await directory.names([ANA]) == {ANA: "ana.ortiz"}
    assert len(ws.calls_to("users.info")) == 3


async def test_a_failed_refresh_keeps_the_old_name(
    directory: SlackDirectory, ws: Workspace, clock: FakeClock
) -> None:
    assert await directory.names([ANA]) == {ANA: "Ana Ortiz"}
    clock.advance(hours=2)
    ws.fail("users.info", status=500, retry_after=None, error="fatal_error")
    assert await directory.names([ANA]) == {ANA: "Ana Ortiz"}
    assert len(ws.calls_to("users.info")) == 2


async def test_errors_leave_people_out(
    directory: SlackDirectory, ws: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    ws.fail("users.info", status=403, retry_after=None, error="missing_scope")
    assert await directory.names([ANA, BEN]) in ({ANA: "Ana Ortiz"}, {BEN: "ben"})
    [warning] = caplog.messages  # one line for the lot, saying why
    assert warning.startswith("users.info failed for 1 of 2 people (missing_scope)")
    # Not remembered as nobody: asked again next time.
    assert await directory.names([ANA, BEN]) == {ANA: "Ana Ortiz", BEN: "ben"}


async def test_an_unreachable_slack_leaves_people_out(clock: FakeClock) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nobody listens there once it is closed
    client = AsyncWebClient(token=TOKEN, base_url=f"http://127.0.0.1:{port}/", timeout=5)
    client.retry_handlers = []
    assert await SlackDirectory(client, clock=clock).names([ANA]) == {}


async def test_a_slack_that_does_not_answer_costs_the_time_box(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        client = AsyncWebClient(token=TOKEN, base_url=f"http://127.0.0.1:{port}/", timeout=30)
        directory = SlackDirectory(client, clock=clock, time_box_s=0.3)
        started = time.monotonic()
        assert await directory.names([ANA, BEN]) == {}
        assert time.monotonic() - started < 2
    assert "failed for 2 of 2 people (no answer within 0.3s)" in caplog.text


class GatedClient:
    """users.info held until released, counting how many are in flight at once."""

    def __init__(self, users: dict[str, dict[str, Any]]) -> None:
        self.users = users
        self.asked: list[str] = []
        self.in_flight = 0
        self.most = 0
        self.gate = asyncio.Event()

    async def users_info(self, *, user: str) -> dict[str, Any]:
        self.asked.append(user)
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await self.gate.wait()
        finally:
            self.in_flight -= 1
        return {"ok": True, "user": self.users[user]}


def person(user_id: str, *, display: str = "", real: str = "") -> dict[str, Any]:
    """A user object as Slack documents it: display_name is empty until the person sets one."""
    return {
        "id": user_id,
        "name": user_id.lower(),
        "real_name": real,
        "profile": {"display_name": display, "real_name": real},
    }


async def test_lookups_run_a_few_at_a_time(clock: FakeClock) -> None:
    people = [f"U0P{i:06d}" for i in range(10)]
    client = GatedClient({p: person(p, real=f"Person {p[-1]}") for p in people})
    directory = SlackDirectory(client, clock=clock, at_once=3)  # type: ignore[arg-type]
    lookup = asyncio.create_task(directory.names(people))
    for _ in range(20):  # let every lookup that can start, start
        await asyncio.sleep(0)
    assert len(client.asked) == 3 and client.most == 3
    client.gate.set()
    names = await lookup
    assert names[people[4]] == "Person 4" and len(names) == 10  # the full name, no display name
    assert client.most == 3


async def test_what_came_back_in_time_is_kept(clock: FakeClock) -> None:
    client = GatedClient({ANA: person(ANA, display="Ana")})
    directory = SlackDirectory(client, clock=clock, time_box_s=0.05)  # type: ignore[arg-type]
    assert await directory.names([ANA]) == {}  # held past the time box
    client.gate.set()
    assert await directory.names([ANA]) == {ANA: "Ana"}


def test_the_bot_names_people_in_its_postmortems(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as bot:
        bot.workspace.add_user(ANA, "ana", real_name="Ana Ortiz")
        assert bot.webhook("alertmanager", am_notification()).status_code == 200
        channel = bot.announced("INC-1")["channel_id"]
        bot.command("commander me", user=ANA, channel=channel)
        wait_until(lambda: bot.incident("INC-1")["commander"] == ANA, what="Ana in command")
        draft = bot.http.get("/api/incidents/INC-1/postmortem")
        assert draft.status_code == 200
        assert "- **Incident commander:** Ana Ortiz\n" in draft.text  # no display name: full name
        asked = [c.args["user"] for c in bot.workspace.calls_to("users.info")]
        assert ANA in asked
        bot.http.get("/api/incidents/INC-1/postmortem")  # again: from the bot's cache
        assert len(bot.workspace.calls_to("users.info")) == len(asked)
