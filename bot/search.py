"""News queries: ``latest`` (items containing keywords) and ``topic`` (items matching a topic).

Handlers know no transport: they take plain arguments and return structured replies that the
console, the CLI's JSON and the chat adapters render each in their own way.

``topic`` applies a topic's full rules, as the digests do (:class:`digests.rules.TopicMatcher`):
keywords, ``not_in``, ``near`` and ``not_near`` contexts, headline-only keywords, the minimum
score, ``exclude`` and ``require`` words, source lists. The index finds the candidates (items
containing any keyword), newest first; a topic with nothing but keywords is answered by the index
alone, otherwise each candidate is checked against the rules. Its total is exact when there are at
most :data:`EXACT_COUNT_LIMIT` candidates (all are checked); beyond that only the newest ones are,
at least that many and as many as the page asked for needs, and the total is a lower bound
(``NewsReply.exact`` is False: "至少 N 条").
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.models import Item, Topic
from bot.domain.textindex import CompiledQuery, compile_any, compile_query, snippet, split_query
from bot.store.items import SearchResult, StoredItem
from bot.store.reading import ReadingStore
from bot.texts import cli as texts

MAX_LIMIT = 100
# Longer arguments are cut: nobody types a 1,000-character keyword on purpose, and a phrase of
# hundreds of bigrams only makes the query slower.
MAX_QUERY_CHARS = 200
# A topic with rules beyond its keywords checks every candidate when there are at most this many
# (a few seconds' work at worst on the 2-core target machine); past it the total is a lower bound.
EXACT_COUNT_LIMIT = 5000
# Candidates are read in batches that double up to this size: small first, since a page of ten is
# usually filled by the first few dozen candidates.
_FIRST_BATCH = 100
_MAX_BATCH = 2000
# Candidates checked for a rule change's side effects (/notrelevant): a month of a busy topic.
RECENT_LIMIT = 5000


class QueryError(ValueError):
    """The user's arguments cannot make a query (e.g. nothing but white space)."""


@dataclass(frozen=True, slots=True)
class NewsEntry:
    """One item in a reply."""

    id: str
    title: str
    published: datetime
    source: str
    source_name: str
    origin: str
    url: str
    snippet: str
    # In a topic's reply: the item names the topic once, in its body only (a passing mention).
    in_passing: bool = False


@dataclass(frozen=True, slots=True)
class NewsReply:
    """The answer to ``latest`` or ``topic``: the newest matches and how many there are in all."""

    query: str
    total: int
    entries: list[NewsEntry]
    topic: str | None = None
    keywords: tuple[str, ...] = ()
    truncated: bool = False  # the query was cut to MAX_QUERY_CHARS
    exact: bool = True  # False: ``total`` is a lower bound (a topic with many candidates)


@dataclass(frozen=True, slots=True)
class UnknownTopic:
    """``topic NAME`` for a name that is not configured: close names, and the keyword results."""

    name: str
    suggestions: list[str]
    keyword_results: NewsReply | None
    available: list[str] = field(default_factory=list)


def source_label(entry: NewsEntry) -> str:
    """The outlet of an entry: its source's name, with the original newspaper when different."""
    name = entry.source_name or entry.source
    if entry.origin and entry.origin not in name:
        return texts.SOURCE_WITH_ORIGIN.format(name=name, origin=entry.origin)
    return name


def _entries(
    result: SearchResult, words: Sequence[str], passing: frozenset[str] = frozenset()
) -> list[NewsEntry]:
    entries = []
    for stored in result.items:
        item = stored.item
        entries.append(
            NewsEntry(
                id=item.id,
                title=item.title,
                published=item.published,
                source=item.source,
                source_name=item.source_name,
                origin=item.origin,
                url=item.url,
                snippet=snippet(item.text, words),
                in_passing=item.id in passing,
            )
        )
    return entries


def latest(store: ReadingStore, words: Sequence[str], limit: int = 10, *, offset: int = 0) -> NewsReply:
    """The newest items containing every word (exact substring, normalised), after ``offset``."""
    query = " ".join(words).strip()
    truncated = len(query) > MAX_QUERY_CHARS
    query = query[:MAX_QUERY_CHARS]
    try:
        compiled = compile_query(query)
    except ValueError:
        raise QueryError("empty query") from None
    result = store.search([compiled], limit=_clamp(limit), offset=max(0, offset))
    folded = [w.word for w in compiled.words]
    return NewsReply(query, result.total, _entries(result, folded), truncated=truncated)


def topic(
    store: ReadingStore,
    topics: Mapping[str, Topic],
    name: str,
    limit: int = 10,
    *,
    offset: int = 0,
    verdicts: TopicVerdicts | None = None,
) -> NewsReply | UnknownTopic:
    """The newest items matching the topic ``name`` (all of its rules), after ``offset``.

    ``topics`` are the effective topics (config file + chat edits). See the module docstring for
    how the total is counted. ``verdicts``: what earlier queries found, to check only what is new.
    """
    name = name.strip()
    config = topics.get(name)
    if config is None:
        return _unknown_topic(store, topics, name, limit)
    queries: list[CompiledQuery] = compile_any(config.all_keywords)
    folded = [w.word for q in queries for w in q.words]
    limit, offset = _clamp(limit), max(0, offset)
    if not _has_rules(config):
        # Keywords alone: an item matches exactly when the index finds one of them.
        result = store.search(queries, limit=limit, offset=offset)
        exact = True
    else:
        result, exact = _verified(store, config, queries, limit, offset, verdicts)
    entries = _entries(result, folded, _in_passing(config, result))
    return NewsReply(name, result.total, entries, topic=name, keywords=config.all_keywords, exact=exact)


def _in_passing(topic: Topic, result: SearchResult) -> frozenset[str]:
    """The ids of the page's items that name the topic once, in the body only: a page is a few
    items, each matched again in about 0.1 ms, so no verdict needs to remember it."""
    from digests.rules import TopicMatcher

    matcher = TopicMatcher([topic])
    return frozenset(
        stored.item.id
        for stored in result.items
        if any(match.in_passing for match in matcher.match(stored.item))
    )


def _has_rules(topic: Topic) -> bool:
    """Whether the topic narrows its keyword matches (contexts, near words of either kind,
    headline-only keywords, a minimum score, exclude/require words, sources)."""
    return bool(
        topic.not_in
        or topic.near
        or topic.not_near
        or topic.title_keywords
        or topic.min_score > 0
        or topic.exclude
        or topic.require
        or topic.sources
        or topic.exclude_sources
    )


class TopicVerdicts:
    """Whether each item checked matched a topic's rules, remembered for the next query of the topic.

    Checking a candidate against the rules reads its text and matches it (about 0.1 ms); a topic
    with thousands of candidates takes half a second, and a chat asks the same topics again and
    again. A verdict holds for the topic exactly as it was (any edit makes it another topic here)
    and the item exactly as it was (its content hash): an updated item is checked again. One per
    thread that answers queries (a chat adapter's worker).

    Bounded, since the worker lives as long as the service: at most ``topics`` topics (the least
    recently asked forgotten first), each with at most ``items_per_topic`` verdicts (then started
    afresh: a query reaches about :data:`EXACT_COUNT_LIMIT` candidates, and older verdicts pile up
    as news arrives). A verdict is one int (the content hash's hash and the answer), about 100 bytes
    with its key: 16 topics × 20,000 verdicts stay near 30 MiB at worst.
    """

    def __init__(self, topics: int = 16, items_per_topic: int = 4 * EXACT_COUNT_LIMIT) -> None:
        self.topics = topics
        self.items_per_topic = items_per_topic
        self._by_topic: OrderedDict[str, dict[int, int]] = OrderedDict()

    def of(self, topic: Topic) -> dict[int, int]:
        """The verdicts on one topic: seq → :func:`verdict` of its content hash and the answer."""
        key = repr(topic)
        verdicts = self._by_topic.get(key)
        if verdicts is None or len(verdicts) > self.items_per_topic:
            verdicts = self._by_topic[key] = {}
        self._by_topic.move_to_end(key)
        while len(self._by_topic) > self.topics:
            self._by_topic.popitem(last=False)
        return verdicts


def verdict(content_hash: str, matched: bool) -> int:
    """An item's verdict as kept by :class:`TopicVerdicts`: the content hash's hash (with this
    process' string hashing; telling versions of one item apart is all it is for) and the answer in
    its lowest bit."""
    return (hash(content_hash) << 1) | matched


def _judged(kept: int | None) -> int | None:
    """The content hash's hash a kept verdict was made for (None: not judged)."""
    return None if kept is None else kept >> 1


def _verified(
    store: ReadingStore,
    topic: Topic,
    queries: list[CompiledQuery],
    limit: int,
    offset: int,
    verdicts: TopicVerdicts | None = None,
) -> tuple[SearchResult, bool]:
    """Candidates from the index, newest first, checked against the topic's rules (or known to
    match from ``verdicts``: only the items not judged before, or changed since, are read).

    Returns the page and whether its total is exact (every candidate checked).
    """
    from digests.rules import TopicMatcher  # only topics with rules need the matcher

    matcher = TopicMatcher([topic])
    known = verdicts.of(topic) if verdicts is not None else {}
    candidates = store.count_matches(queries)
    page_seqs: list[int] = []
    read: dict[int, StoredItem] = {}
    found = scanned = 0
    batch = _FIRST_BATCH
    while scanned < candidates:
        if found >= offset + limit and scanned >= EXACT_COUNT_LIMIT:
            break  # the page is full and the counting budget spent: the total is a lower bound
        keys = store.candidate_keys(queries, limit=batch, offset=scanned)
        if not keys:
            scanned = candidates  # items deleted since the count: every one left was checked
            break
        unknown = [seq for seq, content in keys if _judged(known.get(seq)) != hash(content)]
        fresh = store.items_by_seq(unknown) if unknown else {}
        for seq, content in keys:
            stored = fresh.get(seq)
            if stored is not None:
                known[seq] = verdict(content, bool(matcher.match(stored.item)))
            elif seq not in known:
                continue  # deleted since it was listed
            if known[seq] & 1:
                if offset <= found < offset + limit:
                    page_seqs.append(seq)
                    if stored is not None:
                        read[seq] = stored
                found += 1
        scanned += len(keys)
        batch = min(batch * 2, _MAX_BATCH)
    missing = [seq for seq in page_seqs if seq not in read]
    if missing:
        read.update(store.items_by_seq(missing))
    page = [read[seq] for seq in page_seqs if seq in read]
    return SearchResult(found, page), scanned >= candidates


@dataclass(frozen=True, slots=True)
class RecentMatches:
    """A topic's matches among the items published in a span of days, newest first."""

    items: list[Item]
    start: datetime
    end: datetime
    moved: bool  # nothing was published in the span ending now: it ends at the newest item instead
    complete: bool  # False: more candidates than RECENT_LIMIT; only the newest were checked


def recent_matches(
    store: ReadingStore, topic: Topic, now: datetime, *, around: datetime | None = None, days: int = 30
) -> RecentMatches:
    """The topic's matches of the last ``days`` days: what a rule change is measured against.

    When nothing was published in those days (an archive imported long after the fact), the span
    is the ``days`` days up to the day after ``around`` (the item judged) instead, or up to the
    newest stored item, and says so (``moved``).
    """
    end, moved = now, False
    newest = next(store.all_items(), None)
    if newest is not None and newest.item.published < now - timedelta(days=days):
        end = (
            around + timedelta(days=1) if around is not None else newest.item.published + timedelta(seconds=1)
        )
        moved = True
    start = end - timedelta(days=days)
    from digests.rules import TopicMatcher

    queries = compile_any(topic.all_keywords)
    matcher = TopicMatcher([topic])
    found: list[Item] = []
    scanned, batch = 0, _FIRST_BATCH
    while scanned < RECENT_LIMIT:
        page = store.page(queries, limit=batch, offset=scanned)
        if not page:
            return RecentMatches(found, start, end, moved, complete=True)
        for stored in page:
            published = stored.item.published
            if published < start:
                return RecentMatches(found, start, end, moved, complete=True)
            if published < end and matcher.match(stored.item):
                found.append(stored.item)
        scanned += len(page)
        batch = min(batch * 2, _MAX_BATCH)
    return RecentMatches(found, start, end, moved, complete=False)


def _unknown_topic(store: ReadingStore, topics: Mapping[str, Topic], name: str, limit: int) -> UnknownTopic:
    import difflib

    names = list(topics)
    suggestions = difflib.get_close_matches(name, names, n=3, cutoff=0.4)
    # A name that shares a character with a topic name (上市公司 ~ 上市) is a likely neighbour too.
    suggestions += [n for n in names if n not in suggestions and (n in name or name in n)]
    keyword_results = latest(store, [name], limit) if split_query(name) else None
    return UnknownTopic(name, suggestions[:3], keyword_results, available=names)


def _clamp(limit: int) -> int:
    return max(1, min(MAX_LIMIT, limit))
