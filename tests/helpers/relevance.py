"""Entries of the labelled relevance set made up for a test: an item and its labels."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from bench.relevance_set import Labelled
from bot.domain.models import Item, ItemKind


def labelled(
    key: str,
    labels: Mapping[str, bool],
    *,
    title: str = "",
    text: str = "",
    split: str = "dev",
    source: str = "",
) -> Labelled:
    """One excerpt of the set as the bench reads it (undated items get a fixed date, as there)."""
    item = Item(
        id=key,
        kind=ItemKind.FEED,
        source="relevance-set",
        source_name="",
        origin="",
        title=title,
        published=datetime(2026, 1, 1, tzinfo=UTC),
        url="",
        text=text,
    )
    return Labelled(item, labels, split, "", source)
