"""Probes and scrapes: /healthz, /readyz, /metrics, and the benchmark's /bench/noop."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.http.api import ApiAccess
from bot.incidents import service
from bot.metrics import CONTENT_TYPE, Metrics
from bot.scheduler import ReminderScheduler
from bot.slack.deps import Deps
from bot.slack.outbox import Outbox

log = logging.getLogger(__name__)


class ChatProcess(Protocol):
    """bot.followups.away.Away, as readiness reports it."""

    @property
    def running(self) -> bool: ...

    @property
    def pending(self) -> int: ...


def health_router(
    *,
    deps: Deps,
    outbox: Outbox,
    scheduler: ReminderScheduler,
    schema_head: str | None,
    access: ApiAccess | None = None,
    chat_process: ChatProcess | None = None,
) -> APIRouter:
    """`schema_head`: the newest migration this code ships (alembic's head), read at start.
    `chat_process`: where the chat follow-ups run, when not in this process.

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
        if chat_process is not None and said["status"] == "ok":
            said["chat_process"] = {
                "running": chat_process.running,
                "pending": chat_process.pending,
            }
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
