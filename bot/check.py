"""`firebreak check`: the configuration read as `serve` would read it, problems said before
a start-up meets them."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.alerts.sources.errors import Unreadable
from bot.alerts.sources.templated import SourceError, make_receiver
from bot.config import FirebreakConfig, Settings, reveal
from bot.context import utcnow
from bot.playbooks.loader import load_library, load_paths


def check(settings: Settings, config: FirebreakConfig, *, paths: Sequence[Path] = ()) -> int:
    """What this configuration would run with, and every problem `serve` would meet with it;
    the exit code: 0 when there is none, 2 otherwise."""
    print(f"config: {settings.config_path or '(none: built-in defaults)'}")
    print(f"services: {', '.join(sorted(config.services)) or '(none)'}")
    print(f"broadcast channel: {config.broadcast_channel or '(none)'}")
    slack = (
        "built-in stand-in" if settings.embedded_slack else f"Web API at {settings.slack_api_url}"
    )
    print(f"slack: {slack}")
    if paths:
        library, place = load_paths(paths), ", ".join(str(p) for p in paths)
    else:
        library, place = load_library(settings.playbooks_dir), str(settings.playbooks_dir)
    print(f"playbooks in {place}: {', '.join(sorted(library.playbooks)) or '(none)'}")
    print(f"sources: {', '.join(sorted(config.sources)) or '(none)'}")
    failed = False
    for problem in [*library.problems, *source_problems(config)]:
        print(f"firebreak: {problem}", file=sys.stderr)
        failed = True
    if not settings.embedded_slack and not reveal(settings.slack_signing_secret):
        print("firebreak: SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not", file=sys.stderr)
        failed = True
    if failed:
        return 2
    print("ok")
    return 0


def source_problems(config: FirebreakConfig) -> list[str]:
    """Each config source built as `serve` would build it, and its sample read: what would
    fail at start-up, or answer the sender 422, is said now."""
    problems: list[str] = []
    for name, spec in sorted(config.sources.items()):
        try:
            receiver = make_receiver(name, spec, clock=utcnow, environ=os.environ)
        except SourceError as exc:
            problems.append(str(exc))
            continue
        if receiver.sample is None:
            continue
        try:
            receiver.parse(receiver.sample)
        except Unreadable as exc:
            problems.append(
                f"sources.{name}.sample: {exc.field}: {exc.reason} (expression {exc.expression!r})"
            )
    return problems
