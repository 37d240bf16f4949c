"""Sending a prepared request, shared by the HTTP-based targets: the real token goes on only
here, durations are measured, and failures become DeployErrors that say whether a retry may
help (5xx, 408, 429, timeouts and broken connections) or not (other 4xx)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from bot.deploy.ports import DeployError, Request, Response

REDACTED = "***"  # what Request.headers show instead of a token
# Timeout and throttling answers mean "try again later", although they are 4xx.
RETRYABLE_4XX = frozenset({408, 429})


async def send(
    client: httpx.AsyncClient,
    request: Request,
    *,
    token: str | None,
    timeout_s: float,
    earlier: Sequence[Response] = (),
) -> Response:
    """Send one request; return its Response, or raise DeployError unless it answered 2xx.
    `earlier` responses of the same action travel with the error, as evidence."""
    headers = dict(request.headers)
    if "Authorization" in headers and token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = None
    if request.json is not None:
        content = json.dumps(request.json).encode()
        headers["Content-Type"] = request.content_type or "application/json"
    where = f"{request.method} {request.url}"
    started = time.perf_counter()
    try:
        reply = await client.request(
            request.method,
            request.url,
            headers=headers,
            content=content,
            timeout=httpx.Timeout(timeout_s),
        )
    except httpx.TimeoutException as exc:
        raise DeployError(
            f"{where} timed out after {timeout_s:g}s ({type(exc).__name__})",
            transient=True,
            responses=tuple(earlier),
        ) from exc
    except httpx.HTTPError as exc:  # refused or dropped connections
        raise DeployError(
            f"{where} failed: {type(exc).__name__}: {exc}".rstrip(": "),
            transient=True,
            responses=tuple(earlier),
        ) from exc
    response = Response(reply.status_code, body_of(reply), time.perf_counter() - started)
    if not reply.is_success:
        raise DeployError(
            f"{where} → {reply.status_code}: {server_message(response.body)}".rstrip(": "),
            transient=reply.status_code >= 500 or reply.status_code in RETRYABLE_4XX,
            status=reply.status_code,
            responses=(*earlier, response),
        )
    return response


async def send_into(
    responses: list[Response],
    client: httpx.AsyncClient,
    request: Request,
    *,
    token: str | None,
    timeout_s: float,
) -> None:
    """send(), keeping every response of one action (a refusal's too) in `responses`."""
    try:
        responses.append(
            await send(client, request, token=token, timeout_s=timeout_s, earlier=responses)
        )
    except DeployError as error:
        responses[:] = error.responses
        raise


async def read(
    client: httpx.AsyncClient, request: Request, *, token: str | None, timeout_s: float
) -> Any:
    """A read while preparing: the body of a 2xx answer (DeployError otherwise)."""
    return (await send(client, request, token=token, timeout_s=timeout_s)).body


def body_of(reply: httpx.Response) -> Any:
    try:
        return reply.json()
    except ValueError:  # not JSON: keep the text, a proxy's error page is still evidence
        return reply.text


def server_message(body: Any) -> str:
    """The server's own words: `message` with its code (`error`, MLflow's `error_code`)."""
    if isinstance(body, Mapping) and body.get("message"):
        code = body.get("error") or body.get("error_code")
        return f"{code}: {body['message']}" if code else str(body["message"])
    return str(body).strip()[:500]
