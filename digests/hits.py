"""What matching finds: where a keyword was counted (:class:`Hit`) and why an item is relevant to a
topic (:class:`Match`).

Apart from the rest of :mod:`digests.values` (which re-exports them), so that a topic query
(``finews-bot topic``, ``/topic``) loads the matcher without the values a digest is built of.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.models import Item

# Why an item's source was refused (Explanation.source_refused), or "".
NOT_ALLOWED = "not_allowed"  # the topic lists sources, not this one
EXCLUDED_SOURCE = "excluded"  # the source is in exclude_sources


class Field(StrEnum):
    """Where in an item a keyword was found."""

    TITLE = "title"
    TEXT = "text"


# Hit and Match are not frozen: a day's digest makes one per (item, topic) pair and per hit, some
# 100,000 of each for 5,000 items and 50 topics, and a frozen dataclass's __init__ (one
# object.__setattr__ per field) cost 3.5 times as much. Nothing assigns to them once made. (Named
# tuples are cheap to make but three times slower to read a field of, which ranking does often.)


@dataclass(slots=True)
class Hit:
    """A keyword's counted occurrences in one field of an item (negated ones left out)."""

    keyword: str
    field: Field
    count: int
    first: int  # position of the first counted occurrence in the folded field


def named_in_passing(hits: Sequence[Hit]) -> bool:
    """Whether counted hits name a topic once, in the body only: a passing mention as often as not
    (on the labelled set's held-out whole items 56 % of such matches are relevant, 95 % of those
    with a headline hit or a second occurrence). Digests list them last, marked."""
    return len(hits) == 1 and hits[0].count == 1 and hits[0].field is not Field.TITLE


@dataclass(slots=True)
class Match:
    """An item relevant to a topic, and why: every counted hit."""

    topic: str
    item: Item
    hits: tuple[Hit, ...]
    relevance: float  # title hits weigh more than body hits; keyword weights applied

    @property
    def keywords(self) -> tuple[str, ...]:
        """The distinct keywords that matched, title hits first."""
        return tuple(dict.fromkeys(h.keyword for h in self.hits))

    @property
    def in_passing(self) -> bool:
        """Whether the item names the topic once, in its body only (:func:`named_in_passing`)."""
        return named_in_passing(self.hits)
