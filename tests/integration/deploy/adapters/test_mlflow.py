"""MlflowTarget against a real MLflow tracking server (`mlflow_url`, shared by the whole run).

Each test registers a model of its own, so the tests share the server but not its state. What
the registry holds is checked through MLflow's own REST API, not through the adapter.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.deploy.adapters.mlflow import InMemoryAliasHistory, MlflowTarget
from bot.deploy.config import MlflowTargetConfig
from bot.deploy.ports import Action, DeployError, Prepared
from tests.servers import free_port

_models = itertools.count(1)


@pytest.fixture
async def registry(mlflow_url: str) -> AsyncIterator[Registry]:
    async with httpx.AsyncClient(base_url=f"{mlflow_url}/api/2.0/mlflow", timeout=10) as client:
        yield Registry(client, f"ranker-{next(_models)}")


class Registry:
    """One model in the real registry, driven through MLflow's REST API."""

    def __init__(self, client: httpx.AsyncClient, model: str) -> None:
        self.client = client
        self.model = model

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, **kwargs)
        assert response.is_success, response.text
        return response.json()

    async def register(self, versions: int = 3) -> None:
        await self.call("POST", "/registered-models/create", json={"name": self.model})
        for n in range(1, versions + 1):
            # A file:// source is refused without a run_id; an s3:// one is only recorded.
            source = {"name": self.model, "source": f"s3://models/{self.model}/{n}"}
            created = await self.call("POST", "/model-versions/create", json=source)
            assert created["model_version"]["version"] == str(n)

    async def set_alias(self, version: str, alias: str = "champion") -> None:
        body = {"name": self.model, "alias": alias, "version": version}
        await self.call("POST", "/registered-models/alias", json=body)

    async def alias(self, alias: str = "champion") -> str:
        params = {"name": self.model, "alias": alias}
        found = await self.call("GET", "/registered-models/alias", params=params)
        return str(found["model_version"]["version"])


def target(
    url: str, model: str, history: InMemoryAliasHistory | None = None, **config: Any
) -> MlflowTarget:
    settings = MlflowTargetConfig.model_validate(
        {"kind": "mlflow", "url": url, "model": model, **config}
    )
    return MlflowTarget(settings, service="search-ranker", history=history, token=None)


async def prepare(mlflow: MlflowTarget, action: Action, **args: Any) -> Prepared:
    return await mlflow.prepare(
        action=action, service="search-ranker", args=args, idempotency_key="INC-7-step-1"
    )


async def observe(mlflow: MlflowTarget) -> str | None:
    result = await mlflow.execute(await prepare(mlflow, Action.GET_STATE), timeout_s=10)
    assert result.state is not None
    return result.state.active_version


async def test_rollback_moves_the_alias_back_to_the_version_before(
    mlflow_url: str, registry: Registry
) -> None:
    await registry.register()
    history = InMemoryAliasHistory()
    mlflow = target(mlflow_url, registry.model, history)
    for version in ("1", "2", "3"):  # Firebreak sees each release through get_state
        await registry.set_alias(version)
        assert await observe(mlflow) == version

    prepared = await prepare(mlflow, Action.ROLLBACK)

    assert await registry.alias() == "3", "preparing changes nothing"
    (request,) = prepared.requests
    assert (request.method, request.url) == (
        "POST",
        f"{mlflow_url}/api/2.0/mlflow/registered-models/alias",
    )
    assert request.json == {"name": registry.model, "alias": "champion", "version": "2"}
    assert "from the alias history" in prepared.note

    result = await mlflow.execute(prepared, timeout_s=10)

    assert await registry.alias() == "2"
    assert [r.status for r in result.responses] == [200]
    assert result.state is not None
    assert result.state.active_version == "2"
    assert result.state.previous_versions == ("3", "1")
    assert await history.seen(model=registry.model, alias="champion") == ["2", "3", "2", "1"]


async def test_rollback_to_an_explicit_version(mlflow_url: str, registry: Registry) -> None:
    await registry.register()
    await registry.set_alias("3")
    mlflow = target(mlflow_url, registry.model)

    prepared = await prepare(mlflow, Action.ROLLBACK, to_version="1")
    await mlflow.execute(prepared, timeout_s=10)

    assert await registry.alias() == "1"
    assert prepared.note == "alias champion from version 3 to 1, as asked"


async def test_without_history_rollback_takes_the_next_lower_version(
    mlflow_url: str, registry: Registry
) -> None:
    await registry.register()
    await registry.set_alias("3")  # moved before Firebreak ever looked
    mlflow = target(mlflow_url, registry.model)

    prepared = await prepare(mlflow, Action.ROLLBACK)
    await mlflow.execute(prepared, timeout_s=10)

    assert await registry.alias() == "2"
    assert "history knows no earlier version" in prepared.note


async def test_an_unknown_version_is_refused_for_good(mlflow_url: str, registry: Registry) -> None:
    await registry.register()
    await registry.set_alias("3")

    with pytest.raises(DeployError, match="has no version 9") as raised:
        await prepare(target(mlflow_url, registry.model), Action.ROLLBACK, to_version="9")

    assert raised.value.transient is False
    assert await registry.alias() == "3"


async def test_the_registry_refusing_a_version_is_not_transient(
    mlflow_url: str, registry: Registry
) -> None:
    """Should the version go between prepare and execute, MLflow's own 404 comes through."""
    await registry.register()
    await registry.set_alias("3")
    mlflow = target(mlflow_url, registry.model)
    prepared = await prepare(mlflow, Action.ROLLBACK, to_version="1")
    await registry.call(
        "DELETE", "/model-versions/delete", json={"name": registry.model} | {"version": "1"}
    )

    with pytest.raises(DeployError) as raised:
        await mlflow.execute(prepared, timeout_s=10)

    assert (raised.value.transient, raised.value.status) == (False, 404)
    assert "RESOURCE_DOES_NOT_EXIST" in str(raised.value)
    assert await registry.alias() == "3"


async def test_an_unset_alias_is_refused(mlflow_url: str, registry: Registry) -> None:
    await registry.register()

    with pytest.raises(DeployError, match="not found") as raised:
        await prepare(target(mlflow_url, registry.model, alias="shadow"), Action.ROLLBACK)

    assert raised.value.transient is False


async def test_the_first_version_has_nothing_to_roll_back_to(
    mlflow_url: str, registry: Registry
) -> None:
    await registry.register(versions=1)
    await registry.set_alias("1")

    with pytest.raises(DeployError, match="no version before 1") as raised:
        await prepare(target(mlflow_url, registry.model), Action.ROLLBACK)

    assert raised.value.transient is False


@pytest.mark.parametrize(
    ("action", "args", "words"),
    [
        (Action.SET_MODE, {"mode": "heuristic"}, "no heuristic mode"),
        (Action.FREEZE, {"reason": "INC-7"}, "cannot freeze"),
        (Action.UNFREEZE, {}, "no freeze"),
    ],
)
async def test_what_a_registry_cannot_do_is_refused_for_good(
    mlflow_url: str, registry: Registry, action: Action, args: dict[str, str], words: str
) -> None:
    with pytest.raises(DeployError, match=words) as raised:
        await prepare(target(mlflow_url, registry.model), action, **args)

    assert raised.value.transient is False


async def test_the_token_is_shown_masked_and_sent_as_bearer(mlflow_url: str) -> None:
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request.headers.get("Authorization", ""))

    settings = MlflowTargetConfig.model_validate(
        {"kind": "mlflow", "url": mlflow_url, "model": "ranker-token"}
    )
    async with httpx.AsyncClient(event_hooks={"request": [record]}) as client:
        mlflow = MlflowTarget(settings, service="search-ranker", token="s3cret", client=client)
        prepared = await prepare(mlflow, Action.GET_STATE)
        with pytest.raises(DeployError):  # no such model: the answer does not matter here
            await mlflow.execute(prepared, timeout_s=10)

    assert prepared.requests[0].headers["Authorization"] == "***"
    assert seen == ["Bearer s3cret"]


async def test_an_unreachable_registry_is_transient() -> None:
    mlflow = target(f"http://127.0.0.1:{free_port()}", "ranker")

    with pytest.raises(DeployError) as raised:
        await mlflow.execute(await prepare(mlflow, Action.GET_STATE), timeout_s=2)

    assert raised.value.transient is True
