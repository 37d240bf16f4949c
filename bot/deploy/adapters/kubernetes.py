"""The Kubernetes API as a deployment target: Argo Rollouts, KServe InferenceServices and plain
Deployments.

The requests copy the tools responders already trust, checked in their sources:
- argo-rollouts pkg/kubectl-argo-rollouts/cmd: `abort` merge-patches {"status":{"abort":true}}
  on the rollout's `status` subresource, and on the rollout itself when that answers 404 (a CRD
  installed without the subresource); `pause`/`resume` merge-patch spec.paused; `undo` JSON-patches
  /spec/template back to the ReplicaSet with the previous `rollout.argoproj.io/revision`.
- kubectl pkg/polymorphichelpers/rollback.go (`kubectl rollout undo`; the API has no undo
  endpoint): list the Deployment's ReplicaSets by its selector, keep those it controls, take the
  previous `deployment.kubernetes.io/revision`, drop the pod-template-hash label, JSON-patch
  /spec/template and /metadata/annotations; a paused Deployment is refused.
- kserve ksvc_reconciler.go and the "Canary Rollout Example" docs: merge-patching
  spec.predictor.canaryTrafficPercent to 0 sends all predictor traffic to the last rolled-out
  revision (the previous one when the latest is already fully rolled out). Serverless mode only.

Kubernetes has no Idempotency-Key. Every change here is idempotent by construction: the merge
patches set absolute values, and an undo replaces the template with one fixed at prepare time, so
sending a Prepared twice leaves the same object. Retry `execute` with the same Prepared; preparing
again after a successful undo would pick a new "previous" revision, as `kubectl rollout undo` does.
"""

from __future__ import annotations

import copy
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from bot.deploy.adapters.wire import REDACTED, read, send_into
from bot.deploy.config import KubernetesTargetConfig
from bot.deploy.ports import Action, DeployError, Prepared, Request, Response, Result, State

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
# Set with the pause, so `kubectl describe` tells whoever finds it paused why, and get_state too.
FREEZE_REASON = "firebreak/freeze-reason"
# Timeouts and the API server's priority-and-fairness throttling mean "try again shortly".

_NO_MODE = "Kubernetes has no heuristic mode; switch with a feature flag or the http target"
_NO_PAUSE = (
    "a KServe InferenceService cannot be paused; freeze deploys in the pipeline that applies it"
)
# kubectl keeps these on the Deployment rather than copying them back from the ReplicaSet.
_KEEP_ON_DEPLOYMENT = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        "deployment.kubernetes.io/revision",
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)


@dataclass(frozen=True)
class _Kind:
    path: str
    revision_annotation: str = ""  # on the ReplicaSets that hold a workload's history
    hash_label: str = ""  # the controller adds it to each ReplicaSet's pod template


_KINDS = {
    "rollout": _Kind(
        "/apis/argoproj.io/v1alpha1/namespaces/{ns}/rollouts/{name}",
        "rollout.argoproj.io/revision",
        "rollouts-pod-template-hash",
    ),
    "deployment": _Kind(
        "/apis/apps/v1/namespaces/{ns}/deployments/{name}",
        "deployment.kubernetes.io/revision",
        "pod-template-hash",
    ),
    "inferenceservice": _Kind(
        "/apis/serving.kserve.io/v1beta1/namespaces/{ns}/inferenceservices/{name}"
    ),
}


@dataclass(frozen=True)
class _Revision:
    number: int
    version: str  # the pod template's container images
    template: Mapping[str, Any]
    annotations: Mapping[str, str]


class KubernetesTarget:
    """One workload in one namespace of one cluster."""

    kind = "kubernetes"

    def __init__(
        self,
        config: KubernetesTargetConfig,
        *,
        service: str,
        token: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._config = config
        self._service = service
        if token is None and config.token_env:  # read here, never at import
            token = os.environ.get(config.token_env) or None
        self._token = token
        self._client = client
        self._kind = _KINDS[config.resource]
        self._api = str(config.api_url).rstrip("/")
        ns, name = quote(config.namespace, safe=""), quote(config.name, safe="")
        self._url = self._api + self._kind.path.format(ns=ns, name=name)
        self._what = f"{config.resource} {config.namespace}/{config.name}"

    async def prepare(
        self, *, action: Action, service: str, args: Mapping[str, Any], idempotency_key: str
    ) -> Prepared:
        if service != self._service:
            raise _refused(f"this target deploys {self._service}, not {service}")
        async with self._session() as client:
            requests, note = await self._plan(client, Action(action), args)
        return Prepared(
            action=Action(action),
            service=service,
            requests=tuple(requests),
            idempotency_key=idempotency_key,
            note=note,
        )

    async def execute(self, prepared: Prepared, *, timeout_s: float) -> Result:
        responses: list[Response] = []
        async with self._session() as client:
            for request in prepared.requests:
                try:
                    await send_into(
                        responses, client, request, token=self._token, timeout_s=timeout_s
                    )
                except DeployError as error:
                    # As `kubectl argo rollouts abort`: a CRD without the status subresource.
                    if error.status != 404 or request.url != self._url + "/status":
                        raise
                    fallback = Request(
                        request.method,
                        self._url,
                        request.headers,
                        request.json,
                        request.content_type,
                    )
                    await send_into(
                        responses, client, fallback, token=self._token, timeout_s=timeout_s
                    )
        return Result(prepared, tuple(responses), self._state_after(prepared, responses))

    async def read_state(self, service: str, *, timeout_s: float) -> State:
        """The workload and the ReplicaSets it controls, as get_state reads them; nothing
        written."""
        if service != self._service:
            raise _refused(f"this target deploys {self._service}, not {service}")
        async with self._session() as client:
            workload = await read(
                client, self._request("GET", self._url), token=self._token, timeout_s=timeout_s
            )
            if self._config.resource == "inferenceservice":
                return _kserve_state(service, workload)
            selector = _selector(workload)
            listed = (
                {}
                if selector is None
                else await read(
                    client,
                    self._request("GET", self._replicasets_url(selector)),
                    token=self._token,
                    timeout_s=timeout_s,
                )
            )
        history = _revisions(listed, _dig(workload, "metadata", "uid"), self._kind)
        return _workload_state(service, workload, history, self._kind)

    # -- planning: reads only ------------------------------------------------------------------

    async def _plan(
        self, client: httpx.AsyncClient, action: Action, args: Mapping[str, Any]
    ) -> tuple[list[Request], str]:
        resource = self._config.resource
        if action is Action.GET_STATE:
            return await self._plan_state(client)
        if action is Action.ROLLBACK:
            to_version = None if args.get("to_version") is None else str(args["to_version"])
            if resource == "inferenceservice":
                return await self._plan_canary_off(client, to_version)
            workload = await self._read(client, self._url)
            if resource == "rollout" and to_version is None and _updating(workload):
                return [self._abort()], _ABORT_NOTE
            return await self._plan_undo(client, workload, to_version)
        if action in (Action.FREEZE, Action.UNFREEZE):
            if resource == "inferenceservice":
                raise _refused(_NO_PAUSE)
            reason = str(args.get("reason") or "frozen by Firebreak")
            return [self._pause(action is Action.FREEZE, reason)], ""
        raise _refused(_NO_MODE)

    async def _plan_state(self, client: httpx.AsyncClient) -> tuple[list[Request], str]:
        requests = [self._request("GET", self._url)]
        if self._config.resource == "inferenceservice":
            return requests, ""
        workload = await self._read(client, self._url)
        selector = _selector(workload)
        if selector is None:  # e.g. a Rollout with a workloadRef: no history of its own to list
            return requests, f"{self._what} has no selector; its history is not listed"
        requests.append(self._request("GET", self._replicasets_url(selector)))
        return requests, f"read the {self._config.resource} for its selector"

    async def _plan_canary_off(
        self, client: httpx.AsyncClient, to_version: str | None
    ) -> tuple[list[Request], str]:
        isvc = await self._read(client, self._url)
        back_to = _kserve_fallback(isvc)
        if back_to is None:
            raise _refused(f"{self._what} has no earlier rolled-out revision to send traffic to")
        if to_version not in (None, back_to):
            raise _refused(
                f"{self._what} can only send traffic back to its last rolled-out revision "
                f"{back_to}, not {to_version}; change the model in the pipeline that applies it"
            )
        body = {"spec": {"predictor": {"canaryTrafficPercent": 0}}}
        note = f"all predictor traffic to the last rolled-out revision {back_to}"
        return [self._request("PATCH", self._url, body, MERGE_PATCH)], note

    async def _plan_undo(
        self, client: httpx.AsyncClient, workload: Mapping[str, Any], to_version: str | None
    ) -> tuple[list[Request], str]:
        deployment = self._config.resource == "deployment"
        if deployment and _dig(workload, "spec", "paused"):
            raise _refused(
                f"{self._what} is paused (frozen): unfreeze it first, "
                "a paused Deployment does not roll out a restored template"
            )
        history = await self._history(client, workload)
        if not history:
            raise _refused(f"{self._what} has no rollout history")
        target = _pick(history, to_version, self._what)
        now = history[0]
        restored = _without_label(target.template, self._kind.hash_label)
        running = _without_label(_dig(workload, "spec", "template") or {}, self._kind.hash_label)
        if restored == running:
            note = f"{self._what} already runs revision {target.number} ({target.version})"
            return [], note + "; nothing to do"
        patch: list[dict[str, Any]] = [
            {"op": "replace", "path": "/spec/template", "value": restored}
        ]
        if deployment:
            annotations = {
                k: v
                for k, v in (_dig(workload, "metadata", "annotations") or {}).items()
                if k in _KEEP_ON_DEPLOYMENT
            }
            annotations |= {
                k: v for k, v in target.annotations.items() if k not in _KEEP_ON_DEPLOYMENT
            }
            patch.append({"op": "replace", "path": "/metadata/annotations", "value": annotations})
        note = (
            f"read {self._what} and its ReplicaSets: back from revision {now.number} "
            f"({now.version}) to revision {target.number} ({target.version})"
        )
        return [self._request("PATCH", self._url, patch, JSON_PATCH)], note

    async def _history(
        self, client: httpx.AsyncClient, workload: Mapping[str, Any]
    ) -> list[_Revision]:
        """The ReplicaSets the workload controls, newest revision first."""
        selector = _selector(workload)
        if selector is None:
            raise _refused(f"{self._what} has no selector: cannot find its ReplicaSets")
        listed = await self._read(client, self._replicasets_url(selector))
        return _revisions(listed, _dig(workload, "metadata", "uid"), self._kind)

    # -- requests ------------------------------------------------------------------------------

    def _abort(self) -> Request:
        return self._request(
            "PATCH", self._url + "/status", {"status": {"abort": True}}, MERGE_PATCH
        )

    def _pause(self, paused: bool, reason: str) -> Request:
        # A merge patch's null deletes the annotation on unfreeze.
        body = {
            "metadata": {"annotations": {FREEZE_REASON: reason if paused else None}},
            "spec": {"paused": paused},
        }
        return self._request("PATCH", self._url, body, MERGE_PATCH)

    def _replicasets_url(self, selector: str) -> str:
        ns = quote(self._config.namespace, safe="")
        selector = quote(selector, safe="")
        return f"{self._api}/apis/apps/v1/namespaces/{ns}/replicasets?labelSelector={selector}"

    def _request(
        self, method: str, url: str, body: Any = None, content_type: str | None = None
    ) -> Request:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = REDACTED  # the real token is only added when sending
        return Request(method, url, headers, body, content_type)

    # -- HTTP ----------------------------------------------------------------------------------

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[httpx.AsyncClient]:
        # A shared client verifies certificates; a cluster configured with verify_tls: false
        # (its own CA) would never answer through it, so it gets a client of its own.
        if self._client is not None and self._config.verify_tls:
            yield self._client
            return
        async with httpx.AsyncClient(verify=self._config.verify_tls) as client:
            yield client

    async def _read(self, client: httpx.AsyncClient, url: str) -> Any:
        return await read(
            client, self._request("GET", url), token=self._token, timeout_s=self._config.timeout_s
        )

    # -- state ---------------------------------------------------------------------------------

    def _state_after(self, prepared: Prepared, responses: list[Response]) -> State | None:
        if not responses or not isinstance(responses[-1].body, Mapping):
            return None
        objects = [r.body for r in responses if _dig(r.body, "kind") != "ReplicaSetList"]
        if not objects:
            return None
        resource = objects[-1]
        if self._config.resource == "inferenceservice":
            return _kserve_state(prepared.service, resource)
        listed = responses[-1].body if _dig(responses[-1].body, "kind") == "ReplicaSetList" else {}
        history = _revisions(listed, _dig(resource, "metadata", "uid"), self._kind)
        return _workload_state(prepared.service, resource, history, self._kind)


_ABORT_NOTE = (
    "abort the update in progress: traffic returns to the stable ReplicaSet. spec.template still "
    "names the new version, so revert it at its source before the next sync. If the CRD has no "
    "status subresource (404), the same patch goes to the rollout itself"
)


def _updating(rollout: Mapping[str, Any]) -> bool:
    """An Argo Rollout mid-update: its current pod hash is not yet the stable one."""
    stable, current = _dig(rollout, "status", "stableRS"), _dig(rollout, "status", "currentPodHash")
    return bool(stable and current and stable != current)


def _kserve_fallback(isvc: Mapping[str, Any]) -> str | None:
    """The revision canaryTrafficPercent 0 sends traffic to (ksvc_reconciler.go)."""
    predictor = _dig(isvc, "status", "components", "predictor") or {}
    rolled_out = predictor.get("latestRolledoutRevision")
    if rolled_out and rolled_out == predictor.get("latestReadyRevision"):
        rolled_out = predictor.get("previousRolledoutRevision")
    return str(rolled_out) if rolled_out else None


def _kserve_state(service: str, isvc: Mapping[str, Any]) -> State:
    predictor = _dig(isvc, "status", "components", "predictor") or {}
    traffic = [t for t in predictor.get("traffic") or [] if t.get("revisionName")]
    if traffic:
        active = str(max(traffic, key=lambda t: t.get("percent") or 0)["revisionName"])
    else:
        active = predictor.get("latestReadyRevision") or _dig(
            isvc, "spec", "predictor", "model", "storageUri"
        )
    earlier = (_kserve_fallback(isvc), predictor.get("previousRolledoutRevision"))
    previous = tuple(dict.fromkeys(str(r) for r in earlier if r and r != active))
    return State(service=service, active_version=active, previous_versions=previous)


def _workload_state(
    service: str, workload: Mapping[str, Any], history: list[_Revision], kind: _Kind
) -> State:
    active = _version(_dig(workload, "spec", "template"))
    stable = _dig(workload, "status", "stableRS")  # an Argo Rollout serves its stable set
    for revision in history:
        if (
            stable
            and revision.template.get("metadata", {}).get("labels", {}).get(kind.hash_label)
            == stable
        ):
            active = revision.version
    number = next((r.number for r in history if r.version == active), None)
    older = [r.version for r in history if number is not None and r.number < number]
    previous = tuple(dict.fromkeys(v for v in older if v != active))
    annotations = _dig(workload, "metadata", "annotations") or {}
    frozen = bool(_dig(workload, "spec", "paused"))
    return State(
        service=service,
        active_version=active or None,
        previous_versions=previous,
        frozen=frozen,
        freeze_reason=annotations.get(FREEZE_REASON) if frozen else None,
    )


def _revisions(listed: Any, owner_uid: Any, kind: _Kind) -> list[_Revision]:
    """ReplicaSets controlled by owner_uid that carry a revision, newest first."""
    revisions = []
    for rs in _dig(listed, "items") or []:
        owners = _dig(rs, "metadata", "ownerReferences") or []
        if not any(o.get("controller") and o.get("uid") == owner_uid for o in owners):
            continue  # selected by labels but another controller's (kubectl does the same)
        annotations = _dig(rs, "metadata", "annotations") or {}
        try:
            number = int(annotations[kind.revision_annotation])
        except (KeyError, ValueError):
            continue
        template = _dig(rs, "spec", "template") or {}
        revisions.append(_Revision(number, _version(template), template, annotations))
    return sorted(revisions, key=lambda r: r.number, reverse=True)


def _pick(history: list[_Revision], to_version: str | None, what: str) -> _Revision:
    if to_version is None:
        if len(history) < 2:
            raise _refused(f"{what} has no earlier revision to roll back to")
        return history[1]
    for revision in history:  # newest first: an image deployed twice means its latest revision
        if to_version in (str(revision.number), revision.version):
            return revision
    known = ", ".join(f"{r.number} ({r.version})" for r in history)
    raise _refused(f"{what} has no revision or image {to_version!r}; it has {known}")


def _selector(workload: Mapping[str, Any]) -> str | None:
    """A LabelSelector object as the labelSelector query string."""
    selector = _dig(workload, "spec", "selector")
    if not selector:
        return None
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, values = expression["key"], ",".join(expression.get("values") or [])
        parts.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }[expression["operator"]]
        )
    return ",".join(parts) or None


def _version(template: Any) -> str:
    containers = _dig(template, "spec", "containers") or []
    return ",".join(str(c.get("image", "")) for c in containers)


def _without_label(template: Mapping[str, Any], label: str) -> dict[str, Any]:
    """A copy of a pod template without one label (the controller's hash)."""
    result = copy.deepcopy(dict(template))
    labels = result.get("metadata", {}).get("labels")
    if labels:
        labels.pop(label, None)
    return result


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _refused(message: str) -> DeployError:
    return DeployError(message, transient=False)
