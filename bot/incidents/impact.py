"""Impact as responders state it: when it started and ended, and how much traffic it hit.

Alerts start late and end early, and a partial degradation is not a full outage: what the
responders say replaces the alerts' firing intervals in the error budget.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.durations import parse_duration
from bot.incidents.errors import Refused
from bot.incidents.models import Incident
from bot.incidents.ports import IncidentContext
from bot.incidents.unit_of_work import change
from bot.mrkdwn import escape
from bot.people import mention

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_SHARE = re.compile(r"^(\d{1,3}(?:\.\d+)?)%$")


def parse_when(text: str, *, now: datetime) -> datetime:
    """'now', '-10m' (ago), '02:55' (UTC, the latest such time not after now), or RFC 3339."""
    word = text.strip()
    if word == "now":
        return now
    if word.startswith("-"):
        return now - parse_duration(word[1:])
    clock = _CLOCK.match(word)
    if clock:
        hour, minute = int(clock.group(1)), int(clock.group(2))
        if hour > 23 or minute > 59:
            raise ValueError(f"{word!r} is not a time of day")
        at = now.astimezone(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
        return at - timedelta(days=1) if at > now else at
    at = datetime.fromisoformat(word.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError("give the time zone, e.g. 2026-11-27T02:55Z")
    return at.astimezone(UTC)


def parse_share(text: str) -> float:
    share = _SHARE.match(text.strip())
    if not share or not 0 < float(share.group(1)) <= 100:
        raise ValueError(f"{text!r} is not a share of traffic like 40%")
    return float(share.group(1)) / 100


async def state(ctx: IncidentContext, *, incident_id: int, by: str, words: list[str]) -> Incident:
    """`start <time>`, `end <time>`, or `40%`."""
    now = ctx.clock()
    value: float | datetime
    try:
        if len(words) == 1:
            field, value = "fraction", parse_share(words[0])
        elif len(words) == 2 and words[0] in ("start", "end"):
            field, value = words[0], parse_when(words[1], now=now)
        else:
            raise ValueError("say `start <time>`, `end <time>` or a share like `40%`")
    except ValueError as exc:
        # The reason may quote what was typed: escaped, as all Refused text is mrkdwn.
        raise Refused(
            f"{escape(exc)}. Times: now, -10m, 02:55 (UTC) or 2026-11-27T02:55Z."
        ) from exc
    async with change(ctx, incident_id=incident_id, by=by) as c:
        incident = c.incident
        if field == "fraction":
            assert isinstance(value, float)
            incident.impact_fraction = value
            text = f"{mention(by)} set the impact to {value:.0%} of traffic"
        else:
            assert isinstance(value, datetime)
            start = value if field == "start" else incident.impact_started_at
            end = value if field == "end" else incident.impact_ended_at
            if value > now:
                raise Refused("Impact times are in the past (or now).")
            if start and end and end <= start:
                raise Refused(
                    f"The impact would end ({end:%H:%M}) before it starts ({start:%H:%M})."
                )
            if field == "start":
                incident.impact_started_at = value
            else:
                incident.impact_ended_at = value
            text = f"{mention(by)} set the impact {field} to {value:%Y-%m-%d %H:%M:%S} UTC"
        await c.note("impact.changed", text)
    return incident
