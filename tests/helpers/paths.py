"""The repository's paths, and the real finews corpus beside the checkout (test data, never copied in)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
# The real finews corpus is test data in ../shared beside the checkout, never part of the repo.
CORPUS = REPO.parent / "shared" / "corpus" / "finews"


def corpus_available() -> bool:
    """Whether ../shared/corpus/finews is present (CI has it; a bare clone may not)."""
    return (CORPUS / "_posts").is_dir()
