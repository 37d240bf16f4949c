"""bot/events.py: handlers run in the order subscribed, only for their event's type; one that
fails is logged and the others still run."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.events import Bus, Event


@dataclass(frozen=True)
class Opened(Event):
    incident_id: int


@dataclass(frozen=True)
class Resolved(Event):
    incident_id: int


async def test_handlers_run_in_order_for_their_event_and_a_failure_stops_no_other(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = Bus()
    seen: list[str] = []

    async def first(event: Opened) -> None:
        seen.append(f"first {event.incident_id}")
        raise RuntimeError("Slack is down")

    async def second(event: Opened) -> None:
        seen.append(f"second {event.incident_id}")

    async def on_resolved(event: Resolved) -> None:
        seen.append(f"resolved {event.incident_id}")

    bus.subscribe(Opened, first)
    bus.subscribe(Opened, second)
    bus.subscribe(Resolved, on_resolved)
    await bus.publish(Opened(7))
    assert seen == ["first 7", "second 7"]
    assert "first" in caplog.text and "Opened failed" in caplog.text
    await bus.publish(Resolved(7))
    assert seen[-1] == "resolved 7"
    await Bus().publish(Opened(8))  # nobody subscribed: nothing happens
