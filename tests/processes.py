"""Start real server processes for end-to-end tests, and always stop them."""

from __future__ import annotations

import shutil
import sys

from bot.demo.processes import child


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
