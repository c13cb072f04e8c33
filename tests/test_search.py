"""bot.search.recent_matches: what a rule change is measured against."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.domain.models import Item, ItemKind, Topic
from bot.search import recent_matches
from bot.store import Store

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 30, 12, tzinfo=SHANGHAI)


def item(id_: str, days_ago: int, text: str) -> Item:
    return Item(id_, ItemKind.FEED, "cls", "财联社", "", "", NOW - timedelta(days=days_ago), "", text)


def test_the_last_30_days_of_matches_newest_first(tmp_path: Path) -> None:
    topic = Topic("上市", ("上市",), not_in=("上市公司",))
    with Store(tmp_path / "db") as store:
        for it in (
            item("old", 40, "企业上市。"),
            item("listed", 3, "上市公司回购。"),
            item("a", 10, "企业上市。"),
            item("b", 1, "企业上市辅导。"),
        ):
            store.upsert(it, via="t")
        recent = recent_matches(store, topic, NOW)
        assert [i.id for i in recent.items] == ["b", "a"] and recent.complete and not recent.moved
        assert recent.end == NOW and recent.start == NOW - timedelta(days=30)


def test_an_archive_is_measured_around_the_item(tmp_path: Path) -> None:
    topic = Topic("上市", ("上市",))
    with Store(tmp_path / "db") as store:
        for it in (item("x", 400, "企业上市。"), item("y", 420, "企业上市。"), item("z", 500, "企业上市。")):
            store.upsert(it, via="t")
        around = NOW - timedelta(days=400)
        recent = recent_matches(store, topic, NOW, around=around)
        assert recent.moved and recent.end == around + timedelta(days=1)
        assert [i.id for i in recent.items] == ["x", "y"]
