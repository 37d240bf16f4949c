"""Prometheus text exposition format, by hand: prometheus-client is not a dependency."""

from __future__ import annotations

from collections.abc import Iterable

from .ranking import click_through_rate
from .state import Service

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_HELP = {
    "model_requests_total": ("counter", "Ranking requests served, by model version and mode."),
    "model_errors_total": ("counter", "Ranking requests that failed in the model."),
    "model_click_through_rate": ("gauge", "Click-through rate of the served ranking (quality)."),
    "model_active_version_info": ("gauge", "The active model version and mode (always 1)."),
    "model_frozen": ("gauge", "1 while deploys to the service are frozen."),
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _sample(name: str, labels: dict[str, str], value: float) -> str:
    pairs = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return f"{name}{{{pairs}}} {value:g}"


def render(services: Iterable[Service]) -> str:
    samples: dict[str, list[str]] = {name: [] for name in _HELP}
    for s in services:
        for (version, mode), count in sorted(s.requests.items()):
            labels = {"service": s.name, "version": version, "mode": mode}
            samples["model_requests_total"].append(_sample("model_requests_total", labels, count))
        svc = {"service": s.name}
        samples["model_errors_total"].append(_sample("model_errors_total", svc, s.errors))
        ctr = click_through_rate(s.active_version, s.mode)
        samples["model_click_through_rate"].append(_sample("model_click_through_rate", svc, ctr))
        info = {"service": s.name, "version": s.active_version, "mode": s.mode}
        samples["model_active_version_info"].append(_sample("model_active_version_info", info, 1))
        samples["model_frozen"].append(_sample("model_frozen", svc, int(s.frozen)))
    lines: list[str] = []
    for name, (kind, text) in _HELP.items():
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", *samples[name]]
    return "\n".join(lines) + "\n"
