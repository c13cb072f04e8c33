"""How the CLI shows replies: a readable Chinese list for people, plain dicts for ``--json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from bot import texts
from bot.importer import ImportReport
from bot.service import PollReport
from digests.model import Topic
from handlers.news import NewsEntry, NewsReply, UnknownTopic, source_label


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
        print(f"   {entry.published:%Y-%m-%d %H:%M} · {source_label(entry)}")
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


def print_topics(topics: Mapping[str, Topic], counts: Mapping[str, tuple[int, bool]]) -> None:
    """The effective topics, their rules and how many stored items match."""
    if not topics:
        print(texts.NO_TOPICS)
        return
    print(texts.TOPICS_HEADER.format(n=len(topics)))
    for topic in topics.values():
        print(texts.TOPIC_LINE.format(name=topic.name, description=topic.description).rstrip("："))
        print(texts.TOPIC_KEYWORDS.format(keywords="、".join(topic.keywords)))
        for label, words in (
            (texts.TOPIC_NOT_IN, topic.not_in),
            (texts.TOPIC_EXCLUDE, topic.exclude),
            (texts.TOPIC_REQUIRE, topic.require),
        ):
            if words:
                print(label.format(words="、".join(words)))
        if topic.name in counts:
            total, exact = counts[topic.name]
            print(texts.TOPIC_MATCHES.format(n=total if exact else texts.AT_LEAST.format(n=total)))


def print_import_report(report: ImportReport) -> None:
    """The import summary, each skipped file with its reason."""
    print(
        texts.IMPORT_SUMMARY.format(
            new=report.new, updated=report.updated, unchanged=report.unchanged, skipped=len(report.skipped)
        )
    )
    for skipped in report.skipped:
        print(texts.IMPORT_SKIPPED.format(path=skipped.path, reason=skipped.reason))


def _local(moment: str | None, zone: tzinfo) -> str:
    if not moment:
        return "—"
    return f"{datetime.fromisoformat(moment).astimezone(zone):%Y-%m-%d %H:%M}"


def print_status(data: Mapping[str, Any], zone: tzinfo) -> None:
    """The ``status`` report for people; times in the configured time zone."""
    origin = texts.ORIGIN_EMBEDDED if data["config_origin"] == "embedded default" else texts.ORIGIN_FILE
    print(texts.STATUS_CONFIG.format(path=data["config"], origin=origin))
    if data["database_exists"]:
        print(texts.STATUS_DATABASE.format(path=data["database"]))
        print(texts.STATUS_ITEMS.format(n=data["items"]))
    else:
        print(texts.STATUS_NO_DATABASE.format(path=data["database"]))
    if data["sources"]:
        print(texts.STATUS_SOURCES)
    for source in data["sources"]:
        newest = texts.STATUS_NEWEST.format(when=_local(source["newest"], zone)) if source["newest"] else ""
        print(
            texts.STATUS_SOURCE_LINE.format(
                name=source["name"],
                kind=source["kind"],
                every=source["every"],
                disabled="" if source["enabled"] else texts.STATUS_DISABLED,
                state=texts.HEALTH[source["state"]],
                items=source["items"],
                newest=newest,
            )
        )
        if source["last_error"]:
            print(texts.STATUS_SOURCE_ERROR.format(error=source["last_error"], failures=source["failures"]))
            print(texts.STATUS_SOURCE_NEXT.format(when=_local(source["next_attempt"], zone)))
        elif source["state"] == "stale":
            print(texts.STATUS_SOURCE_LAST_SUCCESS.format(when=_local(source["last_success"], zone)))
    if data["other_items"]:
        print(texts.STATUS_OTHER.format(items=data["other_items"]))


def poll_report_json(report: PollReport) -> dict[str, Any]:
    """One source's poll as JSON."""
    return {
        "name": report.source,
        "kind": report.kind,
        "new": report.new,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "not_modified": report.not_modified,
        "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
        "rejected": report.rejected,
        "error": report.error or None,
        "next_attempt": report.next_attempt.isoformat() if report.next_attempt else None,
    }


def print_poll_reports(reports: Sequence[PollReport], zone: tzinfo) -> None:
    """One line per source: what it brought, or why it failed; times in the configured zone."""
    for report in reports:
        if report.error:
            print(texts.FETCH_ERROR.format(name=report.source, kind=report.kind, error=report.error))
            if report.next_attempt:
                print(texts.FETCH_NEXT.format(when=_local(report.next_attempt.isoformat(), zone)))
            continue
        extra = ""
        if report.not_modified:
            extra += texts.FETCH_NOT_MODIFIED
        if report.skipped:
            extra += texts.FETCH_SKIPPED.format(n=len(report.skipped))
        if report.rejected:
            extra += texts.FETCH_REJECTED.format(n=report.rejected)
        print(
            texts.FETCH_LINE.format(
                name=report.source,
                kind=report.kind,
                new=report.new,
                updated=report.updated,
                unchanged=report.unchanged,
                extra=extra,
            )
        )
        for skipped in report.skipped:
            print(texts.IMPORT_SKIPPED.format(path=skipped.path, reason=skipped.reason))
