"""A throwaway PostgreSQL server (Debian's postgresql package) for the tests that need one.

initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers import free_port


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError(
            "PostgreSQL is not installed: `make test` installs it (apt-get install -y postgresql)"
        )
    return Path(initdb).parent


def _as_owner(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yields a base URL (no database name) of a server that is deleted afterwards."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="firebreak-pg-"))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    run = lambda args: subprocess.run(_as_owner(args), check=True, capture_output=True)  # noqa: E731
    try:
        run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "firebreak",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )
        run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(root / "server.log"),
                "-w",
                "-t",
                "30",
                "-o",
                f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                "start",
            ]
        )
        yield f"postgresql+asyncpg://firebreak@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
        )
        time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


async def create_database(base_url: str, name: str, *, template: str | None = None) -> str:
    """A new database on the server at base_url, empty or a copy of `template`; its URL."""
    import asyncpg

    conn = await asyncpg.connect(base_url.replace("+asyncpg", "") + "/postgres")
    try:
        copied = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{copied}')
    finally:
        await conn.close()
    return f"{base_url}/{name}"


def available() -> bool:
    """Whether PostgreSQL's server programs are installed here."""
    try:
        _bindir()
    except RuntimeError:
        return False
    return True
