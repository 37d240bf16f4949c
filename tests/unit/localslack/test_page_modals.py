"""Modals: shown when the app opens one with the trigger the page sent, submitted as
view_submission with state.values, kept open with field errors when the app says so."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bot.localslack.state import Workspace

from .conftest import ALICE, BOB, TOKEN, Call
from .fakeapp import FakeApp, reply
from .htmlforms import Form, form_to
from .test_page_composer import act_as, send


def option(text: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": text}


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def declare_modal(**extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "incident_declare",
        "private_metadata": "C0PRIVATE",
        "title": plain("Declare an incident"),
        "submit": plain("Declare"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "title",
                "label": plain("Title"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "title",
                    "max_length": 300,
                    "placeholder": plain("What is broken, for whom"),
                },
            },
            {
                "type": "input",
                "block_id": "severity",
                "label": plain("Severity"),
                "element": {
                    "type": "static_select",
                    "action_id": "severity",
                    "options": [option("SEV1"), option("SEV2"), option("SEV3")],
                    "initial_option": option("SEV3"),
                },
            },
            {
                "type": "input",
                "block_id": "service",
                "optional": True,
                "label": plain("Service"),
                "element": {
                    "type": "static_select",
                    "action_id": "service",
                    "options": [option("checkout"), option("fraud-model")],
                },
            },
            {
                "type": "input",
                "block_id": "description",
                "optional": True,
                "label": plain("What we know"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "description",
                    "multiline": True,
                },
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Opens a *channel*"}]},
        ],
        **extra,
    }


def opens(ws: Workspace, view: dict[str, Any], ack: httpx.Response | None = None) -> Any:
    """An app that answers a command or click by opening `view` with its trigger."""

    def answer(body: dict[str, Any]) -> httpx.Response:
        if "trigger_id" in body and body.get("type") != "view_submission":
            args = {"trigger_id": body["trigger_id"], "view": json.dumps(view)}
            status, _, opened = ws.dispatch("views.open", args, TOKEN)
            assert status == 200 and opened["ok"], opened
        return ack or httpx.Response(200)

    return answer


async def open_declare(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, channel: str, **extra: Any
) -> Form:
    app.answer = opens(ws, declare_modal(**extra))
    page = await send(browser, channel, "/incident declare")
    return form_to(page.text, "/submit-view")


async def test_the_modal_the_app_opened_is_shown_to_whoever_asked(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, call: Call, channel: str
) -> None:
    call("views.open", trigger_id="someone-elses", view=json.dumps(declare_modal()))
    modal = await open_declare(browser, app, ws, channel)
    html = (await browser.get("/", params={"channel": channel})).text

    [opened] = [v for v in ws.views() if v["id"] == modal.fields["view_id"]]
    assert opened["callback_id"] == "incident_declare"
    assert "Declare an incident" in html and "What is broken, for whom" in html
    assert html.count('<span class="optional">(optional)</span>') == 2
    assert '<textarea id="field-3" name="field-3" rows="5">' in html
    assert 'maxlength="300" required>' in html
    assert modal.selects["field-1"] == [
        ("", "Select an option"),
        ("0", "SEV1"),
        ("1", "SEV2"),
        ("2", "SEV3"),
    ]
    assert modal.fields["field-1"] == "2"  # the initial option is chosen
    assert modal.buttons == ["Declare", "Cancel"]
    assert "Opens a <strong>channel</strong>" in html
    assert 'http-equiv="refresh"' not in html  # nothing may wipe a half-filled modal

    await act_as(browser, BOB)
    assert "Declare an incident" not in (await browser.get("/")).text


async def test_submitting_sends_view_submission_with_state_values(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, channel: str
) -> None:
    modal = await open_declare(browser, app, ws, channel)
    app.answer = reply()

    page = await browser.post(
        modal.action,
        data={
            **modal.fields,
            "field-0": "Checkout <5xx> & timeouts",
            "field-1": "0",
            "field-2": "",
            "field-3": "p99 up\r\nsince 02:10",
        },
    )

    payload = app.last.payload
    assert payload["type"] == "view_submission"
    assert payload["user"]["id"] == ALICE and payload["user"]["username"] == "alice"
    assert payload["api_app_id"] == ws.app_id and payload["trigger_id"]
    assert payload["response_urls"] == []
    view = payload["view"]
    assert view["id"] == modal.fields["view_id"]
    assert (view["callback_id"], view["private_metadata"]) == ("incident_declare", "C0PRIVATE")
    assert view["state"]["values"] == {
        "title": {"title": {"type": "plain_text_input", "value": "Checkout <5xx> & timeouts"}},
        "severity": {"severity": {"type": "static_select", "selected_option": option("SEV1")}},
        "service": {"service": {"type": "static_select", "selected_option": None}},
        "description": {
            "description": {"type": "plain_text_input", "value": "p99 up\nsince 02:10"}
        },
    }
    assert ws.views() == [] and ws.modal_for(ALICE) is None
    assert "Declare an incident" not in page.text


async def test_response_action_errors_keep_the_modal_open(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, channel: str
) -> None:
    modal = await open_declare(browser, app, ws, channel)
    app.answer = reply({"response_action": "errors", "errors": {"title": "Too <short>."}})

    page = await browser.post(modal.action, data={**modal.fields, "field-0": "x", "field-3": "a"})

    again = form_to(page.text, "/submit-view")
    assert '<p class="error" role="alert">Too &lt;short&gt;.</p>' in page.text
    assert again.fields["view_id"] == modal.fields["view_id"]
    assert (again.fields["field-0"], again.fields["field-3"]) == ("x", "a")  # kept as typed
    assert ws.modal_for(ALICE) is not None

    app.answer = reply()
    closed = await browser.post(again.action, data={**again.fields, "field-0": "Checkout down"})
    assert "Too &lt;short&gt;" not in closed.text and ws.modal_for(ALICE) is None
    assert len(app.received) == 3  # the command and two submissions


async def test_a_required_field_left_empty_is_refused_before_sending(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, channel: str
) -> None:
    modal = await open_declare(browser, app, ws, channel)

    page = await browser.post(modal.action, data={**modal.fields, "field-0": "   "})

    assert len(app.received) == 1  # only the command
    assert "Please complete this required field." in page.text
    assert ws.modal_for(ALICE) is not None


async def test_cancel_closes_and_tells_the_app_when_asked(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, channel: str
) -> None:
    modal = await open_declare(browser, app, ws, channel, notify_on_close=True)
    cancel = f"{modal.action.removesuffix('/submit-view')}/close-view"

    page = await browser.post(cancel, data=modal.fields)

    payload = app.last.payload
    assert payload["type"] == "view_closed" and payload["is_cleared"] is False
    assert payload["view"]["id"] == modal.fields["view_id"]
    assert ws.views() == [] and "Declare an incident" not in page.text


async def test_update_push_and_clear(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, channel: str
) -> None:
    modal = await open_declare(browser, app, ws, channel)
    confirm = {"type": "modal", "title": plain("Sure?"), "blocks": []}
    fields = {**modal.fields, "field-0": "Checkout down"}

    app.answer = reply({"response_action": "push", "view": confirm})
    pushed = await browser.post(modal.action, data=fields)
    assert "Sure?" in pushed.text and len(ws.views()) == 2

    back = await browser.post(
        f"{modal.action.removesuffix('/submit-view')}/close-view",
        data=form_to(pushed.text, "/submit-view").fields,
    )
    assert "Declare an incident" in back.text and len(ws.views()) == 1

    app.answer = reply(
        {"response_action": "update", "view": declare_modal(title=plain("Declare INC"))}
    )
    updated = await browser.post(modal.action, data=fields)
    assert "Declare INC" in updated.text and len(ws.views()) == 1

    app.answer = reply({"response_action": "push", "view": confirm})
    await browser.post(modal.action, data=fields)
    on_top = form_to((await browser.get("/")).text, "/submit-view")
    app.answer = reply({"response_action": "clear"})
    cleared = await browser.post(on_top.action, data=on_top.fields)
    assert ws.views() == [] and "Declare INC" not in cleared.text


@pytest.mark.parametrize("status", [401, 503])
async def test_a_failing_app_leaves_the_modal_open_with_a_banner(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, channel: str, status: int
) -> None:
    modal = await open_declare(browser, app, ws, channel)
    app.answer = reply(status=status)

    page = await browser.post(modal.action, data={**modal.fields, "field-0": "Checkout down"})

    assert page.status_code == 200
    assert f"The app answered {status}" in page.text
    assert form_to(page.text, "/submit-view").fields["field-0"] == "Checkout down"
