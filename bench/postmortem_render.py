"""Rendering the postmortem of an incident with 10,000 timeline entries (the target: under 1 s).

Baseline in the same run: the same template for the small scripted incident of the tests.
`served` measures the same through a running bot: GET /api/incidents/INC-n/postmortem of an
incident given that many timeline entries in its database (reading, facts and rendering).
Run: .venv/bin/python -m bench.postmortem_render [--entries 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import timedelta
from typing import Any

from bench.server import Bot
from bench.stats import percentiles
from bot.config import Settings
from bot.context import utcnow
from bot.db.engine import make_engine, make_sessions
from bot.incidents.models import TimelineEntry
from bot.postmortem.facts import facts_from
from bot.postmortem.render import render
from tests.payloads import am_alert, am_notification
from tests.unit.postmortem import sample


def big_timeline(entries: int) -> list[Any]:
    return [
        sample.entry(
            i / 100,
            f"step {i}: checked | CTR {i % 97}%",
            actor=sample.ANA,
            link=f"https://slack.example/archives/C1/p{i}",
        )
        for i in range(entries)
    ]


def timed(entries: list[Any], runs: int) -> tuple[list[float], int]:
    samples, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        facts = facts_from(
            incident=sample.incident(),
            alerts=[sample.alert("RankerCTRDrop", 0)],
            timeline=entries,
            runs=sample.runs(),
            steps=sample.steps(),
        )
        size = len(render(facts=facts))
        samples.append((time.perf_counter() - start) * 1000)
    return samples, size


def served(bot: Bot, *, database_url: str, entries: int, runs: int) -> tuple[list[float], int]:
    """Milliseconds of each GET of the postmortem of a new incident with `entries` notes."""
    opened = bot.http.post(
        "/webhooks/alertmanager",
        json=am_notification(
            am_alert(fingerprint="0b0b0b0b0b0b0b0b", alertname="LongIncident"),
            group_key='{}:{alertname="LongIncident"}',
        ),
    ).json()
    number = int(opened["incident"].removeprefix("INC-"))
    asyncio.run(_add_entries(database_url, number, entries))
    samples, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        response = bot.http.get(f"/api/incidents/INC-{number}/postmortem")
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
        size = len(response.text)
    return samples, size


async def _add_entries(database_url: str, incident_id: int, entries: int) -> None:
    engine = make_engine(Settings(FIREBREAK_DATABASE_URL=database_url).database_url)
    now = utcnow()
    try:
        async with make_sessions(engine).begin() as session:
            session.add_all(
                TimelineEntry(
                    incident_id=incident_id,
                    at=now - timedelta(seconds=entries - i),
                    kind="note",
                    text=f"step {i}: checked | CTR {i % 97}%",
                    actor=sample.ANA,
                    link=f"https://slack.example/archives/C1/p{i}",
                    recorded_at=now,
                )
                for i in range(entries)
            )
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    big = big_timeline(args.entries)
    small_ms, small_size = timed(list(sample.timeline()), args.runs)
    big_ms, big_size = timed(big, args.runs)
    print(f"{args.runs} renders each, facts_from + render, default template\n")
    print("| incident | output chars | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|")
    print(
        f"| baseline: {len(sample.timeline())} timeline entries | {small_size:,} | "
        f"{percentiles(small_ms)} |"
    )
    print(f"| {args.entries:,} timeline entries | {big_size:,} | {percentiles(big_ms)} |")


if __name__ == "__main__":
    main()
