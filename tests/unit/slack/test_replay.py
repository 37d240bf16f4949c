"""A signed Slack request is taken once: the same (timestamp, signature) again is refused
while its timestamp is in the window; Slack's own retries of an event still get through."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.config import FirebreakConfig
from bot.slack.replay import SignedRequests, Verdict
from tests.scenario import SIGNING_SECRET, Bot, clean_env, running_bot, settled
from tests.servers import slack_headers

NOW = 1_764_212_400


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


def signed(body: bytes, stamp: int, **extra: str) -> dict[str, str]:
    headers = slack_headers(SIGNING_SECRET, body, timestamp=stamp, **extra)
    return {k.lower(): v for k, v in headers.items()}


COMMAND = urlencode({"command": "/incident", "text": "resolve", "user_id": "U0ANA0001"}).encode()
EVENT = json.dumps({"type": "event_callback", "event_id": "Ev0PIN", "event": {}}).encode()


def test_a_pair_is_taken_once_while_its_timestamp_is_in_the_window() -> None:
    clock = Clock()
    requests = SignedRequests(SIGNING_SECRET, now=clock)
    headers = signed(COMMAND, NOW)
    assert requests.check(headers, COMMAND) is Verdict.TAKEN
    assert requests.check(headers, COMMAND) is Verdict.REPLAYED
    # The retry header is not signed: it exempts no slash command or click.
    assert requests.check({**headers, "x-slack-retry-num": "1"}, COMMAND) is Verdict.REPLAYED
    clock.now += 299
    assert requests.check(headers, COMMAND) is Verdict.REPLAYED
    clock.now += 2  # past five minutes: the time check refuses it, and it is forgotten
    assert requests.check(headers, COMMAND) is Verdict.INVALID
    assert requests.check(signed(COMMAND, int(clock.now)), COMMAND) is Verdict.TAKEN
    assert len(requests) == 1


def test_a_request_dated_ahead_is_remembered_until_its_own_window_ends() -> None:
    clock = Clock()
    requests = SignedRequests(SIGNING_SECRET, now=clock)
    assert requests.check(signed(COMMAND, NOW + 301), COMMAND) is Verdict.INVALID
    ahead = signed(COMMAND, NOW + 290)  # within Slack's five minutes: taken
    assert requests.check(ahead, COMMAND) is Verdict.TAKEN
    clock.now += 500  # more than five minutes after it arrived, yet still in its window
    assert requests.check(ahead, COMMAND) is Verdict.REPLAYED


def test_bad_signatures_and_odd_timestamps_are_invalid() -> None:
    requests = SignedRequests(SIGNING_SECRET, now=Clock())
    good = signed(COMMAND, NOW)
    for headers in (
        {},
        {**good, "x-slack-signature": "v0=" + "0" * 64},
        {**good, "x-slack-request-timestamp": str(NOW - 1)},  # signed with another time
        {**good, "x-slack-request-timestamp": "9" * 5000},
        {**good, "x-slack-request-timestamp": "soon"},
        {"x-slack-signature": good["x-slack-signature"]},
    ):
        assert requests.check(headers, COMMAND) is Verdict.INVALID, headers
    assert requests.check(good, COMMAND + b"&x=1") is Verdict.INVALID
    assert len(requests) == 0  # nothing unverified is remembered


def test_slacks_retries_of_an_event_are_not_refused() -> None:
    """Slack does not say a retry is signed afresh: one in the same second carries the same
    timestamp and signature. Events are deduplicated by what they record instead."""
    requests = SignedRequests(SIGNING_SECRET, now=Clock())
    first = signed(EVENT, NOW, content_type="application/json")
    retried = {**first, "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    assert requests.check(retried, EVENT) is Verdict.TAKEN  # a retry may even come first
    assert requests.check(first, EVENT) is Verdict.TAKEN
    assert requests.check(retried, EVENT) is Verdict.TAKEN
    assert requests.check(first, EVENT) is Verdict.REPLAYED  # but not the original again


@pytest.fixture
def bot(tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as running:
        yield running


def test_a_replayed_slash_command_is_refused(bot: Bot) -> None:
    body = urlencode(
        {
            "command": "/incident",
            "text": "declare Replayed once",
            "user_id": "U0ANA0001",
            "channel_id": "C0GENERAL1",
            "team_id": "T0LOCAL01",
            "response_url": bot.response_url("C0GENERAL1", "U0ANA0001"),
            "trigger_id": "trig-replay-1",
        }
    ).encode()
    headers = slack_headers(SIGNING_SECRET, body)
    assert bot.http.post("/slack/events", content=body, headers=headers).status_code == 200
    again = bot.http.post("/slack/events", content=body, headers=headers)
    assert again.status_code == 401 and again.json()["error"] == "replayed"
    retried = bot.http.post(
        "/slack/events", content=body, headers={**headers, "X-Slack-Retry-Num": "1"}
    )
    assert retried.status_code == 401
    settled(bot)
    assert [i["title"] for i in bot.http.get("/api/incidents").json()] == ["Replayed once"]


def test_timestamps_more_than_five_minutes_ahead_are_refused(bot: Bot) -> None:
    ahead = bot.command("help", timestamp=int(time.time()) + 301)
    assert ahead.status_code == 401 and ahead.json() == {"error": "invalid request"}
    assert bot.command("help", timestamp=int(time.time()) + 240).status_code == 200


def test_a_retried_event_with_the_same_signature_is_accepted(bot: Bot) -> None:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0LOCAL01",
            "api_app_id": "A0FIREBOT",
            "event_id": "Ev0RETRY",
            "event_time": int(time.time()),
            "event": {"type": "reaction_added", "reaction": "eyes", "user": "U0ANA0001"},
            "authorizations": [{"team_id": "T0LOCAL01", "user_id": "U0FIREBOT", "is_bot": True}],
        }
    ).encode()
    headers = slack_headers(SIGNING_SECRET, body, content_type="application/json")
    assert bot.http.post("/slack/events", content=body, headers=headers).status_code == 200
    for retry in ("1", "2"):
        again = {**headers, "X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
        assert bot.http.post("/slack/events", content=body, headers=again).status_code == 200
