"""KubernetesTarget on Deployments: `kubectl rollout undo`, pause and state."""

from __future__ import annotations

import httpx
import pytest

from bot.deploy.adapters.kubernetes import FREEZE_REASON, JSON_PATCH, MERGE_PATCH
from bot.deploy.ports import Action, DeployError
from tests.unit.deploy.adapters.k8s_api import (
    API,
    DEPLOY_REVISION,
    DEPLOYMENT,
    DEPLOYMENT_HISTORY,
    REPLICASETS,
    ROLLOUT,
    TOKEN,
    FakeApi,
    body,
    deployment,
    prepare,
    replicaset,
    replicasets,
    target,
    template,
)


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
