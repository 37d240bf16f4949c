"""Start real server processes for end-to-end tests, and always stop them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.servers import wait_for


def require_binary(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(
            f"{name} is not installed: `make test` installs it, or run "
            f"`apt-get install -y {package}` (this test needs the real server)"
        )
    return path


@contextmanager
def process(
    args: list[str],
    *,
    log: Path,
    env: dict[str, str] | None = None,
    ready_url: str,
    timeout: float = 30,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run args in its own process group until ready_url answers 2xx; stop the group after."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{args[0]} exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
                )
            try:
                return httpx.get(ready_url, timeout=1).is_success
            except httpx.HTTPError:
                return False

        wait_for(ready, timeout=timeout, what=f"{Path(args[0]).name} at {ready_url}")
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def firebreak_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]
