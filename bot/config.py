"""Configuration: the environment (Settings) and the team's firebreak.yaml (FirebreakConfig)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.incidents.severity import Severity
from bot.validation import describe

SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///firebreak.db"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class Settings(BaseSettings):
    """Process settings from the environment. Secrets live here, never in firebreak.yaml."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    database_url: str = Field(DEFAULT_DATABASE_URL, alias="FIREBREAK_DATABASE_URL")
    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field(SLACK_API_URL, alias="FIREBREAK_SLACK_API_URL")
    webhook_token: str | None = Field(None, alias="FIREBREAK_WEBHOOK_TOKEN")
    config_path: Path | None = Field(None, alias="FIREBREAK_CONFIG")
    max_body_bytes: int = Field(1_048_576, alias="FIREBREAK_MAX_BODY_BYTES", gt=0)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        """Accept the usual URL spellings and pick the async driver Firebreak ships with."""
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url

    @property
    def embedded_slack(self) -> bool:
        """With no bot token, the bot talks to its own in-process Slack stand-in."""
        return not self.slack_bot_token


class ServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owners: list[str] = Field(
        default_factory=list, description="Slack user IDs invited to its incidents"
    )
    description: str | None = None
    runbook_url: str | None = None

    @field_validator("owners")
    @classmethod
    def _owners_are_user_ids(cls, owners: list[str]) -> list[str]:
        for owner in owners:
            if not _USER_ID.match(owner):
                raise ValueError(f"{owner!r} is not a Slack user ID (like U0123ABCD)")
        return owners


class AlertsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_label: str = "service"
    severity_label: str = "severity"
    # Label value (lower-cased) → severity; merged over the defaults below.
    severity_map: dict[str, Severity] = Field(default_factory=dict)
    default_severity: Severity = Severity.SEV4

    def severity_for(self, value: str | None) -> Severity:
        if value is None:
            return self.default_severity
        key = value.strip().lower()
        return self.severity_map.get(key) or DEFAULT_SEVERITY_MAP.get(key) or self.default_severity


DEFAULT_SEVERITY_MAP: dict[str, Severity] = {
    "critical": Severity.SEV1,
    "high": Severity.SEV2,
    "error": Severity.SEV2,
    "warning": Severity.SEV3,
}


class FirebreakConfig(BaseModel):
    """The team's firebreak.yaml: services, their owners, and where incidents are broadcast."""

    model_config = ConfigDict(extra="forbid")

    broadcast_channel: str | None = "incidents"
    declared_severity: Severity = Severity.SEV3
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    services: dict[str, ServiceConfig] = Field(default_factory=dict)

    def service(self, name: str | None) -> ServiceConfig | None:
        return self.services.get(name) if name else None


class ConfigError(Exception):
    """firebreak.yaml could not be read; the message names the file, the place and the reason."""


def load_config(path: Path | None) -> FirebreakConfig:
    if path is None:
        return FirebreakConfig()
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return FirebreakConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: {e['field']}: {e['message']}" for e in describe(exc)]
        raise ConfigError("\n".join(lines)) from exc
