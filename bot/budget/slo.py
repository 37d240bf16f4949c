"""A service's SLO as firebreak.yaml states it, and a reader for OpenSLO v1 `kind: SLO` files.

In firebreak.yaml a service's SLO looks like::

    slo:
      target: 99.95      # a percentage, not a fraction
      window: 28d        # rolling, whole days from 1d to 90d
      method: time       # or "requests"
      valid_requests: 3000000   # optional, method "requests" only: expected per window

Budgets are always accounted in time ("bad minutes"): Firebreak sees impact intervals, not request
counts. For a request-based SLO that is exact when traffic is spread evenly over the window, and
`valid_requests` only lets the budget also be stated as a number of failed requests.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from bot.durations import Duration, format_duration

MIN_WINDOW = timedelta(days=1)
MAX_WINDOW = timedelta(days=90)
_DAY = timedelta(days=1)


class Slo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: float = Field(description="percentage of good time or requests, e.g. 99.95")
    window: Duration = Field(description="rolling window, whole days: 7d, 28d, 30d")
    method: Literal["time", "requests"] = "time"
    valid_requests: int | None = Field(
        None, gt=0, description='method "requests" only: valid requests expected per window'
    )

    @field_validator("target", mode="before")
    @classmethod
    def _percent_sign(cls, value: Any) -> Any:
        # YAML reads `target: 99.9%` as a string; the sign says what we assume anyway.
        if isinstance(value, str) and value.strip().endswith("%"):
            return value.strip()[:-1].strip()
        return value

    @field_validator("target")
    @classmethod
    def _target_range(cls, target: float) -> float:
        if math.isnan(target):
            raise ValueError("target is not a number; give a percentage like 99.9")
        if target >= 100:
            raise ValueError(
                f"target {target:g} must be below 100: a 100% target leaves no error budget"
            )
        if target <= 0:
            raise ValueError(f"target {target:g} must be a percentage above 0, like 99.9")
        if target <= 1:
            # 0.999 is how OpenSLO and many dashboards write 99.9%; a 1% SLO is never meant.
            raise ValueError(
                f"target {target:g} looks like a fraction; write it as a percentage (0.999 → 99.9)"
            )
        return target

    @field_validator("window")
    @classmethod
    def _window_days(cls, window: timedelta) -> timedelta:
        if window % _DAY or not MIN_WINDOW <= window <= MAX_WINDOW:
            shown = format_duration(window) if window >= timedelta(0) else str(window)
            raise ValueError(
                f"window must be a whole number of days from 1d to 90d, like 28d (got {shown})"
            )
        return window

    @field_validator("valid_requests")
    @classmethod
    def _requests_only(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("method", "time") != "requests":
            raise ValueError('valid_requests applies only to method: "requests"')
        return value

    @property
    def _error_decimal(self) -> Decimal:
        # Decimal from the target as written: in binary floating point 1 - 99.9/100 is
        # 0.0009999999999998899, which would show as 43.199999 minutes and 2999 requests.
        return (Decimal(100) - Decimal(repr(self.target))) / Decimal(100)

    @property
    def error_fraction(self) -> float:
        """The share of time (or requests) allowed to be bad: 1 - target/100."""
        return float(self._error_decimal)

    @property
    def budget(self) -> timedelta:
        """Minutes of full outage the window allows: error_fraction x window.

        Also for method "requests", as the time equivalent under evenly spread traffic.
        """
        micros = Decimal(self.window // timedelta(microseconds=1)) * self._error_decimal
        return timedelta(microseconds=int(micros.to_integral_value()))

    @property
    def budget_requests(self) -> int | None:
        """Failed requests the window allows (rounded down), if valid_requests is known."""
        if self.valid_requests is None:
            return None
        return int(Decimal(self.valid_requests) * self._error_decimal)


class SloError(ValueError):
    """An SLO definition Firebreak cannot use: where (a field path) and why."""

    def __init__(self, place: str, reason: str) -> None:
        super().__init__(f"{place}: {reason}")
        self.place = place
        self.reason = reason


# OpenSLO duration shorthand: a whole number and one case-sensitive unit.
_SHORTHAND = re.compile(r"(\d+)([mhdwMQY])")
# OpenSLO leaves the length of M/Q/Y to implementations; these follow its Go package.
_SHORTHAND_UNITS = {
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
    "M": timedelta(days=30),
    "Q": timedelta(days=90),
    "Y": timedelta(days=365),
}
_METHODS: dict[str, Literal["time", "requests"]] = {
    "Occurrences": "requests",
    "Timeslices": "time",
    "RatioTimeslices": "time",
}


def load_openslo(text: str, *, name: str | None = None, objective: str | None = None) -> Slo:
    """The Slo described by an OpenSLO v1 `kind: SLO` document.

    `text` may hold several YAML documents (Service, SLI, ...); the one `kind: SLO` is read, or
    the one whose metadata.name is `name`. An SLO with several objectives needs `objective`, the
    displayName of the one to account against. Raises SloError naming the place and the reason.
    """
    doc = _pick_document(text, name=name)
    for key, wanted in (("apiVersion", "openslo/v1"), ("kind", "SLO")):
        if doc.get(key) != wanted:
            raise SloError(key, f"expected {wanted!r}, got {doc.get(key)!r}")
    spec = _mapping(doc.get("spec"), "spec")
    window = _window(spec)
    method = _method(spec)
    index, target_key, percent = _target(spec, objective=objective)
    try:
        return Slo(target=percent, window=window, method=method)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = {
            "target": f"spec.objectives[{index}].{target_key}",
            "window": "spec.timeWindow[0].duration",
        }.get(str(first["loc"][0]), "spec")
        raise SloError(place, first["msg"].removeprefix("Value error, ")) from exc


def _pick_document(text: str, *, name: str | None) -> dict[str, Any]:
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise SloError("(document)", f"not valid YAML: {exc}") from exc
    if not docs:
        raise SloError("(document)", "empty: expected an OpenSLO `kind: SLO` document")
    if len(docs) == 1 and name is None:
        # A lone document is the SLO or a mistake that the apiVersion/kind checks describe.
        return _mapping(docs[0], "(document)")
    slos = [d for d in docs if isinstance(d, dict) and d.get("kind") == "SLO"]
    if name is not None:
        slos = [d for d in slos if _mapping(d.get("metadata"), "metadata").get("name") == name]
        if not slos:
            raise SloError("metadata.name", f"no kind: SLO document is named {name!r}")
    if not slos:
        raise SloError("kind", f"none of the {len(docs)} documents is of kind SLO")
    if len(slos) > 1:
        names = ", ".join(repr((d.get("metadata") or {}).get("name")) for d in slos)
        raise SloError("metadata.name", f"several SLOs ({names}); say which one by name")
    return slos[0]


def _mapping(value: Any, place: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SloError(place, f"expected a mapping, got {type(value).__name__}")
    return value


def _window(spec: dict[str, Any]) -> timedelta:
    windows = spec.get("timeWindow")
    if not isinstance(windows, list) or len(windows) != 1:
        raise SloError(
            "spec.timeWindow", "expected exactly one time window, like [{duration: 28d}]"
        )
    window = _mapping(windows[0], "spec.timeWindow[0]")
    # The spec assumes isRolling false only when a calendar is given; absent both, it rolls.
    rolling = window.get("isRolling", "calendar" not in window)
    if rolling is not True or "calendar" in window:
        raise SloError(
            "spec.timeWindow[0]",
            "calendar-aligned windows are not supported: Firebreak accounts over a rolling "
            "window (isRolling: true)",
        )
    duration = window.get("duration")
    match = _SHORTHAND.fullmatch(duration) if isinstance(duration, str) else None
    if match is None:
        raise SloError(
            "spec.timeWindow[0].duration",
            f"{duration!r} is not a duration shorthand like 28d or 4w",
        )
    return int(match[1]) * _SHORTHAND_UNITS[match[2]]


def _method(spec: dict[str, Any]) -> Literal["time", "requests"]:
    method = spec.get("budgetingMethod")
    if method not in _METHODS:
        raise SloError(
            "spec.budgetingMethod",
            f"expected one of {', '.join(_METHODS)}, got {method!r}",
        )
    return _METHODS[method]


def _target(spec: dict[str, Any], *, objective: str | None) -> tuple[int, str, float]:
    """(index of the objective, the key its target came from, the target as a percentage)."""
    objectives = spec.get("objectives")
    if not isinstance(objectives, list) or not objectives:
        raise SloError("spec.objectives", "expected a list with at least one objective")
    index = _objective_index(objectives, objective=objective)
    chosen = _mapping(objectives[index], f"spec.objectives[{index}]")
    here = f"spec.objectives[{index}]"
    if "target" in chosen and "targetPercent" in chosen:
        raise SloError(here, "give target or targetPercent, not both")
    if "target" in chosen:
        value = _number(chosen["target"], f"{here}.target")
        if not 0 < value < 1:
            raise SloError(f"{here}.target", f"{value:g} is not a fraction like 0.999")
        # Via the decimal text, so 0.999 becomes 99.9 and not 99.89999999999999.
        return index, "target", float(Decimal(repr(value)) * 100)
    if "targetPercent" in chosen:
        value = _number(chosen["targetPercent"], f"{here}.targetPercent")
        if not 0 < value < 100:
            raise SloError(f"{here}.targetPercent", f"{value:g} is not a percentage like 99.9")
        return index, "targetPercent", value
    raise SloError(here, "has neither target nor targetPercent")


def _objective_index(objectives: list[Any], *, objective: str | None) -> int:
    names = [o.get("displayName") if isinstance(o, dict) else None for o in objectives]
    if objective is not None:
        if objective not in names:
            raise SloError("spec.objectives", f"no objective has displayName {objective!r}")
        return names.index(objective)
    if len(objectives) > 1:
        # Several thresholds (say p95 and p99 latency) are different budgets; guessing would
        # announce the wrong one.
        listed = ", ".join(repr(n) for n in names)
        raise SloError(
            "spec.objectives",
            f"{len(objectives)} objectives ({listed}); say which one by displayName",
        )
    return 0


def _number(value: Any, place: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise SloError(place, f"expected a number, got {value!r}")
    return float(value)
