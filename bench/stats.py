"""Summaries the benchmark scripts print."""

from __future__ import annotations

import statistics
import sys
import time


def percentile(samples_ms: list[float], q: float) -> float:
    """The sample at quantile q (0.99: the value 99% of samples are at or under)."""
    ordered = sorted(samples_ms)
    if not ordered:
        return float("nan")
    if q == 0.5:
        return statistics.median(ordered)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def percentiles(samples_ms: list[float]) -> str:
    """'p50 | p99 | max' in milliseconds, for a Markdown table row."""
    if not samples_ms:
        return "- | - | -"
    return (
        f"{percentile(samples_ms, 0.5):.1f} | {percentile(samples_ms, 0.99):.1f} | "
        f"{max(samples_ms):.1f}"
    )


class Progress:
    """Says on stderr how long each phase took, so a slow `make bench` shows where."""

    def __init__(self, what: str) -> None:
        self.what, self.last = what, time.monotonic()

    def __call__(self, phase: str) -> None:
        now = time.monotonic()
        print(f"bench: {self.what}: {phase} ({now - self.last:.1f} s)", file=sys.stderr, flush=True)
        self.last = now
