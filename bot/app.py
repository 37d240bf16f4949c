"""Composition root: settings → engine → Slack client → chat adapter → Bolt → FastAPI.

Nothing here runs at import time; `build_app` wires a complete bot, so tests can build one
against a temporary database and a local Slack stand-in.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.alerts.sources.receiver import Receiver
from bot.alerts.sources.registry import receivers
from bot.alerts.sources.templated import SourceError
from bot.changes.registry import RegistryWatcher, Watched
from bot.config import FirebreakConfig, Settings, reveal
from bot.context import Context, utcnow
from bot.db.engine import PG_POOL_SIZE
from bot.db.migrate import head_revision
from bot.deploy.adapters.mlflow import MlflowRegistry
from bot.deploy.adapters.probe import HttpProbe
from bot.deploy.config import MlflowTargetConfig
from bot.deploy.history import DbAliasHistory
from bot.deploy.targets import ConfiguredTargets
from bot.drills import recovery
from bot.drills import report as drill_report
from bot.events import Bus
from bot.evidence.adapters.drawing import InProcess
from bot.followups.away import CHAT_PROCESS_COMMAND, Away
from bot.http.api import ApiAccess, api_router
from bot.http.direct import DirectPosts
from bot.http.errors import install_error_handlers
from bot.http.health import bench_router, health_router, metrics_router
from bot.http.slack import slack_router
from bot.http.webhooks import WebhookChecks, alert_webhook, webhook_router
from bot.incidents import model_card, nudges
from bot.incidents.events import InChat, IncidentResolved
from bot.incidents.intake import Intake
from bot.incidents.known import Known
from bot.localslack.access import PageAccess, new_key
from bot.localslack.api import API_PREFIX, build_api
from bot.localslack.page import build_page
from bot.localslack.state import Workspace
from bot.metrics import Metrics
from bot.playbooks.engine import Runner
from bot.playbooks.events import StepConfirmed
from bot.playbooks.loader import load_library
from bot.playbooks.runs import PlaybookRun
from bot.postmortem import flows as postmortem_flows
from bot.sample_alerts import SampleAlerts
from bot.scheduler import ReminderScheduler
from bot.slack.bolt import build_bolt
from bot.slack.deps import AppContext, Deps
from bot.slack.directory import NamingSlackChat, SlackDirectory
from bot.slack.metered import keep_alive
from bot.slack.outbox import Outbox
from bot.slack.replay import SignedRequests
from bot.slack.socket_mode import SocketModeLink
from bot.tasks import Background
from bot.wiring import (
    REMINDERS_PLANNED,
    RESUME_DELAY_S,
    SLACK_CONNECT_TIMEOUT_S,
    SLACK_TIMEOUT_S,
    resume_setups,
    subscribe_followups,
    wiring,
)

log = logging.getLogger(__name__)

# How often delivered Slack calls older than FIREBREAK_OUTBOX_RETENTION are deleted (and once
# at start); every replica does it, an idempotent DELETE.
PRUNE_EVERY_S = 3600.0


@dataclass(frozen=True)
class Runtime:
    """The wired bot, kept on app.state.firebreak for tests and operators."""

    settings: Settings
    engine: AsyncEngine
    outbound: httpx.AsyncClient
    deps: Deps
    outbox: Outbox
    metrics: Metrics
    scheduler: ReminderScheduler
    slack_api_url: str
    signing_secret: str = field(repr=False)
    workspace: Workspace | None  # the embedded Slack stand-in, when no bot token is set
    socket_mode: SocketModeLink | None
    api: ApiAccess = field(default_factory=ApiAccess, repr=False)  # /api/*, /metrics
    page: PageAccess | None = field(default=None, repr=False)  # the local page's hosts and key
    # Model registries read as a change feed (changes.registry_poll), by the scheduler's owner.
    registry_watcher: RegistryWatcher | None = field(default=None, repr=False)
    slack_clients: tuple[AsyncWebClient, ...] = ()  # their connections kept alive while serving
    drawer: InProcess | None = field(default=None, repr=False)  # the alert graphs' process
    away: Away | None = field(default=None, repr=False)  # the chat follow-ups' process


def subscribe_flows(bus: Bus, ctx: AppContext) -> None:
    """The domain's own reactions to its events, awaited by whoever publishes (the chat
    follow-ups of intake, which must not hold up a webhook, are bot.followups')."""
    bus.subscribe(IncidentResolved, partial(drill_report.on_resolved, ctx))
    bus.subscribe(IncidentResolved, partial(postmortem_flows.on_resolved, ctx))
    bus.subscribe(StepConfirmed, partial(recovery.on_step_confirmed, ctx))


# The chat process's CPU priority on SQLite, below the serving process's: in a storm the two
# want the same cores, and an alert's acknowledgement cannot wait where an announcement can for
# a moment. bench.storm runs, notifications/s and announcement p99 (its target: 2 s):
# niceness 0: 2,412 and 2,718/s, 0.7 and 1.2 s; 5: 3,075, 3,084, 3,394 and 2,934/s, 0.9,
# 1.2, 1.5 and 0.9 s; 10: 3,483, 3,482, 3,900 and 3,366/s, 1.1, 1.4, 2.3 and 1.5 s. On
# PostgreSQL its chat work costs about twice the CPU and its announcements already miss their
# target at 0 (3.0-4.0 s), so it keeps the serving process's priority.
CHAT_NICENESS_SQLITE = 5


class StartupError(Exception):
    """The bot cannot start with these settings; the message says what to change."""


def _receivers(
    settings: Settings, config: FirebreakConfig, clock: Callable[[], datetime]
) -> dict[str, Receiver]:
    try:
        return receivers(
            config=config,
            clock=clock,
            environ=os.environ,  # config sources name the variables holding their secrets
            grafana_secret=reveal(settings.grafana_secret),
            pagerduty_secret=reveal(settings.pagerduty_secret),
        )
    except SourceError as exc:
        raise StartupError(str(exc)) from exc


def build_app(
    settings: Settings,
    config: FirebreakConfig,
    *,
    self_url: str = "http://127.0.0.1:8080",
    clock: Callable[[], datetime] = utcnow,
    socket_mode: bool = False,
    chat_process: bool = False,
) -> FastAPI:
    """`socket_mode`: Slack's requests arrive over a WebSocket (SLACK_APP_TOKEN), not HTTP.
    `chat_process`: the chat follow-ups run in a process of their own, which reaches Slack, or
    the embedded stand-in, at its address: only for a server listening there."""
    workspace: Workspace | None = None
    bot_token = reveal(settings.slack_bot_token)
    given_secret = reveal(settings.slack_signing_secret)
    app_token = reveal(settings.slack_app_token)
    if socket_mode and not (bot_token and app_token):
        raise StartupError(
            "Socket Mode needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN (an app-level token, xapp-…, "
            "with the connections:write scope)"
        )
    if settings.embedded_slack:
        token = f"xoxb-local-{secrets.token_hex(12)}"
        workspace = seeded_workspace(config, token=token)
        slack_api_url = self_url.rstrip("/") + API_PREFIX + "/"
        signing_secret = given_secret or secrets.token_hex(16)
    else:
        if not given_secret and not socket_mode:
            raise StartupError(
                "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: Firebreak "
                "verifies every Slack request and needs the app's signing secret"
            )
        token = bot_token or ""
        slack_api_url = settings.slack_api_url
        # In Socket Mode nothing legitimate arrives at /slack/events: an unguessable secret
        # makes it refuse everything.
        signing_secret = given_secret or secrets.token_hex(16)

    metrics = Metrics()
    wired = wiring(
        database_url=settings.database_url,
        # A serving process and its chat process split a replica's PostgreSQL connections.
        pool_size=PG_POOL_SIZE // 2 if chat_process else PG_POOL_SIZE,
        token=token,
        base_url=slack_api_url,
        metrics=metrics,
        clock=clock,
    )
    engine, sessions, sqlite, rounds = wired.engine, wired.sessions, wired.sqlite, wired.rounds
    chat_writes, client, outbox_client = wired.writes, wired.client, wired.outbox_client
    outbox = wired.outbox
    background = Background()

    async def fire(incident_id: int, kind: str) -> None:
        await nudges.fire(ctx, incident_id=incident_id, kind=kind)

    scheduler = ReminderScheduler(
        engine=engine,
        fire=fire,
        clock=clock,
        owner_check=settings.scheduler_takeover_s,
        metrics=metrics,
        writes=chat_writes,
    )
    bus = Bus()
    ctx: AppContext = Context(
        sessions=sessions,
        config=config,
        chat=NamingSlackChat(client, outbox, directory=SlackDirectory(client, clock=clock)),
        reminders=scheduler,
        events=bus,
        clock=clock,
        writes=chat_writes,
    )
    subscribe_flows(bus, ctx)
    outbound = httpx.AsyncClient(timeout=SLACK_TIMEOUT_S)  # deployment APIs, probes, graphs
    away: Away | None = None
    drawer: InProcess | None = None
    if chat_process:  # the chat follow-ups in a process of their own (bot.followups.away)
        away = Away(
            command=[sys.executable, "-m", "bot", CHAT_PROCESS_COMMAND],
            hello={
                "token": token,
                "slack_api_url": slack_api_url,
                "embedded": "yes" if workspace is not None else "",
                "niceness": str(CHAT_NICENESS_SQLITE if sqlite else 0),
            },
            publish=bus.publish,
            counted=metrics.add,
            signals={REMINDERS_PLANNED: scheduler.wake},
        )
        away.subscribe(bus)
        metrics.watch_process("chat", pid=lambda: away.pid)
    else:
        drawer = subscribe_followups(
            bus, ctx=ctx, background=background, settings=settings, outbound=outbound
        )
    known = Known()  # what intake remembers, so a storm's repeats never reach the store
    bus.subscribe(IncidentResolved, known.on_resolved)
    bus.subscribe(InChat, known.on_in_chat)
    intake_here = Intake(ctx=ctx, known=known, rounds=rounds)
    library = load_library(settings.playbooks_dir)
    for problem in library.problems:
        log.error("playbook not loaded: %s", problem)
    runner = Runner(
        ctx=ctx,
        library=library,
        targets=ConfiguredTargets(
            config.deploy_specs(), outbound, history=DbAliasHistory(ctx.sessions, clock)
        ),
        probe=HttpProbe(outbound),
        meter=metrics,
    )
    model_card.subscribe(
        bus, ctx=ctx, targets=runner.targets, drills=runner.drills, background=background
    )
    deps = Deps(ctx=ctx, background=background, runner=runner, drills_dir=settings.drills_dir)
    bolt = build_bolt(client=client, signing_secret=signing_secret, deps=deps)
    link = SocketModeLink(bolt, app_token=app_token or "") if socket_mode else None
    # Local mode is served on loopback only (`firebreak serve` refuses any other address): the
    # page, and the API when no token is set, answer only requests to a loopback Host.
    page = (
        PageAccess.loopback(
            port=urlsplit(self_url).port or 80,
            key=reveal(settings.page_key) or new_key(),
            names=[urlsplit(self_url).hostname or "127.0.0.1"],
        )
        if workspace is not None
        else None
    )
    access = ApiAccess(
        token=reveal(settings.api_token), local_hosts=page.hosts if page is not None else None
    )
    runtime = Runtime(
        settings=settings,
        engine=engine,
        outbound=outbound,
        deps=deps,
        outbox=outbox,
        metrics=metrics,
        scheduler=scheduler,
        slack_api_url=slack_api_url,
        signing_secret=signing_secret,
        workspace=workspace,
        socket_mode=link,
        api=access,
        page=page,
        registry_watcher=registry_watcher(ctx, outbound, owner=lambda: scheduler.owner),
        slack_clients=(client, outbox_client),
        drawer=drawer,
        away=away,
    )

    docs = settings.api_docs  # FastAPI's /docs, /redoc, /openapi.json: only when asked for
    api = FastAPI(
        title="Firebreak",
        version="0.1.0",
        lifespan=_lifespan(runtime),
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    api.state.firebreak = runtime
    install_error_handlers(api)
    api.include_router(
        slack_router(
            AsyncSlackRequestHandler(bolt),
            max_body=settings.max_body_bytes,
            signed=SignedRequests(signing_secret),
        )
    )
    receivers_here = _receivers(settings, config, clock)
    checks = WebhookChecks(token=reveal(settings.webhook_token), max_alerts=settings.max_alerts)
    alerts = alert_webhook(
        deps=deps,
        checks=checks,
        metrics=metrics,
        max_body=settings.max_body_bytes,
        receivers=receivers_here,
        outbound=outbound,
        intake_here=intake_here,
    )
    api.include_router(
        webhook_router(deps=deps, checks=checks, max_body=settings.max_body_bytes, alerts=alerts)
    )
    # A storm's webhooks skip the routing (bot.http.direct says why and what they keep).
    api.add_middleware(DirectPosts, prefix="/webhooks/", handler=alerts, skip={"changes"})
    api.include_router(api_router(deps=deps, access=access))
    api.include_router(
        health_router(
            deps=deps,
            outbox=outbox,
            scheduler=scheduler,
            schema_head=head_revision(),
            access=access,
            chat_process=away,
        )
    )
    api.include_router(
        metrics_router(
            deps=deps,
            metrics=metrics,
            outbox=outbox,
            access=None if settings.metrics_public else access,
        )
    )
    if settings.bench_noop:
        api.include_router(bench_router())
    if workspace is not None and page is not None:
        # The stand-in sends the page's commands and clicks here, signed as Slack would.
        workspace.install_app(
            request_url=f"{self_url.rstrip('/')}/slack/events", signing_secret=signing_secret
        )
        api.mount(API_PREFIX, build_api(workspace))
        samples = SampleAlerts(
            config,
            webhooks_url=f"{self_url.rstrip('/')}/webhooks",
            receivers=receivers_here,
            token=reveal(settings.webhook_token),
            client=outbound,
            clock=clock,
        )
        # Last: the page answers everything else.
        api.mount("/", build_page(workspace, access=page, api_url=slack_api_url, alerts=samples))
    return api


def registry_watcher(
    ctx: AppContext, client: httpx.AsyncClient, *, owner: Callable[[], bool]
) -> RegistryWatcher:
    """The services deployed through MLflow whose aliases the change feed follows."""
    watched = [
        Watched(service=name, registry=MlflowRegistry(spec, client=client), aliases=tuple(aliases))
        for name, spec in ctx.config.deploy_specs().items()
        if isinstance(spec, MlflowTargetConfig) and (aliases := spec.watched_aliases)
    ]
    return RegistryWatcher(
        ctx=ctx, watched=watched, every=ctx.config.changes.registry_poll, owner=owner
    )


def seeded_workspace(config: FirebreakConfig, *, token: str) -> Workspace:
    """A stand-in workspace with everyone the config names as users, and the broadcast channel."""
    workspace = Workspace(tokens=[token])
    people = set(config.permissions.admins)
    for svc in config.services.values():
        people.update(svc.owners, svc.oncall.users if svc.oncall else ())
    for person in sorted(people):
        workspace.add_user(person, person.lower())
    if config.broadcast_channel and not config.broadcast_channel.startswith("C"):
        workspace.ensure_channel(config.broadcast_channel.lstrip("#"))
    return workspace


def _lifespan(runtime: Runtime) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        slack_pool = keep_alive(
            runtime.slack_clients, timeout=SLACK_TIMEOUT_S, connect=SLACK_CONNECT_TIMEOUT_S
        )
        await runtime.scheduler.start()
        if runtime.registry_watcher is not None:
            runtime.registry_watcher.start()  # after the scheduler: it polls while that owns
        runtime.outbox.start()  # delivers what an earlier run stored and did not send
        interrupted = await runtime.deps.runner.mark_interrupted()
        if runtime.socket_mode:
            runtime.socket_mode.start()
        if runtime.away is not None:
            await runtime.away.start()
        resume = asyncio.create_task(
            _resume_chat_setups(runtime.deps, interrupted, setups=runtime.away is None),
            name="resume-chat-setups",
        )
        prune = asyncio.create_task(
            _prune_outbox(runtime.outbox, keep=runtime.settings.outbox_retention),
            name="outbox-retention",
        )
        try:
            yield
        finally:
            # The sweep is redone at every start: stopping need not wait for it.
            resume.cancel()
            prune.cancel()
            if runtime.socket_mode:
                await runtime.socket_mode.stop()
            if runtime.registry_watcher is not None:
                await runtime.registry_watcher.stop()
            await runtime.scheduler.stop()
            if runtime.workspace is not None:
                # The embedded stand-in stopped with this server: nothing more reaches it.
                runtime.outbox.release_waiters()
            if runtime.away is not None:
                await runtime.away.stop()
            await runtime.deps.background.drain(timeout=10)
            await runtime.outbox.stop()  # what is left is sent by the next start
            await slack_pool.close()
            await runtime.outbound.aclose()
            if runtime.drawer is not None:
                await runtime.drawer.stop()
            await runtime.engine.dispose()

    return lifespan


async def _prune_outbox(outbox: Outbox, *, keep: timedelta) -> None:
    """Delivered Slack calls older than `keep` are deleted, now and every PRUNE_EVERY_S."""
    while True:
        try:
            pruned = await outbox.prune_sent(older_than=keep)
            if pruned:
                log.info("outbox: deleted %d delivered Slack calls older than %s", pruned, keep)
        except Exception:  # the database may be restarting: the next round tries again
            log.exception("outbox: delivered calls not pruned")
        await asyncio.sleep(PRUNE_EVERY_S)


async def _resume_chat_setups(
    deps: Deps, interrupted: list[PlaybookRun], *, setups: bool = True
) -> None:
    """Tell the channels of playbook runs that the last stop interrupted, and finish channel
    set-ups that a crash or a Slack outage cut short (`setups`: unless the chat process
    does)."""
    await asyncio.sleep(RESUME_DELAY_S)
    await deps.runner.announce_interrupted(interrupted)
    if setups:
        await resume_setups(deps.ctx, deps.background, delay=0)
