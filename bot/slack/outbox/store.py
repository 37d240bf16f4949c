"""The outbox's statements: a queue's head, a call stored, claimed and recorded, and the
checks a new call makes (is its queue idle, does it repeat what a message already shows).

Each is built once, for each runs for every call a storm sends; storing, claiming and
recording are on the table, not the mapped class: the ORM's flush and its checks on every
UPDATE were most of the outbox's own CPU per call (bench/outbox.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, Literal, NamedTuple, cast

from sqlalchemy import (
    Boolean,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    case,
    exists,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import locks
from bot.slack.outbox.models import FAILED, PENDING, SENDING, OutboxMessage


async def next_due(session: AsyncSession, queue: str, now: datetime) -> int | None:
    """The queue's head, if it is a call due now (not when the queue is empty, its head is on
    the wire, or it waits for a retry)."""
    head = (await session.execute(head_query(), {"queue": queue})).one_or_none()
    if head is None or head.state != PENDING or head.not_before > now:
        return None
    return int(head.id)


@cache
def head_query() -> Select[int, str, datetime]:
    # Built once: the worker reads each queue's head before it sends what is due there.
    c = table().c
    return _head(bindparam("queue"), c.id, c.state, c.not_before)


def _head(queue: Any, *columns: Any) -> Any:
    """The queue's head: its lowest call still pending or on the wire."""
    c = table().c
    return (
        select(*columns)
        .where(c.queue == queue, c.state.in_((PENDING, SENDING)))
        .order_by(c.id)
        .limit(1)
    )


class Claimed(NamedTuple):
    """A call this process holds (`sending`): what delivering it needs, as columns."""

    id: int
    queue: str
    method: str
    args: str
    attempts: int
    created_at: datetime


async def claim(session: AsyncSession, row_id: int, now: datetime) -> Claimed | None:
    # Rows only ever join a queue behind its head, so it stays the head unless someone else
    # claims it first: the claim holds only if it is still pending.
    claimed = (await session.execute(claim_query(), {"row_id": row_id, "now": now})).first()
    return None if claimed is None else Claimed(*claimed)


async def claim_next(session: AsyncSession, queue: str, now: datetime) -> Claimed | None:
    """Claim the queue's head if it is a call due now (next_due and claim in one statement)."""
    claimed = (await session.execute(claim_next_query(), {"of_queue": queue, "due": now})).first()
    return None if claimed is None else Claimed(*claimed)


@cache
def claim_next_query() -> Any:
    # One statement where a delivery read the head, then claimed it: it runs for every call a
    # storm sends. The claim holds only if the head is pending and due (on PostgreSQL a racing
    # claim re-checks the state once the first commits, and finds it sending).
    c = table().c
    # Not named after columns: an UPDATE keeps those names for its SET clause.
    head = _head(bindparam("of_queue"), c.id).scalar_subquery()
    now = bindparam("due", type_=c.not_before.type)
    return (
        update(table())
        .where(c.id == head, c.state == PENDING, c.not_before <= now)
        .values(state=SENDING, claimed_at=now, attempts=c.attempts + 1)
        .returning(c.id, c.queue, c.method, c.args, c.attempts, c.created_at)
    )


def table() -> Table:
    return cast(Table, OutboxMessage.__table__)


@cache
def claim_query() -> Any:
    c = table().c
    return (
        update(table())
        .where(c.id == bindparam("row_id"), c.state == PENDING)
        .values(state=SENDING, claimed_at=bindparam("now"), attempts=c.attempts + 1)
        .returning(c.id, c.queue, c.method, c.args, c.attempts, c.created_at)
    )


@cache
def record_query(columns: tuple[str, ...]) -> Update:
    """An outcome's UPDATE of `columns` (one statement per kind of outcome: sent, failed,
    retried); their values are bound as new_<column>."""
    c = table().c
    return (
        update(table())
        .where(c.id == bindparam("row_id"))
        .values({c[name]: bindparam(f"new_{name}") for name in columns})
    )


async def covered(
    session: AsyncSession, *, queue: str, replaces: str, body: str
) -> Literal["same", "merged"] | None:
    """How the latest call under `replaces` already does what `body` asks: "same" (it asks
    the same, and Slack did not refuse it), "merged" (unsent, it now asks this instead), or
    None. A storm's card refreshes often render what the card already shows (an alert resolved
    and another fired between two refreshes): a fifth of them in bench.storm."""
    latest = (
        await session.execute(latest_query(), {"queue": queue, "replaces": replaces})
    ).one_or_none()
    if latest is None:
        return None
    if latest.args == body and latest.state != FAILED:
        return "same"
    if latest.state != PENDING or latest.attempts:
        return None
    merged = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == latest.id,
            OutboxMessage.state == PENDING,  # unless a worker claimed it meanwhile
            OutboxMessage.attempts == 0,
        )
        .values(args=body)
    )
    return "merged" if merged.rowcount else None  # type: ignore[attr-defined]


@cache
def latest_query() -> Select[int, str, str, int]:
    return (
        select(OutboxMessage.id, OutboxMessage.args, OutboxMessage.state, OutboxMessage.attempts)
        .where(
            OutboxMessage.queue == bindparam("queue"),
            OutboxMessage.replaces == bindparam("replaces"),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


class Ask(NamedTuple):
    """A call to store, as Outbox.send was asked for it."""

    queue: str
    method: str
    body: str
    replaces: str | None
    wait: bool  # its caller waits for Slack's answer: it is sent even if covered
    at: datetime


class Stored(NamedTuple):
    row_id: int  # 0 when covered
    now_sending: bool  # claimed as stored: its caller's process sends it now
    covered: Literal["same", "merged"] | None  # not stored: see `covered`


async def store_all(session: AsyncSession, asks: Sequence[Ask], *, send_now: bool) -> list[Stored]:
    """Store each call in the order asked (a group commit's transaction). With `send_now`, a
    call with nothing ahead of it in its queue is stored claimed (`sending`): its caller's
    process sends it at once, instead of leaving it for the worker's next look (a hop, and two
    more transactions, per call). Order holds: a later call finds it `sending`."""
    if send_now:
        # Every queue's lock at once, in the one order hold_all_until_commit takes them in: two
        # processes' groups never wait on each other in a cycle.
        await locks.hold_all_until_commit(session=session, keys=list({a.queue for a in asks}))
    stored: dict[int, Stored] = {}
    busy: set[str] = set()  # queues this group stored a call into: not idle, without asking
    for i in _by_queue(asks):
        ask = asks[i]
        stored[i] = await _store(session, ask, send_now=send_now and ask.queue not in busy)
        if stored[i].row_id:
            busy.add(ask.queue)
    return [stored[i] for i in range(len(asks))]


def _by_queue(items: Sequence[Ask] | Sequence[Outcome]) -> list[int]:
    """The items' positions in queue order, each queue's in the order asked. A group touches
    only its queues' rows; taken in one order, a group of stores (which may merge into a
    pending row) and a group of outcomes (which claims pending rows) never wait for each
    other in a cycle on PostgreSQL, where several groups are written at once."""

    def queue(i: int) -> str:
        item = items[i]
        return item.queue if isinstance(item, Ask) else item.row.queue

    return sorted(range(len(items)), key=queue)


async def _store(session: AsyncSession, ask: Ask, *, send_now: bool) -> Stored:
    if ask.replaces is not None and not ask.wait:
        done = await covered(session, queue=ask.queue, replaces=ask.replaces, body=ask.body)
        if done:
            return Stored(0, False, done)
    stored = {
        "queue": ask.queue,
        "method": ask.method,
        "args": ask.body,
        "not_before": ask.at,  # also its created_at, and its claimed_at if claimed
        "replaces": ask.replaces,
        "send_now": send_now,
    }
    row = (await session.execute(store_query(), stored)).one()
    return Stored(int(row.id), row.state == SENDING, None)


@cache
def store_query() -> Any:
    """A call stored, claimed (`sending`) when it may be sent now and nothing of its queue is
    waiting or on the wire, in this process or another (the caller holds the queue's lock: two
    processes must not both find it idle). One statement where the idle check was a read of
    its own before the INSERT: a storm stores every call it sends."""
    c = table().c
    at = bindparam("not_before", type_=c.not_before.type)
    idle = ~exists(_head(bindparam("queue"), c.id))
    claimed = and_(bindparam("send_now", type_=Boolean()), idle)
    values = select(
        bindparam("queue", type_=c.queue.type),
        bindparam("method", type_=c.method.type),
        bindparam("args", type_=c.args.type),
        case((claimed, literal(SENDING)), else_=literal(PENDING)),
        case((claimed, literal(1)), else_=literal(0)),
        at,
        at,
        case((claimed, at), else_=null()),
        bindparam("replaces", type_=c.replaces.type),
    )
    columns = ["queue", "method", "args", "state", "attempts"]
    columns += ["not_before", "created_at", "claimed_at", "replaces"]
    return insert(table()).from_select(columns, values).returning(c.id, c.state)


class Outcome(NamedTuple):
    """How a call's attempt ended: its row's new `values`; `go_on`: claim its queue's next."""

    row: Claimed
    values: dict[str, Any]
    go_on: bool
    at: datetime


async def record_all(session: AsyncSession, outcomes: Sequence[Outcome]) -> list[Claimed | None]:
    """Record each outcome and claim the next call of each queue that goes on (a group
    commit's transaction): a storm sends thousands of calls, and this spares each a read and a
    transaction of its own."""
    following: dict[int, Claimed | None] = {}
    for i in _by_queue(outcomes):
        done = outcomes[i]
        values = {f"new_{k}": v for k, v in done.values.items()}
        await session.execute(record_query(tuple(done.values)), {"row_id": done.row.id, **values})
        following[i] = await claim_next(session, done.row.queue, done.at) if done.go_on else None
    return [following[i] for i in range(len(outcomes))]
