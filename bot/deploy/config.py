"""Per-service deployment targets in firebreak.yaml (`services.<name>.deploy`).

Secrets are never written in the file: `token_env` names the environment variable that holds
the target's bearer token.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl


class _Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token_env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    timeout_s: float = Field(10.0, gt=0, le=300)


class HttpTargetConfig(_Target):
    """Firebreak's reference Deployment API (docs/deployment-api.yaml)."""

    kind: Literal["http"]
    url: HttpUrl
    service: str | None = None  # the name the API knows the service by (default: ours)


class MlflowTargetConfig(_Target):
    """An MLflow Model Registry: rolling back moves the serving alias to an earlier version."""

    kind: Literal["mlflow"]
    url: HttpUrl
    model: str = Field(min_length=1)
    alias: str = Field("champion", min_length=1)
    # Aliases whose moves are recorded as changes of the service (changes.registry_poll):
    # absent, the serving alias; [] watches none.
    watch: list[str] | None = None

    @property
    def watched_aliases(self) -> list[str]:
        return [self.alias] if self.watch is None else list(dict.fromkeys(self.watch))


class KubernetesTargetConfig(_Target):
    """The Kubernetes API: Argo Rollouts, KServe InferenceServices or plain Deployments."""

    kind: Literal["kubernetes"]
    api_url: HttpUrl
    namespace: str = Field(min_length=1)
    resource: Literal["rollout", "inferenceservice", "deployment"]
    name: str = Field(min_length=1)
    verify_tls: bool = True


DeployConfig = Annotated[
    HttpTargetConfig | MlflowTargetConfig | KubernetesTargetConfig, Field(discriminator="kind")
]
