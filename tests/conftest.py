"""Shared fixtures: the repository's paths, the corpus beside it, a fresh store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import Store

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
# The real finews corpus is test data in ../shared beside the checkout, never part of the repo.
CORPUS = REPO.parent / "shared" / "corpus" / "finews"


def corpus_available() -> bool:
    """Whether ../shared/corpus/finews is present (CI has it; a bare clone may not)."""
    return (CORPUS / "_posts").is_dir()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A store in a fresh SQLite file."""
    with Store(tmp_path / "finews.db") as opened:
        yield opened
