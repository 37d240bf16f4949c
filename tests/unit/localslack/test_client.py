"""Installing an app, signing what is sent to it, and reading its acks."""

from __future__ import annotations

import hashlib
import hmac

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from bot.localslack.client import AppClient
from bot.localslack.installed import InstalledApp, signature
from bot.localslack.payloads import REQUIRED, slack_escape, state_values, team_domain
from bot.localslack.state import Workspace

from .fakeapp import APP_URL, SECRET


def test_install_app_checks_its_arguments(ws: Workspace) -> None:
    assert ws.installed_app is None
    with pytest.raises(ValueError, match="http"):
        ws.install_app(request_url="ftp://bot/slack/events", signing_secret=SECRET)
    with pytest.raises(ValueError, match="secret"):
        ws.install_app(request_url=APP_URL, signing_secret="")
    ws.install_app(request_url=APP_URL, signing_secret=SECRET)
    app = ws.installed_app
    assert app is not None and app.request_url == APP_URL
    assert SECRET not in repr(app) and app.verification_token not in repr(app)


def test_signature_is_slacks_v0_scheme() -> None:
    body = b"token=x&command=%2Fincident&text=help"
    app = InstalledApp(request_url=APP_URL, signing_secret=SECRET)

    headers = app.headers(body, "application/x-www-form-urlencoded", now=1_700_000_000.9)

    digest = hmac.new(SECRET.encode(), b"v0:1700000000:" + body, hashlib.sha256).hexdigest()
    assert headers["X-Slack-Request-Timestamp"] == "1700000000"
    assert headers["X-Slack-Signature"] == f"v0={digest}"
    assert signature("other", "1700000000", body) != headers["X-Slack-Signature"]
    fresh = app.headers(body, "application/x-www-form-urlencoded")
    assert SignatureVerifier(SECRET).is_valid(
        body=body,
        timestamp=fresh["X-Slack-Request-Timestamp"],
        signature=fresh["X-Slack-Signature"],
    )


def client_answering(answer: httpx.Response | Exception) -> AppClient:
    def handle(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    return AppClient(transport=httpx.MockTransport(handle))


APP = InstalledApp(request_url=APP_URL, signing_secret=SECRET)


async def test_a_json_ack_is_read() -> None:
    client = client_answering(httpx.Response(200, json={"text": "hi"}))
    reply = await client.slash_command(APP, {"command": "/incident"}, "/incident")
    assert reply.ok and reply.body == {"text": "hi"} and reply.status == 200


async def test_a_timeout_says_so() -> None:
    client = client_answering(httpx.ReadTimeout("slow"))
    reply = await client.interaction(APP, {"type": "block_actions"}, "the ack click")
    assert reply.status is None
    assert reply.problem == (
        "The app did not answer the ack click within 3 s "
        "(Slack would show the person a timeout error)."
    )


async def test_an_error_answer_shows_the_start_of_its_body() -> None:
    client = client_answering(httpx.Response(500, text="Traceback\n  boom " + "x" * 500))
    reply = await client.slash_command(APP, {}, "/incident")
    assert reply.problem is not None
    assert reply.problem.startswith("The app answered 500 Internal Server Error to /incident: ")
    assert "Traceback boom" in reply.problem and len(reply.problem) < 300


async def test_unreadable_json_is_a_problem() -> None:
    answer = httpx.Response(200, text="{oops", headers={"content-type": "application/json"})
    reply = await client_answering(answer).slash_command(APP, {}, "/incident")
    assert reply.problem == "The app answered /incident with JSON Slack cannot read."


def test_team_domain_and_escaping() -> None:
    assert team_domain("Firebreak local") == "firebreak-local"
    assert team_domain("!!!") == "localslack"
    assert slack_escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_state_values_refuse_bad_choices_and_empty_required_fields() -> None:
    view = {
        "id": "V1",
        "blocks": [
            {
                "type": "input",
                "block_id": "sev",
                "element": {
                    "type": "static_select",
                    "action_id": "sev",
                    "option_groups": [
                        {"options": [{"text": {"type": "plain_text", "text": "A"}, "value": "a"}]}
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "when",
                "element": {"type": "datepicker", "action_id": "when"},
            },
            {
                "type": "input",
                "block_id": "notes",
                "optional": True,
                "element": {"type": "plain_text_input", "action_id": "notes"},
            },
        ],
    }

    values, errors = state_values(view, {"field-0": "7"})
    chosen, _ = state_values(view, {"field-0": "0"})

    assert values == {
        "sev": {"sev": {"type": "static_select", "selected_option": None}},
        # Slack sends null, not "", for an input left empty; the datepicker is not drawn.
        "notes": {"notes": {"type": "plain_text_input", "value": None}},
    }
    assert errors == {"sev": REQUIRED}
    assert chosen["sev"]["sev"]["selected_option"]["value"] == "a"  # from an option group
