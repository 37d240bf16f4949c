"""Load playbooks/*.yaml; report every error with its file, place (steps[2].action) and reason.

Besides the schema and template syntax, what the templates refer to is checked (references.py):
a playbook whose step would fail on `steps['rollbak']` or `params.servce` is not loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import TemplateSyntaxError
from pydantic import ValidationError

from bot.playbooks.models import Playbook
from bot.playbooks.references import reference_problems
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
    """The playbooks of a folder (none when it does not exist)."""
    return _load(playbook_files(folder) if folder.is_dir() else [], [])


def load_paths(paths: Iterable[Path]) -> Library:
    """The playbooks of these files and folders (`firebreak check PATH…`): a file is read
    whatever its name; a folder, for its *.yaml and *.yml; a path that is neither is a problem."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            files += playbook_files(path)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(path, "(file)", "no such file or folder"))
    return _load(list(dict.fromkeys(files)), problems)


def playbook_files(folder: Path) -> list[Path]:
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def _load(files: list[Path], problems: list[Problem]) -> Library:
    playbooks: dict[str, Playbook] = {}
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
    if playbook is not None:
        problems += [Problem(path, where, reason) for where, reason in reference_problems(playbook)]
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
