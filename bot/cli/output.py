"""How ``latest`` and ``topic`` show their answers: a readable Chinese list, or ``--json``."""

from __future__ import annotations

import argparse
from typing import Any

from bot.search import MAX_LIMIT, NewsEntry, NewsReply, UnknownTopic, source_label
from bot.texts import cli as texts
from bot.texts.digest import IN_PASSING


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_LIMIT}") from None
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_LIMIT}")
    return value


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """``-n N`` and ``--json``, as ``latest`` and ``topic`` both take them."""
    parser.add_argument("-n", type=_limit, default=10, metavar="N", help="how many items (1-100, default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def entry_json(entry: NewsEntry) -> dict[str, Any]:
    """One entry as JSON (``published`` is ISO 8601 with its offset)."""
    return {
        "id": entry.id,
        "title": entry.title,
        "published": entry.published.isoformat(),
        "source": entry.source,
        "source_name": entry.source_name,
        "origin": entry.origin,
        "url": entry.url,
        "snippet": entry.snippet,
    }


def reply_json(reply: NewsReply) -> dict[str, Any]:
    """A ``latest``/``topic`` reply as JSON."""
    data: dict[str, Any] = {"query": reply.query, "total": reply.total, "exact": reply.exact}
    if reply.topic is not None:
        data["topic"] = reply.topic
        data["keywords"] = list(reply.keywords)
    data["items"] = [entry_json(e) for e in reply.entries]
    if reply.topic is not None:  # a passing mention only means something for a topic's rules
        for row, entry in zip(data["items"], reply.entries, strict=True):
            row["in_passing"] = entry.in_passing
    return data


def print_news(reply: NewsReply) -> None:
    """Print a reply as a numbered list: title, time and source, snippet, link."""
    if reply.truncated:
        print(texts.QUERY_TRUNCATED.format(n=len(reply.query)))
    keywords = "、".join(reply.keywords)
    if not reply.entries:
        if reply.topic is not None:
            print(texts.TOPIC_NO_RESULTS.format(topic=reply.topic, keywords=keywords))
        else:
            print(texts.NO_RESULTS.format(query=reply.query))
        return
    if reply.topic is not None:
        total = str(reply.total) if reply.exact else texts.AT_LEAST.format(n=reply.total)
        header = texts.TOPIC_HEADER.format(
            topic=reply.topic, keywords=keywords, total=total, shown=len(reply.entries)
        )
    else:
        header = texts.RESULTS_HEADER.format(query=reply.query, total=reply.total, shown=len(reply.entries))
    print(header)
    for number, entry in enumerate(reply.entries, 1):
        print()
        print(f"{number}. {entry.title}")
        passing = f" · {IN_PASSING}" if entry.in_passing else ""
        print(f"   {entry.published:%Y-%m-%d %H:%M} · {source_label(entry)}{passing}")
        if entry.snippet:
            print(f"   {entry.snippet}")
        if entry.url:
            print(f"   {entry.url}")


def print_unknown_topic(reply: UnknownTopic) -> None:
    """Say the topic does not exist, suggest close names, and show the keyword results instead."""
    print(texts.UNKNOWN_TOPIC.format(name=reply.name))
    if reply.suggestions:
        print(texts.DID_YOU_MEAN.format(names="、".join(reply.suggestions)))
    elif reply.available:
        print(texts.AVAILABLE_TOPICS.format(names="、".join(reply.available)))
    if reply.keyword_results is not None:
        print()
        print(texts.KEYWORD_FALLBACK.format(name=reply.name))
        print_news(reply.keyword_results)
