from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fuzzing import Store, fuzzed_bot
from tests.scenario import Bot


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Bot, Store]]:
    """A running bot for a fuzz module's tests to share (one per module, so they run apart)."""
    with fuzzed_bot(tmp_path_factory.mktemp("fuzz")) as running:
        yield running
