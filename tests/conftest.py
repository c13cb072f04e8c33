"""Shared fixtures: a fresh store. Paths and builders shared by tests are in tests/helpers/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A store in a fresh SQLite file."""
    with Store(tmp_path / "finews.db") as opened:
        yield opened
