"""pin_added and reaction_added: the flagged message goes on the incident's timeline, once.

Slack redelivers an event it thinks was not received (X-Slack-Retry-Num); the timeline keys
the entry by channel and message, so a retry, or a pin plus a reaction, adds nothing more.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.incidents import notes
from bot.incidents.errors import Refused
from bot.incidents.ports import ChatError
from bot.slack.deps import deps_of

log = logging.getLogger(__name__)


async def pin_added(event: dict[str, Any], context: Any) -> None:
    item = event.get("item") or {}
    message = item.get("message") or {}
    channel, ts = event.get("channel_id") or item.get("channel"), message.get("ts")
    if item.get("type") == "message" and channel and ts:
        await _record(context, channel=channel, ts=ts, by=event.get("user", ""), how="pinned")


async def reaction_added(event: dict[str, Any], context: Any) -> None:
    item = event.get("item") or {}
    wanted = deps_of(context).ctx.config.timeline.pin_emoji
    if event.get("reaction") != wanted or item.get("type") != "message":
        return
    if item.get("channel") and item.get("ts"):
        await _record(
            context,
            channel=item["channel"],
            ts=item["ts"],
            by=event.get("user", ""),
            how=f"reacted :{wanted}:",
        )


async def _record(context: Any, *, channel: str, ts: str, by: str, how: str) -> None:
    try:
        await notes.record_message(
            deps_of(context).ctx, channel_id=channel, ts=ts, flagged_by=by, how=how
        )
    except (Refused, ChatError) as exc:
        # Nobody waits for an event's answer: the log is where this is seen.
        log.warning("could not put message %s of %s on the timeline: %s", ts, channel, exc)
