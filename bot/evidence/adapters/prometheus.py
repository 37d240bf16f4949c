"""Prometheus's HTTP API (/api/v1/query_range) and plain image links, over httpx: the
bot.evidence.ports an alert's graph reads through.

Every call is time-boxed as a whole (connecting, waiting and reading), so a Prometheus that
accepts the connection and then says nothing costs the box and no more. A host whose name did
not resolve is not looked up again for UNRESOLVED_FOR_S. What a failure says names the server
by scheme, host and path only: never a URL's credentials or query string.
"""

from __future__ import annotations

import asyncio
import math
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.evidence.ports import EvidenceError, Series

MAX_BODY = 16 * 1024 * 1024  # a range query's JSON; more is a query with too many series
MAX_IMAGE = 8 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Alertmanager's generatorURL often names a host only its own network resolves. Each lookup
# takes one of the event loop's four resolver threads until the DNS server answers, and one
# that drops the query answers in 5 s: in a storm (a graph for every incident) those lookups
# held all four, and every new connection of the bot waited behind them (bot.serving).
UNRESOLVED_FOR_S = 60.0
UNRESOLVED_KEPT = 256  # hosts remembered at most
# Sample times outside 1970 to 9999 are left out: Prometheus stores none, and a datetime holds
# none after 9999 (the graph's axis is made of them).
LAST_UNIX_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z


class HttpEvidence:
    """Both ports over one httpx client (the app's outbound client; it is not closed here)."""

    def __init__(
        self, client: httpx.AsyncClient, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._unresolved = _Unresolved(clock)

    async def query_range(
        self,
        *,
        base_url: str,
        expr: str,
        start: datetime,
        end: datetime,
        step: timedelta,
        timeout: float,  # noqa: ASYNC109 - the whole call's time box
    ) -> list[Series]:
        where = f"Prometheus at {shown(base_url)}"
        params = {
            "query": expr,
            "start": _unix(start),
            "end": _unix(end),
            "step": f"{max(int(step.total_seconds()), 1)}s",
        }
        url = base_url.rstrip("/") + "/api/v1/query_range"
        status, body = await _get(
            self._client, self._unresolved, url, params, timeout, MAX_BODY, where
        )
        try:
            answer = httpx.Response(200, content=body).json()
        except ValueError:
            raise EvidenceError(f"{where} answered HTTP {status} with something not JSON") from None
        if not isinstance(answer, dict):
            raise EvidenceError(f"{where} answered HTTP {status} with an unexpected body")
        if answer.get("status") != "success":
            error = str(answer.get("error") or f"HTTP {status}")
            raise EvidenceError(f"{where} refused the query: {error[:300]}")
        data = answer.get("data") or {}
        if data.get("resultType") != "matrix":
            raise EvidenceError(
                f"{where} answered with a {data.get('resultType') or 'missing'} result, "
                "not a matrix"
            )
        return [_series(item) for item in data.get("result") or [] if isinstance(item, dict)]

    async def fetch_image(self, *, url: str, timeout: float) -> bytes:  # noqa: ASYNC109
        where = f"the image at {shown(url)}"
        status, body = await _get(
            self._client, self._unresolved, url, None, timeout, MAX_IMAGE, where
        )
        if status != 200:
            raise EvidenceError(f"{where} answered HTTP {status}")
        if not body.startswith(PNG_SIGNATURE):
            raise EvidenceError(f"{where} is not a PNG")
        return body


class _Unresolved:
    """Hosts whose names did not resolve lately, with what the resolver said."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._hosts: dict[str, tuple[float, str]] = {}  # host -> (looked up at, reason)

    def reason(self, host: str) -> str | None:
        seen = self._hosts.get(host)
        if seen is None:
            return None
        if self._clock() - seen[0] >= UNRESOLVED_FOR_S:
            del self._hosts[host]
            return None
        return seen[1]

    def remember(self, host: str, reason: str) -> None:
        if len(self._hosts) >= UNRESOLVED_KEPT:
            self._hosts.pop(next(iter(self._hosts)))  # the oldest
        self._hosts[host] = (self._clock(), reason)


async def _get(
    client: httpx.AsyncClient,
    unresolved: _Unresolved,
    url: str,
    params: dict[str, str] | None,
    timeout: float,  # noqa: ASYNC109
    limit: int,
    where: str,
) -> tuple[int, bytes]:
    """The status and body of a GET, within `timeout` seconds in all; EvidenceError else."""
    host = urlsplit(url).hostname or ""
    known = unresolved.reason(host)
    if known is not None:
        raise EvidenceError(
            f"{where} could not be reached: {known} "
            f"(its name did not resolve less than {UNRESOLVED_FOR_S:g} s ago)"
        )
    try:
        async with asyncio.timeout(timeout):
            async with client.stream(
                "GET",
                url,
                params=params,
                timeout=httpx.Timeout(timeout),
                follow_redirects=True,
                headers={"Accept": "application/json, image/png"},
            ) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise EvidenceError(f"{where} sent more than {limit // 2**20} MB")
                if response.status_code >= 500 or response.status_code in (401, 403, 404):
                    raise EvidenceError(f"{where} answered HTTP {response.status_code}")
                return response.status_code, bytes(body)
    except TimeoutError:
        raise EvidenceError(f"{where} did not answer in {timeout:g} s") from None
    except httpx.TimeoutException:
        raise EvidenceError(f"{where} did not answer in {timeout:g} s") from None
    except httpx.ConnectError as exc:
        if _not_resolved(exc):
            # Under the host asked for, also when a redirect led to the name that failed.
            unresolved.remember(host, _reason(exc))
        raise EvidenceError(f"{where} could not be reached: {_reason(exc)}") from None
    except httpx.HTTPError as exc:
        # Its text may quote a URL (a redirect's): the kind of failure alone.
        raise EvidenceError(f"{where} failed: {type(exc).__name__}") from None


def _not_resolved(exc: BaseException) -> bool:
    """A failure to look the host's name up (httpx wraps the resolver's error twice)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _series(item: dict[str, Any]) -> Series:
    labels = item.get("metric") or {}
    times: list[float] = []
    values: list[float] = []
    for pair in item.get("values") or []:
        try:
            at, raw = pair
            when, value = float(at), float(raw)
        except (TypeError, ValueError):
            continue
        if math.isfinite(value) and 0 <= when <= LAST_UNIX_SECOND:
            times.append(when)
            values.append(value)
    return Series(labels={str(k): str(v) for k, v in labels.items()}, times=times, values=values)


def _unix(at: datetime) -> str:
    return f"{at.timestamp():.3f}"


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def shown(url: str) -> str:
    """A URL as a failure names it: scheme, host, port and path; no credentials, no query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an invalid URL)"
    return f"{parts.scheme}://{host}{port}{parts.path}".rstrip("/")
