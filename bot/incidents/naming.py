"""Incident channel names that obey Slack's rules: lowercase letters, digits, '-' and '_', ≤ 80."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterator

MAX_NAME = 80
SLUG_BUDGET = 40  # long enough to recognise, short enough to read in a channel list
_NOT_ALLOWED = re.compile(r"[^a-z0-9_-]+")
_DASHES = re.compile(r"-{2,}")


def slugify(title: str, *, budget: int = SLUG_BUDGET) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = _DASHES.sub("-", _NOT_ALLOWED.sub("-", ascii_title.lower())).strip("-_")
    if len(slug) > budget:
        cut = slug[:budget]
        # Prefer cutting at a word boundary when one is reasonably close.
        slug = cut.rsplit("-", 1)[0] if "-" in cut[budget // 2 :] else cut
        slug = slug.strip("-_")
    return slug


def channel_names(
    number: int, title: str, *, attempts: int = 5, drill: bool = False
) -> Iterator[str]:
    """Candidate names, best first: inc-7-slug, inc-7-slug-2, …, then a random suffix.
    A drill's start with drill-, so nobody mistakes it for the real thing."""
    base = f"drill-inc-{number}" if drill else f"inc-{number}"
    slug = slugify(title, budget=min(SLUG_BUDGET, MAX_NAME - len(base) - 1 - 4))
    first = f"{base}-{slug}" if slug else base
    yield first
    for n in range(2, attempts + 1):
        yield f"{first}-{n}"
    while True:
        yield f"{base}-{secrets.token_hex(3)}"
