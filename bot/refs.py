"""How responders name an incident: INC-7."""

from __future__ import annotations

import re


def format_ref(incident_id: int) -> str:
    return f"INC-{incident_id}"


_NUMBER = re.compile(r"[0-9]{1,9}")


def parse_ref(ref: str) -> int | None:
    """'INC-7', 'inc-7' or '7' → 7; anything else → None."""
    value = ref.strip()
    if value.upper().startswith("INC-"):
        value = value[4:]
    # ASCII digits only (str.isdigit takes '²'), and few enough for a 32-bit id column.
    return int(value) if _NUMBER.fullmatch(value) else None
