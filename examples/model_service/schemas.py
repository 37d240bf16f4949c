"""Request bodies of the Deployment API (docs/deployment-api.yaml), validated strictly."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .state import Mode

VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class _Body(BaseModel):
    # Unknown fields are refused: a typo such as {"version": …} on rollback must not roll back
    # to the previous version silently.
    model_config = ConfigDict(extra="forbid")


class RollbackRequest(_Body):
    to_version: str | None = None


class ModeRequest(_Body):
    mode: Mode


class FreezeRequest(_Body):
    reason: str = Field(min_length=1, max_length=500)


class DeployRequest(_Body):
    version: str = Field(pattern=VERSION_PATTERN)


class RankRequest(_Body):
    query: str = Field(max_length=1000)
    items: list[str] = Field(max_length=1000)
