"""What drawing an alert's graph asks of the outside: a Prometheus range query, an image an
alert source links to (Grafana's imageURL), and somewhere to draw that does not hold up the bot.
Adapters in bot.evidence.adapters implement them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol


@dataclass(frozen=True)
class Series:
    """One series of a range query's result: its labels and its (time, value) points, in order;
    points whose value is not a finite number are left out."""

    labels: Mapping[str, str]
    points: Sequence[tuple[datetime, float]]


class EvidenceError(Exception):
    """The evidence could not be had; the message says why in a line fit for the channel
    (plain text: escaped where shown; never a secret, a URL's credentials or its query)."""


class RangeQuery(Protocol):
    async def query_range(
        self,
        *,
        base_url: str,
        expr: str,
        start: datetime,
        end: datetime,
        step: timedelta,
        timeout: float,  # noqa: ASYNC109 - the whole query's time box, the adapter enforces it
    ) -> list[Series]:
        """Prometheus's /api/v1/query_range at `base_url`; raises EvidenceError."""
        ...


class ImageFetch(Protocol):
    async def fetch_image(self, *, url: str, timeout: float) -> bytes:  # noqa: ASYNC109
        """A PNG an alert links to; raises EvidenceError (not a PNG, too big, no answer)."""
        ...


class Evidence(RangeQuery, ImageFetch, Protocol):
    """Both: what the graph follow-up is given."""


class Drawer(Protocol):
    async def draw(self, draw: Callable[..., bytes], /, **parts: Any) -> bytes:
        """`draw(**parts)` (a module-level function; its arguments pickle) away from the event
        loop; its own errors are raised as they are. Raises EvidenceError when the place it is
        drawn in failed (a drawing process that died)."""
        ...
