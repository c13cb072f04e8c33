"""News queries: ``latest`` (items containing keywords) and ``topic`` (items matching a topic).

Handlers know no transport: they take plain arguments and return structured replies that the
console, the CLI's JSON and the chat adapters render each in their own way.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.store import SearchResult, Store
from bot.textindex import CompiledQuery, compile_any, compile_query, snippet, split_query
from digests.model import Topic

MAX_LIMIT = 100
# Longer arguments are cut: nobody types a 1,000-character keyword on purpose, and a phrase of
# hundreds of bigrams only makes the query slower.
MAX_QUERY_CHARS = 200


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


@dataclass(frozen=True, slots=True)
class NewsReply:
    """The answer to ``latest`` or ``topic``: the newest matches and how many there are in all."""

    query: str
    total: int
    entries: list[NewsEntry]
    topic: str | None = None
    keywords: tuple[str, ...] = ()
    truncated: bool = False  # the query was cut to MAX_QUERY_CHARS


@dataclass(frozen=True, slots=True)
class UnknownTopic:
    """``topic NAME`` for a name that is not configured: close names, and the keyword results."""

    name: str
    suggestions: list[str]
    keyword_results: NewsReply | None
    available: list[str] = field(default_factory=list)


def _entries(result: SearchResult, words: Sequence[str]) -> list[NewsEntry]:
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
            )
        )
    return entries


def latest(store: Store, words: Sequence[str], limit: int = 10) -> NewsReply:
    """The newest items containing every word (exact substring, normalised)."""
    query = " ".join(words).strip()
    truncated = len(query) > MAX_QUERY_CHARS
    query = query[:MAX_QUERY_CHARS]
    try:
        compiled = compile_query(query)
    except ValueError:
        raise QueryError("empty query") from None
    result = store.search([compiled], limit=_clamp(limit))
    folded = [w.word for w in compiled.words]
    return NewsReply(query, result.total, _entries(result, folded), truncated=truncated)


def topic(store: Store, topics: Mapping[str, Topic], name: str, limit: int = 10) -> NewsReply | UnknownTopic:
    """The newest items matching any keyword of the topic ``name``."""
    name = name.strip()
    config = topics.get(name)
    if config is None:
        return _unknown_topic(store, topics, name, limit)
    queries: list[CompiledQuery] = compile_any(config.keywords)
    result = store.search(queries, limit=_clamp(limit))
    folded = [w.word for q in queries for w in q.words]
    return NewsReply(name, result.total, _entries(result, folded), topic=name, keywords=config.keywords)


def _unknown_topic(store: Store, topics: Mapping[str, Topic], name: str, limit: int) -> UnknownTopic:
    names = list(topics)
    suggestions = difflib.get_close_matches(name, names, n=3, cutoff=0.4)
    # A name that shares a character with a topic name (上市公司 ~ 上市) is a likely neighbour too.
    suggestions += [n for n in names if n not in suggestions and (n in name or name in n)]
    keyword_results = latest(store, [name], limit) if split_query(name) else None
    return UnknownTopic(name, suggestions[:3], keyword_results, available=names)


def _clamp(limit: int) -> int:
    return max(1, min(MAX_LIMIT, limit))
