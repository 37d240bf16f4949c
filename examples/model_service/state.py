"""Each service's deployment state, kept in memory, and the changes the API may make to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Mode = Literal["model", "heuristic"]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class ApiError(Exception):
    """A refusal the API reports as `{"error": code, "message": text}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


@dataclass
class Service:
    name: str
    active_version: str
    previous_versions: list[str]  # newest first
    updated_at: datetime
    mode: Mode = "model"
    frozen: bool = False
    freeze_reason: str | None = None
    requests: dict[tuple[str, str], int] = field(default_factory=dict)  # (version, mode) → n
    errors: int = 0
    served_by_bad: int = 0  # counts towards the injected failures of a bad model

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.name,
            "active_version": self.active_version,
            "previous_versions": list(self.previous_versions),
            "mode": self.mode,
            "frozen": self.frozen,
            "freeze_reason": self.freeze_reason,
            "updated_at": self.updated_at.isoformat(timespec="seconds"),
        }


class Registry:
    """All services. Methods either change one service and return it, or raise ApiError."""

    def __init__(self, services: dict[str, list[str]], *, clock: Clock = utc_now) -> None:
        self._clock = clock
        self.services: dict[str, Service] = {}
        for name, versions in services.items():
            if not versions:
                raise ValueError(f"service {name!r} needs at least one version")
            self.services[name] = Service(
                name=name,
                active_version=versions[-1],
                previous_versions=list(reversed(versions[:-1])),
                updated_at=clock(),
            )

    def get(self, name: str) -> Service:
        try:
            return self.services[name]
        except KeyError:
            raise ApiError(404, "unknown_service", f"no service named {name!r}") from None

    def rollback(self, name: str, to_version: str | None) -> Service:
        service = self.get(name)
        if to_version is None:
            if not service.previous_versions:
                raise ApiError(
                    409,
                    "nothing_to_roll_back",
                    f"{name} has no version before {service.active_version}",
                )
            to_version = service.previous_versions[0]
        elif to_version == service.active_version:
            return service  # already there: a retried rollback must not fail
        elif to_version not in service.previous_versions:
            raise ApiError(
                404, "unknown_version", f"{to_version!r} is not in {name}'s version history"
            )
        # The versions rolled back over leave the history: the next rollback goes further back.
        index = service.previous_versions.index(to_version)
        service.active_version = to_version
        service.previous_versions = service.previous_versions[index + 1 :]
        return self._touched(service)

    def deploy(self, name: str, version: str) -> Service:
        service = self.get(name)
        if service.frozen:
            raise ApiError(423, "frozen", f"{name} is frozen: {service.freeze_reason}")
        if version == service.active_version:
            return service
        history = [v for v in service.previous_versions if v != version]
        service.previous_versions = [service.active_version, *history]
        service.active_version = version
        return self._touched(service)

    def set_mode(self, name: str, mode: Mode) -> Service:
        service = self.get(name)
        if service.mode == mode:
            return service
        service.mode = mode
        return self._touched(service)

    def freeze(self, name: str, reason: str) -> Service:
        service = self.get(name)
        service.frozen = True
        service.freeze_reason = reason
        return self._touched(service)

    def unfreeze(self, name: str) -> Service:
        service = self.get(name)
        if not service.frozen:
            return service
        service.frozen = False
        service.freeze_reason = None
        return self._touched(service)

    def _touched(self, service: Service) -> Service:
        service.updated_at = self._clock()
        return service
