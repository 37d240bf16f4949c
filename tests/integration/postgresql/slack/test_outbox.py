"""tests/unit/slack/test_outbox.py on PostgreSQL, and what holds on PostgreSQL only."""

import asyncio

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text

from bot.context import utcnow
from bot.db import locks
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from bot.slack.outbox.worker import Outbox
from tests.polling import eventually
from tests.unit.slack.test_outbox import *  # noqa: F403
from tests.unit.slack.test_outbox import TOKEN, texts


async def test_on_postgresql_a_call_is_stored_while_another_queue_is_locked(
    sessions: object, slack: LocalSlackServer, ws: Workspace
) -> None:
    """Stores are grouped on PostgreSQL, several groups at once: a call waiting for its queue's
    lock (another replica storing into that channel) holds up only the calls of its own group,
    not one asked once that group is under way, into another channel."""
    alpha, beta = ws.ensure_channel("alpha")["id"], ws.ensure_channel("beta")["id"]
    client = AsyncWebClient(token=TOKEN, base_url=slack.base_url, retry_handlers=[])
    box = Outbox(sessions=sessions, client=client, clock=utcnow, postgresql=True)  # type: ignore[arg-type]
    box.start()  # a running outbox takes the queue's lock as it stores a call
    try:
        async with sessions.begin() as other:  # type: ignore[attr-defined]
            await locks.hold_until_commit(session=other, key=alpha)
            waiting = asyncio.create_task(
                box.send(
                    "chat_postMessage",
                    queue=alpha,
                    args={"channel": alpha, "text": "a"},
                    wait=False,
                )
            )
            await eventually(lambda: _waiting_for_a_lock(sessions), what="alpha's group waits")
            await asyncio.wait_for(
                box.send(
                    "chat_postMessage", queue=beta, args={"channel": beta, "text": "b"}, wait=True
                ),
                10,
            )
            assert not waiting.done()  # it waited for alpha's lock meanwhile
        await asyncio.wait_for(waiting, 10)
        assert texts(ws, beta) == ["b"]
    finally:
        await box.stop()


async def _waiting_for_a_lock(sessions: object) -> bool:
    async with sessions() as session:  # type: ignore[operator]
        waiting = await session.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        )
    return bool(waiting)
