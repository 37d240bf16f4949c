"""Start real server processes for end-to-end tests, and always stop them."""

from __future__ import annotations

import functools
import multiprocessing
import multiprocessing.context
import os
import shutil
import subprocess
import sys
import tempfile
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


# What `python -m bot` imports before it reads its arguments, and what its commands import
# then: loaded once per test worker by the fork server, not again by each command.
PRELOAD = ["bot.cli", "bot.app"]
CLI_TIMEOUT_S = 60.0


def run_cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`firebreak <args>` to its end, in `cwd`, with the test's settings cleared and `env` set.

    A process of its own, as from the shell, but forked from a server that has imported the bot
    already (multiprocessing's forkserver): the import is most of a short command's time (3.4 s
    of a 3.8 s `firebreak report`), and the suite runs about forty of them."""
    clean = {k: v for k, v in os.environ.items() if k not in ENV}
    with tempfile.TemporaryDirectory() as folder:
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        command = _forks().Process(
            target=_command, args=(args, str(cwd), {**clean, **env}, str(out), str(err))
        )
        command.start()
        command.join(CLI_TIMEOUT_S)
        if command.exitcode is None:
            command.kill()
            command.join()
            raise subprocess.TimeoutExpired(firebreak_command(*args), CLI_TIMEOUT_S)
        return subprocess.CompletedProcess(
            firebreak_command(*args), command.exitcode, out.read_text(), err.read_text()
        )


@functools.cache
def _forks() -> multiprocessing.context.ForkServerContext:
    forks = multiprocessing.get_context("forkserver")
    forks.set_forkserver_preload(PRELOAD)
    return forks


def _command(args: list[str], cwd: str, env: dict[str, str], out: str, err: str) -> None:
    """In the forked process: what `python -m bot <args>` does, its output into the files."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    for stream, path in ((sys.stdout, out), (sys.stderr, err)):
        stream.flush()
        with open(path, "wb") as file:
            os.dup2(file.fileno(), stream.fileno())
    sys.argv = ["firebreak", *args]
    from bot.cli import main

    raise SystemExit(main(args))  # multiprocessing makes its code the exit code
