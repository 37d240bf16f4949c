"""The `http` deployment target: Firebreak's reference Deployment API (docs/deployment-api.yaml).

One action is one request. `prepare` only builds it, so a dry run shows exactly what would be
sent; `execute` sends it with the prepared `Idempotency-Key`, so retrying a step whose response
was lost replays the server's first answer instead of rolling back twice.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from bot.deploy.adapters.wire import REDACTED, send
from bot.deploy.config import HttpTargetConfig
from bot.deploy.ports import Action, DeployError, Mode, Prepared, Request, Response, Result, State


class HttpTarget:
    kind = "http"

    def __init__(
        self,
        config: HttpTargetConfig,
        *,
        service: str,
        token: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        """`service` is our name for it; `config.service` the API's, when that differs.

        Without `token`, the variable named by `config.token_env` is read (here, not at import).
        A given `client` is used as is and left open: its owner closes it.
        """
        self.config = config
        self.service = service
        self.remote_service = config.service or service
        if token is None and config.token_env:
            token = os.environ.get(config.token_env) or None
        self._token = token
        self._client = client
        root = str(config.url).rstrip("/")
        self._base = f"{root}/v1/services/{quote(self.remote_service, safe='')}"

    async def prepare(
        self, *, action: Action, service: str, args: Mapping[str, Any], idempotency_key: str
    ) -> Prepared:
        if service != self.service:
            raise DeployError(
                f"this http target serves {self.service!r}, not {service!r}", transient=False
            )
        method, path, body, note = self._plan(action, args)
        headers = {"Accept": "application/json"}
        if method == "POST":
            headers["Idempotency-Key"] = idempotency_key
        if self._token is not None:
            headers["Authorization"] = REDACTED  # the real token is only added when sending
        request = Request(method=method, url=self._base + path, headers=headers, json=body)
        return Prepared(
            action=action,
            service=service,
            requests=(request,),
            idempotency_key=idempotency_key,
            note=note,
        )

    async def execute(self, prepared: Prepared, *, timeout_s: float) -> Result:
        responses: list[Response] = []
        async with self._client_scope() as client:
            for request in prepared.requests:
                responses.append(await self._send(client, request, timeout_s, responses))
        state = _state(prepared.service, tuple(responses)) if responses else None
        return Result(prepared=prepared, responses=tuple(responses), state=state)

    async def read_state(self, service: str, *, timeout_s: float) -> State:
        """GET /v1/services/{service}: the state the approval card's plan starts from."""
        prepared = await self.prepare(
            action=Action.GET_STATE, service=service, args={}, idempotency_key="read-state"
        )
        result = await self.execute(prepared, timeout_s=timeout_s)
        assert result.state is not None  # one GET, parsed or refused by _state
        return result.state

    @asynccontextmanager
    async def _client_scope(self) -> AsyncIterator[httpx.AsyncClient]:
        if self._client is not None:
            yield self._client
        else:
            async with httpx.AsyncClient() as client:
                yield client

    def _plan(
        self, action: Action, args: Mapping[str, Any]
    ) -> tuple[str, str, dict[str, Any] | None, str]:
        """(method, path under the service, JSON body, note for the dry run)."""
        name = self.remote_service
        if action is Action.GET_STATE:
            return "GET", "", None, f"read {name}'s state"
        if action is Action.ROLLBACK:
            to_version = args.get("to_version")
            if to_version is not None and not (isinstance(to_version, str) and to_version):
                raise DeployError(
                    f"to_version must be a version name, not {to_version!r}", transient=False
                )
            target = to_version or "the version active before the current one"
            return "POST", "/rollback", {"to_version": to_version}, f"roll {name} back to {target}"
        if action is Action.SET_MODE:
            mode = args.get("mode")
            if mode not in tuple(Mode):
                raise DeployError(
                    f"mode must be 'model' or 'heuristic', not {mode!r}", transient=False
                )
            return "POST", "/mode", {"mode": str(mode)}, f"switch {name} to the {mode}"
        if action is Action.FREEZE:
            reason = args.get("reason")
            if not (isinstance(reason, str) and reason.strip()):
                raise DeployError("freezing needs a reason", transient=False)
            return "POST", "/freeze", {"reason": reason}, f"freeze deploys to {name}"
        if action is Action.UNFREEZE:
            return "POST", "/unfreeze", None, f"unfreeze deploys to {name}"
        raise DeployError(f"the http target cannot {action}", transient=False)

    async def _send(
        self,
        client: httpx.AsyncClient,
        request: Request,
        timeout_s: float,
        earlier: list[Response],
    ) -> Response:
        return await send(client, request, token=self._token, timeout_s=timeout_s, earlier=earlier)


class _StateBody(BaseModel):
    """The API's State, as much of it as the port carries; extra fields are the server's own."""

    active_version: str | None
    previous_versions: list[str] = []
    mode: Mode = Mode.MODEL
    frozen: bool = False
    freeze_reason: str | None = None


def _state(service: str, responses: tuple[Response, ...]) -> State:
    """Parse the last response's State. `service` is ours: callers know it by our name."""
    last = responses[-1]
    try:
        body = _StateBody.model_validate(last.body)
    except ValidationError as exc:
        raise DeployError(
            f"unexpected answer from the deployment API: {str(last.body)[:200]}",
            transient=False,
            status=last.status,
            responses=responses,
        ) from exc
    return State(
        service=service,
        active_version=body.active_version,
        previous_versions=tuple(body.previous_versions),
        mode=body.mode.value,
        frozen=body.frozen,
        freeze_reason=body.freeze_reason,
    )
