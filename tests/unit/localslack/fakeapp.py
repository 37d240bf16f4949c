"""A stand-in for the app the page talks to: an httpx transport that checks Slack's signature
on every request, records it, and answers with whatever the test says."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from slack_sdk.signature import SignatureVerifier

APP_URL = "http://firebreak.test/slack/events"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"

Answer = Callable[[dict[str, Any]], httpx.Response]


@dataclass
class Received:
    request: httpx.Request
    form: dict[str, str]

    @property
    def payload(self) -> dict[str, Any]:
        """An interaction's JSON payload."""
        parsed = json.loads(self.form["payload"])
        assert isinstance(parsed, dict)
        return parsed


@dataclass
class FakeApp:
    """`answer` gets the form (or the parsed payload) and returns the ack."""

    answer: Answer = lambda _: httpx.Response(200)
    received: list[Received] = field(default_factory=list)
    verifier: SignatureVerifier = field(default_factory=lambda: SignatureVerifier(SECRET))

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        # Checked with slack_sdk's own verifier, not with the code under test.
        assert self.verifier.is_valid(
            body=body,
            timestamp=request.headers["X-Slack-Request-Timestamp"],
            signature=request.headers["X-Slack-Signature"],
        ), "bad Slack signature"
        assert abs(int(request.headers["X-Slack-Request-Timestamp"]) - time.time()) < 60
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        self.received.append(Received(request, form))
        return self.answer(json.loads(form["payload"]) if "payload" in form else form)

    @property
    def last(self) -> Received:
        assert self.received, "the app received nothing"
        return self.received[-1]


def reply(body: dict[str, Any] | None = None, status: int = 200) -> Answer:
    """An answer that is always the same JSON body (or empty)."""
    if body is None:
        return lambda _: httpx.Response(status)
    return lambda _: httpx.Response(status, json=body)
