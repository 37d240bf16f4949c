"""Simulated ranking models and the quality signal each one produces.

A model version ranks by a hash of (version, query, item): deterministic, different per version,
and good enough to stand in for a learned ranker. A version named `…-bad` is a broken model: it
puts the least relevant items first and its click-through rate collapses. The heuristic ranks
items that share a word with the query first, then alphabetically: worse on average, never broken.
"""

from __future__ import annotations

import hashlib
import re

from .state import Mode

CTR_MODEL = 0.12
CTR_BAD_MODEL = 0.02
CTR_HEURISTIC = 0.08

_WORD = re.compile(r"\w+")


def is_bad(version: str) -> bool:
    return version.endswith("-bad")


def heuristic_rank(query: str, items: list[str]) -> list[str]:
    words = set(_WORD.findall(query.lower()))

    def key(item: str) -> tuple[bool, str, str]:
        matches = bool(words & set(_WORD.findall(item.lower())))
        return (not matches, item.lower(), item)

    return sorted(items, key=key)


def model_rank(version: str, query: str, items: list[str]) -> list[str]:
    if is_bad(version):
        return list(reversed(heuristic_rank(query, items)))

    def score(item: str) -> str:
        return hashlib.sha256(f"{version}\0{query}\0{item}".encode()).hexdigest()

    return sorted(items, key=score)


def rank(version: str, mode: Mode, query: str, items: list[str]) -> list[str]:
    if mode == "heuristic":
        return heuristic_rank(query, items)
    return model_rank(version, query, items)


def click_through_rate(version: str, mode: Mode) -> float:
    if mode == "heuristic":
        return CTR_HEURISTIC
    return CTR_BAD_MODEL if is_bad(version) else CTR_MODEL
