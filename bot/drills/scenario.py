"""A drill scenario as stored in examples/drills/<name>.json: the alert notification to replay,
the changes that led to it, the deployment's state, and what responders are expected to do.

    {"description": "…", "source": "alertmanager", "started_ago": "4m",
     "deployment": {"search-ranker": {"active_version": "v42", "previous_versions": ["v41"]}},
     "changes": [{"ago": "25m", "kind": "model_promotion", "service": "search-ranker",
                  "version": "v42", "previous_version": "v41", "author": "ml-pipeline"}],
     "expect": ["commander", "scribe", "playbook:rollback", "status:mitigated"],
     "notification": {…the alert source's webhook body…}}
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.alerts.schemas import AlertBatch
from bot.alerts.sources.registry import PARSERS
from bot.changes.schemas import ChangeKind
from bot.durations import Duration
from bot.incidents.errors import Refused
from bot.mrkdwn import escape
from bot.validation import describe

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# What a scenario may expect of responders; checked by the drill's report.
_EXPECT = re.compile(r"^(commander|scribe|update|playbook:[a-z0-9-]+|status:[a-z]+)$")


class Deployment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active_version: str | None = None
    previous_versions: list[str] = Field(default_factory=list)  # newest first


class DrillChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ago: Duration  # before the drill starts
    kind: ChangeKind
    service: str = Field(min_length=1)
    version: str | None = None
    previous_version: str | None = None
    author: str | None = None
    link: str | None = None
    summary: str | None = None


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""  # the file's name
    description: str = Field(min_length=1)
    source: str
    started_ago: Duration = timedelta(0)  # the alert began this long before the drill
    deployment: dict[str, Deployment] = Field(default_factory=dict)
    changes: list[DrillChange] = Field(default_factory=list)
    expect: list[str] = Field(default_factory=list)
    notification: dict[str, Any]

    @field_validator("source")
    @classmethod
    def _known_source(cls, source: str) -> str:
        if source not in PARSERS:
            raise ValueError(f"one of: {', '.join(sorted(PARSERS))}")
        return source

    @field_validator("expect")
    @classmethod
    def _known_expectations(cls, expect: list[str]) -> list[str]:
        wrong = [e for e in expect if not _EXPECT.match(e)]
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)}: expect commander, scribe, update, playbook:<name> "
                "or status:<status>"
            )
        return expect

    def batch(self, *, now: datetime, nonce: str) -> AlertBatch:
        """The notification, replayed now: its own group and fingerprints (so a drill never
        joins a real incident or an earlier drill), its times moved to end `started_ago` ago."""
        parsed = PARSERS[self.source](self.notification)
        first = min(a.starts_at for a in parsed.alerts)
        shift = now - self.started_ago - first
        alerts = [
            replace(
                a,
                fingerprint=f"drill-{nonce}-{a.fingerprint}",
                starts_at=a.starts_at + shift,
                ends_at=a.ends_at + shift if a.ends_at else None,
            )
            for a in parsed.alerts
        ]
        return replace(
            parsed, group_key=f"drill:{nonce}:{parsed.group_key}", alerts=alerts, drill=True
        )


def names(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def load(folder: Path, name: str) -> Scenario:
    """Raises Refused (mrkdwn, its parts escaped) naming the scenarios there are, or what is
    wrong with this one."""
    if not _NAME.match(name) or not (folder / f"{name}.json").is_file():
        known = ", ".join(names(folder)) or f"none in {folder}"
        raise Refused(escape(f"There is no drill scenario {name!r} (there are: {known})."))
    path = folder / f"{name}.json"
    try:
        scenario = Scenario.model_validate({**json.loads(path.read_text("utf-8")), "name": name})
        scenario.batch(now=datetime.now().astimezone(), nonce="check")
    except json.JSONDecodeError as exc:
        raise Refused(escape(f"{path}: not valid JSON: {exc}")) from exc
    except ValidationError as exc:
        problems = "; ".join(f"{e['field']}: {e['message']}" for e in describe(exc))
        raise Refused(escape(f"{path}: {problems}")) from exc
    return scenario
