"""KubernetesTarget on Argo Rollouts and KServe InferenceServices, and its errors and tokens."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.deploy.adapters.kubernetes import JSON_PATCH, MERGE_PATCH, KubernetesTarget
from bot.deploy.config import KubernetesTargetConfig
from bot.deploy.ports import Action, DeployError
from tests.servers import free_port
from tests.unit.deploy.adapters.k8s_api import (
    API,
    DEPLOYMENT,
    ISVC,
    REPLICASETS,
    ROLLOUT,
    FakeApi,
    body,
    deployment,
    prepare,
    rollout,
    rollout_history,
    status_body,
    target,
    template,
)


async def test_rollout_rollback_aborts_an_update_in_progress(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    api.routes[("GET", ROLLOUT)] = (200, rollout(stable="h2", current="h3"))
    api.routes[("PATCH", ROLLOUT + "/status")] = (200, rollout(stable="h2", current="h3"))
    k8s = target(client, "rollout")

    prepared = await prepare(k8s, Action.ROLLBACK)

    (request,) = prepared.requests
    assert (request.method, request.url) == ("PATCH", API + ROLLOUT + "/status")
    assert (request.content_type, request.json) == (MERGE_PATCH, {"status": {"abort": True}})
    assert api.methods() == ["GET"]

    await k8s.execute(prepared, timeout_s=5)

    sent = api.requests[-1]
    assert (sent.method, sent.url.path) == ("PATCH", ROLLOUT + "/status")
    assert sent.headers["Content-Type"] == "application/merge-patch+json"
    assert body(sent) == {"status": {"abort": True}}


async def test_rollout_abort_falls_back_to_the_rollout_without_a_status_subresource(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    api.routes[("GET", ROLLOUT)] = (200, rollout(stable="h2", current="h3"))
    api.routes[("PATCH", ROLLOUT)] = (200, rollout(stable="h2", current="h3"))
    k8s = target(client, "rollout")

    result = await k8s.execute(await prepare(k8s, Action.ROLLBACK), timeout_s=5)

    patches = [(r.url.path, body(r)) for r in api.requests if r.method == "PATCH"]
    assert patches == [
        (ROLLOUT + "/status", {"status": {"abort": True}}),
        (ROLLOUT, {"status": {"abort": True}}),
    ]
    assert [r.status for r in result.responses] == [404, 200]


async def test_a_fully_promoted_rollout_is_undone_to_the_previous_revision(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    api.routes[("GET", ROLLOUT)] = (200, rollout(stable="h3", current="h3"))
    api.routes[("GET", REPLICASETS)] = (200, rollout_history())

    prepared = await prepare(target(client, "rollout"), Action.ROLLBACK)

    (request,) = prepared.requests
    assert (request.method, request.url, request.content_type) == (
        "PATCH",
        API + ROLLOUT,
        JSON_PATCH,
    )
    # As `kubectl argo rollouts undo`: the template alone, without the ReplicaSet's hash label.
    assert request.json == [
        {"op": "replace", "path": "/spec/template", "value": template("reg/ranker:2")}
    ]
    assert api.methods() == ["GET", "GET"]


async def test_rollout_state_names_the_stable_version_during_a_canary(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    api.routes[("GET", ROLLOUT)] = (200, rollout(stable="h2", current="h3"))
    api.routes[("GET", REPLICASETS)] = (200, rollout_history())
    k8s = target(client, "rollout")

    result = await k8s.execute(await prepare(k8s, Action.GET_STATE), timeout_s=5)

    assert result.state is not None
    assert result.state.active_version == "reg/ranker:2"
    assert result.state.previous_versions == ("reg/ranker:1",)
    assert result.state.frozen is False


def isvc(latest_rolled_out: str, latest_ready: str, previous: str | None) -> dict[str, Any]:
    predictor = {
        "latestRolledoutRevision": latest_rolled_out,
        "latestReadyRevision": latest_ready,
        "traffic": [
            {"revisionName": latest_ready, "percent": 10, "latestRevision": True},
            {"revisionName": latest_rolled_out, "percent": 90, "tag": "prev"},
        ],
    }
    if previous:
        predictor["previousRolledoutRevision"] = previous
    return {
        "kind": "InferenceService",
        "spec": {"predictor": {"canaryTrafficPercent": 10}},
        "status": {"components": {"predictor": predictor}},
    }


@pytest.mark.parametrize(
    ("status", "back_to"),
    [
        (isvc("ranker-predictor-00001", "ranker-predictor-00002", None), "00001"),  # mid-canary
        (
            isvc("ranker-predictor-00002", "ranker-predictor-00002", "ranker-predictor-00001"),
            "00001",
        ),
    ],
)
async def test_inferenceservice_rollback_sets_canary_traffic_to_zero(
    api: FakeApi, client: httpx.AsyncClient, status: dict[str, Any], back_to: str
) -> None:
    api.routes[("GET", ISVC)] = (200, status)
    api.routes[("PATCH", ISVC)] = (200, status)
    k8s = target(client, "inferenceservice")

    prepared = await prepare(k8s, Action.ROLLBACK)
    assert api.methods() == ["GET"]
    await k8s.execute(prepared, timeout_s=5)

    assert prepared.note.endswith(f"ranker-predictor-{back_to}")
    sent = api.requests[-1]
    assert (sent.method, sent.url.path) == ("PATCH", ISVC)
    assert sent.headers["Content-Type"] == "application/merge-patch+json"
    assert body(sent) == {"spec": {"predictor": {"canaryTrafficPercent": 0}}}


async def test_inferenceservice_without_an_earlier_revision_is_refused(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    api.routes[("GET", ISVC)] = (
        200,
        isvc("ranker-predictor-00001", "ranker-predictor-00001", None),
    )

    with pytest.raises(DeployError, match="no earlier rolled-out revision") as raised:
        await prepare(target(client, "inferenceservice"), Action.ROLLBACK)

    assert raised.value.transient is False


async def test_inferenceservice_state_follows_the_traffic(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    api.routes[("GET", ISVC)] = (
        200,
        isvc("ranker-predictor-00001", "ranker-predictor-00002", None),
    )
    k8s = target(client, "inferenceservice")

    prepared = await prepare(k8s, Action.GET_STATE)
    result = await k8s.execute(prepared, timeout_s=5)

    assert [(r.method, r.url) for r in prepared.requests] == [("GET", API + ISVC)]
    assert result.state is not None
    assert result.state.active_version == "ranker-predictor-00001"  # 90% of the traffic


# -- what a target cannot do ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "action", "args", "words"),
    [
        ("deployment", Action.SET_MODE, {"mode": "heuristic"}, "no heuristic mode"),
        ("rollout", Action.SET_MODE, {"mode": "heuristic"}, "no heuristic mode"),
        ("inferenceservice", Action.SET_MODE, {"mode": "heuristic"}, "no heuristic mode"),
        ("inferenceservice", Action.FREEZE, {"reason": "INC-7"}, "cannot be paused"),
        ("inferenceservice", Action.UNFREEZE, {}, "cannot be paused"),
        ("inferenceservice", Action.ROLLBACK, {"to_version": "x-00007"}, "not x-00007"),
    ],
)
async def test_unsupported_combinations_are_refused_for_good(
    api: FakeApi,
    client: httpx.AsyncClient,
    resource: str,
    action: Action,
    args: dict[str, str],
    words: str,
) -> None:
    api.routes[("GET", ISVC)] = (
        200,
        isvc("ranker-predictor-00001", "ranker-predictor-00002", None),
    )

    with pytest.raises(DeployError, match=words) as raised:
        await prepare(target(client, resource), action, **args)

    assert raised.value.transient is False
    assert set(api.methods()) <= {"GET"}


async def test_another_services_action_is_refused(client: httpx.AsyncClient) -> None:
    with pytest.raises(DeployError, match="not checkout") as raised:
        await target(client, "deployment").prepare(
            action=Action.GET_STATE, service="checkout", args={}, idempotency_key="k"
        )
    assert raised.value.transient is False


# -- failures ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "transient"), [(500, True), (503, True), (429, True), (404, False), (422, False)]
)
async def test_http_failures_map_to_transient_or_not(
    api: FakeApi, client: httpx.AsyncClient, status: int, transient: bool
) -> None:
    message = f"the server says {status}"
    api.routes[("PATCH", DEPLOYMENT)] = (status, status_body(status, "Reason", message))
    k8s = target(client, "deployment")

    with pytest.raises(DeployError) as raised:
        await k8s.execute(await prepare(k8s, Action.FREEZE, reason="INC-7"), timeout_s=5)

    assert (raised.value.transient, raised.value.status) == (transient, status)
    assert message in str(raised.value)
    assert [r.status for r in raised.value.responses] == [status]


async def test_a_failing_read_while_preparing_is_reported_too(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    api.routes[("GET", DEPLOYMENT)] = (503, status_body(503, "ServiceUnavailable", "etcd down"))

    with pytest.raises(DeployError, match="etcd down") as raised:
        await prepare(target(client, "deployment"), Action.ROLLBACK)

    assert raised.value.transient is True


@pytest.mark.parametrize(
    "error", [httpx.ReadTimeout("timed out"), httpx.ConnectError("connection refused")]
)
async def test_timeouts_and_connection_errors_are_transient(error: httpx.HTTPError) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    async with httpx.AsyncClient(transport=httpx.MockTransport(fail)) as failing:
        k8s = target(failing, "deployment")
        prepared = await prepare(k8s, Action.FREEZE, reason="INC-7")
        with pytest.raises(DeployError) as raised:
            await k8s.execute(prepared, timeout_s=0.5)

    assert raised.value.transient is True
    assert raised.value.status is None
    assert type(error).__name__ in str(raised.value)


async def test_no_token_sends_no_authorization(api: FakeApi, client: httpx.AsyncClient) -> None:
    api.routes[("PATCH", DEPLOYMENT)] = (200, deployment(paused=True))
    k8s = target(client, "deployment", token=None)

    prepared = await prepare(k8s, Action.FREEZE, reason="INC-7")
    await k8s.execute(prepared, timeout_s=5)

    assert "Authorization" not in prepared.requests[0].headers
    assert "Authorization" not in api.requests[0].headers


async def test_the_token_is_read_from_token_env(
    api: FakeApi, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("K8S_TOKEN", "from-env")
    api.routes[("PATCH", DEPLOYMENT)] = (200, deployment(paused=True))
    k8s = target(client, "deployment", token=None, token_env="K8S_TOKEN")

    await k8s.execute(await prepare(k8s, Action.FREEZE, reason="INC-7"), timeout_s=5)

    assert api.requests[0].headers["Authorization"] == "Bearer from-env"


async def test_verify_tls_false_uses_a_client_of_its_own(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    """A shared client checks certificates; such a cluster gets its own, unverified client."""
    settings = KubernetesTargetConfig.model_validate(
        {"kind": "kubernetes", "api_url": f"http://127.0.0.1:{free_port()}", "namespace": "ml"}
        | {"resource": "deployment", "name": "ranker", "verify_tls": False}
    )
    k8s = KubernetesTarget(settings, service="search-ranker", client=client)

    with pytest.raises(DeployError) as raised:  # nothing listens on that port
        await k8s.execute(await prepare(k8s, Action.FREEZE, reason="INC-7"), timeout_s=2)

    assert raised.value.transient is True
    assert api.requests == [], "the shared client was not used"
