"""Severity levels, most severe first."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"

    @property
    def rank(self) -> int:
        """1 is the most severe."""
        return int(self.value[-1])

    def is_worse_than(self, other: Severity) -> bool:
        return self.rank < other.rank

    @classmethod
    def worst(cls, severities: list[Severity], default: Severity) -> Severity:
        return min(severities, key=lambda s: s.rank, default=default)
