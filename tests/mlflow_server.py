"""A real MLflow tracking server for adapter tests, run from its own virtualenv.

MLflow pins many dependencies (pydantic, sqlalchemy, fastapi, …); installing it into the
project's .venv would move the project's own versions, so it lives in .venv-mlflow at the repo
root: `make servers` creates it (with uv), and a test run without it creates it with pip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.processes import process
from tests.servers import free_port

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv-mlflow"
CREATE_VENV = "make servers"  # uv venv .venv-mlflow && uv pip install mlflow==<pinned>
START_TIMEOUT_S = 120  # about 12-16 s on an idle 2-core machine; CI may be busier


def mlflow_binary() -> Path:
    """.venv-mlflow/bin/mlflow, creating the virtualenv first when it is missing."""
    binary = VENV / "bin" / "mlflow"
    if binary.exists():
        return binary
    python = shutil.which("python3") or sys.executable
    steps = [[python, "-m", "venv", str(VENV)], [str(VENV / "bin" / "pip"), "install", "mlflow"]]
    for step in steps:
        done = subprocess.run(step, cwd=REPO, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"could not create {VENV.name} for the MLflow server (no network?): run "
                f"`{CREATE_VENV}` at the repo root.\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )
    return binary


@contextmanager
def mlflow_server(workdir: Path) -> Iterator[str]:
    """Start `mlflow server` on a free port with its store in workdir; yield its base URL.

    It forks workers, so it runs in its own process group and the whole group is stopped.
    """
    binary = mlflow_binary()
    port = free_port()
    args = [
        str(binary),
        "server",
        "--backend-store-uri",
        f"sqlite:///{workdir / 'mlflow.db'}",
        "--default-artifact-root",
        str(workdir / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    # MLflow 3's host-header check (the --allowed-hosts flag's variable); older MLflow ignores it
    # where it would refuse an unknown flag. The port is part of the match.
    env = {
        **os.environ,
        "MLFLOW_SERVER_ALLOWED_HOSTS": f"127.0.0.1:{port},localhost:{port}",
        # MLflow 3 starts job consumers (huey) beside the server, for features the adapter never
        # uses: seven more processes, about 47 s of CPU in a test run of this 2-core machine.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    url = f"http://127.0.0.1:{port}"
    with process(
        args,
        log=workdir / "mlflow.log",
        env=env,
        ready_url=f"{url}/health",
        timeout=START_TIMEOUT_S,
    ):
        yield url
