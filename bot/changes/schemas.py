"""A change event as CI/CD pipelines and model registries post it to /webhooks/changes."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from bot.changes.models import Change, Freeze
from bot.refs import format_ref


class ChangeKind(StrEnum):
    DEPLOY = "deploy"
    MODEL_PROMOTION = "model_promotion"
    CONFIG = "config"
    FEATURE_PIPELINE = "feature_pipeline"
    DATA_BACKFILL = "data_backfill"
    EXPERIMENT = "experiment"
    CANARY_START = "canary_start"
    CANARY_STEP = "canary_step"
    CANARY_ABORT = "canary_abort"
    SHADOW_START = "shadow_start"
    SHADOW_STOP = "shadow_stop"


# A rollout in progress: started by the first kind, ended by the second.
ROLLOUTS = {
    ChangeKind.CANARY_START: ChangeKind.CANARY_ABORT,
    ChangeKind.SHADOW_START: ChangeKind.SHADOW_STOP,
}


class ChangeEvent(BaseModel):
    """`id` is the sender's event id: the same id posted again is the same change."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(min_length=1, max_length=200, pattern=r"^\S+$")
    kind: ChangeKind
    service: str = Field(min_length=1, max_length=200)
    version: str | None = Field(None, max_length=200)
    previous_version: str | None = Field(None, max_length=200)
    author: str | None = Field(None, max_length=200)
    link: str | None = Field(None, max_length=2000)
    summary: str | None = Field(None, max_length=500)
    time: AwareDatetime | None = None  # when it happened; absent: when it arrived

    @field_validator("link")
    @classmethod
    def _web_link(cls, link: str | None) -> str | None:
        if link is not None and not link.startswith(("https://", "http://")):
            raise ValueError("an http(s) URL")
        return link

    @field_validator("time")
    @classmethod
    def _utc(cls, moment: datetime | None) -> datetime | None:
        return moment.astimezone(UTC) if moment else None


class ChangeOut(BaseModel):
    """A stored change, as the webhook answers it (the same for a replay)."""

    id: int
    event_id: str
    kind: ChangeKind
    service: str
    version: str | None
    previous_version: str | None
    author: str | None
    link: str | None
    summary: str | None
    time: datetime
    received_at: datetime
    during_freeze: bool

    @classmethod
    def of(cls, change: Change) -> ChangeOut:
        return cls(
            id=change.id,
            event_id=change.event_id,
            kind=ChangeKind(change.kind),
            service=change.service,
            version=change.version,
            previous_version=change.previous_version,
            author=change.author,
            link=change.link,
            summary=change.summary,
            time=change.at,
            received_at=change.received_at,
            during_freeze=change.freeze_id is not None,
        )


class FreezeOut(BaseModel):
    """The deploy gate's 423 answer: who froze the service, why, since when, in which incident."""

    service: str
    frozen: bool = True
    reason: str
    by: str
    since: datetime
    incident: str | None

    @classmethod
    def of(cls, freeze: Freeze) -> FreezeOut:
        return cls(
            service=freeze.service,
            reason=freeze.reason,
            by=freeze.by,
            since=freeze.started_at,
            incident=format_ref(freeze.incident_id) if freeze.incident_id else None,
        )
