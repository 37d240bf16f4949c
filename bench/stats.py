"""Summaries the benchmark scripts print."""

from __future__ import annotations

import statistics


def percentiles(samples_ms: list[float]) -> str:
    """'p50 | p99 | max' in milliseconds, for a Markdown table row."""
    ordered = sorted(samples_ms)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{statistics.median(ordered):.1f} | {p99:.1f} | {ordered[-1]:.1f}"
