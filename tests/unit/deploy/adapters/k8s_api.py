"""A fake Kubernetes API server (httpx.MockTransport) that answers as Kubernetes does, and
builders of the objects it serves: shared by the KubernetesTarget tests.

No Kubernetes can run here, so the fake holds the documented request shapes: every request is
recorded and asserted (method, path, query, Content-Type, body, Authorization).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from bot.deploy.adapters.kubernetes import FREEZE_REASON, KubernetesTarget
from bot.deploy.config import KubernetesTargetConfig
from bot.deploy.ports import Action, Prepared

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
