"""Migrated databases for tests: the migrations run once per process (their own tests are
tests/unit/db/test_migrations.py), and each test gets a copy of the result — a file copy on
SQLite, a CREATE DATABASE … TEMPLATE on PostgreSQL. Running Alembic for every test was a
fifth of the suite's time on two cores."""

from __future__ import annotations

import asyncio
import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

from bot.db.migrate import upgrade
from tests.postgres import create_database

SIDECARS = ("-wal", "-shm", "-journal")  # SQLite's files beside a database, when there


def sqlite_url(path: Path) -> str:
    """A migrated SQLite database at `path`: a copy of the process's template, or, when a
    database is there already (a test's bot restarting on it), that one brought up to date."""
    url = f"sqlite+aiosqlite:///{path}"
    if path.exists():
        upgrade(url)
        return url
    template = _sqlite_template()
    shutil.copyfile(template, path)
    for suffix in SIDECARS:
        side = template.with_name(template.name + suffix)
        if side.exists():
            shutil.copyfile(side, path.with_name(path.name + suffix))
    return url


def postgres_url(base_url: str, name: str) -> str:
    """A migrated database `name` on the server at base_url (a copy of its template)."""
    return asyncio.run(create_database(base_url, name, template=_postgres_template(base_url)))


@cache
def _sqlite_template() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="firebreak-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@cache
def _postgres_template(base_url: str) -> str:
    name = "firebreak_template"
    upgrade(asyncio.run(create_database(base_url, name)))
    return name
