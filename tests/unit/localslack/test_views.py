"""views.open, views.push and views.update as answered by Workspace.dispatch."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.localslack.state import Workspace

from .conftest import Call

INPUT = {
    "type": "input",
    "block_id": "summary",
    "label": {"type": "plain_text", "text": "Summary"},
    "element": {"type": "plain_text_input", "action_id": "summary_input"},
}


def modal(title: str = "Declare incident", **extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "declare",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Declare"},
        "blocks": [INPUT, {"type": "section", "text": {"type": "mrkdwn", "text": "*SEV?*"}}],
    }
    view.update(extra)
    return view


def error_of(body: dict[str, Any]) -> str:
    assert body["ok"] is False, body
    return str(body["error"])


def messages_of(body: dict[str, Any]) -> list[str]:
    assert error_of(body) == "invalid_arguments"
    return list(body["response_metadata"]["messages"])


# views.open


def test_open_answers_the_full_view(ws: Workspace, call: Call) -> None:
    body = call("views.open", trigger_id="1.2.abc", view=modal(private_metadata='{"inc": 1}'))

    view = body["view"]
    assert body["ok"] is True
    assert re.fullmatch(r"V[A-Z0-9]{10}", view["id"])
    assert (
        view.items()
        >= {
            "team_id": "T0LOCAL01",
            "type": "modal",
            "title": {"type": "plain_text", "text": "Declare incident"},
            "submit": {"type": "plain_text", "text": "Declare"},
            "close": None,
            "callback_id": "declare",
            "private_metadata": '{"inc": 1}',
            "external_id": "",
            "state": {"values": {}},
            "root_view_id": view["id"],
            "previous_view_id": None,
            "app_id": "A0FIREBOT",
            "bot_id": "B0FIREBOT",
            "clear_on_close": False,
            "notify_on_close": False,
        }.items()
    )
    assert re.fullmatch(r"\d+\.[0-9a-f]{8}", view["hash"])
    assert view["blocks"][0] == INPUT  # its block_id is kept
    assert re.fullmatch(r"[A-Za-z0-9]{5}", view["blocks"][1]["block_id"])  # one is filled in
    assert ws.views() == [view]


def test_open_accepts_the_view_as_a_json_string(ws: Workspace, call: Call) -> None:
    body = call("views.open", trigger_id="t", view=json.dumps(modal()))
    assert body["view"]["callback_id"] == "declare"
    assert ws.calls[-1].args["view"] == json.dumps(modal())


def test_filled_in_block_ids_do_not_leak_into_the_call_log(ws: Workspace, call: Call) -> None:
    call("views.open", trigger_id="t", view=modal())
    assert "block_id" in ws.views()[0]["blocks"][1]
    assert "block_id" not in ws.calls[-1].args["view"]["blocks"][1]


def test_open_defaults_callback_id_and_metadata_to_empty(call: Call) -> None:
    view = modal()
    del view["callback_id"]
    opened = call("views.open", trigger_id="t", view=view)["view"]
    assert (opened["callback_id"], opened["private_metadata"]) == ("", "")


def test_a_trigger_is_exchanged_once(ws: Workspace, call: Call) -> None:
    call("views.open", trigger_id="t1", view=modal())
    assert error_of(call("views.open", trigger_id="t1", view=modal("Again"))) == (
        "exchanged_trigger_id"
    )
    assert [v["title"]["text"] for v in ws.views()] == ["Declare incident"]


def test_an_expired_trigger(ws: Workspace, call: Call) -> None:
    ws.expire_trigger("late")
    assert error_of(call("views.open", trigger_id="late", view=modal())) == "expired_trigger_id"
    assert ws.views() == []


def test_interactivity_pointer_works_like_a_trigger(call: Call) -> None:
    assert call("views.open", interactivity_pointer="p1", view=modal())["ok"]
    assert error_of(call("views.open", trigger_id="p1", view=modal())) == "exchanged_trigger_id"


def test_open_without_a_trigger(call: Call) -> None:
    assert messages_of(call("views.open", view=modal())) == ["invalid `trigger_id`"]
    assert messages_of(call("views.open", trigger_id="", view=modal())) == ["invalid `trigger_id`"]


def _without(key: str) -> dict[str, Any]:
    view = modal()
    del view[key]
    return view


TITLE_25 = "x" * 25


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (None, ["[ERROR] missing required field: view"]),
        ("{not json", ["[ERROR] must be a JSON object [json-pointer:/view]"]),
        ([modal()], ["[ERROR] must be a JSON object [json-pointer:/view]"]),
        (_without("type"), ["[ERROR] missing required field: type [json-pointer:/view]"]),
        (modal(type="home"), ["[ERROR] must be one of: modal [json-pointer:/view/type]"]),
        (_without("title"), ["[ERROR] missing required field: title [json-pointer:/view]"]),
        (
            modal(title={"type": "mrkdwn", "text": "*x*"}),
            ["[ERROR] failed to match all allowed schemas [json-pointer:/view/title]"],
        ),
        (
            modal(TITLE_25),
            [
                "[ERROR] failed to match all allowed schemas [json-pointer:/view/title]",
                "[ERROR] must be less than 24 characters [json-pointer:/view/title/text]",
            ],
        ),
        (
            modal(close={"type": "plain_text", "text": TITLE_25}),
            [
                "[ERROR] failed to match all allowed schemas [json-pointer:/view/close]",
                "[ERROR] must be less than 24 characters [json-pointer:/view/close/text]",
            ],
        ),
        (_without("blocks"), ["[ERROR] missing required field: blocks [json-pointer:/view]"]),
        (modal(blocks={}), ["[ERROR] must be an array [json-pointer:/view/blocks]"]),
        (
            modal(blocks=[{"type": "divider"}] * 101),
            ["[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"],
        ),
        (
            modal(blocks=[{"type": "divider"}, "x"]),
            ["[ERROR] missing required field: type [json-pointer:/view/blocks/1]"],
        ),
        (_without("submit"), ["[ERROR] missing required field: submit [json-pointer:/view]"]),
        (
            modal(private_metadata="m" * 3001),
            ["[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]"],
        ),
        (
            modal(callback_id="c" * 256),
            ["[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]"],
        ),
    ],
)
def test_open_refuses_invalid_views(
    ws: Workspace, call: Call, view: Any, expected: list[str]
) -> None:
    assert messages_of(call("views.open", trigger_id="t", view=view)) == expected
    assert ws.views() == []
    assert call("views.open", trigger_id="t", view=modal())["ok"]  # the trigger is not used up


def test_open_accepts_the_limits(call: Call) -> None:
    view = modal(
        "x" * 24,
        private_metadata="m" * 3000,
        blocks=[{"type": "divider"}] * 100,
    )
    del view["submit"]  # no input block, so no submit button needed
    assert call("views.open", trigger_id="t", view=view)["ok"]


def test_duplicate_external_id(ws: Workspace, call: Call) -> None:
    call("views.open", trigger_id="t1", view=modal(external_id="inc-1-declare"))
    again = call("views.open", trigger_id="t2", view=modal(external_id="inc-1-declare"))
    assert error_of(again) == "duplicate_external_id"
    assert len(ws.views()) == 1


# views.update


def test_update_by_view_id_keeps_identity_and_changes_hash(ws: Workspace, call: Call) -> None:
    opened = call("views.open", trigger_id="t", view=modal())["view"]

    updated = call(
        "views.update",
        view_id=opened["id"],
        hash=opened["hash"],
        view=modal("Declared", private_metadata="INC-7"),
    )["view"]

    assert (updated["id"], updated["root_view_id"]) == (opened["id"], opened["id"])
    assert updated["title"]["text"] == "Declared"
    assert updated["private_metadata"] == "INC-7"
    assert updated["hash"] != opened["hash"]
    assert ws.views() == [updated]


def test_update_by_external_id(ws: Workspace, call: Call) -> None:
    opened = call("views.open", trigger_id="t", view=modal(external_id="inc-7"))["view"]
    updated = call("views.update", external_id="inc-7", view=modal("Mitigating"))["view"]
    assert updated["id"] == opened["id"]
    assert updated["external_id"] == "inc-7"  # left out of the update: kept
    assert ws.views()[0]["title"]["text"] == "Mitigating"


def test_update_errors(ws: Workspace, call: Call) -> None:
    opened = call("views.open", trigger_id="t1", view=modal(external_id="a"))["view"]
    call("views.open", trigger_id="t2", view=modal(external_id="b"))

    def update(**args: Any) -> dict[str, Any]:
        return call("views.update", **args)

    assert error_of(update(view_id="V0NOTHERE0", view=modal())) == "not_found"
    assert error_of(update(external_id="nope", view=modal())) == "not_found"
    assert messages_of(update(view=modal())) == [
        "[ERROR] either view_id or external_id is required"
    ]
    assert error_of(update(view_id=opened["id"], hash="1.stale", view=modal())) == ("hash_conflict")
    assert error_of(update(view_id=opened["id"], view=modal(external_id="b"))) == (
        "duplicate_external_id"
    )
    assert messages_of(update(view_id=opened["id"], view=_without("title"))) == [
        "[ERROR] missing required field: title [json-pointer:/view]"
    ]
    assert ws.views()[0] == opened


# views.push


def test_push_stacks_on_the_newest_view_up_to_three(ws: Workspace, call: Call) -> None:
    root = call("views.open", trigger_id="t1", view=modal())["view"]
    second = call("views.push", trigger_id="t2", view=modal("Pick a playbook"))["view"]
    third = call("views.push", trigger_id="t3", view=modal("Confirm rollback"))["view"]

    assert (second["root_view_id"], second["previous_view_id"]) == (root["id"], root["id"])
    assert (third["root_view_id"], third["previous_view_id"]) == (root["id"], second["id"])
    assert error_of(call("views.push", trigger_id="t4", view=modal("Too deep"))) == (
        "push_limit_reached"
    )
    assert [v["id"] for v in ws.views()] == [root["id"], second["id"], third["id"]]


def test_push_needs_a_fresh_trigger_and_a_valid_view(ws: Workspace, call: Call) -> None:
    call("views.open", trigger_id="t1", view=modal())
    assert error_of(call("views.push", trigger_id="t1", view=modal())) == "exchanged_trigger_id"
    assert messages_of(call("views.push", view=modal())) == ["invalid `trigger_id`"]
    assert messages_of(call("views.push", trigger_id="t2", view=_without("blocks"))) == [
        "[ERROR] missing required field: blocks [json-pointer:/view]"
    ]
    assert len(ws.views()) == 1
