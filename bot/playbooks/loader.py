"""Load playbooks/*.yaml; report every error with its file, place (steps[2].action) and reason."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import TemplateSyntaxError
from pydantic import ValidationError

from bot.playbooks.models import Playbook
from bot.playbooks.templates import environment
from bot.validation import describe, field_path


@dataclass(frozen=True)
class Problem:
    file: Path
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.reason}"


@dataclass(frozen=True)
class Library:
    playbooks: dict[str, Playbook]
    problems: list[Problem]

    def get(self, name: str) -> Playbook | None:
        return self.playbooks.get(name)


def load_library(folder: Path) -> Library:
    playbooks: dict[str, Playbook] = {}
    problems: list[Problem] = []
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []
    for path in files:
        playbook, found = load_file(path)
        problems += found
        if playbook is None:
            continue
        if playbook.name in playbooks:
            problems.append(Problem(path, "name", f"{playbook.name!r} is defined twice"))
            continue
        playbooks[playbook.name] = playbook
    return Library(playbooks=playbooks, problems=problems)


def load_file(path: Path) -> tuple[Playbook | None, list[Problem]]:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return None, [Problem(path, "(file)", f"cannot read: {exc.strerror}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        return None, [Problem(path, where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    if not isinstance(raw, dict):
        return None, [Problem(path, "(top level)", "expected a mapping")]
    problems = [Problem(path, where, reason) for where, reason in _template_problems(raw)]
    try:
        playbook: Playbook | None = Playbook.model_validate(raw)
    except ValidationError as exc:
        playbook = None
        problems = [Problem(path, e["field"], e["message"]) for e in describe(exc)] + problems
    return (None if problems else playbook), problems


def _template_problems(node: Any, loc: tuple[int | str, ...] = ()) -> list[tuple[str, str]]:
    """Every string is a template: a syntax error is reported where it stands."""
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in _template_problems(value, (*loc, key))]
    if isinstance(node, list):
        return [p for i, value in enumerate(node) for p in _template_problems(value, (*loc, i))]
    if isinstance(node, str) and ("{{" in node or "{%" in node):
        try:
            environment().parse(node)
        except TemplateSyntaxError as exc:
            return [(field_path(loc), f"template error: {exc.message}")]
    return []
