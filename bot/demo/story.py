"""The demo's story, told as it happens: a bad model is deployed, the quality alert fires, the
on-call commander rolls back with approval, the alert resolves, the postmortem is written.

Responders act through the local Slack page exactly as a browser would (its forms, so the
stand-in signs every slash command and click); the rest is read from public HTTP APIs.
"""

from __future__ import annotations

import re
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any, TextIO, TypeVar

import httpx

from bot.alerts.sources import alertmanager
from bot.context import utcnow
from bot.demo import stack as servers
from bot.demo.page import Responder
from bot.demo.processes import wait_until
from bot.demo.stack import INSTALL_HINT, SERVICE, DemoError, Stack
from bot.slack.blocks import actions

T = TypeVar("T")
BAD_VERSION = "v43-bad"
GOOD_VERSION = "v42"  # what the example model service serves when it starts
THRESHOLD = 0.05  # as in examples/demo/rules.yml
ALERTNAME = "ModelQualityDrop"
GRAPH = "-alert.png"  # the name of the alert graph's file (bot.evidence)
NO_GRAPH = "No graph:"  # what the channel is told instead, and why
_CTR = re.compile(rf'^model_click_through_rate\{{service="{SERVICE}"\}} (\S+)$', re.M)


class Transcript:
    """Each line stamped with the seconds since the demo started."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._start = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def say(self, text: str) -> None:
        print(f"[{self.elapsed:6.1f}s] {text}", file=self._out, flush=True)


def run_demo(
    *,
    output: Path,
    monitoring: bool = True,
    timeout: float = 110,
    out: TextIO = sys.stdout,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Tell the story; 0 when the whole loop closed, 1 if it did not. `output` keeps the
    postmortem; everything else lives in a temporary folder removed at the end. `clock` is
    the servers' own: Prometheus and Firebreak read the time themselves."""
    transcript = Transcript(out)
    found = servers.find_monitoring() if monitoring else None
    if not monitoring:
        transcript.say("without Prometheus and Alertmanager: the demo posts their webhook itself")
    elif found is None:
        transcript.say(
            f"Prometheus or Alertmanager is not installed ({INSTALL_HINT}): "
            "the demo posts Alertmanager's webhook itself instead"
        )
    output = output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    with _interruptible(), ExitStack() as exits:
        workdir = Path(exits.enter_context(tempfile.TemporaryDirectory(prefix="firebreak-demo-")))
        stack: Stack | None = None
        try:
            stack = servers.start(
                exits,
                workdir=workdir,
                postmortems=output,
                monitoring=found,
                now=clock(),
                say=transcript.say,
            )
            _story(
                stack, transcript, clock=clock, deadline=time.monotonic() + timeout, output=output
            )
        except KeyboardInterrupt:
            transcript.say("interrupted: stopping every server the demo started")
            return 130
        except (DemoError, TimeoutError, RuntimeError, httpx.HTTPError) as exc:
            transcript.say(f"the demo failed: {exc}")
            if stack is not None:
                _show_logs(stack, out)
            return 1
    transcript.say(f"done in {transcript.elapsed:.1f}s; every server stopped")
    return 0


def _story(
    stack: Stack,
    transcript: Transcript,
    *,
    clock: Callable[[], datetime],
    deadline: float,
    output: Path,
) -> None:
    say = transcript.say
    on_call = servers.on_call(stack.config, clock())
    say(f"{on_call} is on call for {SERVICE} this week (a weekly rotation in Firebreak's config)")
    begun = time.time()  # a postmortem from an earlier demo may have the same name

    def wait(predicate: Callable[[], T | None], what: str, interval: float = 0.2) -> T:
        left = max(deadline - time.monotonic(), 1.0)
        return wait_until(predicate, timeout=left, what=what, interval=interval)

    with (
        httpx.Client(base_url=stack.bot_url, timeout=10) as bot,
        httpx.Client(base_url=stack.model_url, timeout=10) as model,
    ):
        prometheus = stack.prometheus_url
        if prometheus:
            wait(lambda: _prometheus_ctr(prometheus) == 0.12, "Prometheus's first scrape")
            say("Prometheus scrapes search-ranker: click-through rate 0.12")

        model.post(
            f"/v1/services/{SERVICE}/deploy", json={"version": BAD_VERSION}
        ).raise_for_status()
        say(f"deployed {BAD_VERSION} to {SERVICE}: a broken model (click-through rate 0.02)")
        _post_change(stack, bot)
        say(f"the deploy pipeline told Firebreak: {SERVICE} {GOOD_VERSION} → {BAD_VERSION}")

        started = clock()
        if prometheus:
            wait(lambda: _prometheus_alert(prometheus) == "firing", "the alert to fire")
            say(f"Prometheus: {ALERTNAME} firing; Alertmanager notifies Firebreak")
        else:
            wait(lambda: (_model_ctr(model) or 1) < THRESHOLD, "the bad model's metrics")
            _post_alert(stack, bot, started=started, ended=None)
            say(f"posted Alertmanager's notification: {ALERTNAME} firing on {SERVICE}")

        incident = wait(lambda: _announced(bot), "the incident to open")
        ref, channel, commander = incident["id"], incident["channel_id"], incident["commander"]
        if commander != on_call:
            raise DemoError(f"{ref}'s commander is {commander}, but {on_call} is on call")
        say(
            f"{ref} opened: #{incident['channel_name']}, {incident['severity']}, "
            f"commander {commander} (on call for {SERVICE})"
        )

        responder = Responder(bot, user=commander, page_key=stack.page_key)
        if prometheus:
            # The evidence before the action, as a commander reads it; and the postmortem,
            # written as the incident resolves, keeps the picture only if it was drawn by then.
            graph = wait(
                lambda: responder.shared(channel, GRAPH) or responder.said(channel, NO_GRAPH),
                "the alert's graph",
            )
            if not graph.endswith(GRAPH):
                raise DemoError(f"Firebreak drew no graph of the alert: {graph}")
            say(f"Firebreak posted the alert's graph from Prometheus: {graph}")
        responder.type(channel, "/incident rollback")
        say(f"{commander} typed /incident rollback in #{incident['channel_name']}")
        approve = wait(lambda: responder.find(channel, actions.RUN_APPROVE), "the approval")
        say("Firebreak asks for approval: Approve and run / Reject")
        responder.click(approve)
        say(f"{commander} clicked Approve and run (a signed block_actions from the stand-in)")

        version = wait(lambda: _rolled_back(model), "the rollback")
        say(f"the rollback playbook moved {SERVICE} from {BAD_VERSION} back to {version}")

        if prometheus:
            wait(lambda: (_prometheus_ctr(prometheus) or 0) >= THRESHOLD, "the signal")
            say("quality signal recovered: Prometheus reads click-through rate 0.12")
        else:
            wait(lambda: (_model_ctr(model) or 0) >= THRESHOLD, "the signal")
            say("quality signal recovered: the model service reports click-through rate 0.12")
            _post_alert(stack, bot, started=started, ended=clock())

        wait(lambda: _timeline(bot, ref, "alerts.all_resolved"), "the alert to resolve")
        say(f"{ALERTNAME} resolved: {ref}'s timeline says all its alerts are resolved")
        finished = wait(lambda: _run_finished(bot, ref), "the rollback run to finish")
        say(f"playbook run: {finished.split(' ', 1)[1]}")  # without its emoji

        responder.type(channel, f"/incident budget {SERVICE}")
        budget = wait(lambda: responder.reply_with(channel, "Consumed"), "the budget")
        for line in budget.splitlines()[1:]:
            say(f"budget: {line}")

        responder.type(channel, "/incident resolve")
        confirm = wait(lambda: responder.find(channel, actions.RESOLVE_CONFIRM), "the confirm")
        responder.click(confirm)
        wait(lambda: _status(bot, ref) == "resolved", "the incident to be resolved")
        say(f"{commander} resolved {ref}")

        written = wait(lambda: _written_since(output, ref, begun), "the postmortem")
        say(f"postmortem written: {written}")
        for line in written.read_text().splitlines():
            if line.startswith(("- **Duration:**", "- **Error budget:**")):
                say("postmortem: " + line.removeprefix("- ").replace("**", ""))


def _written_since(folder: Path, ref: str, moment: float) -> Path | None:
    return next((f for f in folder.glob(f"{ref}-*.md") if f.stat().st_mtime >= moment), None)


def _announced(bot: httpx.Client) -> dict[str, Any] | None:
    listed = bot.get("/api/incidents").json()
    if not listed:
        return None
    incident: dict[str, Any] = bot.get(f"/api/incidents/{listed[0]['id']}").json()
    kinds = {t["kind"] for t in incident["timeline"]}
    return incident if "incident.announced" in kinds and incident["commander"] else None


def _timeline(bot: httpx.Client, ref: str, kind: str, containing: str = "") -> str | None:
    timeline = bot.get(f"/api/incidents/{ref}").json()["timeline"]
    found = [t["text"] for t in timeline if t["kind"] == kind and containing in t["text"]]
    return found[-1] if found else None


def _run_finished(bot: httpx.Client, ref: str) -> str | None:
    return _timeline(bot, ref, "playbook.run", " succeeded in ") or _timeline(
        bot, ref, "playbook.run", " FAILED in "
    )


def _status(bot: httpx.Client, ref: str) -> str:
    return str(bot.get(f"/api/incidents/{ref}").json()["status"])


def _rolled_back(model: httpx.Client) -> str | None:
    active = str(model.get(f"/v1/services/{SERVICE}").json()["active_version"])
    return None if active == BAD_VERSION else active


def _model_ctr(model: httpx.Client) -> float | None:
    found = _CTR.search(model.get("/metrics").text)
    return float(found[1]) if found else None


def _prometheus_ctr(url: str) -> float | None:
    query = f'model_click_through_rate{{service="{SERVICE}"}}'
    result = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=5).json()
    series = result["data"]["result"]
    return float(series[0]["value"][1]) if series else None


def _prometheus_alert(url: str) -> str | None:
    alerts = httpx.get(f"{url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return next((a["state"] for a in alerts if a["labels"]["alertname"] == ALERTNAME), None)


def _post_alert(
    stack: Stack, bot: httpx.Client, *, started: datetime, ended: datetime | None
) -> None:
    """Without Prometheus and Alertmanager: their notification, as examples/demo/ would send."""
    body = alertmanager.notification(
        labels={"alertname": ALERTNAME, "service": SERVICE, "severity": "critical"},
        annotations={
            "summary": f"{SERVICE}: click-through rate dropped below {THRESHOLD}",
            "runbook_url": "https://runbooks.example.com/search-ranker",
        },
        starts_at=started,
        ends_at=ended,
    )
    response = bot.post(
        "/webhooks/alertmanager",
        json=body,
        headers={"Authorization": f"Bearer {stack.webhook_token}"},
    )
    if not response.is_success:
        raise DemoError(f"the webhook answered {response.status_code}: {response.text[:200]}")


def _post_change(stack: Stack, bot: httpx.Client) -> None:
    """What a deploy pipeline sends (POST /webhooks/changes): "What changed", the model card's
    "Live since" and the alert graph's marker come from it."""
    response = bot.post(
        "/webhooks/changes",
        json={
            "id": f"demo-deploy-{BAD_VERSION}-{time.time_ns()}",
            "kind": "deploy",
            "service": SERVICE,
            "version": BAD_VERSION,
            "previous_version": GOOD_VERSION,
            "author": "the demo's deploy pipeline",
            "summary": f"deploy {BAD_VERSION}",
        },
        headers={"Authorization": f"Bearer {stack.webhook_token}"},
    )
    if not response.is_success:
        raise DemoError(
            f"the change webhook answered {response.status_code}: {response.text[:200]}"
        )


def _show_logs(stack: Stack, out: TextIO) -> None:
    for log in stack.logs():
        lines = log.read_text(errors="replace").splitlines()[-15:]
        print(f"--- last lines of {log.name} ---", *lines, sep="\n", file=out)


@contextmanager
def _interruptible() -> Iterator[None]:
    """Ctrl-C and SIGTERM unwind the demo, so its servers and temporary folder go too (even
    when started in the background, where a shell may have set SIGINT to be ignored)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
