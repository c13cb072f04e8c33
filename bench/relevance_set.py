"""The labelled relevance set (``tests/data/relevance/items.jsonl``) read as items with labels.

Each excerpt becomes an :class:`~bot.domain.models.Item` (title and text as published) with its
labels by topic, its split and where it came from; the set's README says how it was built.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.corpus import REPO
from bot.domain.models import Item, ItemKind

SET = REPO / "tests" / "data" / "relevance" / "items.jsonl"
# Items without a date in the set get this one; no rule looks at dates.
_UNDATED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Labelled:
    """One excerpt of the set as an item, with its labels by topic, its split and its source."""

    item: Item
    labels: Mapping[str, bool]
    split: str
    note: str = ""
    source: str = ""  # as the set records it: a repository and path, or a web address


def load_set(path: Path = SET) -> list[Labelled]:
    """The labelled set, in file order."""
    labelled = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        published = (
            datetime.fromisoformat(row["published"]).replace(tzinfo=UTC) if row["published"] else _UNDATED
        )
        item = Item(
            id=row["id"],
            kind=ItemKind.FEED,
            source="relevance-set",
            source_name=row["outlet"],
            origin="",
            title=row["title"],
            published=published,
            url="",
            text=row["text"],
        )
        labelled.append(Labelled(item, row["labels"], row["split"], row.get("note", ""), row["source"]))
    return labelled
