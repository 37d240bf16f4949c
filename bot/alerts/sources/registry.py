"""Every alert source: the built-in parsers by name (the webhook path and drill scenarios use
it), and the receivers a configuration answers at /webhooks/<name>."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

from bot.alerts.schemas import AlertBatch
from bot.alerts.sources import alertmanager, generic, grafana, opsgenie, pagerduty, templated
from bot.alerts.sources.receiver import Receiver
from bot.config import FirebreakConfig

# Sources whose every body is an alert group's notification: what drills can replay.
PARSERS: dict[str, Callable[[Any], AlertBatch]] = {
    alertmanager.SOURCE: alertmanager.parse,
    grafana.SOURCE: grafana.parse,
    generic.SOURCE: generic.parse,
}
PURE = {alertmanager.SOURCE, grafana.SOURCE}  # parsers that read the body alone (no clock)


def receivers(
    *,
    config: FirebreakConfig,
    clock: Callable[[], datetime],
    environ: Mapping[str, str],
    grafana_secret: str | None = None,
    pagerduty_secret: str | None = None,
) -> dict[str, Receiver]:
    """The receiver of every /webhooks/<name> this configuration answers. Raises
    templated.SourceError naming the source when a config source cannot be built."""
    built: dict[str, Receiver] = {
        name: Receiver(parse=parse, pure=name in PURE) for name, parse in PARSERS.items()
    }
    built[generic.SOURCE] = Receiver(parse=partial(generic.parse, received=clock))
    if grafana_secret:
        built[grafana.SOURCE] = replace(
            built[grafana.SOURCE], verify=partial(_signed, grafana.check_signature, grafana_secret)
        )
    built[pagerduty.SOURCE] = Receiver(
        parse=partial(pagerduty.parse, config=config.pagerduty),
        verify=(
            partial(_signed, pagerduty.check_signature, pagerduty_secret)
            if pagerduty_secret
            else None
        ),
    )
    built[opsgenie.SOURCE] = Receiver(parse=partial(opsgenie.parse, config=config.opsgenie))
    for name, spec in config.sources.items():
        built[name] = templated.make_receiver(name, spec, clock=clock, environ=environ)
    return built


def _signed(
    check: Callable[..., None], secret: str, headers: Mapping[str, str], raw: bytes, now: float
) -> None:
    check(headers, raw, secret, now=now)
