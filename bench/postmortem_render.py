"""Rendering the postmortem of an incident with 10,000 timeline entries (the target: under 1 s).

Baseline in the same run: the same template for the small scripted incident of the tests.
Run: .venv/bin/python -m bench.postmortem_render [--entries 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.stats import percentiles
from bot.postmortem.facts import facts_from
from bot.postmortem.render import render
from tests.postmortem import sample


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    big = [
        sample.entry(
            i / 100,
            f"step {i}: checked | CTR {i % 97}%",
            actor=sample.ANA,
            link=f"https://slack.example/archives/C1/p{i}",
        )
        for i in range(args.entries)
    ]
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
