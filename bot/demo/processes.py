"""Child servers for the demo (and the end-to-end tests): each in its own process group,
started until its readiness URL answers, always stopped with its whole group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx

T = TypeVar("T")
STOP_TIMEOUT_S = 15


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    predicate: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.1
) -> T:
    """Poll until `predicate` returns something truthy; TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


@contextmanager
def child(
    args: list[str],
    *,
    log: Path,
    ready_url: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 30,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `args` (output to `log`) until `ready_url` answers 2xx; stop its group after."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )
    try:
        # One client for every look: each new one reads the system's CA bundle again, which at
        # a look every 0.1 s was most of the CPU a wait cost (MLflow takes 13 s or more to start).
        with httpx.Client(timeout=1) as http:

            def ready() -> bool:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{Path(args[0]).name} exited with {proc.returncode}:\n"
                        f"{log.read_text(errors='replace')[-3000:]}"
                    )
                try:
                    return http.get(ready_url).is_success
                except httpx.HTTPError:
                    return False

            wait_until(ready, timeout=timeout, what=f"{Path(args[0]).name} at {ready_url}")
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()
