"""Weekly on-call rotations: who commands a service's new incidents right now."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.people import UserId

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Rotation(BaseModel):
    """users[0] is on call from the first hand-over on or after `start`, then users[1], …

    The hand-over happens every week on `handover_day` at `handover_time` in `timezone`.
    """

    model_config = ConfigDict(extra="forbid")

    users: list[UserId] = Field(min_length=1)
    handover_day: str = "monday"
    handover_time: time = time(9, 0)
    timezone: str = "UTC"
    start: date = date(2026, 1, 5)

    @field_validator("handover_day")
    @classmethod
    def _weekday(cls, day: str) -> str:
        if day.lower() not in WEEKDAYS:
            raise ValueError(f"{day!r} is not a weekday ({', '.join(WEEKDAYS)})")
        return day.lower()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{zone!r} is not an IANA time zone (like Europe/Berlin)") from exc
        return zone

    def on_call(self, at: datetime) -> str:
        """The user on call at `at` (aware). Before the first hand-over, the last user still is."""
        zone = ZoneInfo(self.timezone)
        first = self._first_handover(zone)
        weeks = (at.astimezone(zone) - first) // timedelta(weeks=1)
        return self.users[weeks % len(self.users)]

    def _first_handover(self, zone: ZoneInfo) -> datetime:
        days_ahead = (WEEKDAYS.index(self.handover_day) - self.start.weekday()) % 7
        day = self.start + timedelta(days=days_ahead)
        return datetime.combine(day, self.handover_time, tzinfo=zone)
