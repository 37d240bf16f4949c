"""Local mode stays local: `serve` without a Slack token binds loopback only, an empty token
is a mistake rather than local mode, and the page answers only its own loopback Host, with
the key made at start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from bot.cli import refusal
from bot.config import FirebreakConfig, Settings
from bot.localslack.page import NEEDS_KEY
from tests.scenario import Bot, clean_env, running_bot
from tests.unit.localslack.htmlforms import form_to

NOT_LOOPBACK = ("0.0.0.0", "::", "192.0.2.10", "2001:db8::1", "firebreak.example.com", "")
LOOPBACK = ("127.0.0.1", "127.0.0.2", "::1", "localhost")


@pytest.mark.parametrize("host", NOT_LOOPBACK)
def test_without_a_slack_token_serve_refuses_any_address_but_loopback(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    local = Settings()
    assert local.embedded_slack
    # Neither a webhook token nor --insecure-webhooks opens the stand-in to the network.
    for settings, insecure in (
        (local, False),
        (local, True),
        (Settings(FIREBREAK_WEBHOOK_TOKEN="webhook-token-9"), True),
    ):
        said = refusal(settings, host=host, insecure_webhooks=insecure)
        assert said is not None and said.startswith(
            f"refusing to serve on {host} without SLACK_BOT_TOKEN: "
        )
        assert "loopback only" in said and "\n" not in said
    # With a Slack token there is no stand-in: only the webhook rule is left.
    slack = Settings(SLACK_BOT_TOKEN="xoxb-1", FIREBREAK_WEBHOOK_TOKEN="webhook-token-9")
    assert refusal(slack, host=host, insecure_webhooks=False) is None


@pytest.mark.parametrize("host", LOOPBACK)
def test_loopback_is_served_in_local_mode(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    assert refusal(Settings(), host=host, insecure_webhooks=False) is None


def test_an_empty_slack_token_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    with pytest.raises(ValidationError) as caught:
        Settings()
    [error] = caught.value.errors()
    assert error["loc"] == ("SLACK_BOT_TOKEN",)
    assert "set but empty" in error["msg"] and "unset SLACK_BOT_TOKEN" in error["msg"]
    for blank in (" ", "\t"):
        with pytest.raises(ValidationError):
            Settings(SLACK_BOT_TOKEN=blank)
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    assert Settings().embedded_slack  # unset: local mode, as documented


def test_a_page_key_given_is_used_and_must_be_long(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(FIREBREAK_PAGE_KEY="short")
    key = "a-page-key-of-my-own-1234"
    with running_bot(tmp_path, config, FIREBREAK_PAGE_KEY=key) as bot:
        assert bot.runtime.page is not None and bot.runtime.page.key == key
        assert bot.page_url == f"{bot.http.base_url}/?key={key}"


@pytest.fixture
def bot(tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as running:
        yield running


def stranger(bot: Bot) -> httpx.Client:
    """A browser on the bot's port without the page's key."""
    return httpx.Client(base_url=str(bot.http.base_url), timeout=10)


def test_the_page_needs_the_key_made_at_start(bot: Bot) -> None:
    with stranger(bot) as browser:
        for method, path in (
            ("GET", "/"),
            ("GET", "/state.json"),
            ("GET", "/version.json"),
            ("GET", "/files/F0NOPE"),
            ("POST", "/compose"),
            ("POST", "/click"),
            ("POST", "/as"),
        ):
            refused = browser.request(method, path, data={"text": "/incident declare x"})
            assert refused.status_code == 403 and refused.text == NEEDS_KEY, path
        assert browser.get("/", params={"key": "not-the-key"}).status_code == 403

        opened = browser.get(bot.page_url)
        assert opened.status_code == 303 and opened.headers["location"] == f"{bot.http.base_url}/"
        cookie = opened.headers["set-cookie"]
        assert bot.runtime.page is not None and cookie.startswith(f"{bot.runtime.page.cookie}=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        page = browser.get("/")
        assert page.status_code == 200 and "You are acting as" in page.text
    assert bot.http.get("/api/incidents").json() == []


def test_dns_rebinding_and_other_sites_cannot_act_through_the_page(bot: Bot) -> None:
    """evil.example resolves to 127.0.0.1: the browser sends its own name as Host (and as
    Origin), and never the cookie the page set for 127.0.0.1."""
    port = bot.server.port
    compose = form_to(bot.http.get("/").text, "/compose")
    channel = compose.fields["channel"]
    declare = {"channel": channel, "text": "/incident declare rebound"}
    with stranger(bot) as browser:
        rebound = browser.post(
            "/compose",
            data=declare,
            headers={"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"},
        )
        assert rebound.status_code == 403
        read = browser.get("/state.json", headers={"Host": f"evil.example:{port}"})
        assert read.status_code == 403 and "channels" not in read.text
    # Even holding the key, a request to another Host, or a form from another site, is refused.
    for headers in (
        {"Host": f"evil.example:{port}"},
        {"Origin": f"http://evil.example:{port}"},
        {"Origin": "null"},
    ):
        assert bot.http.post("/compose", data=declare, headers=headers).status_code == 403
    assert bot.http.get("/api/incidents").json() == []
    # The page itself, from its own origin, still works.
    own = bot.http.post("/compose", data=declare, headers={"Origin": str(bot.http.base_url)})
    assert own.status_code == 303
    assert [i["title"] for i in bot.http.get("/api/incidents").json()] == ["rebound"]
