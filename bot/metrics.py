"""The bot's own metrics, served as Prometheus text at GET /metrics.

One registry per app, built by the composition root (bot/app.py): nothing is registered at
import time, and tests build many apps side by side. Labels are kept to bounded sets (known
webhook sources, Slack method names and error codes, reminder kinds, playbook names).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from bot.severity import Severity

# Webhook answers are expected in milliseconds; the top buckets catch a stalled store.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Playbooks wait on deploys and checks: seconds to tens of minutes.
RUN_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
# A reminder a few seconds late is fine; minutes late means the scheduler is stuck or not ours.
LAG_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)

CONTENT_TYPE = CONTENT_TYPE_LATEST


# Counters the chat process (bot.followups.away) keeps too and hands to the serving process,
# whose /metrics shows both: its Slack calls are most of the bot's.
CARRIED = ("slack_calls", "slack_errors", "slack_retries")
Counts = dict[str, list[tuple[list[str], float]]]  # counter → (its label values, how many)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._webhook_children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}
        r = self.registry
        self.webhook_requests = Counter(
            "firebreak_webhook_requests",
            "Webhook requests by source and outcome (accepted, rejected: 4xx, error: 5xx); "
            "reason is the JSON error code of a refusal",
            ["source", "outcome", "reason"],
            registry=r,
        )
        self.webhook_seconds = Histogram(
            "firebreak_webhook_request_duration_seconds",
            "Time to answer a webhook request",
            ["source", "outcome"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.open_incidents = Gauge(
            "firebreak_open_incidents",
            "Incidents not yet resolved, by severity (read from the database at scrape time)",
            ["severity"],
            registry=r,
        )
        self.playbook_runs = Counter(
            "firebreak_playbook_runs",
            "Playbook runs that ended, by outcome (succeeded, failed, rejected, error)",
            ["playbook", "outcome"],
            registry=r,
        )
        self.playbook_seconds = Histogram(
            "firebreak_playbook_run_duration_seconds",
            "Time a playbook run took to execute in this process",
            ["playbook", "outcome"],
            buckets=RUN_BUCKETS,
            registry=r,
        )
        self.slack_calls = Counter(
            "firebreak_slack_api_calls",
            "Slack Web API calls by method: each attempt of the outbox (writes) counts; a read "
            "retried inside the SDK counts once",
            ["method"],
            registry=r,
        )
        self.slack_errors = Counter(
            "firebreak_slack_api_errors",
            "Slack Web API calls that failed, by method and Slack's error code "
            "(connection_error, timeout or http_<status> when Slack gave none)",
            ["method", "error"],
            registry=r,
        )
        self.slack_retries = Counter(
            "firebreak_slack_api_retries",
            "Slack Web API requests sent again, by method and why (ratelimited, server_error, "
            "connection_error)",
            ["method", "reason"],
            registry=r,
        )
        self.scheduler_lag = Histogram(
            "firebreak_scheduler_lag_seconds",
            "How late a due reminder was handed to a worker (submitted minus scheduled time)",
            ["job"],
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.scheduler_jobs = Counter(
            "firebreak_scheduler_jobs",
            "Reminder jobs by outcome (executed, error, missed)",
            ["job", "outcome"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            "firebreak_slack_outbox_pending",
            "Slack writes stored and not yet delivered (read from the database at scrape time)",
            registry=r,
        )
        self.outbox_oldest = Gauge(
            "firebreak_slack_outbox_oldest_seconds",
            "Age of the oldest undelivered Slack write; 0 when none waits",
            registry=r,
        )
        self.outbox_failed = Gauge(
            "firebreak_slack_outbox_failed",
            "Slack writes that Slack refused or that were given up on, in the outbox table",
            registry=r,
        )
        ProcessCollector(registry=r)  # process_resident_memory_bytes, open fds, CPU seconds

    def watch_process(self, name: str, *, pid: Callable[[], int | None]) -> None:
        """Another process's memory, CPU and open files as `firebreak_<name>_process_*`, read
        from /proc at each scrape: `pid` says which process that is now (None: none runs, and
        its series are left out until one does)."""
        # A pid that /proc does not have makes ProcessCollector leave its series out.
        ProcessCollector(
            namespace=f"firebreak_{name}", pid=lambda: pid() or "none", registry=self.registry
        )

    def observe_webhook(self, *, source: str, outcome: str, reason: str, seconds: float) -> None:
        # The labelled children looked up once (labels() takes a lock and checks its
        # arguments): this runs for every webhook request of a storm.
        key = (source, outcome, reason)
        children = self._webhook_children.get(key)
        if children is None:
            children = self._webhook_children[key] = (
                self.webhook_requests.labels(source, outcome, reason),
                self.webhook_seconds.labels(source, outcome),
            )
        children[0].inc()
        children[1].observe(seconds)

    def set_open_incidents(self, counts: Mapping[str, int]) -> None:
        for severity in Severity:
            self.open_incidents.labels(severity.value).set(counts.get(severity.value, 0))

    def set_outbox(self, *, pending: int, oldest: float, failed: int) -> None:
        self.outbox_pending.set(pending)
        self.outbox_oldest.set(oldest)
        self.outbox_failed.set(failed)

    def run_finished(self, *, playbook: str, outcome: str, seconds: float | None) -> None:
        """The playbooks' RunMeter port."""
        self.playbook_runs.labels(playbook, outcome).inc()
        if seconds is not None:
            self.playbook_seconds.labels(playbook, outcome).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def add(self, counts: Counts) -> None:
        """Counted elsewhere (Tally.since_last): added to this process's counters."""
        for name, counted in counts.items():
            if name in CARRIED:
                for labels, value in counted:
                    getattr(self, name).labels(*labels).inc(value)


class Tally:
    """What the CARRIED counters of `metrics` counted since the last ask."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._said: dict[tuple[str, tuple[str, ...]], float] = {}

    def since_last(self) -> Counts:
        counts: Counts = {}
        for name in CARRIED:
            counter: Counter = getattr(self._metrics, name)
            for sample in next(iter(counter.collect())).samples:
                if not sample.name.endswith("_total"):
                    continue
                labels = tuple(sample.labels.values())
                grown = sample.value - self._said.get((name, labels), 0.0)
                if grown:
                    counts.setdefault(name, []).append((list(labels), grown))
                    self._said[name, labels] = sample.value
        return counts
