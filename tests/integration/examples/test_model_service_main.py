"""`python -m examples.model_service` serves the API, with the token from the named variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.paths import ROOT
from tests.processes import process
from tests.servers import free_port


def test_the_module_serves_with_a_token_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "MODEL_SERVICE_TOKEN": "s3cret"}
    args = [sys.executable, "-m", "examples.model_service", "--port", str(port)]
    args += ["--token-env", "MODEL_SERVICE_TOKEN", "--service", "ranker=v1,v2-bad"]
    url = f"http://127.0.0.1:{port}"
    with process(args, log=tmp_path / "service.log", env=env, ready_url=f"{url}/healthz"):
        assert httpx.get(f"{url}/v1/services/ranker", timeout=5).status_code == 401
        state = httpx.get(
            f"{url}/v1/services/ranker", headers={"Authorization": "Bearer s3cret"}, timeout=5
        )
        assert state.status_code == 200
        assert (state.json()["active_version"], state.json()["previous_versions"]) == (
            "v2-bad",
            ["v1"],
        )


def test_an_unset_token_variable_is_refused() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MODEL_SERVICE_TOKEN"}
    args = [sys.executable, "-m", "examples.model_service", "--token-env", "MODEL_SERVICE_TOKEN"]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "MODEL_SERVICE_TOKEN" in done.stderr
