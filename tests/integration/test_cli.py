"""`firebreak serve` as a process: what it refuses to start with, and what it prints."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import httpx
import pytest

from tests.polling import wait_until
from tests.processes import firebreak_command, process
from tests.processes import run_cli as run
from tests.scenario import ENV
from tests.servers import free_port


def test_serve_refuses_a_token_without_signing_secret(tmp_path: Path) -> None:
    result = run(["serve", "--port", "1"], tmp_path, SLACK_BOT_TOKEN="xoxb-secret-value-123")
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET is not" in result.stderr
    assert "xoxb-secret-value-123" not in result.stderr + result.stdout


def test_serve_on_a_public_address_wants_a_webhook_token(tmp_path: Path) -> None:
    unsigned = {"SLACK_BOT_TOKEN": "xoxb-secret-value-123"}
    refused = run(["serve", "--host", "0.0.0.0", "--port", "1"], tmp_path, **unsigned)
    assert refused.returncode == 2 and refused.stdout == ""
    [line] = refused.stderr.splitlines()
    assert line.startswith("firebreak: refusing to serve webhooks on 0.0.0.0 without ")
    assert "FIREBREAK_WEBHOOK_TOKEN" in line and "--insecure-webhooks" in line
    # Told explicitly, or given a token, it goes on (to the next check, here the Slack secret).
    for args, env in (
        (["--insecure-webhooks"], unsigned),
        ([], {**unsigned, "FIREBREAK_WEBHOOK_TOKEN": "webhook-token-3f9a"}),
    ):
        passed = run(["serve", "--host", "0.0.0.0", "--port", "1", *args], tmp_path, **env)
        assert passed.returncode == 2 and "SLACK_SIGNING_SECRET is not" in passed.stderr
        assert "webhook-token-3f9a" not in passed.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_without_a_slack_token_serve_binds_loopback_only(tmp_path: Path, host: str) -> None:
    """The built-in stand-in lets whoever reaches it act as anyone: never on the network,
    whatever else is set."""
    for args, env in (
        ([], {}),
        (["--insecure-webhooks"], {"FIREBREAK_WEBHOOK_TOKEN": "webhook-token-3f9a"}),
    ):
        refused = run(["serve", "--host", host, "--port", "1", *args], tmp_path, **env)
        assert refused.returncode == 2 and refused.stdout == ""
        [line] = refused.stderr.splitlines()
        assert line.startswith(f"firebreak: refusing to serve on {host} without SLACK_BOT_TOKEN")
        assert "loopback only" in line


def test_an_empty_slack_token_is_a_configuration_error(tmp_path: Path) -> None:
    for command in (["serve", "--port", "1"], ["check"]):
        refused = run(command, tmp_path, SLACK_BOT_TOKEN="")
        assert refused.returncode == 2 and refused.stdout == ""
        [line] = refused.stderr.splitlines()
        assert line.startswith("firebreak: SLACK_BOT_TOKEN: Value error, set but empty")
        assert "unset SLACK_BOT_TOKEN to run with the built-in Slack stand-in" in line


def test_serve_prints_the_page_link_once_and_cuts_off_slow_request_heads(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ENV},
        "FIREBREAK_DATABASE_URL": f"sqlite:///{tmp_path / 'firebreak.db'}",
        "FIREBREAK_HEADER_TIMEOUT_S": "1",
    }
    with process(
        firebreak_command("serve", "--port", str(port)),
        log=log,
        env=env,
        ready_url=f"{url}/healthz",
    ):
        printed = wait_until(
            lambda: re.findall(rf"open ({re.escape(url)}/\?key=[\w-]+)", log.read_text()),
            what="the page's link in the log",
        )
        assert len(printed) == 1
        with httpx.Client(base_url=url, timeout=5) as browser:
            assert browser.get("/").status_code == 403  # not without the key
            assert browser.get(printed[0]).status_code == 303  # the link sets its cookie
            page = browser.get("/")
            assert page.status_code == 200 and "Firebreak local" in page.text
        assert httpx.get(f"{url}/api/incidents").json() == []  # README's curl, no token
        # A connection that never finishes its request's head is closed (1 s here).
        with socket.create_connection(("127.0.0.1", port)) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.settimeout(10)
            assert slow.recv(1024) == b""
