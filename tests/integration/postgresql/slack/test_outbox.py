"""tests/unit/slack/test_outbox.py on PostgreSQL, and what holds on PostgreSQL only."""

import asyncio

from slack_sdk.web.async_client import AsyncWebClient

from bot.context import utcnow
from bot.db import locks
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from bot.slack.outbox.worker import Outbox
from tests.unit.slack.test_outbox import *  # noqa: F403
from tests.unit.slack.test_outbox import TOKEN, texts


async def test_on_postgresql_a_call_is_stored_while_another_queue_is_locked(
    sessions: object, slack: LocalSlackServer, ws: Workspace
) -> None:
    """Stores are not grouped on PostgreSQL: a call waiting for its queue's lock (another
    replica storing into that channel) holds up no call into another channel."""
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
