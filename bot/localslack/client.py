"""Sending what Slack sends to the installed app: signed form posts to its request URL, and
reading the ack that comes back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.localslack.installed import InstalledApp

FORM_TYPE = "application/x-www-form-urlencoded"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
# Slack gives up on an ack after 3 seconds and tells the person the app timed out.
ACK_TIMEOUT_S = 3.0
SHOWN_BODY_CHARS = 200


@dataclass(frozen=True)
class Reply:
    """The app's ack. `problem` says, for a person to read, why it is not a usable one."""

    status: int | None  # None: no HTTP answer at all
    body: dict[str, Any] | None = None  # a JSON object answer
    text: str = ""  # any other answer, as text
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


class AppClient:
    """Posts to the installed app. `transport` swaps the network out (tests)."""

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = ACK_TIMEOUT_S,
    ) -> None:
        self._transport = transport
        self._timeout = timeout

    async def slash_command(self, app: InstalledApp, fields: dict[str, str], what: str) -> Reply:
        return await self._post(app, urlencode(fields).encode(), what)

    async def interaction(self, app: InstalledApp, payload: dict[str, Any], what: str) -> Reply:
        """block_actions, view_submission and friends: one form field, `payload=<json>`."""
        body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)})
        return await self._post(app, body.encode(), what)

    async def _post(self, app: InstalledApp, body: bytes, what: str) -> Reply:
        headers = {**app.headers(body, FORM_TYPE), "User-Agent": USER_AGENT}
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=self._timeout) as http:
                response = await http.post(app.request_url, content=body, headers=headers)
        except httpx.TimeoutException:
            return Reply(
                status=None,
                problem=(
                    f"The app did not answer {what} within {self._timeout:g} s "
                    "(Slack would show the person a timeout error)."
                ),
            )
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            return Reply(
                status=None,
                problem=f"Could not reach the app at {app.request_url} for {what}: {reason}",
            )
        return _read(response, what)


def _read(response: httpx.Response, what: str) -> Reply:
    text = response.text
    if not response.is_success:
        detail = " ".join(text.split())[:SHOWN_BODY_CHARS]
        problem = f"The app answered {response.status_code} {response.reason_phrase} to {what}"
        return Reply(
            status=response.status_code,
            text=text,
            problem=f"{problem}: {detail}" if detail else f"{problem}.",
        )
    body: dict[str, Any] | None = None
    if text.strip() and "json" in response.headers.get("content-type", ""):
        try:
            parsed = json.loads(text)
        except ValueError:
            return Reply(
                status=response.status_code,
                text=text,
                problem=f"The app answered {what} with JSON Slack cannot read.",
            )
        body = parsed if isinstance(parsed, dict) else None
    return Reply(status=response.status_code, body=body, text="" if body is not None else text)
