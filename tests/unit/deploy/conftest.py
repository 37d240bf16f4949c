from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.examples.service import ServiceHost


@pytest.fixture(scope="module")
def host() -> Iterator[ServiceHost]:
    with ServiceHost() as running:
        yield running
