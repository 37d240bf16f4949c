"""Slack Web API calls, errors and retries, counted where every call passes.

Every method of slack_sdk's AsyncWebClient (files_upload_v2's steps included) goes through
`api_call`; retries happen below it, in the client's retry handlers, which we wrap. Bolt builds
a fresh client per request, so bot/slack/bolt.py hands listeners this one instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.metrics import Metrics


class MeteredWebClient(AsyncWebClient):
    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._metrics = metrics

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        self._metrics.slack_calls.labels(api_method).inc()
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            self._failed(api_method, error_code(exc))
            raise
        except TimeoutError:
            self._failed(api_method, "timeout")
            raise
        except (aiohttp.ClientError, OSError):
            self._failed(api_method, "connection_error")
            raise

    def _failed(self, method: str, error: str) -> None:
        self._metrics.slack_errors.labels(method, error).inc()


def keep_alive(
    clients: Iterable[AsyncWebClient], *, timeout: float, connect: float
) -> aiohttp.ClientSession:
    """One connection pool for these clients, kept open until it is closed: without one, the
    SDK opens a connection (TCP, and TLS to Slack) for each call and closes it after. Made and
    closed on the loop that makes the calls (the app's lifespan); once closed, each call opens
    its own again.

    `connect` bounds opening a new connection apart from the call's `timeout`: in storms a
    few new connections stalled until the call's whole timeout (10 s, in uvloop's address
    lookup before connecting, queued behind lookups of a host the DNS server did not answer;
    bot.serving.event_loop now answers an address at once), and every incident whose set-up
    call it was announced 12 s late instead of 1-2 s. Given up sooner, the outbox sends it
    again: a slow network or DNS can still hold a connect up."""
    pool = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=connect))
    for client in clients:
        client.session = pool
    return pool


def error_code(exc: SlackApiError) -> str:
    """Slack's own code (`name_taken`, `ratelimited`), or http_<status> when it sent none."""
    return str(exc.response.get("error") or f"http_{exc.response.status_code}")


class MeteredRetry(AsyncRetryHandler):
    """Counts each retry the wrapped handler decides on, by the Slack method it repeats."""

    def __init__(self, inner: AsyncRetryHandler, *, reason: str, metrics: Metrics) -> None:
        super().__init__(
            max_retry_count=inner.max_retry_count, interval_calculator=inner.interval_calculator
        )
        self._inner, self._reason, self._metrics = inner, reason, metrics

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return await self._inner.can_retry_async(
            state=state, request=request, response=response, error=error
        )

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        method = request.url.rstrip("/").rsplit("/", 1)[-1]
        self._metrics.slack_retries.labels(method, self._reason).inc()
        await self._inner.prepare_for_next_attempt_async(
            state=state, request=request, response=response, error=error
        )
