"""The JSON API under /api, and `ApiAccess`: who may call it (and /metrics, /readyz's detail)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from bot.changes import service as changes_service
from bot.changes.schemas import FreezeOut
from bot.http.bodies import authenticate
from bot.http.errors import Problem
from bot.incidents import service
from bot.incidents.errors import NotFound
from bot.incidents.schemas import IncidentDetail, IncidentSummary
from bot.playbooks.runs import of_incident as runs_of
from bot.postmortem import flows as postmortem
from bot.refs import parse_ref
from bot.slack.deps import Deps

# GET /api/incidents/{ref}: timeline entries per answer unless asked (timeline_limit), and most.
TIMELINE_PAGE = 200
TIMELINE_PAGE_MAX = 1000
# Postmortems and incident details read and render whole timelines: this many at once, the
# rest wait their turn. The rendering runs in threads, but reading 10,000 rows is still work on
# the event loop, and ten such threads at once starve it of the GIL: measured with ten
# parallel postmortems of 10,000 entries, the slowest /healthz meanwhile went from ~3.5 s to
# ~0.5 s (issue 14 measured ~7 s with the rendering on the loop).
RENDER_AT_ONCE = 2


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
            authenticate(request, self.token, realm=API_REALM)
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
        return [IncidentSummary.of(incident, n.total, n.firing) for incident, n in rows]

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
                runs = await runs_of(session=session, incident_id=number) if incident else None
            if incident is None:
                raise Problem(404, "not_found", f"no incident INC-{number}")
            # Building and encoding a long timeline is CPU work: off the event loop, so health
            # checks and Slack's acks do not wait behind it.
            body = await asyncio.to_thread(
                _incident_page,
                incident,
                runs[0] if runs else [],
                offset=timeline_offset,
                limit=timeline_limit,
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


def _incident_page(incident: Any, runs: list[Any], *, offset: int, limit: int) -> bytes:
    detail = IncidentDetail.full(incident, runs)
    page = IncidentPage(
        **{**detail.__dict__, "timeline": detail.timeline[offset : offset + limit]},
        timeline_total=len(detail.timeline),
        timeline_offset=offset,
        timeline_limit=limit,
    )
    return page.model_dump_json().encode()
