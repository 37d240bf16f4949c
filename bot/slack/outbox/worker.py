"""A persisted outbox for Slack Web API writes: nothing said is lost when Slack is not there.

`send` stores the call first, in one short transaction with the calls stored at the same moment
(bot.db.group_commit; outcomes are recorded the same way; on PostgreSQL each call is stored in a
transaction of its own, see Outbox). When nothing is ahead of it in its
queue, the caller's process sends it at once; otherwise a worker in every bot process delivers
it in its turn:

- one queue per channel (or DM), delivered one call at a time in the order asked, so a channel
  reads as it was written even across retries; other queues do not wait for a stuck one;
- 429: the queue waits for Slack's `Retry-After`; 5xx, timeouts and refused connections: it
  retries with exponential backoff (capped); any other Slack error fails that call alone, and
  the queue goes on (except an error that means the call's work is already done, which counts
  as delivered: `_done_anyway`);
- a restart delivers what was stored and not yet sent; a process killed mid-call leaves the row
  `sending`, and once stale (older than the
  call's timeout) any process sends it again (at least once: Slack has no
  idempotency key for chat.postMessage, so a call cut off after Slack acted may show twice);
- replicas share the table: a row is claimed by a conditional UPDATE, and only the head of a
  queue is ever claimed, so order holds across processes too.

Callers that need Slack's answer (a new channel's id, a message's ts) wait for delivery; the
rest return once the call is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import (
    Row,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.group_commit import GroupCommit, Rounds
from bot.incidents.ports import STOPPING, ChatError
from bot.slack.outbox.models import FAILED, PENDING, SENDING, SENT, OutboxMessage
from bot.slack.outbox.store import (
    Ask,
    Claimed,
    Outcome,
    Stored,
    claim,
    next_due,
    record_all,
    store_all,
)

log = logging.getLogger(__name__)

POLL_S = 1.0  # how often idle workers look for rows other processes stored
# How often a waiting caller reads its row, for when another process delivers it (this
# process's worker wakes it at once): reads cost the single SQLite writer's neighbours.
WAIT_POLL_S = 1.0
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 60.0
STALE_AFTER = timedelta(seconds=60)  # default; the app passes its Slack timeout plus a margin
GIVE_UP_AFTER = timedelta(days=1)
GROUP_MOST = 64  # calls stored, or outcomes recorded, in one transaction at most
# On PostgreSQL (see Outbox): calls stored in one transaction at most, and such groups under
# way at once; groups of outcomes under way at once. Within the chat process's 15 connections.
PG_STORES_MOST = 8
PG_STORES_AT_ONCE = 4
PG_RECORD_GROUPS_AT_ONCE = 4
PRUNE_BATCH = 1000  # rows deleted per transaction: the single SQLite writer is not held long


@dataclass(frozen=True)
class Backlog:
    pending: int  # stored, not yet delivered (being sent included)
    oldest: timedelta | None  # age of the oldest of those
    failed: int  # calls Slack refused or that were given up on, ever

    def as_dict(self) -> dict[str, Any]:
        return {
            "pending": self.pending,
            "oldest_seconds": None if self.oldest is None else round(self.oldest.total_seconds()),
            "failed": self.failed,
        }


@dataclass(frozen=True)
class _Retry:
    after: timedelta
    reason: str  # for the log: ratelimited, http_503, ClientConnectorError
    kind: str  # for the retries metric: ratelimited, server_error, connection_error


class Outbox:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        client: AsyncWebClient,
        clock: Callable[[], datetime],
        stale_after: timedelta = STALE_AFTER,
        on_retry: Callable[[str, str], None] | None = None,
        postgresql: bool = False,
        rounds: Rounds | None = None,
    ) -> None:
        """`rounds`: the process's shared writer (SQLite), whose transactions the stores and
        records then go into with other writes (bot.db.group_commit.Rounds)."""
        self._sessions = sessions
        # A claim older than this cannot still be on the wire (the call has timed out by then).
        self._stale_after = stale_after
        self._on_retry = on_retry  # (Slack method, why): the bot's retries metric
        self._client = client  # without the SDK's retry handlers: retries are ours
        self._clock = clock
        self._wake = asyncio.Event()
        self._busy: set[str] = set()  # queues this process is delivering right now
        # Of those, queues where a call was stored since their drain last read the head: the
        # drain may have missed it, so when it ends the worker looks (see _drain).
        self._behind: set[str] = set()
        self._settled: dict[int, asyncio.Event] = {}  # rows a caller here is waiting for
        self._outcomes: dict[int, _Outcome] = {}  # how those settled, when settled here
        self._task: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._released = False  # waiting callers were let go (see release_waiters)
        # Calls stored, and outcomes recorded, many to a transaction (bot.db.group_commit).
        # On PostgreSQL calls are stored in small groups, a few at once. A group of stores
        # holds every one of its queues' locks (bot.db.locks) while its statements wait, one
        # after another, for the network and then for a turn of a busy event loop, and groups
        # sharing a queue (the broadcast channel's, in most) wait for each other's whole group:
        # 64 to a group cost 2.2 s a store in a storm. One to a transaction, 16 at once, cost
        # four statements a call (begin, lock, insert, commit), and the chat process, short of
        # CPU in a storm, announced its channels' p99 3.0-3.9 s after their alerts (9 runs);
        # groups of 8, 4 at once, 2.3-3.3 s (8 runs, 5 under 3 s; bench.storm --postgres and
        # make bench). Outcomes take no locks, so they stay grouped as on SQLite.
        stores_most, stores_at_once = (
            (PG_STORES_MOST, PG_STORES_AT_ONCE) if postgresql else (GROUP_MOST, 1)
        )
        self._stores = GroupCommit[Ask, Stored](
            sessions=sessions,
            write=self._store_all,
            most=stores_most,
            writers=stores_at_once,
            name="outbox-stores",
            rounds=rounds,
        )
        self._records = GroupCommit[Outcome, Claimed | None](
            sessions=sessions,
            write=record_all,
            most=GROUP_MOST,
            writers=PG_RECORD_GROUPS_AT_ONCE if postgresql else 1,
            name="outbox-records",
            rounds=rounds,
        )

    # callers

    async def send(
        self,
        method: str,
        *,
        queue: str,
        args: Mapping[str, Any],
        wait: bool,
        replaces: str | None = None,
    ) -> dict[str, Any]:
        """Store the call; with `wait`, Slack's answer (raises ChatError when Slack refuses).

        `replaces`: a call that sets state whole (chat.update of one message, a channel's
        topic) under this key takes the place of an unsent one with the same key, so a burst
        of changes sends the last state once instead of every step; and one that asks what
        the latest call under the key asked (sent, or still to be; not refused) is not stored.
        """
        now = self._clock()
        queue = queue[:120]
        ask = Ask(queue, method, json.dumps(dict(args)), replaces, wait, now)
        stored = await self._stores(ask)
        if stored.covered == "merged":
            self._wake.set()
        if stored.covered:
            return {}
        row_id, now_sending, body = stored.row_id, stored.now_sending, ask.body
        settled = self._settled.setdefault(row_id, asyncio.Event()) if wait else None
        if now_sending:
            self._busy.add(queue)
            row = Claimed(row_id, queue, method, body, 1, now)
            self._track(asyncio.create_task(self._drain(queue, row), name=f"outbox-{queue}"))
        elif queue in self._busy:
            self._behind.add(queue)  # its drain here takes it next, or wakes the worker
        else:
            self._wake.set()
        if settled is None:
            return {}
        try:
            return await self._answer(row_id, queue, settled)
        finally:
            self._settled.pop(row_id, None)
            self._outcomes.pop(row_id, None)

    async def _store_all(self, session: AsyncSession, asks: Sequence[Ask]) -> list[Stored]:
        return await store_all(session, asks, send_now=self._running)

    async def _answer(self, row_id: int, queue: str, settled: asyncio.Event) -> dict[str, Any]:
        while True:
            outcome = self._outcomes.pop(row_id, None)
            # Not settled by this process: look at the row, unless this process is sending the
            # queue's calls now (then it settles this one too, or stops and lets us look).
            if outcome is None and (queue not in self._busy or self._released):
                async with self._sessions() as session:  # reads
                    row = await session.get(OutboxMessage, row_id)
                assert row is not None, f"outbox row {row_id} vanished"
                outcome = _Outcome(row.state, row.method, row.result, row.error)
            if outcome is not None and outcome.state == SENT:
                return dict(json.loads(outcome.result or "{}"))
            if outcome is not None and outcome.state == FAILED:
                raise ChatError(outcome.error or "failed", outcome.method.replace("_", ".", 1))
            if self._released:
                raise ChatError(STOPPING, "the bot is stopping; the call stays stored")
            # Settled here by this process, or polled for when another delivers it.
            await _wait(settled, WAIT_POLL_S)

    async def answered(self, *, queue: str, method: str) -> dict[str, Any] | None:
        """Slack's answer to the latest delivered `method` call of `queue`, if any."""
        async with self._sessions() as session:  # reads
            result = await session.scalar(
                select(OutboxMessage.result)
                .where(
                    OutboxMessage.queue == queue,
                    OutboxMessage.method == method,
                    OutboxMessage.state == SENT,
                )
                .order_by(OutboxMessage.id.desc())
                .limit(1)
            )
        return None if result is None else dict(json.loads(result))

    def release_waiters(self) -> None:
        """Callers waiting for Slack's answer stop waiting (ChatError "stopping"); their calls
        stay stored, and the next start sends them. For a stop where Slack cannot be reached
        any more (the embedded stand-in stops with this server)."""
        self._released = True
        for settled in self._settled.values():
            settled.set()

    async def backlog(self) -> Backlog:
        async with self._sessions() as session:  # reads
            pending, oldest = (
                await session.execute(
                    select(func.count(), func.min(OutboxMessage.created_at)).where(
                        OutboxMessage.state.in_((PENDING, SENDING))
                    )
                )
            ).one()
            failed = await session.scalar(select(func.count()).where(OutboxMessage.state == FAILED))
        return Backlog(
            pending=int(pending),
            oldest=None if oldest is None else max(self._clock() - oldest, timedelta(0)),
            failed=int(failed or 0),
        )

    async def prune_sent(self, *, older_than: timedelta) -> int:
        """Delete calls delivered (`sent`) longer ago than `older_than`; how many. Any replica
        may run it at any time: an idempotent DELETE, in small batches. Pending, sending and
        failed calls stay (the failed count is the bot's own record of what Slack refused)."""
        cutoff = self._clock() - older_than
        deleted = 0
        while True:
            async with self._sessions.begin() as session:
                batch = (
                    select(OutboxMessage.id)
                    .where(OutboxMessage.state == SENT, OutboxMessage.sent_at < cutoff)
                    .limit(PRUNE_BATCH)
                    .scalar_subquery()
                )
                gone = (
                    await session.execute(
                        delete(OutboxMessage)
                        .where(OutboxMessage.id.in_(batch))
                        .execution_options(synchronize_session=False)
                    )
                ).rowcount  # type: ignore[attr-defined]
            deleted += gone
            if gone < PRUNE_BATCH:
                return deleted

    # the worker

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="slack-outbox")

    async def stop(self, *, grace: float = 15.0) -> None:
        """Stop taking calls from the queues; let calls already on the wire finish (up to
        `grace` seconds), so a clean stop sends nothing twice."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._deliveries:
            _, late = await asyncio.wait(set(self._deliveries), timeout=grace)
            # Cut off mid-call, they stay `sending`: the next start sends them once stale.
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._stopping = False

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                delay = await self.deliver_due()
            except Exception:  # the database may be restarting: try again shortly
                log.exception("outbox: could not read the queue")
                delay = POLL_S
            await _wait(self._wake, delay)

    async def deliver_due(self) -> float:
        """Start delivering every queue whose head is due; seconds until one may be next."""
        now = self._clock()
        heads = await self._heads(now)
        if any(h.state == SENDING for h in heads):  # stale claims
            await self._reclaim(now)
            heads = await self._heads(now)
        delay = POLL_S
        for head in heads:
            if head.state != PENDING or head.queue in self._busy:
                continue
            if head.not_before > now:
                delay = min(delay, (head.not_before - now).total_seconds())
                continue
            self._busy.add(head.queue)
            self._track(asyncio.create_task(self._drain(head.queue), name=f"outbox-{head.queue}"))
        return max(delay, 0.01)

    @property
    def _running(self) -> bool:
        return self._task is not None and not self._stopping

    def _track(self, task: asyncio.Task[None]) -> None:
        self._deliveries.add(task)  # stop() lets them finish
        task.add_done_callback(self._deliveries.discard)

    async def _reclaim(self, now: datetime) -> None:
        """Calls a dead process left half-sent go back to their queues (a write: only when
        there are some, so idle polling takes no write lock)."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.state == SENDING,
                    OutboxMessage.claimed_at < now - self._stale_after,
                )
                .values(state=PENDING)
            )

    async def _heads(self, now: datetime) -> Sequence[Row[int, str, str, datetime]]:
        """Each queue's first undelivered call, when it waits or a dead process's claim on it
        is stale: a head on the wire is its sender's. Columns, not ORM rows: the worker looks
        after every delivery (thousands in a storm), and a set-up storm has a head per busy
        channel (65 on average over 1,000 new incidents), each with its message's JSON."""
        first = (
            select(func.min(OutboxMessage.id))
            .where(OutboxMessage.state.in_((PENDING, SENDING)))
            .group_by(OutboxMessage.queue)
        )
        waiting = or_(
            OutboxMessage.state == PENDING, OutboxMessage.claimed_at < now - self._stale_after
        )
        async with self._sessions() as session:  # reads
            rows = await session.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.queue,
                    OutboxMessage.state,
                    OutboxMessage.not_before,
                ).where(OutboxMessage.id.in_(first), waiting)
            )
            return rows.all()

    async def _drain(self, queue: str, claimed: Claimed | None = None) -> None:
        """Deliver the queue's calls in order until it is empty or must wait (starting with
        `claimed`, its head, already claimed by the caller that stored it)."""
        ended = False
        try:
            row = claimed or (None if self._stopping else await self._claim_head(queue))
            while row is not None:
                row = await self._deliver(row)
            ended = True
        except Exception:
            log.exception("outbox: delivery to %s stopped", queue)
        finally:
            self._busy.discard(queue)
            # The worker looks at every queue's head only when this drain may have left work:
            # it failed, or a call was stored after its last look at the head. Waking it after
            # every drain made about five passes per incident in a storm, each reading all the
            # heads (bench.storm: 3,000 passes, 6% of the serve process's CPU).
            if not ended or queue in self._behind:
                self._behind.discard(queue)
                self._wake.set()

    async def _claim_head(self, queue: str) -> Claimed | None:
        now = self._clock()
        self._behind.discard(queue)  # what was stored before now is read below
        # Looked for first without the write lock: mostly the queue is empty by now.
        async with self._sessions() as session:  # reads
            head = await next_due(session, queue, now)
        if head is None:
            return None
        async with self._sessions.begin() as session:
            return await claim(session, head, now)

    async def _deliver(self, row: Claimed) -> Claimed | None:
        """One attempt; the queue's next call, claimed, when it may go on to it now."""
        outcome: dict[str, Any] | _Retry | ChatError
        try:
            response = await getattr(self._client, row.method)(**json.loads(row.args))
            outcome = dict(response.data) if isinstance(response.data, dict) else {}
        except SlackApiError as exc:
            outcome = _judge(exc, attempts=row.attempts)
            if isinstance(outcome, ChatError) and _done_anyway(row, exc):
                outcome = dict(exc.response.data) if isinstance(exc.response.data, dict) else {}
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            outcome = _Retry(_backoff(row.attempts), type(exc).__name__, "connection_error")
        except Exception as exc:  # the SDK refusing the call itself: sending again cannot help
            log.exception("outbox: %s to %s could not be sent", row.method, row.queue)
            outcome = ChatError(type(exc).__name__)
        now = self._clock()
        values: dict[str, Any]
        if isinstance(outcome, _Retry) and now - row.created_at > GIVE_UP_AFTER:
            outcome = ChatError("gave_up", f"{outcome.reason} for {GIVE_UP_AFTER}")
        if isinstance(outcome, _Retry):
            log.warning(
                "outbox: %s to %s failed (%s); attempt %d, next in %.1fs",
                row.method,
                row.queue,
                outcome.reason,
                row.attempts,
                outcome.after.total_seconds(),
            )
            values = {"state": PENDING, "not_before": now + outcome.after, "error": outcome.reason}
            if self._on_retry is not None:
                self._on_retry(row.method.replace("_", ".", 1), outcome.kind)
        elif isinstance(outcome, ChatError):
            log.warning("outbox: Slack refused %s to %s: %s", row.method, row.queue, outcome.code)
            values = {"state": FAILED, "error": outcome.code[:200]}
        else:
            values = {"state": SENT, "sent_at": now, "error": None, "result": json.dumps(outcome)}
        goes_on = values["state"] != PENDING
        if goes_on:
            self._behind.discard(row.queue)  # what was stored before now is read below
        else:
            self._wake.set()  # the worker delivers it when due
        # The next call is claimed in the same transaction (store.record_all).
        going_on = goes_on and not self._stopping
        following = await self._records(Outcome(row, values, going_on, now))
        settled = self._settled.get(row.id)
        if settled is not None and goes_on:
            self._outcomes[row.id] = _Outcome(
                values["state"], row.method, values.get("result"), values.get("error")
            )
            settled.set()
        return following


@dataclass(frozen=True)
class _Outcome:
    state: str
    method: str
    result: str | None
    error: str | None


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Until the event is set or the time is up. asyncio.timeout, not wait_for: on Python 3.11
    wait_for can swallow a cancellation that arrives as the event is set, and stop() would then
    wait for a loop that never ends."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


def _judge(exc: SlackApiError, *, attempts: int) -> _Retry | ChatError:
    status = exc.response.status_code
    headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
    if status == 429:
        wait = headers.get("retry-after", "1")
        seconds = float(wait) if str(wait).isdigit() else 1.0
        return _Retry(timedelta(seconds=seconds), "ratelimited", "ratelimited")
    if status >= 500:
        return _Retry(_backoff(attempts), f"http_{status}", "server_error")
    code = str(exc.response.get("error") or f"http_{status}")
    return ChatError(code)


def _done_anyway(row: Claimed, exc: SlackApiError) -> bool:
    """Slack refused the call, but what it was for is already so: it counts as delivered, not
    failed (a failed call is counted by /readyz and the metrics as something Slack refused).

    conversations.invite answers `already_in_channel` when an invitee is a member already: for
    Firebreak, which invites again whenever it is unsure (a resumed set-up, the on-call person
    who is also an owner), that is success. Only when every invitee is already in, though: with
    several, one member already in fails the whole call and invites nobody (Slack's docs), so
    that stays a failure and the caller (bot.incidents.flows._invite) invites one by one.
    Callers that wait still get Slack's answer; they already take this code as success."""
    if row.method != "conversations_invite" or exc.response.get("error") != "already_in_channel":
        return False
    invitees = {u.strip() for u in str(json.loads(row.args).get("users", "")).split(",")}
    invitees.discard("")
    if len(invitees) <= 1:
        return True
    # Slack lists each refused invitee; absent that list, nobody is known to be in.
    refused = exc.response.get("errors") or []
    already = {
        e.get("user")
        for e in refused
        if isinstance(e, dict) and e.get("error") == "already_in_channel"
    }
    return invitees <= already


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S))
