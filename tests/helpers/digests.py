"""Digests built by hand, for tests of the renderers: entries, sections, a day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from digests.values import Digest, Entry, Outlet, SnippetPart, TopicSection

SHANGHAI = ZoneInfo("Asia/Shanghai")

DAY = date(2026, 11, 20)


def make_entry(
    title: str = "株洲市财政局发布预算报告",
    url: str = "https://example.com/a",
    outlets: tuple[str, ...] = ("株洲日报",),
    snippet: tuple[SnippetPart, ...] = (
        SnippetPart("今年"),
        SnippetPart("财政", True),
        SnippetPart("收入增长。"),
    ),
    published: datetime = datetime(2026, 11, 20, 8, 30, tzinfo=SHANGHAI),
) -> Entry:
    copies = tuple(
        Outlet(name, f"id-{index}", published + timedelta(minutes=index), url)
        for index, name in enumerate(outlets)
    )
    return Entry(title, url, published, copies, snippet, ("财政",), 1.0)


def make_digest(*sections: TopicSection, label: str = "", timezone: str = "Asia/Shanghai") -> Digest:
    return Digest(DAY, timezone, sections, items_considered=420, label=label)


def section(name: str, *entries: Entry, total: int | None = None) -> TopicSection:
    return TopicSection(name, f"{name}相关", len(entries) if total is None else total, entries)
