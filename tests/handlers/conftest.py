"""The handlers' fixture: a context over a real SQLite file of the seeds, as an adapter has one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import Store
from handlers.request import Context
from tests.helpers.chat import (
    import_seeds,
    make_context,
    seeded_config,
)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    """A context over a fresh database holding the five seed items."""
    config = seeded_config(tmp_path)
    with Store(config.database) as store:
        import_seeds(store)
        yield make_context(config, store)
