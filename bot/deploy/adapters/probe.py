"""The Probe port with httpx: templated HTTP requests, HTTP checks and Prometheus queries."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx

from bot.deploy.ports import ProbeError, ProbeResponse


class HttpProbe:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def send(
        self, *, method: str, url: str, headers: Mapping[str, str], json: Any, timeout_s: float
    ) -> ProbeResponse:
        started = time.perf_counter()
        try:
            response = await self._client.request(
                method, url, headers=dict(headers), json=json, timeout=timeout_s
            )
        except httpx.HTTPError as exc:
            raise ProbeError(f"{method} {url}: {type(exc).__name__}", transient=True) from exc
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text[:2000]
        return ProbeResponse(
            status=response.status_code, body=body, duration_s=time.perf_counter() - started
        )

    async def prometheus(self, *, base_url: str, query: str, timeout_s: float) -> float | None:
        """An instant query over Prometheus' HTTP API (GET /api/v1/query)."""
        url = base_url.rstrip("/") + "/api/v1/query"
        try:
            response = await self._client.get(url, params={"query": query}, timeout=timeout_s)
            response.raise_for_status()
            data = response.json()["data"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise ProbeError(
                f"Prometheus query failed: {type(exc).__name__}", transient=True
            ) from exc
        if data.get("resultType") == "scalar":
            return float(data["result"][1])
        results = data.get("result") or []
        if not results:
            return None
        return float(results[0]["value"][1])
