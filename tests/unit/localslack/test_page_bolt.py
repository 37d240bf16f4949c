"""The page driving a real bolt-python app over real HTTP: the local Slack (page and Web
API) on one port, the app on another. Bolt checks the signatures and parses the payloads,
so this is the test that the page speaks Slack as Slack's own SDK understands it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.localslack.access import PageAccess
from bot.localslack.api import API_PREFIX
from bot.localslack.server import build_standalone
from bot.localslack.state import Workspace
from tests.polling import wait_until
from tests.servers import ServerThread, free_port

from .conftest import ALICE, TOKEN
from .fakeapp import SECRET
from .htmlforms import form_to, form_with

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare an incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "title"},
        }
    ],
}


def bolt_app(api_url: str, channel: str) -> Starlette:
    bolt = AsyncApp(
        token=TOKEN,
        signing_secret=SECRET,
        client=AsyncWebClient(token=TOKEN, base_url=api_url),
    )

    @bolt.command("/incident")
    async def incident(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        if command["text"] != "declare":
            await ack(text=f"Hello <@{command['user_id']}>, try `/incident declare`")
            return
        await ack()
        await client.views_open(trigger_id=command["trigger_id"], view=MODAL)

    @bolt.view("declare")
    async def declared(ack: Any, view: dict[str, Any], client: AsyncWebClient) -> None:
        title = view["state"]["values"]["title"]["title"]["value"]
        if len(title) < 5:
            await ack(response_action="errors", errors={"title": "Say what is broken."})
            return
        await ack()
        claim = {
            "type": "button",
            "text": {"type": "plain_text", "text": "I'm commander"},
            "action_id": "claim",
            "value": "1",
        }
        await client.chat_postMessage(
            channel=channel,
            text=f"Declared: {title}",
            blocks=[{"type": "actions", "elements": [claim]}],
        )

    @bolt.action("claim")
    async def claim(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(replace_original=True, text=f"Commander: <@{body['user']['id']}>")

    handler = AsyncSlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


@pytest.fixture
def browser(ws: Workspace) -> Iterator[httpx.Client]:
    site_port, bot_port = free_port(), free_port()
    channel = ws.ensure_channel("incidents", members=[ALICE])["id"]
    bot = bolt_app(f"http://127.0.0.1:{site_port}{API_PREFIX}/", channel)
    ws.install_app(request_url=f"http://127.0.0.1:{bot_port}/slack/events", signing_secret=SECRET)
    access = PageAccess.loopback(port=site_port, key="test-page-key-0123456789")
    with (
        ServerThread(build_standalone(ws, access=access), site_port) as site,
        ServerThread(bot, bot_port),
        httpx.Client(
            base_url=site.url,
            follow_redirects=True,
            timeout=10,
            cookies={access.cookie: access.key},
        ) as client,
    ):
        yield client


def compose(browser: httpx.Client, text: str) -> httpx.Response:
    form = form_to(browser.get("/").text, "/compose")
    return browser.post(form.action, data={**form.fields, "text": text})


def test_command_modal_and_button_through_bolt(browser: httpx.Client, ws: Workspace) -> None:
    [channel] = [c["id"] for c in ws.channels()]

    hello = compose(browser, "/incident")
    assert 'Hello <span class="ref">@Alice Liddell</span>' in hello.text
    assert "Only visible to you" in hello.text

    compose(browser, "/incident declare")
    wait_until(lambda: ws.modal_for(ALICE), what="the modal bolt opens after its ack")
    modal = form_to(browser.get("/").text, "/submit-view")

    refused = browser.post(modal.action, data={**modal.fields, "field-0": "db"})
    assert "Say what is broken." in refused.text
    browser.post(modal.action, data={**modal.fields, "field-0": "Checkout is down"})
    assert ws.modal_for(ALICE) is None
    wait_until(lambda: ws.messages(channel), what="the declaration")

    button = form_with(browser.get("/").text, "claim")
    browser.post(button.action, data=button.fields)
    wait_until(
        lambda: ws.messages(channel)[0]["text"] == f"Commander: <@{ALICE}>",
        what="the response_url to replace the message",
    )
    assert 'Commander: <span class="ref">@Alice Liddell</span>' in browser.get("/").text
