"""The webhook receivers: `/webhooks/{source}` (alerts) and `/webhooks/changes`.

A notification is answered once recorded; what it changed is announced as domain events, whose
chat follow-ups run in the background (bot.followups)."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from bot.alerts.schemas import AlertBatch, Ignored, Notification, SourceNote, SubscriptionRequest
from bot.alerts.sources.errors import BadSignature, Unreadable
from bot.alerts.sources.receiver import Receiver
from bot.changes import flows as change_flows
from bot.changes.schemas import ChangeEvent, ChangeOut
from bot.http.bodies import authenticate, parse_json, read_json_body
from bot.http.errors import Problem, is_outage
from bot.incidents import intake
from bot.incidents.intake import Intake
from bot.metrics import Metrics
from bot.refs import format_ref
from bot.slack.deps import Deps
from bot.validation import describe

SUBSCRIBE_TIMEOUT_S = 10.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookChecks:
    """What a webhook must prove: the bearer token (unless its sender signs instead)."""

    token: str | None = field(default=None, repr=False)
    max_alerts: int = 1000  # alerts one notification may carry (413 above)


WebhookHandler = Callable[[Request], Awaitable[JSONResponse]]


def webhook_router(
    *, deps: Deps, checks: WebhookChecks, max_body: int, alerts: WebhookHandler
) -> APIRouter:
    """Who may call: senders with the webhook bearer token (FIREBREAK_WEBHOOK_TOKEN, also as
    the basic-auth password), or, for a config source with a `signature`, a body signed with
    its secret; a receiver with a secret (Grafana, PagerDuty) also checks its signature.
    `alerts`: the alert sources' handler (`alert_webhook`), also served ahead of the routes
    (bot.http.direct)."""
    router = APIRouter()

    @router.post("/webhooks/changes")
    async def receive_change(request: Request) -> JSONResponse:
        """A deploy, promotion, config change…: recorded once per event id."""
        authenticate(request, checks.token)
        body = parse_json(await read_json_body(request, max_body))
        try:
            event = ChangeEvent.model_validate(body)
        except ValidationError as exc:
            raise Problem(422, "invalid_change", "not a valid change event", describe(exc)) from exc
        received = await change_flows.receive(deps.ctx, event=event)
        return JSONResponse(
            ChangeOut.of(received.change).model_dump(mode="json"),
            status_code=201 if received.created else 200,
        )

    router.add_api_route("/webhooks/{source}", alerts, methods=["POST"])
    return router


def alert_webhook(
    *,
    deps: Deps,
    metrics: Metrics,
    checks: WebhookChecks,
    max_body: int,
    receivers: Mapping[str, Receiver],
    outbound: httpx.AsyncClient,
    intake_here: Intake,
) -> WebhookHandler:
    """`POST /webhooks/{source}`: a notification from one of the alert `receivers`."""
    lately = ParsedLately()

    async def receive_webhook(request: Request) -> JSONResponse:
        # The request alone in, a response out: FastAPI then solves no parameters and
        # serialises no return value, a tenth of a repeat's CPU (in process, 120 → 108 µs).
        source: str = request.path_params["source"]
        receiver = receivers.get(source)
        # Only known sources become label values: a scanner must not mint new series.
        with _measured(metrics, source if receiver else "unknown"):
            if receiver is None:
                raise Problem(
                    404,
                    "unknown_source",
                    f"no webhook receiver for {source!r}; "
                    f"use one of: {', '.join(sorted(receivers))}",
                )
            if receiver.bearer:
                authenticate(request, checks.token, basic=True)
            raw = await read_json_body(request, max_body, text=receiver.text_bodies)
            if receiver.verify is not None:
                try:
                    receiver.verify(request.headers, raw, time.time())
                except BadSignature as exc:
                    raise Problem(401, "bad_signature", str(exc)) from exc
            notification = lately.get(source, raw) if receiver.pure else None
            if notification is None:
                body = parse_json(raw)
                # Counted before validating: 7,000 alerts are refused, no model built.
                listed = body.get("alerts") if isinstance(body, dict) else None
                _bounded(len(listed) if isinstance(listed, list) else 0, checks.max_alerts)
                notification = _parsed(receiver, source, body)
                if receiver.pure:
                    lately.keep(source, raw, notification)
            match notification:
                case AlertBatch():
                    _bounded(len(notification.alerts), checks.max_alerts)
                    # The process's own intake: repeats from memory, changes by group commit.
                    result = await intake_here.receive(notification)
                    return _answer(
                        result.incident_id,
                        opened=result.opened,
                        firing=result.firing,
                        resolved=result.resolved,
                        ignored=result.ignored,
                    )
                case SourceNote():
                    noted = await intake.note(ctx=deps.ctx, note=notification)
                    return _answer(noted.incident_id, noted=noted.added)
                case Ignored():
                    return _answer(None, reason=notification.reason)
                case SubscriptionRequest():
                    return await _subscription(notification, receiver, outbound)

    return receive_webhook


class ParsedLately:
    """What the last `most` distinct bodies sent to pure receivers (Receiver.pure) said, by
    source and raw body: a storm is mostly Alertmanager re-sending a group's unchanged state,
    and decoding and validating it again was a third of what a repeat cost beyond the HTTP
    stack. The notifications kept are frozen dataclasses, shared by the requests that send
    the same bytes; bodies over `largest` bytes are not kept, so the memory is bounded."""

    def __init__(self, *, most: int = 512, largest: int = 16_384) -> None:
        self._most, self._largest = most, largest
        self._kept: OrderedDict[tuple[str, bytes], Notification] = OrderedDict()

    def get(self, source: str, raw: bytes) -> Notification | None:
        found = self._kept.get((source, raw))
        if found is not None:
            self._kept.move_to_end((source, raw))
        return found

    def keep(self, source: str, raw: bytes, notification: Notification) -> None:
        if len(raw) <= self._largest:
            self._kept[(source, raw)] = notification
            if len(self._kept) > self._most:
                self._kept.popitem(last=False)


def _parsed(receiver: Receiver, source: str, body: Any) -> Notification:
    try:
        return receiver.parse(body)
    except ValidationError as exc:
        raise Problem(
            422, "invalid_notification", f"not a valid {source} notification", describe(exc)
        ) from exc
    except Unreadable as exc:
        raise Problem(
            422,
            "invalid_notification",
            f"sources.{source}.{exc.field}: {exc.reason} (expression {exc.expression!r})",
            [{"field": exc.field, "message": exc.reason, "expression": exc.expression}],
        ) from exc


def _answer(incident_id: int | None, **outcome: Any) -> JSONResponse:
    """One answer shape for every sender: the incident (if any) and what changed."""
    base: dict[str, Any] = {"opened": False, "firing": 0, "resolved": 0, "ignored": 0}
    incident = format_ref(incident_id) if incident_id else None
    return JSONResponse({"incident": incident, **base, **outcome})


async def _subscription(
    request: SubscriptionRequest, receiver: Receiver, outbound: httpx.AsyncClient
) -> JSONResponse:
    """Amazon SNS's handshake: a person confirms by opening the URL logged here, unless the
    source says to confirm at once (anyone who can post here could subscribe it to a topic)."""
    # %r: the topic and URL come from the body, so they are shown quoted, on one line.
    log.warning(
        "Amazon SNS asks %s to confirm a subscription to %r: open %r to confirm it",
        request.source,
        request.topic,
        request.subscribe_url,
    )
    if not receiver.confirm_subscription:
        return _answer(None, subscription="logged", topic=request.topic)
    try:
        response = await outbound.get(request.subscribe_url, timeout=SUBSCRIBE_TIMEOUT_S)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise Problem(
            502, "subscription_failed", f"confirming the subscription failed: {exc!r}"
        ) from exc
    log.info("confirmed the SNS subscription of %s to %r", request.source, request.topic)
    return _answer(None, subscription="confirmed", topic=request.topic)


def _bounded(alerts: int, most: int) -> None:
    if alerts > most:
        raise Problem(
            413,
            "too_many_alerts",
            f"the notification carries {alerts} alerts; {most} at most "
            "(FIREBREAK_MAX_ALERTS; Alertmanager's webhook_configs max_alerts truncates them)",
        )


@contextmanager
def _measured(metrics: Metrics, source: str) -> Iterator[None]:
    """Count and time one webhook request: accepted, rejected (4xx, with its error code as the
    reason) or error (5xx: the store unavailable, or a bug)."""
    started = time.perf_counter()
    outcome, reason = "error", "exception"
    try:
        yield
        outcome, reason = "accepted", ""
    except Problem as exc:
        outcome, reason = ("rejected" if exc.status < 500 else "error"), exc.error
        raise
    except DBAPIError as exc:
        if is_outage(exc):  # answered 503 (bot.http.errors), as a store outage
            reason = "unavailable"
        raise
    finally:
        metrics.observe_webhook(
            source=source, outcome=outcome, reason=reason, seconds=time.perf_counter() - started
        )
