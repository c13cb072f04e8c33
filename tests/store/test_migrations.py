"""Migrations on databases written by earlier releases: m008 (feed ids scoped by their feed) and
m009 (a source's warning)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from bot.domain.models import Item, ItemKind
from bot.domain.textindex import compile_query
from bot.sources.feeds import parse_feed
from bot.store import Store
from bot.store.items import ItemsMixin
from bot.store.migrations import migrations
from tests.helpers import feed_faults

NOW = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)


class ReleasedStore(ItemsMixin):
    """A database at migration m007, written as that release wrote items."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(str(path), isolation_level=None)
        migrations.apply(sqlite_utils.Database(self._conn), stop_before="m008_feed_item_ids")

    def close(self) -> None:
        self._conn.close()


def item(item_id: str, title: str, *, kind: ItemKind = ItemKind.FEED, path: str = "", n: int = 0) -> Item:
    return Item(
        id=item_id,
        kind=kind,
        source="src",
        source_name="来源",
        origin="",
        title=title,
        published=datetime(2024, 3, 1, 8, n, tzinfo=UTC),
        url="",
        text=f"{title}的正文",
        path=path,
    )


def ids_after_migration(path: Path) -> dict[str, str]:
    with Store(path) as store:
        return {stored.item.title: stored.item.id for stored in store.all_items()}


def test_uri_shaped_feed_ids_are_scoped_by_their_feed(tmp_path: Path) -> None:
    released = ReleasedStore(tmp_path / "f.db")
    rows = [
        (item("article:3", "甲的文章", n=1), "甲"),
        (item("mailto:news@x.cn", "邮件标识", n=2), "甲"),
        (item("乙:12345", "已按来源区分", n=3), "乙"),  # a bare guid, scoped by that release
        (item("https://x.cn/a/1.html", "网址标识", n=4), "乙"),
        (item("HTTP://X.CN/a/2", "大写网址", n=5), "乙"),
        (item("tag:pbc.gov.cn,2024:3", "tag 标识", n=6), "乙"),
        (item("urn:uuid:0b5d", "urn 标识", n=7), "乙"),
        (item("x:1", "finews 样式条目", kind=ItemKind.POST, n=8), "finews"),  # a post read from a feed
        (item("foo:bar", "文件中的文章", kind=ItemKind.POST, path="/p/foo:bar.md", n=9), "posts"),
        (item("note:1", "手动导入", kind=ItemKind.DOCUMENT, path="/d/note:1.txt", n=10), ""),
    ]
    for row, via in rows:
        released.upsert(row, via=via, now=NOW)
    released.close()

    assert ids_after_migration(tmp_path / "f.db") == {
        "甲的文章": "甲:article:3",
        "邮件标识": "甲:mailto:news@x.cn",
        "已按来源区分": "乙:12345",
        "网址标识": "https://x.cn/a/1.html",
        "大写网址": "HTTP://X.CN/a/2",
        "tag 标识": "tag:pbc.gov.cn,2024:3",
        "urn 标识": "urn:uuid:0b5d",
        "finews 样式条目": "finews:x:1",
        "文件中的文章": "foo:bar",
        "手动导入": "note:1",
    }
    with Store(tmp_path / "f.db") as store:
        assert store.integrity_problems() == []
        assert store.search([compile_query("甲的文章")]).items[0].item.id == "甲:article:3"
    with sqlite3.connect(tmp_path / "f.db") as conn:
        assert migrations.pending(sqlite_utils.Database(conn)) == []


def test_a_feed_overwritten_by_another_gets_its_item_back(tmp_path: Path) -> None:
    # Before: both feeds' "article:3" was one item, the second feed's text under the first's via.
    first, second = feed_faults.colliding_guids()
    released = ReleasedStore(tmp_path / "f.db")
    overwritten = parse_feed(
        second.body, url="http://b.test/rss", content_type=None, source="乙", source_name="乙", now=NOW
    ).items[0]
    released.upsert(replace(overwritten, id="article:3"), via="甲", now=NOW)
    released.close()

    with Store(tmp_path / "f.db") as store:
        for feed, source in ((first, "甲"), (second, "乙")):
            result = parse_feed(
                feed.body,
                url="http://x.test/rss",
                content_type=None,
                source=source,
                source_name=source,
                now=NOW,
            )
            with store.transaction():
                for new in result.items:
                    store.upsert(new, via=source, now=NOW)
        kept = {s.via: (s.item.id, s.item.title) for s in store.all_items()}
    assert kept == {
        "甲": ("甲:article:3", first.entries[0].title),
        "乙": ("乙:article:3", second.entries[0].title),
    }


def test_source_state_gains_an_empty_warning(tmp_path: Path) -> None:
    released = ReleasedStore(tmp_path / "f.db")
    released._conn.execute("INSERT INTO source_state (name, kind, failures) VALUES ('pbc', 'feed', 0)")
    released.close()
    with Store(tmp_path / "f.db") as store:
        state = store.source_state("pbc")
        assert state is not None and state.warning == ""
        with store.transaction():
            store.save_source_state(replace(state, warning="已修复后读取：删除 1 个 XML 不允许的控制字符"))
        saved = store.source_state("pbc")
        assert saved is not None and saved.warning.endswith("控制字符")
