"""An MLflow Model Registry as a deployment target: a serving alias (e.g. `champion`) names the
live model version, and rolling back points the alias at an earlier version.

MLflow keeps no alias history, so Firebreak keeps its own (`AliasHistory`): it records every
alias value it observes, on get_state, on preparing a rollback and after each move. When the
history knows no earlier version, rollback falls back to the highest existing version number below
the current one, and says so in the note.

REST API (Model Registry 2.0; shapes checked against a live MLflow 3.17 server):
- GET  /api/2.0/mlflow/registered-models/alias?name=&alias= → {"model_version": {"version", …}};
  an unset alias answers 400 INVALID_PARAMETER_VALUE.
- POST /api/2.0/mlflow/registered-models/alias {"name","alias","version"} → {}; an unknown
  version answers 404 RESOURCE_DOES_NOT_EXIST.
- GET  /api/2.0/mlflow/model-versions/search?filter=name='…' → {"model_versions": […],
  "next_page_token"?}; a name holding ' is quoted with " instead.
- Errors are {"error_code", "message"}; a token goes as `Authorization: Bearer` (MLflow's own
  client sends MLFLOW_TRACKING_TOKEN that way, mlflow/utils/rest_utils.py).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import httpx

from bot.deploy.adapters.wire import (
    REDACTED,
    RETRYABLE_4XX,
    body_of,
    read,
    send,
    send_into,
    server_message,
)
from bot.deploy.config import MlflowTargetConfig
from bot.deploy.ports import (
    Action,
    DeployError,
    Prepared,
    RegisteredVersion,
    Request,
    Response,
    Result,
    State,
)
from bot.links import without_credentials

# Timeouts and throttling mean "try again shortly", although they are 4xx.
_UNSUPPORTED = {
    Action.SET_MODE: (
        "an MLflow registry has no heuristic mode; switch with a feature flag or the http target"
    ),
    Action.FREEZE: (
        "an MLflow registry cannot freeze deploys; freeze the pipeline that moves the alias, "
        "or use the kubernetes or http target"
    ),
    Action.UNFREEZE: "an MLflow registry has no freeze to lift",
}


class AliasHistory(Protocol):
    """The values an alias has been seen to hold, kept by Firebreak since MLflow keeps none."""

    async def seen(self, *, model: str, alias: str) -> list[str]:
        """Versions the alias was seen at, newest first."""
        ...

    async def record(self, *, model: str, alias: str, version: str) -> None:
        """Note that the alias points at version now."""
        ...


class InMemoryAliasHistory:
    """An AliasHistory for tests and single-process use: lost on restart."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], list[str]] = {}

    async def seen(self, *, model: str, alias: str) -> list[str]:
        return list(self._seen.get((model, alias), []))

    async def record(self, *, model: str, alias: str, version: str) -> None:
        versions = self._seen.setdefault((model, alias), [])
        if not versions or versions[0] != version:  # observing the same value again is no move
            versions.insert(0, version)


class MlflowTarget:
    """One registered model's serving alias.

    Without a persistent `history`, what Firebreak saw lives as long as the process, and rollback
    falls back to version numbers after a restart.
    """

    kind = "mlflow"

    def __init__(
        self,
        config: MlflowTargetConfig,
        *,
        service: str,
        token: str | None = None,
        client: httpx.AsyncClient | None = None,
        history: AliasHistory | None = None,
    ) -> None:
        self._config = config
        self._service = service
        if token is None and config.token_env:  # read here, never at import
            token = os.environ.get(config.token_env) or None
        self._token = token
        self._client = client
        self._history: AliasHistory = history if history is not None else InMemoryAliasHistory()
        self._api = str(config.url).rstrip("/") + "/api/2.0/mlflow"
        self._model, self._alias = config.model, config.alias
        self._alias_url = f"{self._api}/registered-models/alias"

    async def prepare(
        self, *, action: Action, service: str, args: Mapping[str, Any], idempotency_key: str
    ) -> Prepared:
        action = Action(action)
        if service != self._service:
            raise _refused(f"this target deploys {self._service}, not {service}")
        if action in _UNSUPPORTED:
            raise _refused(_UNSUPPORTED[action])
        if action is Action.GET_STATE:
            requests, note = [self._get_alias()], ""
        else:
            to_version = None if args.get("to_version") is None else str(args["to_version"])
            async with self._session() as client:
                requests, note = await self._plan_rollback(client, to_version)
        return Prepared(action, service, tuple(requests), idempotency_key, note)

    async def execute(self, prepared: Prepared, *, timeout_s: float) -> Result:
        # MLflow takes no Idempotency-Key, and needs none: setting an alias is an upsert to an
        # absolute version, so sending the same request twice leaves the registry the same.
        responses: list[Response] = []
        async with self._session() as client:
            for request in prepared.requests:
                await send_into(responses, client, request, token=self._token, timeout_s=timeout_s)
        version: str | None = None
        if prepared.action is Action.GET_STATE and responses:
            version = _alias_version(responses[-1].body)
        elif prepared.action is Action.ROLLBACK and prepared.requests:
            version = str(prepared.requests[-1].json["version"])
        if version is None:
            return Result(prepared, tuple(responses), None)
        await self._history.record(model=self._model, alias=self._alias, version=version)
        return Result(prepared, tuple(responses), await self._state(prepared.service, version))

    async def read_state(self, service: str, *, timeout_s: float) -> State:
        """The version the alias points at now (recorded in the alias history, as get_state
        does), and the earlier ones the history knows."""
        if service != self._service:
            raise _refused(f"this target deploys {self._service}, not {service}")
        async with self._session() as client:
            response = await send(client, self._get_alias(), token=self._token, timeout_s=timeout_s)
        active = _alias_version(response.body)
        if active is None:
            return State(service=service, active_version=None)
        await self._history.record(model=self._model, alias=self._alias, version=active)
        return await self._state(service, active)

    # -- planning: reads only ------------------------------------------------------------------

    async def _plan_rollback(
        self, client: httpx.AsyncClient, to_version: str | None
    ) -> tuple[list[Request], str]:
        current = _alias_version(await self._read(client, self._get_alias()))
        if current is None:
            raise _refused(f"alias {self._alias} of model {self._model} points at no version")
        await self._history.record(model=self._model, alias=self._alias, version=current)
        versions = await self._versions(client)
        if to_version is not None:
            if to_version not in versions:
                raise _refused(f"model {self._model} has no version {to_version}")
            if versions[to_version] != "READY":
                raise _refused(
                    f"version {to_version} of model {self._model} is {versions[to_version]}"
                )
            target, how = to_version, "as asked"
        else:
            target, how = await self._previous(current, versions)
        if target == current:
            return [], f"alias {self._alias} already points at version {current}; nothing to do"
        body = {"name": self._model, "alias": self._alias, "version": target}
        note = f"alias {self._alias} from version {current} to {target}, {how}"
        return [Request("POST", self._alias_url, self._headers(), body)], note

    async def _previous(self, current: str, versions: Mapping[str, str]) -> tuple[str, str]:
        """The version that held the alias before the current one, else the next lower one."""
        ready = {v for v, status in versions.items() if status == "READY"}
        seen = await self._history.seen(model=self._model, alias=self._alias)
        for version in seen:
            if version != current and version in ready:  # deleted versions are passed over
                return version, "the previous version, from the alias history"
        if current.isdigit():
            lower = [int(v) for v in ready if v.isdigit() and int(v) < int(current)]
            if lower:
                return str(max(lower)), (
                    "the alias history knows no earlier version, so the highest existing "
                    f"version below {current}"
                )
        raise _refused(f"model {self._model} has no version before {current} to roll back to")

    async def _versions(self, client: httpx.AsyncClient) -> dict[str, str]:
        """Every version of the model and its status (READY, PENDING_REGISTRATION, …)."""
        quote = '"' if "'" in self._model else "'"
        query = {"filter": f"name={quote}{self._model}{quote}"}
        versions: dict[str, str] = {}
        while True:
            url = f"{self._api}/model-versions/search?{urlencode(query)}"
            page = await self._read(client, Request("GET", url, self._headers()))
            for found in page.get("model_versions") or []:
                versions[str(found["version"])] = str(found.get("status") or "READY")
            if not page.get("next_page_token"):
                return versions
            query["page_token"] = page["next_page_token"]

    async def _state(self, service: str, active: str) -> State:
        seen = await self._history.seen(model=self._model, alias=self._alias)
        previous = tuple(dict.fromkeys(v for v in seen if v != active))
        return State(service=service, active_version=active, previous_versions=previous)

    # -- HTTP ----------------------------------------------------------------------------------

    def _get_alias(self) -> Request:
        query = urlencode({"name": self._model, "alias": self._alias})
        return Request("GET", f"{self._alias_url}?{query}", self._headers())

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = REDACTED  # the real token is only added when sending
        return headers

    def _session(self) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return _client_or_new(self._client)

    async def _read(self, client: httpx.AsyncClient, request: Request) -> Any:
        return await read(client, request, token=self._token, timeout_s=self._config.timeout_s)


class MlflowRegistry:
    """Reads one registered model's aliases, for the change feed (bot.changes.registry's
    ModelRegistry): GET registered-models/get answers `aliases: [{alias, version}]`, and
    GET model-versions/get one version's `user_id`, `creation_timestamp` and `run_id`.

    MLflow records neither who moved an alias nor when: neither timestamp changes on a move.
    Failures are DeployErrors whose messages name no URL (the URL may carry credentials).
    """

    def __init__(
        self,
        config: MlflowTargetConfig,
        *,
        token: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._config = config
        if token is None and config.token_env:  # read here, never at import
            token = os.environ.get(config.token_env) or None
        self._token = token
        self._client = client
        self._base = str(config.url).rstrip("/")
        self.model = config.model

    async def aliases(self) -> dict[str, str]:
        """Every alias of the model → the version it points at."""
        body = await self._get("registered-models/get", {"name": self.model})
        found = body.get("registered_model", {}).get("aliases") or []
        return {
            str(entry["alias"]): str(entry["version"])
            for entry in found
            if isinstance(entry, Mapping) and entry.get("alias") and entry.get("version")
        }

    async def version(self, version: str) -> RegisteredVersion:
        body = await self._get("model-versions/get", {"name": self.model, "version": version})
        found = body.get("model_version") or {}
        created = str(found.get("creation_timestamp") or "")
        return RegisteredVersion(
            model=self.model,
            version=str(found.get("version") or version),
            user=found.get("user_id") or None,
            created_at=(
                datetime.fromtimestamp(int(created) / 1000, UTC) if created.isdigit() else None
            ),
            run_id=found.get("run_id") or None,
            link=f"{without_credentials(self._base)}/#/models/{quote(self.model, safe='')}"
            f"/versions/{quote(version)}",  # shown in Slack: never the URL's credentials
        )

    async def _get(self, path: str, params: Mapping[str, str]) -> Any:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        timeout = self._config.timeout_s
        what = f"MLflow {path} of model {self.model}"
        async with self._session() as client:
            try:
                reply = await client.get(
                    f"{self._base}/api/2.0/mlflow/{path}",
                    params=params,
                    headers=headers,
                    timeout=httpx.Timeout(timeout),
                )
            except httpx.TimeoutException as exc:
                raise DeployError(f"{what}: no answer in {timeout:g}s", transient=True) from exc
            except httpx.HTTPError as exc:  # refused or dropped connections
                raise DeployError(f"{what}: {type(exc).__name__}", transient=True) from exc
        body = body_of(reply)
        if not reply.is_success:
            raise DeployError(
                f"{what} → {reply.status_code}: {server_message(body)}".rstrip(": "),
                transient=reply.status_code >= 500 or reply.status_code in RETRYABLE_4XX,
                status=reply.status_code,
            )
        if not isinstance(body, Mapping):
            raise DeployError(f"{what}: not a JSON object", transient=True)
        return body

    def _session(self) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return _client_or_new(self._client)


@asynccontextmanager
async def _client_or_new(client: httpx.AsyncClient | None) -> AsyncIterator[httpx.AsyncClient]:
    """The shared client when given (the app's), else one for this call."""
    if client is not None:
        yield client
        return
    async with httpx.AsyncClient() as new:
        yield new


def _alias_version(body: Any) -> str | None:
    version = body.get("model_version", {}).get("version") if isinstance(body, Mapping) else None
    return None if version is None else str(version)


def _refused(message: str) -> DeployError:
    return DeployError(message, transient=False)
