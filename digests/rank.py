"""Ranking a topic's stories: the most relevant, most widely carried, best sourced and newest first.

A story's score is a sum of independent terms, each documented with its constant below:

    score = TITLE_BONUS · [a copy has a title hit]
          + ln(1 + best relevance among the copies)
          + OUTLETS · ln(distinct outlets)
          + best source priority among the copies
          + RECENCY · (how late in the input's time span the story first appeared, 0..1)

The title bonus exceeds what body hits can add through relevance in practice (ln(1 + 50) ≈ 3.9), so
a headline about the subject beats an article that mentions it in passing, unless the article is
much more widely carried or from a much better source. Recency is measured against the other
stories given, never against a clock, so equal inputs always rank alike. Ties are broken by the
earliest publication time, then the id of the earliest copy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.models import Item
from digests.model import Field, Match

SourcePriority = Mapping[str, float]  # keyed by source slug, source name or origin name; missing = 0

TITLE_BONUS = 4.0
OUTLETS = 1.0  # two outlets add 0.69, five 1.61, twenty 3.0
RECENCY = 0.5  # at most half a point: it orders otherwise equal stories, it does not outweigh them


@dataclass(frozen=True, slots=True)
class RankedStory:
    """A story within one topic, and its score."""

    matches: tuple[Match, ...]  # the story's copies relevant to the topic, earliest first
    score: float


def source_priority_of(item: Item, priority: SourcePriority) -> float:
    """The configured priority of an item: the highest among the entries naming its source slug,
    its source name or its origin newspaper; 0 when none is configured."""
    keys = (item.source, item.source_name, item.origin)
    return max((priority[key] for key in keys if key and key in priority), default=0.0)


def outlet_of(item: Item) -> str:
    """The outlet a copy counts for: its original newspaper, else its source."""
    return item.origin or item.source_name or item.source


def _earliest_first(matches: Sequence[Match]) -> tuple[Match, ...]:
    return tuple(sorted(matches, key=lambda m: (m.item.published, m.item.id)))


def _base_score(copies: Sequence[Match], priority: SourcePriority) -> float:
    title = any(h.field is Field.TITLE for m in copies for h in m.hits)
    relevance = max(m.relevance for m in copies)
    outlets = len({outlet_of(m.item) for m in copies})
    source = max(source_priority_of(m.item, priority) for m in copies)
    return TITLE_BONUS * title + math.log1p(relevance) + OUTLETS * math.log(outlets) + source


def rank_stories(stories: Sequence[Sequence[Match]], priority: SourcePriority) -> list[RankedStory]:
    """Score and order a topic's stories, best first (see the module docstring).

    Each story is the non-empty list of its copies' matches for the topic; empty ones are dropped.
    """
    copies_of = [_earliest_first(story) for story in stories if story]
    if not copies_of:
        return []
    firsts: list[datetime] = [copies[0].item.published for copies in copies_of]
    start = min(firsts)
    span = (max(firsts) - start).total_seconds()
    ranked = []
    for copies, first in zip(copies_of, firsts, strict=True):
        recency = (first - start).total_seconds() / span if span > 0 else 0.0
        ranked.append(RankedStory(copies, _base_score(copies, priority) + RECENCY * recency))
    ranked.sort(key=lambda s: (-s.score, s.matches[0].item.published, s.matches[0].item.id))
    return ranked
