from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.unit.deploy.adapters.k8s_api import FakeApi


@pytest.fixture
def api() -> FakeApi:
    """The fake Kubernetes API server of the KubernetesTarget tests."""
    return FakeApi()


@pytest.fixture
async def client(api: FakeApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(api)) as client:
        yield client
