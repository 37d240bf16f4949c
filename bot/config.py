"""Configuration: the environment (Settings) and the team's firebreak.yaml (FirebreakConfig)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.budget.slo import Slo, SloError, load_openslo
from bot.deploy.config import DeployConfig
from bot.durations import Duration
from bot.oncall import Rotation
from bot.people import UserId
from bot.severity import Severity
from bot.validation import describe

SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///firebreak.db"


class Settings(BaseSettings):
    """Process settings from the environment. Secrets live here, never in firebreak.yaml."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    # The URL may carry the database password: kept out of the settings' repr.
    database_url: str = Field(DEFAULT_DATABASE_URL, alias="FIREBREAK_DATABASE_URL", repr=False)
    # SecretStr: shown as '**********' wherever settings are printed or logged.
    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")  # Socket Mode only
    slack_api_url: str = Field(SLACK_API_URL, alias="FIREBREAK_SLACK_API_URL")
    webhook_token: SecretStr | None = Field(None, alias="FIREBREAK_WEBHOOK_TOKEN")
    # Grafana's HMAC signature of each notification (X-Grafana-Alerting-Signature); optional.
    grafana_secret: SecretStr | None = Field(None, alias="FIREBREAK_GRAFANA_SECRET")
    # PagerDuty's v3 webhook signature (X-PagerDuty-Signature: v1=<hex>); optional.
    pagerduty_secret: SecretStr | None = Field(None, alias="FIREBREAK_PAGERDUTY_SECRET")
    config_path: Path | None = Field(None, alias="FIREBREAK_CONFIG")
    playbooks_dir: Path = Field(Path("playbooks"), alias="FIREBREAK_PLAYBOOKS")
    max_body_bytes: int = Field(1_048_576, alias="FIREBREAK_MAX_BODY_BYTES", gt=0)
    drills_dir: Path = Field(Path("examples/drills"), alias="FIREBREAK_DRILLS")
    # How often every replica tries to become the one that runs reminders: the longest a dead
    # owner's reminders wait for another replica to take over.
    scheduler_takeover_s: float = Field(10.0, alias="FIREBREAK_SCHEDULER_TAKEOVER_S", gt=0, le=300)
    log_format: Literal["text", "json"] = Field("text", alias="FIREBREAK_LOG_FORMAT")
    # `make bench` only: mounts POST /bench/noop, the baseline the webhooks are measured against.
    bench_noop: bool = Field(False, alias="FIREBREAK_BENCH_NOOP")
    # The JSON API (/api/*, the deploy gate included) needs `Authorization: Bearer <token>`.
    # Unset: closed when a Slack token is set; open (loopback Host only) in local mode.
    api_token: SecretStr | None = Field(None, alias="FIREBREAK_API_TOKEN")
    # /metrics without the API token (a scraper on a trusted network); off by default.
    metrics_public: bool = Field(False, alias="FIREBREAK_METRICS_PUBLIC")
    # FastAPI's /docs, /redoc and /openapi.json: off unless asked for.
    api_docs: bool = Field(False, alias="FIREBREAK_API_DOCS")
    # Local mode: the page's key (else a random one per start, printed with the page's URL).
    page_key: SecretStr | None = Field(None, alias="FIREBREAK_PAGE_KEY")
    # Alerts one notification may carry (413 above; nothing is stored).
    max_alerts: int = Field(1000, alias="FIREBREAK_MAX_ALERTS", gt=0)
    # Slack calls already delivered are deleted from the outbox once this old.
    outbox_retention: Duration = Field(timedelta(days=14), alias="FIREBREAK_OUTBOX_RETENTION")
    # uvicorn: requests at once (connections or tasks) before new ones get 503, and how long a
    # connection may take to send a request's head (the request line and headers).
    limit_concurrency: int = Field(500, alias="FIREBREAK_LIMIT_CONCURRENCY", gt=0)
    header_timeout_s: float = Field(10.0, alias="FIREBREAK_HEADER_TIMEOUT_S", gt=0, le=300)
    # Alert graphs drawn in a process of their own (started at the first graph, ~100 MB, stopped
    # 30 s after the last); false: in a thread of the serving process, where each draw holds
    # up the webhooks for ~0.3 s.
    graph_process: bool = Field(True, alias="FIREBREAK_GRAPH_PROCESS")
    # `serve`: the chat follow-ups of alerts (channels, announcements, cards, graphs) in a
    # process of its own, started and restarted by the serving one, so that a storm's webhooks
    # do not wait behind them (bot.followups.away). false: in the serving process.
    chat_process: bool = Field(True, alias="FIREBREAK_CHAT_PROCESS")

    @field_validator("slack_bot_token")
    @classmethod
    def _token_or_unset(cls, token: SecretStr | None) -> SecretStr | None:
        # Set but empty (`SLACK_BOT_TOKEN=` in a unit file, a missing secret in a template)
        # must not quietly start the local stand-in in place of Slack.
        if token is not None and not token.get_secret_value().strip():
            raise ValueError(
                "set but empty: set the bot token (xoxb-…), or unset SLACK_BOT_TOKEN to run "
                "with the built-in Slack stand-in"
            )
        return token

    @field_validator("api_token")
    @classmethod
    def _api_token_or_unset(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and not token.get_secret_value().strip():
            raise ValueError("set but empty: give the token, or unset FIREBREAK_API_TOKEN")
        return token

    @field_validator("page_key")
    @classmethod
    def _long_enough(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and len(key.get_secret_value()) < 16:
            raise ValueError("too short to be a secret: give at least 16 characters")
        return key

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
        return not reveal(self.slack_bot_token)


def reveal(secret: SecretStr | None) -> str | None:
    """The secret's value where it is used (never where it is logged); None when unset or empty."""
    return (secret.get_secret_value() or None) if secret is not None else None


def _http_url(url: str | None) -> str | None:
    """An http(s) URL with a host, without a trailing slash; None stays None."""
    if url is None:
        return None
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/?#\s]+[^?#\s]*$", url):
        raise ValueError(
            "an http:// or https:// URL, without a query (e.g. http://prometheus:9090)"
        )
    return url


class ServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owners: list[UserId] = Field(default_factory=list, description="invited to its incidents")
    description: str | None = None
    runbook_url: str | None = None
    oncall: Rotation | None = Field(None, description="who commands this service's new incidents")
    deploy: DeployConfig | None = Field(None, description="where its mitigations act")
    slo: Slo | None = Field(None, description="its objective: target, window, method")
    # Or an OpenSLO v1 `kind: SLO` file (relative to firebreak.yaml), read when loading.
    openslo: Path | None = None
    # Services whose changes can break this one: their changes show in its incidents too.
    depends_on: list[str] = Field(default_factory=list)
    # The Prometheus its alerts' graphs are queried from (over alerts.prometheus_url).
    prometheus_url: str | None = Field(None, description="e.g. http://prometheus.monitoring:9090")

    @field_validator("prometheus_url")
    @classmethod
    def _prometheus_url(cls, url: str | None) -> str | None:
        return _http_url(url)


class AlertsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_label: str = "service"
    severity_label: str = "severity"
    # Label value (lower-cased) → severity; merged over the defaults below.
    severity_map: dict[str, Severity] = Field(default_factory=dict)
    default_severity: Severity = Severity.SEV4
    # A sender's name for a service (a PagerDuty service, an Opsgenie tag, a label value) →
    # the service of this file it is; names not listed are taken as they are.
    service_map: dict[str, str] = Field(default_factory=dict)
    # The alert's graph, posted in its incident's channel: the Prometheus queried (else the one
    # a Prometheus alert's generatorURL names; services.<name>.prometheus_url comes first), and
    # how long it may take before the channel is told why there is no graph.
    prometheus_url: str | None = None
    graph_timeout: Duration = timedelta(seconds=5)
    graphs: bool = True  # false: no graphs at all

    @field_validator("prometheus_url")
    @classmethod
    def _prometheus_url(cls, url: str | None) -> str | None:
        return _http_url(url)

    @field_validator("graph_timeout")
    @classmethod
    def _graph_timeout(cls, timeout: timedelta) -> timedelta:
        if not timedelta(0) < timeout <= timedelta(minutes=1):
            raise ValueError("more than 0s and at most 1m (the graph waits no longer)")
        return timeout

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
    # Opsgenie's and PagerDuty's priorities.
    "p1": Severity.SEV1,
    "p2": Severity.SEV2,
    "p3": Severity.SEV3,
    "p4": Severity.SEV4,
    "p5": Severity.SEV4,
}


class PagerDutyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Which field of a PagerDuty incident names the service (then read through
    # alerts.service_map): a dotted path such as service.summary, service.id, title.
    service_field: str = Field("service.summary", min_length=1)


class OpsgenieConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # An alert's tag "<service_tag>:<name>" names the service, else its details[<service_tag>],
    # else its entity (then read through alerts.service_map).
    service_tag: str = Field("service", min_length=1)


class SignatureSpec(BaseModel):
    """Senders that cannot send a bearer token sign their bodies instead (Sentry): the hex
    HMAC-SHA256 of the raw body in `header`, keyed by the secret in environment variable
    `secret_env` (secrets never live in this file)."""

    model_config = ConfigDict(extra="forbid")

    header: str = Field(min_length=1, max_length=100)
    secret_env: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class SourceSpec(BaseModel):
    """A receiver at POST /webhooks/<name>: each field a sandboxed Jinja2 expression over the
    parsed JSON body (`payload`), rendered to a string (bot.alerts.sources.templated)."""

    model_config = ConfigDict(extra="forbid")

    group_key: str = Field(min_length=1, description="one open incident per value")
    title: str = Field(min_length=1)
    status: str = Field("firing", description="firing, resolved, or ignore")
    alert_key: str | None = Field(None, description="one alert within the group")
    service: str | None = None
    severity: str | None = None
    description: str | None = None
    link: str | None = None
    started_at: str | None = Field(None, description="RFC 3339 or epoch s/ms; else received")
    labels: dict[str, str] = Field(default_factory=dict)
    signature: SignatureSpec | None = None  # asked instead of the webhook's bearer token
    # Amazon SNS: fetch a subscription's SubscribeURL when asked (else it is only logged).
    confirm_subscription: bool = False
    # A body this sender posts: what `firebreak check` reads the expressions against, and
    # what the local page's "Fire test alert" menu sends.
    sample: dict[str, Any] | None = None


class RemindersConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Tell the channels when nobody has taken command this long after an incident opened.
    commander_after: Duration = timedelta(minutes=2)
    # Ask the commander for a status update this often, by severity (absent: no reminder).
    status_update_every: dict[Severity, Duration] = Field(
        default_factory=lambda: {
            Severity.SEV1: timedelta(minutes=15),
            Severity.SEV2: timedelta(minutes=30),
            Severity.SEV3: timedelta(minutes=60),
        }
    )
    # How often the pinned budget message's countdown is brought up to date.
    budget_every: Duration = timedelta(minutes=2)
    snooze_choices: list[Duration] = Field(
        default_factory=lambda: [timedelta(minutes=15), timedelta(minutes=30)], min_length=1
    )


class PermissionsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Who may change an incident (roles, status, severity, notes): the members of its channel,
    # or anyone in the workspace. Admins may always.
    change: Literal["channel_members", "anyone"] = "channel_members"
    admins: list[UserId] = Field(default_factory=list)
    # Who may accept a handoff or approve: only the person asked (not configurable on purpose).


class PlaybooksConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A run that changes a service is approved by someone with rights on it: its owners,
    # whoever is on call for it, these responders, or permissions.admins.
    approvers: list[UserId] = Field(default_factory=list)
    # Whoever asked for a run cannot also approve it.
    two_person: bool = False
    # Gone: commanding an incident, or being in its channel, is no right on a service.
    approve: None = Field(
        None,
        exclude=True,
        description="removed: approval needs rights on the service (owners, on call, approvers)",
    )

    @field_validator("approve", mode="before")
    @classmethod
    def _approve_is_gone(cls, value: object) -> None:
        if value is not None:
            raise ValueError(
                "playbooks.approve is no longer read: a run is approved by someone with rights "
                "on the service it changes (its owners, whoever is on call for it, "
                "playbooks.approvers, permissions.admins); remove the line"
            )
        return None


class BudgetPolicyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Shares of a service's error budget whose crossing is announced in the broadcast channel.
    thresholds: list[float] = Field(default_factory=lambda: [0.5, 1.0], min_length=1)
    # Offered (with a button) when the budget is spent: the error-budget policy's freeze.
    freeze_playbook: str | None = "traffic-freeze"

    @field_validator("thresholds")
    @classmethod
    def _shares(cls, thresholds: list[float]) -> list[float]:
        if any(not 0 < t <= 10 for t in thresholds):
            raise ValueError("shares of the budget, like 0.5 for half and 1.0 for all of it")
        return sorted(set(thresholds))


class PostmortemConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    folder: Path = Path("postmortems")  # where drafts are written, as INC-7-<title>.md
    template: Path | None = None  # a team's own Jinja2 template (default: the built-in one)
    on_resolve: bool = True  # write the draft when an incident is resolved


class TimelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Messages pinned, or given this reaction, go on the incident's timeline.
    pin_emoji: str = "pushpin"


class ChangesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # How far back before an incident opened its announcement lists changes.
    lookback: Duration = timedelta(hours=24)
    # What "Roll back this change" runs, with the change's previous version as to_version.
    rollback_playbook: str = "rollback"
    shown: int = Field(8, ge=1, le=20)  # changes listed in an announcement
    # How often the model registry of each service deployed through MLflow is read, a moved
    # alias becoming a change (deploy.watch says which aliases); null: never.
    registry_poll: Duration | None = timedelta(seconds=30)

    @field_validator("registry_poll")
    @classmethod
    def _registry_poll(cls, every: timedelta | None) -> timedelta | None:
        if every is not None and every < timedelta(seconds=1):
            raise ValueError("at least 1s (or null to read no registry)")
        return every


# Paths under /webhooks/ that Firebreak's own receivers answer: no config source may take one.
BUILT_IN_SOURCES = ("alertmanager", "grafana", "generic", "pagerduty", "opsgenie", "changes")
SOURCE_NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"  # a path segment, and fits alerts.source


class FirebreakConfig(BaseModel):
    """The team's firebreak.yaml: services, their owners, and where incidents are broadcast."""

    model_config = ConfigDict(extra="forbid")

    broadcast_channel: str | None = "incidents"
    declared_severity: Severity = Severity.SEV3
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    reminders: RemindersConfig = Field(default_factory=RemindersConfig)
    permissions: PermissionsConfig = Field(default_factory=PermissionsConfig)
    timeline: TimelineConfig = Field(default_factory=TimelineConfig)
    playbooks: PlaybooksConfig = Field(default_factory=PlaybooksConfig)
    budget: BudgetPolicyConfig = Field(default_factory=BudgetPolicyConfig)
    postmortem: PostmortemConfig = Field(default_factory=PostmortemConfig)
    changes: ChangesConfig = Field(default_factory=ChangesConfig)
    services: dict[str, ServiceConfig] = Field(default_factory=dict)
    pagerduty: PagerDutyConfig = Field(default_factory=PagerDutyConfig)
    opsgenie: OpsgenieConfig = Field(default_factory=OpsgenieConfig)
    # Config-defined alert sources, by the name in their path (/webhooks/<name>).
    sources: dict[str, SourceSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_dependencies(self) -> FirebreakConfig:
        for name, svc in self.services.items():
            unknown = [d for d in svc.depends_on if d not in self.services or d == name]
            if unknown:
                raise ValueError(
                    f"services.{name}.depends_on: {', '.join(unknown)} is not another service "
                    "of this file"
                )
        for name in self.sources:
            if name in BUILT_IN_SOURCES:
                raise ValueError(
                    f"sources.{name}: /webhooks/{name} is a built-in receiver; "
                    "give this source another name"
                )
            if not re.match(SOURCE_NAME, name):
                raise ValueError(
                    f"sources.{name}: a source name is 1 to 40 of a-z, 0-9, '-' and '_', "
                    "starting with a letter or digit (it is a URL path segment)"
                )
        return self

    def service(self, name: str | None) -> ServiceConfig | None:
        return self.services.get(name) if name else None

    def deploy_specs(self) -> dict[str, DeployConfig]:
        """Service → its deployment target's settings, for the services that have one."""
        return {name: svc.deploy for name, svc in self.services.items() if svc.deploy}


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
        config = FirebreakConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: {e['field']}: {e['message']}" for e in describe(exc)]
        raise ConfigError("\n".join(lines)) from exc
    for name, svc in config.services.items():
        if svc.openslo is not None:
            svc.slo = _read_openslo(path, f"services.{name}", svc)
    return config


def _read_openslo(config_path: Path, where: str, svc: ServiceConfig) -> Slo:
    if svc.slo is not None:
        raise ConfigError(f"{config_path}: {where}: give `slo` or `openslo`, not both")
    assert svc.openslo is not None
    file = svc.openslo if svc.openslo.is_absolute() else config_path.parent / svc.openslo
    try:
        return load_openslo(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"{config_path}: {where}.openslo: cannot read {file}: {exc.strerror}"
        ) from exc
    except SloError as exc:
        raise ConfigError(f"{file}: {exc}") from exc
