"""HTTP edge: webhook receivers, the JSON API, health, and Slack's endpoint (through Bolt)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import ValidationError
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.alerts import intake
from bot.alerts.sources import grafana
from bot.alerts.sources.registry import PARSERS
from bot.changes import flows as change_flows
from bot.changes import service as changes_service
from bot.changes.schemas import ChangeEvent, ChangeOut, FreezeOut
from bot.context import Context
from bot.incidents import flows, service
from bot.incidents.errors import NotFound
from bot.incidents.models import parse_ref
from bot.incidents.schemas import IncidentDetail, IncidentSummary
from bot.logs import incident_logs
from bot.metrics import CONTENT_TYPE, Metrics
from bot.postmortem import flows as postmortem
from bot.scheduler import ReminderScheduler
from bot.slack.deps import Deps
from bot.slack.outbox import Outbox
from bot.slack.replay import SignedRequests, Verdict
from bot.validation import describe, unstorable_text

log = logging.getLogger(__name__)

MAX_JSON_DEPTH = 32
# GET /api/incidents/{ref}: timeline entries per answer unless asked (timeline_limit), and most.
TIMELINE_PAGE = 200
TIMELINE_PAGE_MAX = 1000
# Postmortems and incident details read and render whole timelines: this many at once, the
# rest wait their turn. The rendering runs in threads, but reading 10,000 rows is still work on
# the event loop, and ten such threads at once starve it of the GIL: measured with ten
# parallel postmortems of 10,000 entries, the slowest /healthz meanwhile went from ~3.5 s to
# ~0.5 s (issue 14 measured ~7 s with the rendering on the loop).
RENDER_AT_ONCE = 2
# Notifications recorded at once; the rest wait their turn before touching the store. In a
# storm, 32 intakes at once left the event loop little time for the chat set-ups: measured
# with bench.storm, 8 at a time brought announcements from ~10 s to ~3 s behind their alert
# for ~10% fewer notifications a second (docs/benchmarks.md).
INTAKE_AT_ONCE = 8


class Problem(Exception):
    """An HTTP error answered as JSON: {"error": code, "message": text, "detail": [...]}."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        detail: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.detail = status, error, message, detail
        self.headers = headers


def problem_response(exc: Problem) -> JSONResponse:
    body: dict[str, Any] = {"error": exc.error, "message": exc.message}
    if exc.detail is not None:
        body["detail"] = exc.detail
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


def install_error_handlers(api: FastAPI) -> None:
    async def on_problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc)

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(
            Problem(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))
        )

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        detail = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        return problem_response(Problem(422, "invalid_request", "the request is not valid", detail))

    async def on_database(_: Request, exc: Exception) -> JSONResponse:
        # 503, not 500: Alertmanager retries 5xx, so the notification is delivered again later.
        log.error("database unavailable: %s", type(exc).__name__)
        return problem_response(
            Problem(
                503,
                "unavailable",
                "the incident store is unavailable; retry later",
                headers={"Retry-After": "5"},
            )
        )

    api.add_exception_handler(Problem, on_problem)
    api.add_exception_handler(OperationalError, on_database)
    api.add_exception_handler(StarletteHTTPException, on_http)
    api.add_exception_handler(RequestValidationError, on_validation)


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
        _authenticate(request, checks.token)
        body = _parse_json(await _read_json_body(request, max_body))
        try:
            event = ChangeEvent.model_validate(body)
        except ValidationError as exc:
            raise Problem(422, "invalid_change", "not a valid change event", describe(exc)) from exc
        received = await change_flows.receive(deps.ctx, event=event)
        if received.created:
            deps.background.spawn(
                change_flows.follow_up(deps.ctx, received), name=f"change-{event.id}"
            )
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
            _authenticate(request, checks.token)
            raw = await _read_json_body(request, max_body)
            if source == grafana.SOURCE and checks.grafana_secret:
                try:
                    grafana.check_signature(
                        request.headers, raw, checks.grafana_secret, now=time.time()
                    )
                except grafana.BadSignature as exc:
                    raise Problem(401, "bad_signature", str(exc)) from exc
            body = _parse_json(raw)
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
            _follow_up_in_chat(deps, result)
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


@dataclass(frozen=True)
class _FollowUp:
    """The chat work a notification leaves for one incident; merged with any already queued."""

    changed: bool  # alerts new or resolved; else a repeat, to finish a set-up cut short
    all_resolved: bool = False

    def merge(self, later: _FollowUp) -> _FollowUp:
        return _FollowUp(self.changed or later.changed, self.all_resolved or later.all_resolved)

    async def run(self, ctx: Context, incident_id: int) -> None:
        if self.changed:
            await flows.alerts_changed(
                ctx=ctx, incident_id=incident_id, all_resolved=self.all_resolved
            )
        else:
            await flows.open_in_chat(ctx=ctx, incident_id=incident_id)


def _follow_up_in_chat(deps: Deps, result: intake.IntakeResult) -> None:
    """Slack work runs after the webhook is answered, so a slow Slack never delays Alertmanager.

    One follow-up per incident at a time: it reads the incident afresh, so what a storm asks
    while one runs is merged into a single next run, not a queue of Slack calls per alert.
    """
    ctx = deps.ctx
    touched = result.all_resolved | ({result.incident_id} if result.incident_id else set())
    for incident_id in touched:
        if result.changed and not (result.opened and incident_id == result.incident_id):
            asked = _FollowUp(changed=True, all_resolved=incident_id in result.all_resolved)
        elif not result.chat_done:
            # A repeat also finishes a set-up that an earlier failure or restart cut short.
            asked = _FollowUp(changed=False)
        else:
            continue  # a repeat of an incident whose channel is set up: nothing to do

        async def work(asked: _FollowUp, incident_id: int = incident_id) -> None:
            await asked.run(ctx, incident_id)

        with incident_logs(incident_id):  # also on the task's failure, logged when it ends
            deps.background.spawn_merged(
                ("alerts", incident_id),
                work,
                asked,
                merge=_FollowUp.merge,
                name=f"INC-{incident_id}-alerts",
            )


@dataclass(frozen=True)
class ApiAccess:
    """Who may call /api/* (and /metrics, and see /readyz's detail).

    With a token: `Authorization: Bearer <token>`, compared in constant time. Without one, in
    local mode (`local_hosts` given: the embedded Slack stand-in, served on loopback only),
    whoever reaches a loopback Host; otherwise (a real Slack workspace) nobody: the API is
    closed rather than open to whoever reaches the port.
    """

    token: str | None = field(default=None, repr=False)
    local_hosts: frozenset[str] | None = None

    def check(self, request: Request) -> None:
        """Raises Problem 401 (or 403 for a non-loopback Host in local mode)."""
        if self.token:
            _authenticate(request, self.token, realm=API_REALM)
        elif self.local_hosts is None:
            raise Problem(
                401,
                "unauthorized",
                "FIREBREAK_API_TOKEN is not set: the API is closed; set it, and send "
                "Authorization: Bearer <token>",
                headers={"WWW-Authenticate": f'Bearer realm="{API_REALM}"'},
            )
        elif (request.headers.get("host") or "").lower() not in self.local_hosts:
            # A DNS-rebinding page reaches the loopback port under its own name.
            raise Problem(403, "forbidden_host", "in local mode the API answers on loopback only")

    def allows(self, request: Request) -> bool:
        try:
            self.check(request)
        except Problem:
            return False
        return True


API_REALM = "firebreak-api"


def _authenticate(
    request: Request, token: str | None, *, realm: str = "firebreak-webhooks"
) -> None:
    if not token:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # compare_digest: the time taken must not reveal how much of the token matched.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise Problem(
            401,
            "unauthorized",
            "missing or wrong bearer token",
            headers={"WWW-Authenticate": f'Bearer realm="{realm}"'},
        )


async def _read_json_body(request: Request, max_body: int) -> bytes:
    """The raw body, once its content type and size are acceptable (signatures cover raw bytes)."""
    content_type = (
        request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    )
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise Problem(
            415,
            "unsupported_media_type",
            f"send JSON with Content-Type: application/json, not {content_type!r}",
        )
    return await _read_body(request, max_body)


async def _read_body(request: Request, max_body: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_body:
        raise Problem(413, "body_too_large", f"the body has {declared} bytes; {max_body} at most")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > max_body:
            raise Problem(413, "body_too_large", f"the body is over {max_body} bytes")
    # Starlette keeps the body read here for whoever reads it next (Bolt's adapter).
    request._body = bytes(raw)
    return request._body


def _parse_json(raw: bytes) -> Any:
    try:
        body = json.loads(raw)
    except RecursionError as exc:
        raise Problem(400, "invalid_json", "the body is nested too deeply") from exc
    except ValueError as exc:
        # JSONDecodeError and UnicodeDecodeError are ValueErrors, and so is a number longer
        # than Python reads as an int (4,300 digits: sys.get_int_max_str_digits).
        raise Problem(400, "invalid_json", f"the body is not valid JSON: {exc}") from exc
    if _depth(body) > MAX_JSON_DEPTH:
        raise Problem(
            400, "invalid_json", f"the body is nested deeper than {MAX_JSON_DEPTH} levels"
        )
    if (where := unstorable_text(body)) is not None:
        raise Problem(
            400,
            "invalid_text",
            f"{where} holds a NUL character or a lone UTF-16 surrogate, which cannot be stored",
        )
    return body


def _depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [
            child
            for item in level
            for child in (
                item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
            )
        ]
    return depth - 1


def api_router(*, deps: Deps, access: ApiAccess) -> APIRouter:
    async def authorized(request: Request) -> None:
        access.check(request)

    # On the router: every route below, the catch-all included, answers 401 before anything.
    router = APIRouter(prefix="/api", dependencies=[Depends(authorized)])
    rendering = asyncio.Semaphore(RENDER_AT_ONCE)

    @router.get("/incidents", response_model=list[IncidentSummary])
    async def list_incidents(status: str | None = None, limit: int = 100) -> list[IncidentSummary]:
        if status not in (None, "open", "all"):
            raise Problem(422, "invalid_request", "status must be 'open' or 'all'")
        if not 1 <= limit <= 1000:
            raise Problem(422, "invalid_request", "limit must be between 1 and 1000")
        async with deps.ctx.reading() as session:
            rows = await service.list_with_alert_counts(
                session=session, open_only=status == "open", limit=limit
            )
        return [IncidentSummary.of(incident, count) for incident, count in rows]

    @router.get("/incidents/{ref}", response_model=IncidentPage)
    async def get_incident(
        ref: str, timeline_limit: int = TIMELINE_PAGE, timeline_offset: int = 0
    ) -> Response:
        """The incident, its alerts, and one page of its timeline (oldest first):
        `timeline_total` entries in all, from `timeline_offset`, `timeline_limit` at most."""
        if not 1 <= timeline_limit <= TIMELINE_PAGE_MAX:
            raise Problem(
                422, "invalid_request", f"timeline_limit must be between 1 and {TIMELINE_PAGE_MAX}"
            )
        if timeline_offset < 0:
            raise Problem(422, "invalid_request", "timeline_offset must be 0 or more")
        number = parse_ref(ref)
        if number is None:
            raise Problem(404, "not_found", f"{ref!r} is not an incident id like INC-7")
        async with rendering:
            async with deps.ctx.reading() as session:
                incident = await service.get(session=session, incident_id=number, full=True)
            if incident is None:
                raise Problem(404, "not_found", f"no incident INC-{number}")
            # Building and encoding a long timeline is CPU work: off the event loop, so health
            # checks and Slack's acks do not wait behind it.
            body = await asyncio.to_thread(
                _incident_page, incident, offset=timeline_offset, limit=timeline_limit
            )
        return Response(body, media_type="application/json")

    @router.get("/incidents/{ref}/postmortem", response_class=PlainTextResponse)
    async def get_postmortem(ref: str) -> PlainTextResponse:
        number = parse_ref(ref)
        if number is None:
            raise Problem(404, "not_found", f"{ref!r} is not an incident id like INC-7")
        try:
            async with rendering:
                text = await postmortem.draft(deps.ctx, incident_id=number)  # rendered in a thread
        except NotFound as exc:
            raise Problem(404, "not_found", str(exc)) from exc
        return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")

    @router.get("/freeze", response_model=None)
    async def deploy_gate(service: str | None = None) -> JSONResponse:
        """The deploy gate for CI/CD: 200 when the service may change, 423 while it is frozen."""
        if not service or len(service) > 200:
            raise Problem(422, "invalid_request", "give the service: /api/freeze?service=<name>")
        async with deps.ctx.reading() as session:
            freeze = await changes_service.active_freeze(session=session, service=service)
        if freeze is None:
            return JSONResponse({"service": service, "frozen": False})
        return JSONResponse(FreezeOut.of(freeze).model_dump(mode="json"), status_code=423)

    # Last: every route above wins over it.
    @router.api_route(
        "/{rest:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    async def unknown(rest: str) -> None:
        # Without this, /api/… paths that match nothing fall through to the stand-in's page.
        raise Problem(404, "not_found", "no such API endpoint; see GET /api/incidents")

    return router


class IncidentPage(IncidentDetail):
    timeline_total: int  # entries on the whole timeline
    timeline_offset: int
    timeline_limit: int


def _incident_page(incident: Any, *, offset: int, limit: int) -> bytes:
    detail = IncidentDetail.full(incident)
    page = IncidentPage(
        **{**detail.__dict__, "timeline": detail.timeline[offset : offset + limit]},
        timeline_total=len(detail.timeline),
        timeline_offset=offset,
        timeline_limit=limit,
    )
    return page.model_dump_json().encode()


def health_router(
    *,
    deps: Deps,
    outbox: Outbox,
    scheduler: ReminderScheduler,
    schema_head: str | None,
    access: ApiAccess | None = None,
) -> APIRouter:
    """`schema_head`: the newest migration this code ships (alembic's head), read at start.

    Both stay open (probes carry no token); /readyz says `status` and, when unready, `reason`
    to anyone, and its detail (schema, backlog, tasks, reminders) to a caller `access` lets
    through (`access` None: to anyone)."""
    router = APIRouter()

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        said = await _readiness(deps, outbox, scheduler, schema_head)
        if access is not None and not access.allows(request):
            said = {k: v for k, v in said.items() if k in ("status", "reason")}
        return JSONResponse(said, status_code=200 if said["status"] == "ok" else 503)

    return router


async def _readiness(
    deps: Deps, outbox: Outbox, scheduler: ReminderScheduler, schema_head: str | None
) -> dict[str, Any]:
    try:
        async with deps.ctx.reading() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("readiness check failed: database unreachable (%s)", type(exc).__name__)
        return _unready("the database is unreachable", database="unreachable")
    current = await _schema_versions(deps)
    if current != {schema_head}:
        have = ", ".join(sorted(current)) or "no schema"
        log.warning("readiness check failed: schema at %s, code needs %s", have, schema_head)
        return _unready(
            f"the database schema is at {have}, this Firebreak needs {schema_head}: "
            "run `firebreak migrate`",
            database="ok",
            schema=sorted(current),
            schema_head=schema_head,
        )
    backlog = await outbox.backlog()
    # A backlog means Slack is slow or away: the bot still takes alerts and commands, so it
    # stays ready, and says how far behind it is.
    return {
        "status": "ok",
        "database": "ok",
        "schema": schema_head,
        "background_tasks": deps.background.pending,
        "slack_outbox": backlog.as_dict(),
        # One replica runs the reminders; the others stand by to take over.
        "reminders": "owner" if scheduler.owner else "standby",
    }


async def _schema_versions(deps: Deps) -> set[str]:
    """The revisions in the database's alembic_version table; none when it has no such table."""
    try:
        async with deps.ctx.reading() as session:
            rows = await session.scalars(text("SELECT version_num FROM alembic_version"))
            return set(rows.all())
    except DBAPIError:
        return set()


def _unready(reason: str, **detail: Any) -> dict[str, Any]:
    return {"status": "unavailable", "reason": reason, **detail}


def metrics_router(
    *, deps: Deps, metrics: Metrics, outbox: Outbox, access: ApiAccess | None = None
) -> APIRouter:
    """`access`: who may scrape (None: anyone, FIREBREAK_METRICS_PUBLIC=true)."""
    router = APIRouter()

    @router.get("/metrics")
    async def scrape(request: Request) -> Response:
        if access is not None:
            access.check(request)
        # Open incidents are counted now, from the database, rather than kept up to date by
        # every flow that opens, resolves or reopens one: always right, and one cheap query
        # per scrape. Every process reports the same numbers (aggregate with max, not sum).
        try:
            async with deps.ctx.reading() as session:
                metrics.set_open_incidents(await service.open_by_severity(session=session))
            backlog = await outbox.backlog()
            metrics.set_outbox(
                pending=backlog.pending,
                oldest=backlog.oldest.total_seconds() if backlog.oldest else 0.0,
                failed=backlog.failed,
            )
        except DBAPIError as exc:
            log.warning("metrics: open incidents not counted: %s", type(exc).__name__)
            metrics.open_incidents.clear()  # no number rather than a stale one
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    return router


def bench_router() -> APIRouter:
    """POST /bench/noop: the baseline of `make bench` (FIREBREAK_BENCH_NOOP=1 only). It reads the
    body as the webhook does and answers, so the same server measures its own ceiling."""
    router = APIRouter()

    @router.post("/bench/noop")
    async def noop(request: Request) -> dict[str, bool]:
        await request.body()
        return {"ok": True}

    return router


def slack_router(
    handler: AsyncSlackRequestHandler, *, max_body: int, signed: SignedRequests
) -> APIRouter:
    """`signed`: verifies each request as Bolt does, and refuses one already taken."""
    router = APIRouter()

    @router.post("/slack/events")
    async def slack_events(request: Request) -> Any:
        # Bolt reads the body whole and decodes it as UTF-8: bound it and check it first.
        raw = await _read_body(request, max_body)
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
