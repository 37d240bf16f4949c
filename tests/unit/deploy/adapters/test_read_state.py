"""Each adapter's read_state (what the approval card's plan starts from), against its test
double: reads only, and DeployError when the target cannot be read."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bot.deploy.adapters.http import HttpTarget
from bot.deploy.adapters.mlflow import InMemoryAliasHistory, MlflowTarget
from bot.deploy.config import HttpTargetConfig, MlflowTargetConfig
from bot.deploy.ports import DeployError, State, StateReader
from tests.servers import free_port
from tests.unit.deploy.adapters.k8s_api import (
    DEPLOYMENT,
    DEPLOYMENT_HISTORY,
    REPLICASETS,
    FakeApi,
    deployment,
    target,
)
from tests.unit.examples.service import ServiceHost

TOKEN = "s3cret-token"


def http(url: str) -> HttpTarget:
    config = HttpTargetConfig.model_validate({"kind": "http", "url": url})
    return HttpTarget(config, service="search-ranker", token=TOKEN)


async def test_http_reads_the_services_state(host: ServiceHost) -> None:
    url = host.serve(services={"search-ranker": ["v41", "v42", "v43-bad"]}, token=TOKEN)
    reader = http(url)
    assert isinstance(reader, StateReader)

    state = await reader.read_state("search-ranker", timeout_s=3)

    assert state == State(
        service="search-ranker",
        active_version="v43-bad",
        previous_versions=("v42", "v41"),
        mode="model",
        frozen=False,
    )


async def test_http_unreachable_is_a_deploy_error() -> None:
    with pytest.raises(DeployError, match="failed"):
        await http(f"http://127.0.0.1:{free_port()}").read_state("search-ranker", timeout_s=1)


async def test_kubernetes_reads_the_workload_and_its_history(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    api.routes[("GET", DEPLOYMENT)] = (200, deployment(paused=True))
    api.routes[("GET", REPLICASETS)] = (200, DEPLOYMENT_HISTORY)

    state = await target(client, "deployment").read_state("search-ranker", timeout_s=3)

    assert state.active_version == "reg/ranker:3"
    assert state.previous_versions == ("reg/ranker:2", "reg/ranker:1")
    assert state.frozen and state.freeze_reason == "INC-7: bad canary"
    assert api.methods() == ["GET", "GET"]


async def test_kubernetes_unreadable_is_a_deploy_error(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    with pytest.raises(DeployError, match="404"):
        await target(client, "deployment").read_state("search-ranker", timeout_s=3)


class Registry:
    """The two MLflow answers read_state needs, recording every request."""

    def __init__(self, version: str | None) -> None:
        self.version = version
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.version is None:
            body: dict[str, Any] = {
                "error_code": "INVALID_PARAMETER_VALUE",
                "message": "alias champion not found",
            }
            return httpx.Response(400, content=json.dumps(body))
        return httpx.Response(200, json={"model_version": {"version": self.version}})


def mlflow(registry: Registry, history: InMemoryAliasHistory) -> MlflowTarget:
    config = MlflowTargetConfig.model_validate(
        {"kind": "mlflow", "url": "http://mlflow.test", "model": "ranker"}
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(registry))
    return MlflowTarget(config, service="search-ranker", client=client, history=history)


async def test_mlflow_reads_the_alias_and_its_history() -> None:
    history = InMemoryAliasHistory()
    await history.record(model="ranker", alias="champion", version="6")
    registry = Registry("7")

    state = await mlflow(registry, history).read_state("search-ranker", timeout_s=3)

    assert state == State(service="search-ranker", active_version="7", previous_versions=("6",))
    assert [(r.method, r.url.path) for r in registry.requests] == [
        ("GET", "/api/2.0/mlflow/registered-models/alias")
    ]
    assert await history.seen(model="ranker", alias="champion") == ["7", "6"]


async def test_mlflow_unset_alias_is_a_deploy_error() -> None:
    target_ = mlflow(Registry(None), InMemoryAliasHistory())
    with pytest.raises(DeployError, match="alias champion not found"):
        await target_.read_state("search-ranker", timeout_s=3)
