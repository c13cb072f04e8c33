"""Assemble a day's digest: match every topic, merge reprints, rank, place each story once.

The expensive steps run once per day, whatever the number of subscriptions: one matching pass
over the day's items for every topic, one merging of the reprints among the day's items, one
ranking of each topic's stories. A subscription's digest is then composed from those for its
topics (:func:`for_subscription`): each story under its strongest topic, the others named on it
(:mod:`digests.placement`), or under every topic with ``repeat_stories``.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date

from bot.domain.models import Item, Topic
from bot.domain.textindex import split_query
from digests.placement import StoryPool, TopicStories
from digests.rank import RankedStory, SourcePriority, outlet_of, rank_stories
from digests.reprints_aside import reprints_aside
from digests.rules import TopicMatcher
from digests.snippets import highlight
from digests.values import Digest, Entry, Match, Outlet


def _entry(story: RankedStory, also: tuple[str, ...]) -> Entry:
    copies = story.matches  # earliest first
    first = copies[0].item
    best = max(copies, key=lambda m: (m.relevance, -copies.index(m)))
    # A keyword of several words ("银行 贷款") is highlighted word by word.
    keywords = [word for m in copies for k in m.keywords for word in split_query(k)]
    return Entry(
        title=first.title,
        url=next((m.item.url for m in copies if m.item.url), ""),
        published=first.published,
        outlets=tuple(Outlet(outlet_of(m.item), m.item.id, m.item.published, m.item.url) for m in copies),
        snippet=highlight(best.item.text or best.item.title, keywords),
        matched=tuple(dict.fromkeys(k for m in copies for k in m.keywords)),
        score=story.score,
        also=also,
        passing=story.passing,
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """CPython's cyclic garbage collector paused for the block (when it is on at all).

    Building and rendering a day's digests allocates hundreds of thousands of small objects
    (occurrences, hits, matches, stories, entries, views) that live until the digests are done and
    that reference counting frees; the collector, triggered every few hundred allocations, would
    traverse the growing heap again and again for nothing: 0.35 s of a 2 s build (5,000 items, 50
    topics), and 3.19 → 2.88 s for 200 subscriptions' digests (medians of 4 alternated runs). They
    form no reference cycles; any other garbage is collected once the collector runs again. The
    switch is global: another thread allocating meanwhile just collects later too.
    """
    if not gc.isenabled():  # paused already (nested, or another thread's build): leave it be
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def build_digest(
    items: Sequence[Item],
    topics: Sequence[Topic],
    day: date,
    timezone: str,
    *,
    top: int = 5,
    priority: SourcePriority | None = None,
    first_day: date | None = None,
    repeat_stories: bool = False,
) -> Digest:
    """The digest of ``day`` (or of ``first_day`` to ``day``) over every topic, from the items
    published then.

    Each story is shown once, under its strongest topic, unless ``repeat_stories``.
    """
    with collector_paused():
        digest = _build(items, topics, day, timezone, top, priority or {}, repeat_stories)
    return replace(digest, first_day=first_day) if first_day is not None and first_day < day else digest


def _build(
    items: Sequence[Item],
    topics: Sequence[Topic],
    day: date,
    timezone: str,
    top: int,
    priority: SourcePriority,
    repeat: bool,
) -> Digest:
    # Reprints are merged among all the day's items, in a second process on a large day, while
    # this one matches.
    with reprints_aside(items) as reprint_groups:
        matches = TopicMatcher(topics).match_all(items)
        groups = reprint_groups()
    story_of: dict[str, int] = {}
    for number, group in enumerate(groups):
        for index in group:
            story_of[items[index].id] = number
    ranked_topics = []
    for topic in topics:
        by_story: dict[int, list[Match]] = defaultdict(list)
        for match in matches.get(topic.name, []):
            by_story[story_of[match.item.id]].append(match)
        if not by_story:
            continue
        # Each story's copies in item order: ranking puts them earliest first itself, and orders
        # stories by keys that differ for any two (their first copies' ids), so neither order
        # given matters.
        ranked = tuple(rank_stories(list(by_story.values()), priority))
        keys = tuple(story_of[story.matches[0].item.id] for story in ranked)
        strength = {key: story.strength for key, story in zip(keys, ranked, strict=True)}
        ranked_topics.append(TopicStories(topic.name, topic.description, ranked, keys, strength))
    pool = StoryPool(ranked_topics, top, repeat, _entry)
    return Digest(day, timezone, pool.sections(), items_considered=len(items), pool=pool)


def for_subscription(digest: Digest, topics: Sequence[str], label: str = "") -> Digest:
    """The digest a subscription asked for: its topics (every topic when ``topics`` is empty).

    Each story is placed under its strongest topic among those; a story the whole digest showed
    under a topic the subscription does not follow moves to one it does.
    """
    if digest.pool is None:  # a digest made by hand: select its sections as they are
        if not topics:
            return replace(digest, label=label)
        wanted = set(topics)
        return replace(digest, sections=tuple(s for s in digest.sections if s.name in wanted), label=label)
    with collector_paused():  # placement allocates little, but the day's digest is a large heap
        sections = digest.pool.sections(topics)
    return replace(digest, sections=sections, label=label)
