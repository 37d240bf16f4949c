"""The webhook receivers: `/webhooks/{source}` (alerts) and `/webhooks/changes`.

A notification is answered once recorded; what it changed is announced as domain events, whose
chat follow-ups run in the background (bot.followups)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from bot.alerts.sources import grafana
from bot.alerts.sources.registry import PARSERS
from bot.changes import flows as change_flows
from bot.changes.schemas import ChangeEvent, ChangeOut
from bot.http.bodies import authenticate, parse_json, read_json_body
from bot.http.errors import Problem
from bot.incidents import intake
from bot.metrics import Metrics
from bot.slack.deps import Deps
from bot.validation import describe

# Notifications recorded at once; the rest wait their turn before touching the store. In a
# storm, 32 intakes at once left the event loop little time for the chat set-ups: measured
# with bench.storm, 8 at a time brought announcements from ~10 s to ~3 s behind their alert
# for ~10% fewer notifications a second (docs/benchmarks.md).
INTAKE_AT_ONCE = 8


@dataclass(frozen=True)
class WebhookChecks:
    """What a webhook must prove: the bearer token, and Grafana's HMAC signature (when set)."""

    token: str | None = field(default=None, repr=False)
    grafana_secret: str | None = field(default=None, repr=False)
    max_alerts: int = 1000  # alerts one notification may carry (413 above)


def webhook_router(
    *, deps: Deps, metrics: Metrics, checks: WebhookChecks, max_body: int
) -> APIRouter:
    router = APIRouter()
    intake_turns = asyncio.Semaphore(INTAKE_AT_ONCE)

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

    @router.post("/webhooks/{source}")
    async def receive_webhook(source: str, request: Request) -> dict[str, Any]:
        parse = PARSERS.get(source)
        # Only known sources become label values: a scanner must not mint new series.
        with _measured(metrics, source if parse else "unknown"):
            if parse is None:
                raise Problem(
                    404,
                    "unknown_source",
                    f"no webhook receiver for {source!r}; use one of: {', '.join(sorted(PARSERS))}",
                )
            authenticate(request, checks.token)
            raw = await read_json_body(request, max_body)
            if source == grafana.SOURCE and checks.grafana_secret:
                try:
                    grafana.check_signature(
                        request.headers, raw, checks.grafana_secret, now=time.time()
                    )
                except grafana.BadSignature as exc:
                    raise Problem(401, "bad_signature", str(exc)) from exc
            body = parse_json(raw)
            # Counted before validating: 7,000 alerts are refused without building 7,000 models.
            listed = body.get("alerts") if isinstance(body, dict) else None
            _bounded(len(listed) if isinstance(listed, list) else 0, checks.max_alerts)
            try:
                batch = parse(body)
            except ValidationError as exc:
                raise Problem(
                    422, "invalid_notification", f"not a valid {source} notification", describe(exc)
                ) from exc
            _bounded(len(batch.alerts), checks.max_alerts)
            async with intake_turns:
                result = await intake.receive(ctx=deps.ctx, batch=batch)
            return {
                "incident": f"INC-{result.incident_id}" if result.incident_id else None,
                "opened": result.opened,
                "firing": result.firing,
                "resolved": result.resolved,
                "ignored": result.ignored,
            }

    return router


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
    except OperationalError:
        reason = "unavailable"
        raise
    finally:
        metrics.observe_webhook(
            source=source, outcome=outcome, reason=reason, seconds=time.perf_counter() - started
        )
