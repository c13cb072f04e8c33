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

Stories that name the topic only once, in the body of every copy (:attr:`Match.in_passing`), come
after all the others whatever their score, however widely carried (a long readout reprinted
everywhere that names the topic in one clause): on the labelled set's held-out whole items 56 % of
such matches are relevant, against 95 % of those with a headline hit or a second occurrence
(``python -m bench.relevance --whole``). They are still shown, marked, in their own order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.models import Item
from digests.values import Field, Match

SourcePriority = Mapping[str, float]  # keyed by source slug, source name or origin name; missing = 0

TITLE_BONUS = 4.0
OUTLETS = 1.0  # two outlets add 0.69, five 1.61, twenty 3.0
RECENCY = 0.5  # at most half a point: it orders otherwise equal stories, it does not outweigh them


@dataclass(slots=True)  # not frozen: a day's digest makes one per topic and story (see Match)
class RankedStory:
    """A story within one topic, its score, and how strongly it belongs to the topic."""

    matches: tuple[Match, ...]  # the story's copies relevant to the topic, earliest first
    score: float
    strength: float  # topic_strength(matches): the part of the score that depends on the topic
    passing: bool = False  # every copy names the topic once, in the body only (Match.in_passing)


def source_priority_of(item: Item, priority: SourcePriority) -> float:
    """The configured priority of an item: the highest among the entries naming its source slug,
    its source name or its origin newspaper; 0 when none is configured."""
    keys = (item.source, item.source_name, item.origin)
    return max((priority[key] for key in keys if key and key in priority), default=0.0)


def outlet_of(item: Item) -> str:
    """The outlet a copy counts for: its original newspaper, else its source."""
    return item.origin or item.source_name or item.source


def _earliest_first(matches: Sequence[Match]) -> tuple[Match, ...]:
    if len(matches) == 1:  # most stories have one copy: nothing to sort
        return (matches[0],)
    return tuple(sorted(matches, key=_chronological))


def _chronological(match: Match) -> tuple[datetime, str]:
    return match.item.published, match.item.id


def topic_strength(copies: Sequence[Match]) -> float:
    """How strongly a story belongs to one topic: the terms of its score that depend on the topic.

    A headline hit (TITLE_BONUS), then ln(1 + best relevance); outlets, source priority and recency
    are the same whichever topic the story is shown under, so they cannot tell topics apart. A
    story matching several topics of a digest is shown once, under its strongest
    (:mod:`digests.placement`).
    """
    title = any(h.field is Field.TITLE for m in copies for h in m.hits)
    return TITLE_BONUS * title + math.log1p(max(m.relevance for m in copies))


def _base_score(copies: Sequence[Match], priority: SourcePriority) -> tuple[float, float]:
    """The score without recency, and the topic strength (the sum's first two terms)."""
    strength = topic_strength(copies)
    outlets = len({outlet_of(m.item) for m in copies})
    source = max(source_priority_of(m.item, priority) for m in copies) if priority else 0.0
    return strength + OUTLETS * math.log(outlets) + source, strength


def _single_score(copy: Match, priority: SourcePriority) -> tuple[float, float, bool]:
    """:func:`_base_score` of a story with one copy, the common case (a day has tens of thousands
    of topic-story pairs), without its generators: the same terms, the same float operations;
    and whether it is a passing mention (:attr:`Match.in_passing`, from the same look at its hits)."""
    hits = copy.hits
    title = False
    for hit in hits:
        if hit.field is Field.TITLE:
            title = True
            break
    strength = TITLE_BONUS * title + math.log1p(copy.relevance)
    source = source_priority_of(copy.item, priority) if priority else 0.0
    passing = not title and len(hits) == 1 and hits[0].count == 1
    return strength + OUTLETS * math.log(1) + source, strength, passing


def rank_stories(stories: Sequence[Sequence[Match]], priority: SourcePriority) -> list[RankedStory]:
    """Score and order a topic's stories, best first (see the module docstring).

    Each story is the non-empty list of its copies' matches for the topic; empty ones are dropped.
    """
    ranked = [RankedStory(*scored) for scored in _scored(stories, priority)]
    ranked.sort(key=_best_first)
    return ranked


# A story's copies, earliest first, its score, its strength in the topic and whether it is a
# passing mention.
_Scored = tuple[tuple[Match, ...], float, float, bool]


def _scored(stories: Sequence[Sequence[Match]], priority: SourcePriority) -> list[_Scored]:
    """Each non-empty story's copies, earliest first, its score, its strength and whether every
    copy names the topic in passing."""
    copies_of = [_earliest_first(story) for story in stories if story]
    if not copies_of:
        return []
    firsts: list[datetime] = [copies[0].item.published for copies in copies_of]
    start = min(firsts)
    span = (max(firsts) - start).total_seconds()
    scored = []
    for copies, first in zip(copies_of, firsts, strict=True):
        recency = (first - start).total_seconds() / span if span > 0 else 0.0
        if len(copies) == 1:
            base, strength, passing = _single_score(copies[0], priority)
        else:
            (base, strength), passing = _base_score(copies, priority), all(m.in_passing for m in copies)
        scored.append((copies, base + RECENCY * recency, strength, passing))
    return scored


def _best_first(story: RankedStory) -> tuple[bool, float, datetime, str]:
    first = story.matches[0].item
    return story.passing, -story.score, first.published, first.id
