"""The Targets port: each service's deployment target, built from firebreak.yaml on first use."""

from __future__ import annotations

import httpx

from bot.config import FirebreakConfig
from bot.deploy.adapters.http import HttpTarget
from bot.deploy.config import HttpTargetConfig, KubernetesTargetConfig, MlflowTargetConfig
from bot.deploy.history import DbAliasHistory
from bot.deploy.ports import DeploymentTarget
from bot.playbooks.ports import NoTarget


class ConfiguredTargets:
    def __init__(
        self, config: FirebreakConfig, client: httpx.AsyncClient, *, history: DbAliasHistory
    ) -> None:
        self._config = config
        self._client = client
        self._history = history
        self._built: dict[str, DeploymentTarget] = {}

    def for_service(self, service: str) -> DeploymentTarget:
        if service in self._built:
            return self._built[service]
        svc = self._config.service(service)
        if svc is None or svc.deploy is None:
            raise NoTarget(
                f"{service} has no deployment target: add services.{service}.deploy "
                "to firebreak.yaml"
            )
        target: DeploymentTarget
        spec = svc.deploy
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
