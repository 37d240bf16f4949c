"""Slack's endpoint, /slack/events: the body bounded, verified and readable before Bolt has it."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler

from bot.http.bodies import read_body
from bot.http.errors import Problem
from bot.slack.replay import SignedRequests, Verdict

log = logging.getLogger(__name__)


def slack_router(
    handler: AsyncSlackRequestHandler, *, max_body: int, signed: SignedRequests
) -> APIRouter:
    """`signed`: verifies each request as Bolt does, and refuses one already taken."""
    router = APIRouter()

    @router.post("/slack/events")
    async def slack_events(request: Request) -> Any:
        # Bolt reads the body whole and decodes it as UTF-8: bound it and check it first.
        raw = await read_body(request, max_body)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Problem(400, "invalid_body", "the body is not UTF-8 text") from exc
        verdict = signed.check(request.headers, raw)
        if verdict is Verdict.INVALID:
            return JSONResponse({"error": "invalid request"}, status_code=401)  # as Bolt says
        if verdict is Verdict.REPLAYED:
            raise Problem(
                401,
                "replayed",
                "this signed request was taken already (the same X-Slack-Request-Timestamp "
                "and X-Slack-Signature): each is taken once",
            )
        _readable_json(text, request.headers.get("content-type", ""))
        try:
            response = await handler.handle(request)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            # Raised while Bolt reads the request: a body of a shape Slack never sends.
            log.warning("unreadable Slack request: %s", type(exc).__name__)
            raise Problem(400, "invalid_body", "not a request Slack sends") from exc
        if response.status_code >= 500:
            # Listeners run after their ack, so a 5xx here is Bolt failing to match a
            # malformed (yet signed) payload to a listener; it has logged why.
            raise Problem(400, "invalid_body", "not a request Firebreak can handle")
        return response

    return router


def _readable_json(text: str, content_type: str) -> None:
    """The JSON a Slack request carries (an Events API body, or interactivity's `payload`
    field) reads as JSON; else a 400 naming why, rather than Bolt's failure to parse it."""
    if content_type.split(";")[0].strip().lower() == "application/json":
        where, carried = "the body", text
    else:
        payload = parse_qs(text).get("payload")
        if not payload:
            return
        where, carried = "the payload field", payload[0]
    try:
        json.loads(carried)
    except RecursionError as exc:
        raise Problem(400, "invalid_json", f"{where} is nested too deeply") from exc
    except ValueError as exc:
        raise Problem(400, "invalid_json", f"{where} is not valid JSON: {exc}") from exc
