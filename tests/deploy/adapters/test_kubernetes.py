"""KubernetesTarget against a fake API server (httpx.MockTransport) that answers as Kubernetes does.

No Kubernetes can run here, so the fake holds the documented request shapes: every request is
recorded and asserted (method, path, query, Content-Type, body, Authorization).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from bot.deploy.adapters.kubernetes import FREEZE_REASON, JSON_PATCH, MERGE_PATCH, KubernetesTarget
from bot.deploy.config import KubernetesTargetConfig
from bot.deploy.ports import Action, DeployError, Prepared
from tests.servers import free_port

API = "https://k8s.example.test:6443"
TOKEN = "k8s-s3cret"
DEPLOYMENT = "/apis/apps/v1/namespaces/ml/deployments/ranker"
ROLLOUT = "/apis/argoproj.io/v1alpha1/namespaces/ml/rollouts/ranker"
ISVC = "/apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices/ranker"
REPLICASETS = "/apis/apps/v1/namespaces/ml/replicasets"
DEPLOY_REVISION = "deployment.kubernetes.io/revision"
ROLLOUT_REVISION = "rollout.argoproj.io/revision"

Handler = Callable[[httpx.Request], httpx.Response]


class FakeApi:
    """Answers (method, path) from `routes`, 404 Status otherwise; records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler | tuple[int, Any]] = {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get((request.method, request.url.path))
        if callable(route):
            return route(request)
        status, body = route or (404, status_body(404, "NotFound", "not found"))
        return httpx.Response(status, json=body)

    def methods(self) -> list[str]:
        return [r.method for r in self.requests]


def status_body(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "status": "Failure",
        "reason": reason,
        "message": message,
        "code": code,
    }


def template(image: str, hash_label: str | None = None, digest: str = "") -> dict[str, Any]:
    labels = {"app": "ranker"} | ({hash_label: digest} if hash_label else {})
    return {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "ranker", "image": image}]},
    }


def deployment(image: str = "reg/ranker:3", *, paused: bool = False) -> dict[str, Any]:
    annotations = {
        DEPLOY_REVISION: "3",
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
        "team": "search",
    }
    if paused:
        annotations[FREEZE_REASON] = "INC-7: bad canary"
    return {
        "kind": "Deployment",
        "metadata": {
            "name": "ranker",
            "namespace": "ml",
            "uid": "uid-d",
            "annotations": annotations,
        },
        "spec": {
            "paused": paused,
            "selector": {
                "matchLabels": {"app": "ranker"},
                "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["batch"]}],
            },
            "template": template(image),
        },
    }


def rollout(*, stable: str, current: str, image: str = "reg/ranker:3") -> dict[str, Any]:
    return {
        "kind": "Rollout",
        "metadata": {"name": "ranker", "namespace": "ml", "uid": "uid-r"},
        "spec": {"selector": {"matchLabels": {"app": "ranker"}}, "template": template(image)},
        "status": {"stableRS": stable, "currentPodHash": current},
    }


def replicaset(
    revision: int,
    image: str,
    *,
    owner: str = "uid-d",
    annotation: str = DEPLOY_REVISION,
    hash_label: str = "pod-template-hash",
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"ranker-h{revision}",
            "annotations": {annotation: str(revision), "team": f"search-{revision}"},
            "ownerReferences": [{"kind": "X", "name": "ranker", "uid": owner, "controller": True}],
        },
        "spec": {"template": template(image, hash_label, f"h{revision}")},
    }


def replicasets(*items: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "ReplicaSetList", "items": list(items)}


DEPLOYMENT_HISTORY = replicasets(
    replicaset(1, "reg/ranker:1"),
    replicaset(3, "reg/ranker:3"),
    replicaset(2, "reg/ranker:2"),
    replicaset(9, "reg/other:9", owner="uid-someone-else"),  # same labels, not ours
)


def rollout_history() -> dict[str, Any]:
    ours = {
        "owner": "uid-r",
        "annotation": ROLLOUT_REVISION,
        "hash_label": "rollouts-pod-template-hash",
    }
    return replicasets(
        replicaset(1, "reg/ranker:1", **ours),
        replicaset(2, "reg/ranker:2", **ours),
        replicaset(3, "reg/ranker:3", **ours),
    )


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
async def client(api: FakeApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(api)) as client:
        yield client


def target(
    client: httpx.AsyncClient, resource: str, *, token: str | None = TOKEN, **config: Any
) -> KubernetesTarget:
    settings = KubernetesTargetConfig.model_validate(
        {"kind": "kubernetes", "api_url": API, "namespace": "ml", "resource": resource}
        | {"name": "ranker", **config}
    )
    return KubernetesTarget(settings, service="search-ranker", token=token, client=client)


async def prepare(k8s: KubernetesTarget, action: Action, **args: Any) -> Prepared:
    return await k8s.prepare(
        action=action, service="search-ranker", args=args, idempotency_key="INC-7-step-2"
    )


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


# -- Deployment: `kubectl rollout undo` ----------------------------------------------------------


async def test_deployment_undo_patches_the_template_of_the_previous_revision(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    api.routes[("GET", DEPLOYMENT)] = (200, deployment())
    api.routes[("GET", REPLICASETS)] = (200, DEPLOYMENT_HISTORY)
    api.routes[("PATCH", DEPLOYMENT)] = (200, deployment("reg/ranker:2"))

    prepared = await prepare(target(client, "deployment"), Action.ROLLBACK)

    assert api.methods() == ["GET", "GET"], "prepare only reads"
    selector = api.requests[1].url.params["labelSelector"]
    assert selector == "app=ranker,tier notin (batch)"
    expected_patch = [
        {"op": "replace", "path": "/spec/template", "value": template("reg/ranker:2")},
        {
            "op": "replace",
            "path": "/metadata/annotations",
            # kubectl's rule: the Deployment keeps its own revision and last-applied annotations,
            # everything else comes back from the ReplicaSet.
            "value": {
                DEPLOY_REVISION: "3",
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
                "team": "search-2",
            },
        },
    ]
    (request,) = prepared.requests
    assert (request.method, request.url) == ("PATCH", API + DEPLOYMENT)
    assert request.content_type == JSON_PATCH
    assert request.json == expected_patch
    assert request.headers["Authorization"] == "***"
    assert "revision 3 (reg/ranker:3) to revision 2 (reg/ranker:2)" in prepared.note

    result = await target(client, "deployment").execute(prepared, timeout_s=5)

    sent = api.requests[-1]
    assert (sent.method, sent.url.path) == ("PATCH", DEPLOYMENT)
    assert sent.headers["Content-Type"] == "application/json-patch+json"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert body(sent) == expected_patch
    assert [r.status for r in result.responses] == [200]
    assert result.responses[0].duration_s >= 0
    assert result.state is not None and result.state.active_version == "reg/ranker:2"


@pytest.mark.parametrize("to_version", ["1", "reg/ranker:1"])
async def test_deployment_undo_to_a_named_revision_or_image(
    api: FakeApi, client: httpx.AsyncClient, to_version: str
) -> None:
    api.routes[("GET", DEPLOYMENT)] = (200, deployment())
    api.routes[("GET", REPLICASETS)] = (200, DEPLOYMENT_HISTORY)

    prepared = await prepare(target(client, "deployment"), Action.ROLLBACK, to_version=to_version)

    assert prepared.requests[0].json[0]["value"] == template("reg/ranker:1")


async def test_deployment_undo_to_an_unknown_revision_is_refused(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    api.routes[("GET", DEPLOYMENT)] = (200, deployment())
    api.routes[("GET", REPLICASETS)] = (200, DEPLOYMENT_HISTORY)

    with pytest.raises(DeployError) as raised:
        await prepare(target(client, "deployment"), Action.ROLLBACK, to_version="9")

    assert raised.value.transient is False
    assert "'9'" in str(raised.value) and "2 (reg/ranker:2)" in str(raised.value)


async def test_deployment_already_at_the_revision_needs_no_request(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    api.routes[("GET", DEPLOYMENT)] = (200, deployment())
    api.routes[("GET", REPLICASETS)] = (200, DEPLOYMENT_HISTORY)

    prepared = await prepare(target(client, "deployment"), Action.ROLLBACK, to_version="3")

    assert prepared.requests == ()
    assert "nothing to do" in prepared.note


async def test_a_paused_deployment_is_not_rolled_back(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    api.routes[("GET", DEPLOYMENT)] = (200, deployment(paused=True))

    with pytest.raises(DeployError, match="unfreeze it first") as raised:
        await prepare(target(client, "deployment"), Action.ROLLBACK)

    assert raised.value.transient is False
    assert api.methods() == ["GET"]


async def test_a_deployment_without_an_earlier_revision_is_refused(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    api.routes[("GET", DEPLOYMENT)] = (200, deployment())
    api.routes[("GET", REPLICASETS)] = (200, replicasets(replicaset(3, "reg/ranker:3")))

    with pytest.raises(DeployError, match="no earlier revision") as raised:
        await prepare(target(client, "deployment"), Action.ROLLBACK)

    assert raised.value.transient is False


async def test_deployment_state_reports_images_history_and_freeze(
    api: FakeApi, client: httpx.AsyncClient
) -> None:
    api.routes[("GET", DEPLOYMENT)] = (200, deployment(paused=True))
    api.routes[("GET", REPLICASETS)] = (200, DEPLOYMENT_HISTORY)
    k8s = target(client, "deployment")

    prepared = await prepare(k8s, Action.GET_STATE)
    result = await k8s.execute(prepared, timeout_s=5)

    assert [(r.method, r.url.split("?")[0]) for r in prepared.requests] == [
        ("GET", API + DEPLOYMENT),
        ("GET", API + REPLICASETS),
    ]
    assert api.methods() == ["GET"] * 3, "prepare reads the selector, execute reads both"
    state = result.state
    assert state is not None
    assert state.active_version == "reg/ranker:3"
    assert state.previous_versions == ("reg/ranker:2", "reg/ranker:1")
    assert (state.frozen, state.freeze_reason) == (True, "INC-7: bad canary")


# -- Argo Rollouts -------------------------------------------------------------------------------


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


@pytest.mark.parametrize(("resource", "path"), [("rollout", ROLLOUT), ("deployment", DEPLOYMENT)])
async def test_freeze_and_unfreeze_merge_patch_paused(
    api: FakeApi, client: httpx.AsyncClient, resource: str, path: str
) -> None:
    api.routes[("PATCH", path)] = (200, {"kind": "X", "spec": {"paused": True}})
    k8s = target(client, resource)

    freeze = await prepare(k8s, Action.FREEZE, reason="INC-7")
    unfreeze = await prepare(k8s, Action.UNFREEZE)
    assert api.requests == [], "preparing a freeze reads nothing and changes nothing"
    await k8s.execute(freeze, timeout_s=5)
    await k8s.execute(unfreeze, timeout_s=5)

    sent = [(r.method, r.url.path, r.headers["Content-Type"], body(r)) for r in api.requests]
    assert sent == [
        (
            "PATCH",
            path,
            MERGE_PATCH,
            {"metadata": {"annotations": {FREEZE_REASON: "INC-7"}}, "spec": {"paused": True}},
        ),
        (
            "PATCH",
            path,
            MERGE_PATCH,
            {"metadata": {"annotations": {FREEZE_REASON: None}}, "spec": {"paused": False}},
        ),
    ]


# -- KServe --------------------------------------------------------------------------------------


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
