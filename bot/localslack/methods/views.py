"""views.open, views.push and views.update: modals, checked the way Slack checks them.

A trigger_id is any non-empty string the stand-in has not seen exchanged (or been told to
expire, see `Workspace.expire_trigger`): the stand-in cannot know which interactions a real
workspace handed out.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.localslack.args import Args, SlackError
from bot.localslack.ids import new_block_id, new_id, new_view_hash
from bot.localslack.methods.blocks import block_problems, error_messages
from bot.localslack.store import Store

MAX_BUTTON_TEXT = 24  # title, submit and close
MAX_VIEW_BLOCKS = 100
MAX_STACK = 3  # a root view and two pushed on it
STRING_LIMITS = {"private_metadata": 3000, "callback_id": 255, "external_id": 255}


def _invalid(problems: list[str]) -> SlackError:
    return SlackError("invalid_arguments", response_metadata=error_messages(problems))


def view_problems(view: dict[str, Any]) -> list[str]:
    """Everything Slack would refuse in a modal view payload, each with its json-pointer."""
    problems: list[str] = []
    kind = view.get("type")
    if kind is None:
        problems.append("missing required field: type [json-pointer:/view]")
    elif kind != "modal":
        problems.append("must be one of: modal [json-pointer:/view/type]")
    problems += _text_problems(view, "title", required=True)
    problems += _text_problems(view, "submit", required=False)
    problems += _text_problems(view, "close", required=False)
    blocks = view.get("blocks")
    if blocks is None:
        problems.append("missing required field: blocks [json-pointer:/view]")
    elif not isinstance(blocks, list):
        problems.append("must be an array [json-pointer:/view/blocks]")
    else:
        problems += block_problems(blocks, pointer="/view/blocks", max_blocks=MAX_VIEW_BLOCKS)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and view.get("submit") is None:
            problems.append("missing required field: submit [json-pointer:/view]")
    for name, limit in STRING_LIMITS.items():
        value = view.get(name)
        if value is None:
            continue
        where = f"[json-pointer:/view/{name}]"
        if not isinstance(value, str):
            problems.append(f"must be a string {where}")
        elif len(value) > limit:
            problems.append(f"must be less than {limit + 1} characters {where}")
    return problems


def _text_problems(view: dict[str, Any], name: str, *, required: bool) -> list[str]:
    text = view.get(name)
    if text is None:
        return [f"missing required field: {name} [json-pointer:/view]"] if required else []
    where = f"/view/{name}"
    if not (
        isinstance(text, dict)
        and text.get("type") == "plain_text"
        and isinstance(text.get("text"), str)
    ):
        return [f"failed to match all allowed schemas [json-pointer:{where}]"]
    if len(text["text"]) > MAX_BUTTON_TEXT:
        # Worded as a real workspace words it, although 24 characters are accepted.
        return [
            f"failed to match all allowed schemas [json-pointer:{where}]",
            f"must be less than {MAX_BUTTON_TEXT} characters [json-pointer:{where}/text]",
        ]
    return []


def _read_view(args: Args) -> dict[str, Any]:
    try:
        view = args.json_object("view", error="invalid_arguments")
    except SlackError:
        raise _invalid(["must be a JSON object [json-pointer:/view]"]) from None
    if view is None:
        raise _invalid(["missing required field: view"])
    problems = view_problems(view)
    if problems:
        raise _invalid(problems)
    return copy.deepcopy(view)


def _trigger(store: Store, args: Args) -> str:
    """The trigger to exchange, checked but not yet used up."""
    trigger = args.text("trigger_id") or args.text("interactivity_pointer")
    if trigger is None:
        raise SlackError(
            "invalid_arguments", response_metadata={"messages": ["invalid `trigger_id`"]}
        )
    if trigger in store.used_triggers:
        raise SlackError("exchanged_trigger_id")
    if trigger in store.expired_triggers:
        raise SlackError("expired_trigger_id")
    return trigger


def _check_external_id(store: Store, view: dict[str, Any], current: str | None) -> None:
    external_id = view.get("external_id")
    if not external_id:
        return
    for other in store.views.values():
        if other["external_id"] == external_id and other["id"] != current:
            raise SlackError("duplicate_external_id")


def _content(view: dict[str, Any]) -> dict[str, Any]:
    """The parts of a stored view that come from the payload."""
    blocks: list[dict[str, Any]] = view["blocks"]
    for block in blocks:
        # Slack names every block; view_submission state is keyed by these ids.
        block.setdefault("block_id", new_block_id())
    return {
        "type": view["type"],
        "title": view["title"],
        "close": view.get("close"),
        "submit": view.get("submit"),
        "blocks": blocks,
        "private_metadata": view.get("private_metadata") or "",
        "callback_id": view.get("callback_id") or "",
        "external_id": view.get("external_id") or "",
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "hash": new_view_hash(time.time()),
    }


def _store_view(
    store: Store, view: dict[str, Any], *, previous: dict[str, Any] | None
) -> dict[str, Any]:
    view_id = new_id("V", store.views)
    stored: dict[str, Any] = {
        "id": view_id,
        "team_id": store.team_id,
        **_content(view),
        "state": {"values": {}},
        "root_view_id": previous["root_view_id"] if previous else view_id,
        "previous_view_id": previous["id"] if previous else None,
        "app_id": store.app_id,
        "app_installed_team_id": store.team_id,
        "bot_id": store.bot_id,
    }
    store.views[view_id] = stored
    return {"ok": True, "view": stored}


def open_(store: Store, args: Args) -> dict[str, Any]:
    trigger = _trigger(store, args)
    view = _read_view(args)
    _check_external_id(store, view, None)
    store.used_triggers.add(trigger)
    answer = _store_view(store, view, previous=None)
    store.trigger_views[trigger] = answer["view"]["id"]
    return answer


def push(store: Store, args: Args) -> dict[str, Any]:
    trigger = _trigger(store, args)
    view = _read_view(args)
    _check_external_id(store, view, None)
    # The stand-in cannot tell which modal the trigger came from: it pushes onto the newest.
    # With no modal open the pushed view simply becomes a root view.
    top = next(reversed(store.views.values()), None)
    if top is not None:
        depth = sum(v["root_view_id"] == top["root_view_id"] for v in store.views.values())
        if depth >= MAX_STACK:
            raise SlackError("push_limit_reached")
    store.used_triggers.add(trigger)
    answer = _store_view(store, view, previous=top)
    store.trigger_views[trigger] = answer["view"]["id"]
    return answer


def update(store: Store, args: Args) -> dict[str, Any]:
    view_id = args.text("view_id")
    external_id = args.text("external_id")
    if view_id is None and external_id is None:
        raise _invalid(["either view_id or external_id is required"])
    if view_id is not None:
        current = store.views.get(view_id)
    else:
        found = (v for v in store.views.values() if v["external_id"] == external_id)
        current = next(found, None)
    if current is None:
        raise SlackError("not_found")
    wanted_hash = args.text("hash")
    if wanted_hash is not None and wanted_hash != current["hash"]:
        raise SlackError("hash_conflict")
    view = _read_view(args)
    _check_external_id(store, view, current["id"])
    content = _content(view)
    if not content["external_id"]:
        content["external_id"] = current["external_id"]
    current.update(content)
    return {"ok": True, "view": current}
