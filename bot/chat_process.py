"""Composition of the chat process (bot.followups.away), which `serve` starts as
`python -m bot chat-process`: the chat follow-ups of the events it sends down a pipe, with
their own store connections, Slack clients and outbox worker."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from datetime import datetime

import httpx

from bot.config import FirebreakConfig, Settings
from bot.context import Context, utcnow
from bot.db.engine import PG_POOL_SIZE
from bot.events import Bus
from bot.followups.away import stdio, take_events
from bot.followups.wire import encode_signal
from bot.metrics import Metrics, Tally
from bot.scheduler import ReminderScheduler
from bot.slack.deps import AppContext
from bot.slack.directory import NamingSlackChat, SlackDirectory
from bot.slack.metered import keep_alive
from bot.tasks import Background
from bot.wiring import (
    REMINDERS_PLANNED,
    SLACK_CONNECT_TIMEOUT_S,
    SLACK_TIMEOUT_S,
    resume_setups,
    subscribe_followups,
    wiring,
)


async def run_chat_process(
    settings: Settings, config: FirebreakConfig, *, clock: Callable[[], datetime] = utcnow
) -> None:
    """The chat process's life (bot.followups.away): the follow-ups of the events the serving
    process sends down its stdin, until it closes it."""
    inbox, outlet = await stdio()
    hello = json.loads(await inbox.readline())
    os.nice(int(hello["niceness"]))
    metrics = Metrics()
    wired = wiring(
        database_url=settings.database_url,
        pool_size=PG_POOL_SIZE // 2,  # see build_app
        token=hello["token"],
        base_url=hello["slack_api_url"],
        metrics=metrics,
        clock=clock,
    )
    engine, sessions, chat_writes = wired.engine, wired.sessions, wired.writes
    client, outbox_client, outbox = wired.client, wired.outbox_client, wired.outbox

    async def unused(_incident_id: int, _kind: str) -> None:
        raise AssertionError("reminders fire in the serving process")

    bus = Bus()
    ctx: AppContext = Context(
        sessions=sessions,
        config=config,
        chat=NamingSlackChat(client, outbox, directory=SlackDirectory(client, clock=clock)),
        # Plans only, stored for the serving process's scheduler (never started here), which
        # is told to look at the table at once.
        reminders=ReminderScheduler(
            engine=engine,
            fire=unused,
            clock=clock,
            metrics=metrics,
            writes=chat_writes,
            on_planned=lambda: outlet.write(encode_signal(REMINDERS_PLANNED)),
        ),
        events=bus,
        clock=clock,
        writes=chat_writes,
    )
    background = Background()
    outbound = httpx.AsyncClient(timeout=SLACK_TIMEOUT_S)
    drawer = subscribe_followups(
        bus, ctx=ctx, background=background, settings=settings, outbound=outbound
    )
    slack_pool = keep_alive(
        (client, outbox_client), timeout=SLACK_TIMEOUT_S, connect=SLACK_CONNECT_TIMEOUT_S
    )
    outbox.start()
    resume = asyncio.create_task(resume_setups(ctx, background), name="resume-chat-setups")
    try:
        await take_events(
            bus=bus,
            background=background,
            inbox=inbox,
            outlet=outlet,
            tally=Tally(metrics).since_last,  # shown on the serving process's /metrics
        )
    finally:
        resume.cancel()
        if hello.get("embedded"):
            # The embedded stand-in stopped with the serving process: nothing more reaches it.
            outbox.release_waiters()
        await background.drain(timeout=10)
        await outbox.stop()
        await slack_pool.close()
        await outbound.aclose()
        if drawer is not None:
            await drawer.stop()
        await engine.dispose()
