"""What the serving process and the chat process both build: a process's store and Slack
(`wiring`), its chat follow-ups, and the resumption of set-ups a stop cut short.

Apart from bot.app so that the chat process, which serves no HTTP, imports neither FastAPI nor
Bolt nor the migrations: 21 MB of its memory (110 -> 89 MB RSS once imported) and a second of
its start (3 -> 2 s), paid again at every restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import followups
from bot.config import Settings
from bot.context import Writes
from bot.db.engine import is_sqlite, make_engine, make_sessions
from bot.db.group_commit import Rounds, shared_writes
from bot.events import Bus
from bot.evidence.adapters.drawing import InProcess
from bot.evidence.adapters.prometheus import HttpEvidence
from bot.incidents import flows, service
from bot.metrics import Metrics
from bot.slack.deps import AppContext
from bot.slack.metered import MeteredRetry, MeteredWebClient
from bot.slack.outbox import Outbox
from bot.tasks import Background

log = logging.getLogger(__name__)

SLACK_TIMEOUT_S = 10
SLACK_CONNECT_TIMEOUT_S = 3  # a new connection to Slack (TCP, TLS) made in this, or tried again
# The embedded stand-in answers on this very server, which only listens once start-up is over.
RESUME_DELAY_S = 1.0
REMINDERS_PLANNED = "reminders-planned"  # the chat process's signal: look at the table now


@dataclass(frozen=True)
class Wiring:
    """A process's store and Slack, as the serving process and the chat process both build
    them: the engine, the writer SQLite's small writes share (None on PostgreSQL, whose writes
    go side by side), the Slack client for reads, and the outbox with the client it sends
    through."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    sqlite: bool
    rounds: Rounds | None  # the process's one writer (SQLite)
    writes: Writes | None  # its lane for the chat's set-up steps and the reminders' plans
    client: MeteredWebClient
    outbox_client: MeteredWebClient
    outbox: Outbox


def wiring(
    *,
    database_url: str,
    pool_size: int,
    token: str,
    base_url: str,
    metrics: Metrics,
    clock: Callable[[], datetime],
) -> Wiring:
    engine = make_engine(database_url, pool_size=pool_size)
    sessions = make_sessions(engine)
    sqlite = is_sqlite(database_url)
    # On SQLite one writer takes the small writes of intake, the outbox and the chat's set-up
    # steps into the same transactions: with a writer each, they queued behind each other for
    # SQLite's one write turn (bot.db.group_commit.Rounds).
    rounds = Rounds(sessions=sessions, name="writer") if sqlite else None
    writes = shared_writes(sessions, name="chat-writes", rounds=rounds) if rounds else None
    client = slack_client(token=token, base_url=base_url, metrics=metrics)
    # Writes get their own client without the SDK's retry handlers: the outbox retries them
    # (persisted, in order), and an SDK retry sleeping inside a call would hold up its queue.
    outbox_client = MeteredWebClient(
        metrics=metrics, token=token, base_url=base_url, timeout=SLACK_TIMEOUT_S, retry_handlers=[]
    )
    outbox = Outbox(
        sessions=sessions,
        client=outbox_client,
        clock=clock,
        stale_after=timedelta(seconds=SLACK_TIMEOUT_S + 5),
        on_retry=lambda method, why: metrics.slack_retries.labels(method, why).inc(),
        postgresql=not sqlite,
        rounds=rounds,
    )
    return Wiring(engine, sessions, sqlite, rounds, writes, client, outbox_client, outbox)


def slack_client(*, token: str, base_url: str, metrics: Metrics) -> MeteredWebClient:
    client = MeteredWebClient(
        metrics=metrics, token=token, base_url=base_url, timeout=SLACK_TIMEOUT_S
    )
    # Slack answers 429 with Retry-After; the SDK honours it only when asked to.
    client.retry_handlers = [
        MeteredRetry(handler, reason=reason, metrics=metrics)
        for handler, reason in (
            (AsyncConnectionErrorRetryHandler(max_retry_count=2), "connection_error"),
            (AsyncRateLimitErrorRetryHandler(max_retry_count=3), "ratelimited"),
            (AsyncServerErrorRetryHandler(max_retry_count=2), "server_error"),
        )
    ]
    return client


def subscribe_followups(
    bus: Bus,
    *,
    ctx: AppContext,
    background: Background,
    settings: Settings,
    outbound: httpx.AsyncClient,
) -> InProcess | None:
    """The chat follow-ups in this process; returns the graphs' drawing process, if any."""
    drawer = InProcess() if settings.graph_process else None  # None: drawn in a thread
    followups.subscribe(
        bus, ctx=ctx, background=background, evidence=HttpEvidence(outbound), drawer=drawer
    )
    return drawer


async def resume_setups(
    ctx: AppContext, background: Background, *, delay: float = RESUME_DELAY_S
) -> None:
    await asyncio.sleep(delay)
    async with ctx.reading() as session:
        waiting = await service.waiting_for_chat(
            session=session, broadcast=bool(ctx.config.broadcast_channel)
        )
    for incident_id in waiting:
        log.info("resuming chat set-up of INC-%s", incident_id)
        background.spawn(
            flows.open_in_chat(ctx=ctx, incident_id=incident_id), name=f"INC-{incident_id}-open"
        )
