"""The Targets port: each service's deployment target, built from its firebreak.yaml entry on
first use."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from bot.deploy.adapters.http import HttpTarget
from bot.deploy.config import (
    DeployConfig,
    HttpTargetConfig,
    KubernetesTargetConfig,
    MlflowTargetConfig,
)
from bot.deploy.history import DbAliasHistory
from bot.deploy.ports import DeploymentTarget, NoTarget


class ConfiguredTargets:
    def __init__(
        self,
        specs: Mapping[str, DeployConfig],
        client: httpx.AsyncClient,
        *,
        history: DbAliasHistory,
    ) -> None:
        """`specs`: service → its `deploy:` entry (services without one are left out)."""
        self._specs = specs
        self._client = client
        self._history = history
        self._built: dict[str, DeploymentTarget] = {}

    def for_service(self, service: str) -> DeploymentTarget:
        if service in self._built:
            return self._built[service]
        spec = self._specs.get(service)
        if spec is None:
            raise NoTarget(
                f"{service} has no deployment target: add services.{service}.deploy "
                "to firebreak.yaml"
            )
        target: DeploymentTarget
        if isinstance(spec, HttpTargetConfig):
            target = HttpTarget(spec, service=service, client=self._client)
        elif isinstance(spec, MlflowTargetConfig):
            from bot.deploy.adapters.mlflow import MlflowTarget

            target = MlflowTarget(spec, service=service, client=self._client, history=self._history)
        elif isinstance(spec, KubernetesTargetConfig):
            from bot.deploy.adapters.kubernetes import KubernetesTarget

            target = KubernetesTarget(spec, service=service, client=self._client)
        self._built[service] = target
        return target
