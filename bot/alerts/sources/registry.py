"""Every alert source's parser, by the name its webhook path and drill scenarios use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.alerts.schemas import AlertBatch
from bot.alerts.sources import alertmanager, generic, grafana

PARSERS: dict[str, Callable[[Any], AlertBatch]] = {
    alertmanager.SOURCE: alertmanager.parse,
    grafana.SOURCE: grafana.parse,
    generic.SOURCE: generic.parse,
}
