"""The incident's single timeline: every event, with when it happened and who did it.

An entry's text is plain text, never mrkdwn: what the sender sent, as they sent it (a note, an
update, a flagged message, a title from an alert), so the JSON API and the postmortem show it
as it was. Firebreak's own entries name people as <@U123> (bot.incidents.people.mention), and
the entry says structurally whom it names: its actor and the person keys of its data
(`people_of`). Slack shows the text escaped, mentioning only those people
(bot.mrkdwn.escape_except); whatever else looks like a mention or a link in it is shown as text.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Select, Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.incidents.models import TimelineEntry
from bot.mrkdwn import is_user_id


async def record(
    *,
    session: AsyncSession,
    incident_id: int,
    kind: str,
    text: str,
    now: datetime,
    at: datetime | None = None,
    actor: str | None = None,
    link: str | None = None,
    data: dict[str, Any] | None = None,
    dedup_key: str | None = None,
    new_key: bool = False,
) -> TimelineEntry | None:
    """Add an entry that happened `at` (default: now); with a dedup_key already on this
    incident's timeline, add nothing.

    The unique constraint on (incident_id, dedup_key) backs this check up when two
    transactions race; the caller's transaction then fails and is retried. `new_key`: the
    caller knows the key cannot be there yet (it names a row this transaction made or
    changed), so the look is skipped and the constraint alone guards it.
    """
    if dedup_key is not None and not new_key:
        exists = await session.scalar(
            select(TimelineEntry.id).where(
                TimelineEntry.incident_id == incident_id, TimelineEntry.dedup_key == dedup_key
            )
        )
        if exists is not None:
            return None
    entry = TimelineEntry(
        **row(
            incident_id=incident_id,
            kind=kind,
            text=text,
            now=now,
            at=at,
            actor=actor,
            link=link,
            data=data,
            dedup_key=dedup_key,
        )
    )
    session.add(entry)
    return entry


def row(
    *,
    incident_id: int,
    kind: str,
    text: str,
    now: datetime,
    at: datetime | None = None,
    actor: str | None = None,
    link: str | None = None,
    data: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> dict[str, Any]:
    """An entry as a row for `insert_rows`: for writers that add many at once and know their
    dedup keys are new (intake's)."""
    return {
        "incident_id": incident_id,
        "at": at or now,
        "kind": kind,
        "text": text,
        "actor": actor,
        "link": link,
        "data": data,
        "dedup_key": dedup_key,
        "recorded_at": now,
    }


async def insert_rows(*, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """One INSERT for all the rows (Core: no ORM objects to track and flush)."""
    if rows:
        await session.execute(_insert_query(), rows)


@cache
def _insert_query() -> Any:
    return insert(cast(Table, TimelineEntry.__table__))


class Entry(NamedTuple):
    """An entry as read for a report: a row, not an ORM object (a postmortem reads an incident's
    whole timeline, and 10,000 ORM objects took a third of its time)."""

    id: int
    at: datetime
    kind: str
    text: str
    actor: str | None
    link: str | None
    data: dict[str, Any] | None


async def entries_of(*, session: AsyncSession, incident_id: int) -> list[Entry]:
    """The incident's timeline in order (when, then as recorded)."""
    rows = await session.execute(_entries_query(), {"incident_id": incident_id})
    return [Entry(*row) for row in rows]


@cache
def _entries_query() -> Select[Any]:
    c = cast(Table, TimelineEntry.__table__).c
    return (
        select(c.id, c.at, c.kind, c.text, c.actor, c.link, c.data)
        .where(c.incident_id == bindparam("incident_id"))
        .order_by(c.at, c.id)
    )


# Keys of an entry's data that name people (a user ID, or a list of them).
PEOPLE_KEYS = ("user", "to", "owner", "handed_by", "flagged_by", "invited")


def people_of(entry: TimelineEntry) -> set[str]:
    """The people an entry names, from its structure: its actor and its data's person keys."""
    return {p for p in _named(entry) if is_user_id(p)}


def _named(entry: TimelineEntry) -> Iterator[object]:
    yield entry.actor
    data = entry.data or {}
    for key in PEOPLE_KEYS:
        value = data.get(key)
        if isinstance(value, list):
            yield from value
        else:
            yield value
