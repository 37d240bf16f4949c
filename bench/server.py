"""A real `firebreak serve` for the benchmarks: its own process, the Slack stand-in in ours.

The stand-in timestamps every Web API call it receives, so announcement times are read there.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bot.db.migrate import upgrade
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from tests import postgres
from tests.polling import wait_until
from tests.processes import firebreak_command, process
from tests.servers import free_port, slack_headers

TOKEN = "xoxb-bench-0001"
SECRET = "bench-signing-secret"
API_TOKEN = "bench-api-token"  # GET /api/…: a bot with a Slack token answers only with it


@dataclass
class Bot:
    url: str
    proc: subprocess.Popen[bytes]
    http: httpx.Client
    workspace: Workspace
    log: Path  # what the serve process wrote (--log-level warning)

    def errors_logged(self) -> list[str]:
        """The lines the serve process logged at ERROR or above so far (a failed background
        task says so there, and nowhere the load generator sees)."""
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return [line for line in lines if line.split(" ")[2:3] in (["ERROR"], ["CRITICAL"])]

    def cpu_s(self) -> float:
        """CPU seconds the serve process has used so far (user and system, from the kernel):
        what a run cost it, whatever else the machine was doing meanwhile."""
        return _cpu_s(self.proc.pid)

    def rss_mb(self) -> float:
        """Resident memory of the serve process, from the kernel's own account."""
        return _rss_mb(self.proc.pid)

    def children_cpu_s(self) -> float:
        """CPU seconds used so far by the serve process's live descendants (the chat process,
        the graphs' drawing process)."""
        return sum(_gone_as_zero(_cpu_s, pid) for pid in self._children())

    def children_rss_mb(self) -> float:
        return sum(_gone_as_zero(_rss_mb, pid) for pid in self._children())

    def tree_pss_mb(self) -> float:
        """Proportional set size of the serve process and its descendants together: a page
        they share (the interpreter's and the libraries' code, mapped by each) counts once over
        all of them, where the sum of their RSS counts it in each."""
        return sum(_gone_as_zero(_pss_mb, pid) for pid in [self.proc.pid, *self._children()])

    def chat_rss_mb(self) -> float:
        """Resident memory of the chat process (bot.followups.away), if one runs."""
        return sum(
            _gone_as_zero(_rss_mb, pid)
            for pid in self._children()
            if b"chat-process" in _gone_as_empty(f"/proc/{pid}/cmdline")
        )

    def drawing(self) -> bool:
        """Whether the graphs' drawing process (bot.evidence.adapters.drawing) runs."""
        return any(
            b"bot.evidence.adapters.drawing" in _gone_as_empty(f"/proc/{pid}/cmdline")
            for pid in self._children()
        )

    def _children(self) -> list[int]:
        """Its descendants: the chat process (bot.followups.away) starts the drawing one."""
        parents: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue  # ended meanwhile
            parents[int(stat.parent.name)] = int(fields[1])
        found: list[int] = []
        ancestors = {self.proc.pid}
        while grown := [pid for pid, parent in parents.items() if parent in ancestors]:
            found += grown
            ancestors = set(grown)
            for pid in grown:
                del parents[pid]
        return found

    def command(self, text: str, *, channel: str = "C0BENCH001") -> tuple[float, int]:
        """A signed slash command, as Slack sends it: milliseconds until the bot answered, and
        the HTTP status (Bolt answers 404 when the listener did not ack within 3 seconds)."""
        form = urlencode(
            {
                "command": "/incident",
                "text": text,
                "user_id": "U0BENCH01",
                "channel_id": channel,
                "team_id": "T0LOCAL01",
                "response_url": "http://127.0.0.1:9/",
                # Unique, as Slack's are: the same signed body twice is refused as a replay.
                "trigger_id": str(time.time_ns()),
            }
        ).encode()
        start = time.perf_counter()
        reply = self.http.post("/slack/events", content=form, headers=slack_headers(SECRET, form))
        return (time.perf_counter() - start) * 1000, reply.status_code


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    return _kb_as_mb(pid, "status", "VmRSS:")


def _pss_mb(pid: int) -> float:
    return _kb_as_mb(pid, "smaps_rollup", "Pss:")


def _kb_as_mb(pid: int, name: str, key: str) -> float:
    """A `key: N kB` line of /proc/<pid>/<name>, in MB. A zombie (it ended, its memory is gone,
    and it is not yet reaped) has no such line, or no smaps_rollup: FileNotFoundError, as for
    a process that is gone."""
    try:
        lines = Path(f"/proc/{pid}/{name}").read_text().splitlines()
    except ProcessLookupError as exc:
        raise FileNotFoundError(pid) from exc
    for line in lines:
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    if "State:\tZ (zombie)" in lines:  # status says so
        raise FileNotFoundError(pid)
    raise RuntimeError(f"no {key} in /proc/{pid}/{name}")


def _gone_as_zero(read: Callable[[int], float], pid: int) -> float:
    try:
        return read(pid)
    except FileNotFoundError:
        return 0.0  # a child that ended since it was listed


def _gone_as_empty(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return b""


def workspace() -> Workspace:
    space = Workspace(tokens=[TOKEN])
    space.ensure_channel("incidents")
    return space


@contextmanager
def running_bot(
    tmp: Path,
    slack: LocalSlackServer,
    *,
    database_url: str,
    env: dict[str, str] | None = None,
    log_name: str = "bot.log",
) -> Iterator[Bot]:
    """`firebreak serve` on a free port against the stand-in; stopped (and waited for) after."""
    port = free_port()
    command = firebreak_command("serve", "--port", str(port), "--log-level", "warning")
    url = f"http://127.0.0.1:{port}"
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FIREBREAK_"))},
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "FIREBREAK_SLACK_API_URL": slack.base_url,
        "FIREBREAK_DATABASE_URL": database_url,
        "FIREBREAK_API_TOKEN": API_TOKEN,
        **(env or {}),
    }
    with (
        process(
            command,
            log=tmp / log_name,
            env=full_env,
            ready_url=f"{url}/healthz",
        ) as proc,
        httpx.Client(
            base_url=url, timeout=30, headers={"Authorization": f"Bearer {API_TOKEN}"}
        ) as http,
    ):
        # The chat process starts after the server: its imports (about 2 s of CPU) must not be
        # measured as part of the no-op baseline.
        wait_until(
            lambda: http.get("/readyz").json().get("chat_process", {"running": True})["running"],
            timeout=60,
            what="the chat process ready",
        )
        yield Bot(url=url, proc=proc, http=http, workspace=slack.workspace, log=tmp / log_name)


def sqlite_urls(tmp: Path) -> Iterator[str]:
    for n in range(1, 100):
        yield f"sqlite:///{tmp / f'bench-{n}.db'}"


@contextmanager
def postgres_urls() -> Iterator[Iterator[str]]:
    """Fresh migrated databases on a throwaway PostgreSQL server (as the tests use)."""
    with postgres.postgres_server() as base:

        def fresh() -> Iterator[str]:
            for n in range(1, 100):
                url = asyncio.run(postgres.create_database(base, f"bench_{n}"))
                upgrade(url)  # `firebreak serve` wants PostgreSQL migrated first
                yield url

        yield fresh()


@contextmanager
def one_database(tmp: Path, *, postgres: bool) -> Iterator[str]:
    """A fresh database for a script run on its own: SQLite in `tmp`, or, with `postgres`, a
    migrated one on a throwaway PostgreSQL server."""
    if not postgres:
        yield next(sqlite_urls(tmp))
        return
    with postgres_urls() as urls:
        yield next(urls)


@contextmanager
def profiled(pid: int, out: Path) -> Iterator[None]:
    """py-spy samples the process meanwhile and writes collapsed stacks to `out` (speedscope
    JSON when it ends in .json, a flame graph for .svg)."""
    spy = Path(sys.executable).parent / "py-spy"
    kind = {".json": "speedscope", ".svg": "flamegraph"}.get(out.suffix, "raw")
    recorder = subprocess.Popen(
        [
            str(spy),
            "record",
            "--gil",
            "--pid",
            str(pid),
            "--rate",
            "200",
            "--format",
            kind,
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)  # py-spy writes its report when interrupted
        recorder.wait(timeout=60)
