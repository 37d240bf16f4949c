"""A responder on the local Slack page, acting through the page's own forms, so the stand-in
signs every slash command and click exactly as it does for a person in a browser."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bot.demo.stack import DemoError


@dataclass(frozen=True)
class Button:
    """Where a button is: what the page's click form sends."""

    channel: str
    ts: str
    block: int
    element: str  # "accessory" or its index in an actions block


class Responder:
    def __init__(self, http: httpx.Client, *, user: str, page_key: str) -> None:
        self._http = http
        self.user = user
        # As a browser opens the link `firebreak serve` prints: the key becomes its cookie.
        opened = self._http.get("/", params={"key": page_key})
        if opened.status_code != 303:
            raise DemoError(f"the page answered {opened.status_code} to its key")
        self._post("/as", {"user": user})  # the page's "You are acting as"

    def type(self, channel: str, text: str) -> None:
        """Type `text` into the channel's composer and send it."""
        self._post("/compose", {"channel": channel, "text": text})

    def click(self, button: Button) -> None:
        self._post(
            "/click",
            {
                "channel": button.channel,
                "ts": button.ts,
                "block": str(button.block),
                "element": button.element,
            },
        )

    def find(self, channel: str, action_id: str) -> Button | None:
        """The newest button with `action_id` this responder sees in the channel."""
        for message in reversed(self._seen(channel)):
            for index, block in enumerate(message.get("blocks") or []):
                for element, candidate in _elements(block):
                    if candidate.get("action_id") == action_id:
                        return Button(channel, message["ts"], index, element)
        return None

    def shared(self, channel: str, ending: str) -> str | None:
        """The name of the newest file shared in the channel whose name ends with `ending`."""
        for message in reversed(self._seen(channel)):
            for file in message.get("files") or []:
                name = str(file.get("name") or "")
                if name.endswith(ending):
                    return name
        return None

    def said(self, channel: str, text: str) -> str | None:
        """The newest message in the channel with `text`."""
        said = (str(m.get("text") or "") for m in reversed(self._seen(channel)))
        return next((line for line in said if text in line), None)

    def reply_with(self, channel: str, text: str) -> str | None:
        """The newest message only this responder sees (an ephemeral answer) with `text`."""
        state = self._http.get("/state.json").json()
        mine = [m for m in state["ephemeral"].get(channel, []) if m["user"] == self.user]
        return next((m["text"] for m in reversed(mine) if text in m["text"]), None)

    def _seen(self, channel: str) -> list[dict[str, Any]]:
        state = self._http.get("/state.json").json()
        mine = [m for m in state["ephemeral"].get(channel, []) if m["user"] == self.user]
        shown: list[dict[str, Any]] = [*state["messages"].get(channel, []), *mine]
        return sorted(shown, key=lambda m: float(m["ts"]))

    def _post(self, path: str, form: dict[str, str]) -> None:
        response = self._http.post(path, data=form)
        if response.status_code != 303:  # the page answers every form with a redirect
            raise DemoError(f"the page answered {response.status_code} to {path}")


def _elements(block: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(block.get("accessory"), dict):
        found.append(("accessory", block["accessory"]))
    if block.get("type") == "actions":
        found += [
            (str(i), e) for i, e in enumerate(block.get("elements") or []) if isinstance(e, dict)
        ]
    return found
