"""The Slack outbox against the local Slack stand-in over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from itertools import pairwise

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.context import utcnow
from bot.db.engine import make_engine, make_sessions
from bot.incidents.ports import ChatError
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from bot.slack.outbox import Outbox, OutboxMessage
from bot.slack.outbox import worker as outbox_worker
from bot.slack.outbox.models import SENDING, SENT
from bot.slack.outbox.store import Ask, store_all
from tests.polling import eventually
from tests.statements import commits, statements

TOKEN = "xoxb-outbox-test-1"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox_worker, "BACKOFF_BASE_S", 0.05)
    monkeypatch.setattr(outbox_worker, "POLL_S", 0.05)


@pytest.fixture
def ws() -> Workspace:
    return Workspace(tokens=[TOKEN])


@pytest.fixture
def slack(ws: Workspace) -> Iterator[LocalSlackServer]:
    with LocalSlackServer(ws) as server:
        yield server


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[object]:
    engine = make_engine(db_url)
    yield make_sessions(engine)
    await engine.dispose()


def outbox(sessions: object, slack: LocalSlackServer) -> Outbox:
    client = AsyncWebClient(token=TOKEN, base_url=slack.base_url, retry_handlers=[])
    return Outbox(sessions=sessions, client=client, clock=utcnow)  # type: ignore[arg-type]


def texts(ws: Workspace, channel: str) -> list[str]:
    return [m["text"] for m in ws.messages(channel)]


async def deliveries_ended() -> None:
    """Every delivery an outbox started on this loop has ended: all its tasks but the test's
    (use where no worker runs, which never ends)."""
    started = asyncio.all_tasks() - {asyncio.current_task()}
    if started:
        _, running = await asyncio.wait(started, timeout=10)
        assert not running, f"deliveries still running after 10s: {running}"


async def test_a_rate_limited_channel_waits_retry_after_in_order_and_holds_up_no_other(
    ws: Workspace, slack: LocalSlackServer, sessions: object
) -> None:
    alpha, beta = ws.ensure_channel("alpha")["id"], ws.ensure_channel("beta")["id"]
    box = outbox(sessions, slack)
    box.start()
    try:
        ws.fail("chat.postMessage", status=429, retry_after=1, times=1)
        await box.send(
            "chat_postMessage", queue=alpha, args={"channel": alpha, "text": "a1"}, wait=False
        )
        await eventually(lambda: ws.calls_to("chat.postMessage"), what="a1's first try")
        for text in ("a2", "a3"):
            await box.send(
                "chat_postMessage", queue=alpha, args={"channel": alpha, "text": text}, wait=False
            )
        answer = await box.send(
            "chat_postMessage", queue=beta, args={"channel": beta, "text": "b1"}, wait=True
        )
        assert answer["ok"] and answer["channel"] == beta and answer["ts"]
        assert texts(ws, alpha) == []  # alpha is still waiting out its Retry-After
        await eventually(lambda: len(texts(ws, alpha)) == 3, what="alpha's three messages")
    finally:
        await box.stop()
    assert texts(ws, alpha) == ["a1", "a2", "a3"]
    calls = ws.calls_to("chat.postMessage")
    limited = next(c for c in calls if c.status == 429)
    resent = next(c for c in calls if c.status == 200 and c.args["text"] == "a1")
    assert resent.at - limited.at >= 1.0  # Retry-After: 1
    assert (await box.backlog()).pending == 0


async def test_server_errors_are_retried_with_backoff_and_delivered_once(
    ws: Workspace, slack: LocalSlackServer, sessions: object
) -> None:
    alpha = ws.ensure_channel("alpha")["id"]
    box = outbox(sessions, slack)
    box.start()
    try:
        ws.fail("chat.postMessage", status=500, times=3)
        answer = await box.send(
            "chat_postMessage", queue=alpha, args={"channel": alpha, "text": "once"}, wait=True
        )
    finally:
        await box.stop()
    assert texts(ws, alpha) == ["once"] and answer["ts"] == ws.messages(alpha)[0]["ts"]
    calls = ws.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [500, 500, 500, 200]
    gaps = [b.at - a.at for a, b in pairwise(calls)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2  # doubling backoff


async def test_a_refused_call_fails_alone_and_its_queue_goes_on(
    ws: Workspace, slack: LocalSlackServer, sessions: object
) -> None:
    alpha = ws.ensure_channel("alpha")["id"]
    box = outbox(sessions, slack)
    box.start()
    try:
        with pytest.raises(ChatError) as refused:
            await box.send(
                "chat_postMessage",
                queue=alpha,
                args={"channel": "C0NOSUCH", "text": "x"},
                wait=True,
            )
        assert refused.value.code == "channel_not_found"
        await box.send(
            "chat_postMessage", queue=alpha, args={"channel": alpha, "text": "next"}, wait=True
        )
    finally:
        await box.stop()
    assert texts(ws, alpha) == ["next"]
    backlog = await box.backlog()
    assert (backlog.pending, backlog.failed) == (0, 1)


async def test_inviting_someone_already_in_the_channel_is_delivered_not_failed(
    ws: Workspace, slack: LocalSlackServer, sessions: object
) -> None:
    """Slack answers `already_in_channel`; for Firebreak the invitee is in, as asked: nothing
    failed, so /readyz and the metrics count no failed call."""
    ana, ben = "U0ANA0001", "U0BEN0002"
    ws.add_user(ana, "ana")
    ws.add_user(ben, "ben")
    alpha = ws.ensure_channel("alpha", members=[ana, ben])["id"]
    box = outbox(sessions, slack)
    box.start()
    try:
        for users in (ana, f"{ana},{ben}"):
            answer = await box.send(
                "conversations_invite",
                queue=alpha,
                args={"channel": alpha, "users": users},
                wait=True,
            )
            assert answer["error"] == "already_in_channel"  # Slack's answer, for who asks
    finally:
        await box.stop()
    calls = ws.calls_to("conversations.invite")
    assert [c.response.get("error") for c in calls] == ["already_in_channel"] * 2
    backlog = await box.backlog()
    assert (backlog.pending, backlog.failed) == (0, 0)
    async with sessions() as session:  # type: ignore[operator]
        states = (await session.scalars(select(OutboxMessage.state))).all()
    assert states == [SENT, SENT]


async def test_an_invite_that_left_someone_out_still_fails(
    ws: Workspace, slack: LocalSlackServer, sessions: object
) -> None:
    """With several invitees, one already in fails the whole call: the others were not invited,
    so it fails, and the caller (bot.incidents.flows._invite) invites them one by one."""
    ana, ben = "U0ANA0001", "U0BEN0002"
    ws.add_user(ana, "ana")
    ws.add_user(ben, "ben")
    alpha = ws.ensure_channel("alpha", members=[ana])["id"]
    box = outbox(sessions, slack)
    box.start()
    try:
        with pytest.raises(ChatError) as refused:
            await box.send(
                "conversations_invite",
                queue=alpha,
                args={"channel": alpha, "users": f"{ben},{ana}"},
                wait=True,
            )
    finally:
        await box.stop()
    assert refused.value.code == "already_in_channel"
    assert (await box.backlog()).failed == 1


async def test_a_call_to_an_idle_queue_is_sent_by_its_caller_and_order_holds(
    ws: Workspace, slack: LocalSlackServer, sessions: object
) -> None:
    """Twenty calls to one channel at once, some waiting for their answer: the first finds
    its queue idle and goes out as it is stored (claimed then, not by a later worker pass);
    the rest queue behind it, and the channel reads in the order they were stored."""
    alpha = ws.ensure_channel("alpha")["id"]
    box = outbox(sessions, slack)
    box.start()
    try:
        answers = await asyncio.gather(
            *(
                box.send(
                    "chat_postMessage",
                    queue=alpha,
                    args={"channel": alpha, "text": f"m{i}"},
                    wait=i % 3 == 0,
                )
                for i in range(20)
            )
        )
        await eventually(lambda: len(texts(ws, alpha)) == 20, what="the twenty messages")
    finally:
        await box.stop()
    async with sessions() as session:  # type: ignore[operator]
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert texts(ws, alpha) == [json.loads(row.args)["text"] for row in rows]
    assert [(row.state, row.attempts) for row in rows] == [(SENT, 1)] * 20
    assert rows[0].claimed_at == rows[0].created_at  # sent by its caller, on storing
    shown = {m["text"]: m["ts"] for m in ws.messages(alpha)}
    assert all(answers[i]["ts"] == shown[f"m{i}"] for i in range(0, 20, 3))
    assert all(a == {} for i, a in enumerate(answers) if i % 3)


async def test_what_was_stored_is_delivered_after_a_restart(
    ws: Workspace, slack: LocalSlackServer, sessions: object
) -> None:
    alpha = ws.ensure_channel("alpha")["id"]
    gone = outbox(sessions, slack)  # a process that stored its writes and died before sending
    for text in ("first", "second", "third"):
        await gone.send(
            "chat_postMessage", queue=alpha, args={"channel": alpha, "text": text}, wait=False
        )
    # ...and one it had claimed and was sending when it was killed.
    async with sessions.begin() as session:  # type: ignore[attr-defined]
        row = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id).limit(1))
        row.state, row.claimed_at = SENDING, utcnow() - timedelta(minutes=5)
    backlog = await gone.backlog()
    assert backlog.pending == 3 and backlog.oldest is not None
    assert texts(ws, alpha) == []

    restarted = outbox(sessions, slack)
    restarted.start()
    try:
        await eventually(lambda: len(texts(ws, alpha)) == 3, what="the three stored messages")
    finally:
        await restarted.stop()
    assert texts(ws, alpha) == ["first", "second", "third"]
    async with sessions() as session:  # type: ignore[operator]
        states = list(await session.scalars(select(OutboxMessage.state)))
    assert states == [SENT, SENT, SENT]


async def test_a_fresh_claim_is_not_taken_over(
    ws: Workspace, slack: LocalSlackServer, sessions: object
) -> None:
    """A row another live process is sending holds its queue; nobody sends it twice."""
    alpha = ws.ensure_channel("alpha")["id"]
    box = outbox(sessions, slack)
    await box.send(
        "chat_postMessage", queue=alpha, args={"channel": alpha, "text": "busy"}, wait=False
    )
    async with sessions.begin() as session:  # type: ignore[attr-defined]
        row = await session.scalar(select(OutboxMessage))
        row.state, row.claimed_at = SENDING, utcnow()
    await box.send(
        "chat_postMessage", queue=alpha, args={"channel": alpha, "text": "later"}, wait=False
    )
    assert await box.deliver_due() > 0
    await deliveries_ended()  # whatever deliver_due started has had its go
    assert texts(ws, alpha) == []  # "later" waits behind the claimed head


async def test_two_processes_deliver_every_write_once_in_order(
    ws: Workspace, slack: LocalSlackServer, sessions: object
) -> None:
    channels = [ws.ensure_channel(name)["id"] for name in ("one", "two", "three")]
    first, second = outbox(sessions, slack), outbox(sessions, slack)
    first.start()
    second.start()
    try:
        for i in range(30):
            sender = first if i % 2 else second
            channel = channels[i % 3]
            args = {"channel": channel, "text": f"m{i}"}
            await sender.send("chat_postMessage", queue=channel, args=args, wait=False)
        await eventually(
            lambda: sum(len(ws.messages(c)) for c in channels) >= 30, what="the thirty messages"
        )

        async def all_sent() -> bool:
            return (await first.backlog()).pending == 0

        # Nothing is left to send, and stopping lets the calls still on the wire end: a second
        # delivery of any of them shows below.
        await eventually(all_sent, what="no call left in the outbox")
    finally:
        await first.stop()
        await second.stop()
    for n, channel in enumerate(channels):
        assert texts(ws, channel) == [f"m{i}" for i in range(30) if i % 3 == n]


async def test_callers_see_slacks_answer_even_when_another_process_delivers(
    ws: Workspace, slack: LocalSlackServer, sessions: object
) -> None:
    alpha = ws.ensure_channel("alpha")["id"]
    idle, worker = outbox(sessions, slack), outbox(sessions, slack)
    worker.start()  # the caller's own process delivers nothing
    try:
        answer = await idle.send(
            "chat_postMessage", queue=alpha, args={"channel": alpha, "text": "hi"}, wait=True
        )
    finally:
        await worker.stop()
    assert answer["ts"] == ws.messages(alpha)[0]["ts"]
    assert await idle.answered(queue=alpha, method="chat_postMessage") == answer
    async with sessions() as session:  # type: ignore[operator]
        stored = await session.scalar(select(OutboxMessage))
    assert stored is not None and json.loads(stored.args) == {"channel": alpha, "text": "hi"}
    assert stored.state == SENT and stored.attempts == 1


async def test_a_burst_of_updates_to_one_message_sends_the_last_state_once(
    ws: Workspace, slack: LocalSlackServer, sessions: object
) -> None:
    alpha = ws.ensure_channel("alpha")["id"]
    box = outbox(sessions, slack)
    posted = box.send(
        "chat_postMessage", queue=alpha, args={"channel": alpha, "text": "v0"}, wait=True
    )
    box.start()
    try:
        ts = (await posted)["ts"]
    finally:
        await box.stop()
    for n in range(1, 6):  # stored while no worker runs, as during a storm's backlog
        args = {"channel": alpha, "ts": ts, "text": f"v{n}"}
        await box.send("chat_update", queue=alpha, args=args, wait=False, replaces=f"update:{ts}")
    args = {"channel": alpha, "text": "after"}
    await box.send("chat_postMessage", queue=alpha, args=args, wait=False)
    assert (await box.backlog()).pending == 2
    box.start()
    try:
        await eventually(lambda: len(ws.messages(alpha)) == 2, what="v5 and the message after")
    finally:
        await box.stop()
    assert texts(ws, alpha) == ["v5", "after"]
    assert len(ws.calls_to("chat.update")) == 1


async def test_an_update_asking_what_the_message_shows_is_not_sent_again(
    ws: Workspace, slack: LocalSlackServer, sessions: object
) -> None:
    alpha = ws.ensure_channel("alpha")["id"]
    box = outbox(sessions, slack)
    box.start()
    try:
        posted = await box.send("chat_postMessage", queue=alpha, args=_text(alpha, "v0"), wait=True)
        ts = posted["ts"]

        async def update(text: str, at: str = ts) -> None:
            args = {**_text(alpha, text), "ts": at}
            await box.send("chat_update", queue=alpha, args=args, wait=False, replaces=f"u:{at}")

        await update("v1")
        await eventually(lambda: texts(ws, alpha) == ["v1"], what="v1 shown")
        await update("v1")  # what it shows: nothing to send
        await update("v2")
        await update("v2")  # what it will show once sent
        await eventually(lambda: texts(ws, alpha) == ["v2"], what="v2 shown")
        await update("v1")  # back to an earlier state: sent, it is not what the message shows
        await eventually(lambda: texts(ws, alpha) == ["v1"], what="v1 shown again")
        assert len(ws.calls_to("chat.update")) == 3

        # Slack refused the last call under a key (no such message): the same call is sent
        # again, not taken for done.
        async def answered() -> bool:
            return (await box.backlog()).pending == 0

        for _ in range(2):
            await update("v9", at="1.000001")
            await eventually(answered, what="the update to no message answered")
        assert (await box.backlog()).failed == 2
        assert len(ws.calls_to("chat.update")) == 5
    finally:
        await box.stop()


async def test_the_worker_looks_at_the_queues_only_when_a_drain_may_have_left_work(
    ws: Workspace, slack: LocalSlackServer, sessions: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_worker, "POLL_S", 60.0)  # no timed look: only when woken
    channels = [ws.ensure_channel(f"c{n}")["id"] for n in range(5)]
    box = outbox(sessions, slack)
    with statements() as started:
        box.start()
        await eventually(lambda: any("GROUP BY" in s for s in started), what="the first look")
    try:
        with statements() as said:
            for channel in channels:  # each to an idle queue: sent by its caller
                await box.send(
                    "chat_postMessage", queue=channel, args=_text(channel, "a"), wait=True
                )
        assert not [s for s in said if "GROUP BY" in s]  # the worker never looked
        # Calls stored behind a drain under way: it takes them, or the worker does when it ends.
        await asyncio.gather(
            *(
                box.send("chat_postMessage", queue=c, args=_text(c, f"b{i}"), wait=i == 9)
                for c in channels
                for i in range(10)
            )
        )
        for channel in channels:
            await eventually(lambda c=channel: len(texts(ws, c)) == 11, what="every call")
    finally:
        await box.stop()
    async with sessions() as session:  # type: ignore[operator]
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    for channel in channels:  # in the order stored
        stored = [json.loads(row.args)["text"] for row in rows if row.queue == channel]
        assert texts(ws, channel) == stored


def _text(channel: str, text: str) -> dict[str, str]:
    return {"channel": channel, "text": text}


async def test_a_delivery_claims_the_queue_s_next_call_without_reading_the_head_first(
    ws: Workspace, slack: LocalSlackServer, sessions: object
) -> None:
    """Each delivery's outcome and the claim of the next call go in one write, the claim one
    statement: five calls in one queue, delivered in one drain, read its head once (to
    start), not once more per call."""
    alpha = ws.ensure_channel("alpha")["id"]
    box = outbox(sessions, slack)  # not started: calls are stored, and sent on deliver_due
    for i in range(5):
        await box.send("chat_postMessage", queue=alpha, args=_text(alpha, f"m{i}"), wait=False)
    with statements() as said:
        await box.deliver_due()
        await deliveries_ended()
    assert texts(ws, alpha) == [f"m{i}" for i in range(5)]
    head_reads = [s for s in said if s.startswith(HEAD_READ)]
    assert len(head_reads) == 1, head_reads
    claims = [
        s for s in said if s.startswith("UPDATE slack_outbox SET state=") and "RETURNING" in s
    ]
    assert len(claims) == 6  # the first, and after each delivery (the last finds none)


HEAD_READ = "SELECT slack_outbox.id, slack_outbox.state, slack_outbox.not_before FROM slack_outbox"


async def test_calls_stored_at_once_share_one_transaction(
    ws: Workspace, slack: LocalSlackServer, sessions: object
) -> None:
    """A storm's flows store many calls at once: they go into one commit (bot.db.group_commit),
    each in its queue's order, and are all delivered."""
    channels = [ws.ensure_channel(f"c{i}")["id"] for i in range(6)]
    box = outbox(sessions, slack)  # not started: calls are stored, and sent on deliver_due
    with commits() as committed:
        await asyncio.gather(
            *(
                box.send("chat_postMessage", queue=c, args=_text(c, f"m{i}"), wait=False)
                for i in range(2)
                for c in channels
            )
        )
    assert len(committed) == 1
    await box.deliver_due()
    await deliveries_ended()
    assert [texts(ws, c) for c in channels] == [["m0", "m1"]] * len(channels)


async def test_a_call_is_stored_claimed_only_when_its_queue_is_idle(sessions: object) -> None:
    """Each call is one statement, which claims it (`sending`) when nothing of its queue is
    waiting or on the wire: queue "a" has a call pending from before, "b" has none; the
    group's first call into "b" makes "b" busy for its next. No read of a queue's head first."""
    at = utcnow()
    async with sessions.begin() as session:  # type: ignore[attr-defined]
        (before,) = await store_all(session, [Ask("a", "m", "{}", None, False, at)], send_now=False)
    asks = [Ask(q, "chat_postMessage", "{}", None, False, at) for q in ("a", "b", "b", "a")]
    async with sessions.begin() as session:  # type: ignore[attr-defined]
        with statements() as said:
            stored = await store_all(session, asks, send_now=True)
    assert not before.now_sending
    assert [s.now_sending for s in stored] == [False, True, False, False]
    assert not [s for s in said if s.startswith(HEAD_READ)]
    assert len([s for s in said if s.startswith("INSERT INTO slack_outbox")]) == 4
    async with sessions() as session:  # type: ignore[operator]
        rows = (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        shown = [(r.queue, r.state, r.attempts, r.claimed_at is not None) for r in rows]
    assert shown == [  # a group stores queue by queue, each queue's calls in the order asked
        ("a", "pending", 0, False),
        ("a", "pending", 0, False),
        ("a", "pending", 0, False),
        ("b", "sending", 1, True),
        ("b", "pending", 0, False),
    ]
    assert stored[0].row_id < stored[3].row_id and stored[1].row_id < stored[2].row_id


async def test_callers_whose_calls_share_a_transaction_each_get_their_own_answer(
    ws: Workspace, slack: LocalSlackServer, sessions: object
) -> None:
    channels = [ws.ensure_channel(f"d{i}")["id"] for i in range(4)]
    asked = [(c, f"m{i}") for i in range(3) for c in channels]  # queues interleaved
    box = outbox(sessions, slack)
    box.start()
    try:
        answers = await asyncio.gather(
            *(
                box.send("chat_postMessage", queue=c, args=_text(c, text), wait=True)
                for c, text in asked
            )
        )
    finally:
        await box.stop()
    assert [(a["channel"], a["message"]["text"]) for a in answers] == asked
    assert [texts(ws, c) for c in channels] == [["m0", "m1", "m2"]] * len(channels)


class InstantSlack:
    """Answers every call at once, without a network, so deliveries end together."""

    def __getattr__(self, method: str) -> object:
        async def call(**args: object) -> object:
            await asyncio.sleep(0)
            return type("Answer", (), {"data": {"ok": True, "channel": args["channel"]}})()

        return call


async def test_outcomes_of_deliveries_that_end_together_are_recorded_in_one_transaction(
    sessions: object,
) -> None:
    """Calls stored together into idle queues are sent at once by their callers' process;
    their outcomes, arriving together, are recorded in one transaction with the look for
    each queue's next call."""
    box = Outbox(sessions=sessions, client=InstantSlack(), clock=utcnow)  # type: ignore[arg-type]
    box.start()
    channels = [f"C{i:08d}" for i in range(5)]
    try:
        with commits() as committed:
            await asyncio.gather(
                *(
                    box.send("chat_postMessage", queue=c, args=_text(c, "m"), wait=False)
                    for c in channels
                )
            )
            await eventually(lambda: sent(sessions), what="all five calls sent")
    finally:
        await box.stop()
    assert len(committed) == 2  # the five calls stored, then their five outcomes


async def sent(sessions: object) -> bool:
    async with sessions() as session:  # type: ignore[operator]
        states = (await session.scalars(select(OutboxMessage.state))).all()
    return list(states) == [SENT] * 5
