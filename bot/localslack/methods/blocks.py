"""Block Kit checks shared by messages and views, phrased the way Slack reports them."""

from __future__ import annotations

from typing import Any

# Per-block text limits from the Block Kit reference, checked because they are what a real
# workspace rejects first when an incident summary grows.
TEXT_LIMITS = {"section": 3000, "header": 150}


def block_problems(blocks: list[Any], *, pointer: str, max_blocks: int) -> list[str]:
    """What Slack would object to in `blocks`, each ending in its json-pointer."""
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    for index, block in enumerate(blocks):
        where = f"[json-pointer:{pointer}/{index}]"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"missing required field: type {where}")
            continue
        limit = TEXT_LIMITS.get(block["type"])
        text = block.get("text")
        if limit and isinstance(text, dict) and len(str(text.get("text", ""))) > limit:
            problems.append(f"must be less than {limit + 1} characters {where}")
    return problems


def error_messages(problems: list[str]) -> dict[str, Any]:
    """The `response_metadata` Slack attaches to a refused payload."""
    return {"messages": [f"[ERROR] {p}" for p in problems]}
