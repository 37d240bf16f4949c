"""The requests Slack sends an app when a person acts: slash commands (form fields) and
interaction payloads (block_actions, view_submission, view_closed). Pure: no I/O.

Shapes follow Slack's interaction-payload reference and bolt-python's own test fixtures.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

IM_CHANNEL_NAME = "directmessage"  # what Slack names a DM in payloads
REQUIRED = "Please complete this required field."


@dataclass(frozen=True)
class Origin:
    """What every request from this workspace to this app carries."""

    team_id: str
    team_domain: str
    api_app_id: str
    token: str  # the deprecated verification token


def team_domain(team_name: str) -> str:
    """A Slack-style workspace domain from its name: "Firebreak local" -> "firebreak-local"."""
    return re.sub(r"[^a-z0-9]+", "-", team_name.lower()).strip("-") or "localslack"


def slack_escape(text: str) -> str:
    """Escape &, < and > as Slack does in what people type (messages, command text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# "@name" typed as a word of its own: not an e-mail address, not inside a link, and not a
# mention typed whole ("<@U123>", escaped to "&lt;@U123&gt;" by then, which Slack keeps).
_TYPED_MENTION = re.compile(r"(?<![\w@&<|/.;])@([A-Za-z0-9][\w.\-]*)")


def with_mentions(escaped: str, users: Iterable[dict[str, Any]], *, labelled: bool) -> str:
    """What Slack makes of "@name" typed in the composer when `name` is a member (their user
    name, display name or ID, in any case): a mention. Slash command text, with the app's
    "escape channels, users and links" on (manifest.yaml), carries `<@U123|name>`; a message
    carries `<@U123>`. Anything else typed with an @ stays as typed. `escaped`: text already
    through slack_escape, so the mentions made here are the only markup in it."""
    known: dict[str, dict[str, Any]] = {}
    for user in users:
        if user.get("deleted") or user.get("is_bot"):
            continue
        names = (user["id"], user["name"], user.get("profile", {}).get("display_name") or "")
        for name in names:
            if name:
                known.setdefault(name.lower(), user)

    def mention(found: re.Match[str]) -> str:
        word = found.group(1)
        name, trail = word.rstrip(".-"), word[len(word.rstrip(".-")) :]
        user = known.get(name.lower())
        if user is None:
            return found.group(0)
        label = f"|{user['name']}" if labelled else ""
        return f"<@{user['id']}{label}>{trail}"

    return _TYPED_MENTION.sub(mention, escaped)


def action_ts(now: float | None = None) -> str:
    return f"{time.time() if now is None else now:.6f}"


def stable_id(*parts: str) -> str:
    """An id for a block or element sent without one. Slack makes one up when the message
    is posted; deriving it keeps it the same on every click."""
    return hashlib.sha1(":".join(parts).encode()).hexdigest()[:5]


def _team(origin: Origin) -> dict[str, Any]:
    return {"id": origin.team_id, "domain": origin.team_domain}


def _user(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": user["id"],
        "username": user["name"],
        "name": user["name"],
        "team_id": user["team_id"],
    }


def channel_ref(channel: dict[str, Any]) -> dict[str, str]:
    """{id, name} of a conversation, as payloads name it."""
    name = IM_CHANNEL_NAME if channel.get("is_im") else str(channel.get("name", ""))
    return {"id": channel["id"], "name": name}


def slash_command(
    origin: Origin,
    *,
    user: dict[str, Any],
    channel: dict[str, str],
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command, in the order Slack sends them."""
    return {
        "token": origin.token,
        "team_id": origin.team_id,
        "team_domain": origin.team_domain,
        "channel_id": channel["id"],
        "channel_name": channel["name"],
        "user_id": user["id"],
        "user_name": user["name"],
        "command": command,
        "text": text,  # escaped, its @names made mentions (with_mentions)
        "api_app_id": origin.api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def message_action(
    block: dict[str, Any], block_index: int, element: dict[str, Any], *, ts: str
) -> dict[str, Any] | None:
    """The `actions[0]` of a click on `element` (a button or a static_select with its
    `selected_option` already chosen); None for elements the page cannot send."""
    kind = element.get("type")
    if kind not in ("button", "static_select"):
        return None
    block_id = str(block.get("block_id") or stable_id(ts, str(block_index)))
    action: dict[str, Any] = {
        "type": kind,
        "action_id": str(element.get("action_id") or stable_id(block_id, str(kind))),
        "block_id": block_id,
    }
    if kind == "button":
        action["text"] = element.get("text")
        if "value" in element:
            action["value"] = element["value"]
        if "style" in element:
            action["style"] = element["style"]
    else:
        action["selected_option"] = element.get("selected_option")
        if "placeholder" in element:
            action["placeholder"] = element["placeholder"]
    action["action_ts"] = action_ts()
    return action


def block_actions(
    origin: Origin,
    *,
    user: dict[str, Any],
    channel: dict[str, str],
    message: dict[str, Any],
    is_ephemeral: bool,
    action: dict[str, Any],
    response_url: str,
    trigger_id: str,
) -> dict[str, Any]:
    """A click on a message's button or select."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": _team(origin),
        "user": _user(user),
        "api_app_id": origin.api_app_id,
        "token": origin.token,
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel["id"],
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": trigger_id,
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": channel,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    if not is_ephemeral:
        # Slack leaves the message out for ephemeral ones: the app never stored them.
        payload["message"] = message
    return payload


def view_submission(
    origin: Origin, *, user: dict[str, Any], view: dict[str, Any], trigger_id: str
) -> dict[str, Any]:
    """A modal's Submit; `view` carries the answers in state.values."""
    return {
        "type": "view_submission",
        "team": _team(origin),
        "user": _user(user),
        "api_app_id": origin.api_app_id,
        "token": origin.token,
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "enterprise": None,
        "is_enterprise_install": False,
    }


def view_closed(origin: Origin, *, user: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
    """A modal's Cancel, sent only for views with notify_on_close."""
    return {
        "type": "view_closed",
        "team": _team(origin),
        "user": _user(user),
        "api_app_id": origin.api_app_id,
        "token": origin.token,
        "view": view,
        "is_cleared": False,
        "enterprise": None,
        "is_enterprise_install": False,
    }


def field_name(block_index: int) -> str:
    """The page's form field for the input block at `block_index` of a view."""
    return f"field-{block_index}"


def options_of(element: dict[str, Any]) -> list[dict[str, Any]]:
    """A static select's options, those in option_groups included, in order."""
    options = [o for o in element.get("options") or [] if isinstance(o, dict)]
    for group in element.get("option_groups") or []:
        if isinstance(group, dict):
            options += [o for o in group.get("options") or [] if isinstance(o, dict)]
    return options


def state_values(
    view: dict[str, Any], form: dict[str, str]
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """(state.values, errors by block_id) from the page's form for `view`.

    Like Slack's client, a required input left empty is refused before anything is sent.
    """
    values: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for index, block in enumerate(view.get("blocks") or []):
        if not isinstance(block, dict) or block.get("type") != "input":
            continue
        element = block.get("element")
        if not isinstance(element, dict):
            continue
        kind = element.get("type")
        block_id = str(block.get("block_id") or stable_id(view["id"], str(index)))
        action_id = str(element.get("action_id") or stable_id(block_id, str(kind)))
        raw = form.get(field_name(index), "")
        answer: dict[str, Any]
        if kind == "plain_text_input":
            # Browsers send textarea lines as CRLF; Slack sends "\n".
            text = raw.replace("\r\n", "\n")
            answer = {"type": kind, "value": text or None}
            filled = bool(text.strip())
        elif kind == "static_select":
            options = options_of(element)
            chosen = options[int(raw)] if raw.isdigit() and int(raw) < len(options) else None
            answer = {"type": kind, "selected_option": chosen}
            filled = chosen is not None
        else:
            continue  # not drawn by the page, so nothing to report
        values.setdefault(block_id, {})[action_id] = answer
        if not filled and not block.get("optional"):
            errors[block_id] = REQUIRED
    return values, errors
