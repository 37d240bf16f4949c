"""The demo's servers: the example model service, Firebreak (with its Slack stand-in),
Alertmanager and Prometheus, each on a free port, configured from examples/demo/."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from string import Template

from bot.config import load_config
from bot.demo.processes import child, free_port
from bot.oncall import WEEKDAYS

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "examples" / "demo"
INSTALL_HINT = "sudo apt-get install prometheus prometheus-alertmanager"
SERVICE = "search-ranker"


class DemoError(Exception):
    """The demo cannot go on; the message says why."""


@dataclass(frozen=True)
class Monitoring:
    prometheus: str  # binaries
    alertmanager: str


@dataclass
class Stack:
    workdir: Path
    config: Path  # Firebreak's, filled in from examples/demo/firebreak.yaml
    model_url: str
    bot_url: str
    webhook_token: str
    page_key: str  # the local page's key (FIREBREAK_PAGE_KEY): its forms need it
    prometheus_url: str | None = None
    alertmanager_url: str | None = None

    def logs(self) -> list[Path]:
        return sorted(self.workdir.glob("*.log"))


def find_monitoring() -> Monitoring | None:
    prometheus, alertmanager = shutil.which("prometheus"), shutil.which("prometheus-alertmanager")
    if prometheus and alertmanager:
        return Monitoring(prometheus=prometheus, alertmanager=alertmanager)
    return None


def rotation(now: datetime) -> dict[str, str]:
    """The demo rotation's first hand-over: two days before `now` (a date in UTC), so in any
    time zone it is past, the next one is days away, and the first user is on call for the
    whole demo, whatever the date."""
    day = now.date() - timedelta(days=2)
    return {"rotation_start": day.isoformat(), "handover_day": WEEKDAYS[day.weekday()]}


def write_config(target: Path, *, model_service_url: str, postmortems: Path, now: datetime) -> None:
    """Firebreak's config for the demo, from examples/demo/firebreak.yaml."""
    _fill(
        "firebreak.yaml",
        target,
        model_service_url=model_service_url,
        postmortems=str(postmortems),
        **rotation(now),
    )


def on_call(config: Path, at: datetime) -> str:
    """Who the filled-in config's rotation puts on call for the demo's service at `at`."""
    oncall = load_config(config).services[SERVICE].oncall
    if oncall is None:
        raise DemoError(f"{config} gives {SERVICE} no on-call rotation")
    return oncall.on_call(at)


def start(
    exits: ExitStack,
    *,
    workdir: Path,
    postmortems: Path,
    monitoring: Monitoring | None,
    now: datetime,
    say: Callable[[str], None],
) -> Stack:
    """Start everything (stopped when `exits` closes); `now` places the on-call rotation,
    `say` narrates."""
    if not (ROOT / "examples" / "model_service").is_dir():
        raise DemoError(f"the demo runs from a Firebreak source checkout; no examples in {ROOT}")
    python = sys.executable
    model_port, bot_port = free_port(), free_port()
    model_url, bot_url = f"http://127.0.0.1:{model_port}", f"http://127.0.0.1:{bot_port}"

    exits.enter_context(
        child(
            [python, "-m", "examples.model_service", "--port", str(model_port)],
            log=workdir / "model-service.log",
            ready_url=f"{model_url}/healthz",
            cwd=ROOT,
        )
    )
    say(f"example model service up at {model_url}: {SERVICE} serves v42 (v41 before it)")

    token, page_key = secrets.token_hex(16), secrets.token_urlsafe(24)
    config = workdir / "firebreak.yaml"
    write_config(config, model_service_url=model_url, postmortems=postmortems, now=now)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FIREBREAK_"))}
    env.update(
        FIREBREAK_CONFIG=str(config),
        FIREBREAK_DATABASE_URL=f"sqlite:///{workdir / 'firebreak.db'}",
        FIREBREAK_WEBHOOK_TOKEN=token,
        FIREBREAK_PLAYBOOKS=str(ROOT / "playbooks"),
        FIREBREAK_PAGE_KEY=page_key,  # the demo's responder acts through the page
    )
    exits.enter_context(
        child(
            [python, "-m", "bot", "serve", "--port", str(bot_port), "--log-level", "warning"],
            log=workdir / "firebreak.log",
            ready_url=f"{bot_url}/readyz",
            env=env,
            cwd=workdir,
        )
    )
    say(
        f"Firebreak up at {bot_url} with its Slack stand-in (open {bot_url}/?key={page_key} "
        "in a browser to watch)"
    )
    stack = Stack(
        workdir=workdir,
        config=config,
        model_url=model_url,
        bot_url=bot_url,
        webhook_token=token,
        page_key=page_key,
    )
    if monitoring is None:
        return stack

    am_port, prom_port = free_port(), free_port()
    stack.alertmanager_url = f"http://127.0.0.1:{am_port}"
    stack.prometheus_url = f"http://127.0.0.1:{prom_port}"
    (workdir / "webhook-token").write_text(token)
    _fill(
        "alertmanager.yml",
        workdir / "alertmanager.yml",
        webhook_url=f"{bot_url}/webhooks/alertmanager",
        token_file=str(workdir / "webhook-token"),
    )
    exits.enter_context(
        child(
            [
                monitoring.alertmanager,
                f"--config.file={workdir / 'alertmanager.yml'}",
                f"--storage.path={workdir / 'alertmanager-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",  # no clustering: no port 9094
            ],
            log=workdir / "alertmanager.log",
            ready_url=f"{stack.alertmanager_url}/-/ready",
        )
    )
    say(f"Alertmanager up at {stack.alertmanager_url}: routes every alert to Firebreak")
    _fill(
        "prometheus.yml",
        workdir / "prometheus.yml",
        model_service=f"127.0.0.1:{model_port}",
        alertmanager=f"127.0.0.1:{am_port}",
    )
    shutil.copy(CONFIGS / "rules.yml", workdir / "rules.yml")
    exits.enter_context(
        child(
            [
                monitoring.prometheus,
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
                f"--web.external-url={stack.prometheus_url}/",  # the alerts' links
                "--rules.alert.resend-delay=1s",
            ],
            log=workdir / "prometheus.log",
            ready_url=f"{stack.prometheus_url}/-/ready",
        )
    )
    say(
        f"Prometheus up at {stack.prometheus_url}: scrapes the model service every second, "
        "alert ModelQualityDrop when model_click_through_rate < 0.05 for 2s"
    )
    return stack


def _fill(name: str, target: Path, **values: str) -> None:
    target.write_text(Template((CONFIGS / name).read_text()).substitute(values))
