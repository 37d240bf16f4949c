"""Start real server processes for end-to-end tests, and always stop them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bot.demo.processes import child
from tests.scenario import ENV


def require_binary(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(
            f"{name} is not installed: `make test` installs it, or run "
            f"`apt-get install -y {package}` (this test needs the real server)"
        )
    return path


# Started until ready, stopped with its whole process group: the demo's own helper.
process = child


def firebreak_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]


def run_cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`firebreak <args>` to its end, in `cwd`, with the test's settings cleared and `env` set."""
    clean = {k: v for k, v in os.environ.items() if k not in ENV}
    return subprocess.run(
        firebreak_command(*args),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**clean, **env},
    )
