"""bot.search.TopicVerdicts: a topic's next query checks only the candidates it has not judged."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import search
from bot.domain.models import Item, ItemKind, Topic
from bot.search import NewsReply, TopicVerdicts, verdict
from bot.store import Store, StoredItem

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 6, 1, 8, tzinfo=SHANGHAI)
TOPIC = Topic("上市", ("上市",), not_in=("上市公司",))


def item(n: int, text: str) -> Item:
    return Item(
        f"i{n}", ItemKind.FEED, "cls", "财联社", "", f"标题{n}", START + timedelta(minutes=n), "", text
    )


def texts(n: int) -> str:
    return "推动企业上市。" if n % 3 else "上市公司回购。"  # one in three is a listed company, not a listing


class CountingStore(Store):
    """A store that counts the items whose text a query reads."""

    read = 0

    def items_by_seq(self, seqs: Iterable[int]) -> dict[int, StoredItem]:
        found = super().items_by_seq(seqs)
        self.read += len(found)
        return found


def ids(reply: object) -> list[str]:
    assert isinstance(reply, NewsReply)
    return [e.id for e in reply.entries]


def total(reply: object) -> int:
    assert isinstance(reply, NewsReply)
    return reply.total


def test_the_second_query_reads_only_the_page_and_what_is_new(tmp_path: Path) -> None:
    topics = {"上市": TOPIC}
    store = CountingStore(tmp_path / "db")
    with store:
        for n in range(60):
            store.upsert(item(n, texts(n)))
        verdicts = TopicVerdicts()
        first = search.topic(store, topics, "上市", 5, verdicts=verdicts)
        assert store.read == 60  # every candidate checked once
        store.read = 0
        again = search.topic(store, topics, "上市", 5, verdicts=verdicts)
        assert store.read == 5  # only the page's items, to show them
        assert ids(again) == ids(first) and total(again) == total(first) == 40
        for n in range(60, 63):
            store.upsert(item(n, texts(n)))
        store.read = 0
        newer = search.topic(store, topics, "上市", 5, verdicts=verdicts)
        # The three new items read to be checked (two match: the top of the page), and the page's
        # three others read to be shown.
        assert store.read == 3 + 3
        assert total(newer) == 42 and ids(newer)[:2] == ["i62", "i61"]


@pytest.mark.parametrize("offset", [0, 5, 35])
def test_answers_are_the_same_with_or_without_verdicts(tmp_path: Path, offset: int) -> None:
    topics = {"上市": TOPIC}
    with Store(tmp_path / "db") as store:
        for n in range(60):
            store.upsert(item(n, texts(n)))
        verdicts = TopicVerdicts()
        search.topic(store, topics, "上市", 5, verdicts=verdicts)  # remembered
        cached = search.topic(store, topics, "上市", 5, offset=offset, verdicts=verdicts)
        fresh = search.topic(store, topics, "上市", 5, offset=offset)
        assert isinstance(cached, NewsReply) and isinstance(fresh, NewsReply)
        assert (ids(cached), cached.total, cached.exact) == (ids(fresh), fresh.total, fresh.exact)


def test_a_changed_item_or_an_edited_topic_is_judged_again(tmp_path: Path) -> None:
    with Store(tmp_path / "db") as store:
        for n in range(6):
            store.upsert(item(n, "推动企业上市。"))
        verdicts = TopicVerdicts()
        assert total(search.topic(store, {"上市": TOPIC}, "上市", 10, verdicts=verdicts)) == 6
        store.upsert(item(2, "上市公司回购。"))  # the same item, its text changed
        assert total(search.topic(store, {"上市": TOPIC}, "上市", 10, verdicts=verdicts)) == 5
        edited = Topic("上市", ("上市",), not_in=("上市公司", "企业上市"))
        assert total(search.topic(store, {"上市": edited}, "上市", 10, verdicts=verdicts)) == 0


def test_verdicts_forget_the_least_recently_asked_topic() -> None:
    verdicts = TopicVerdicts(topics=2)
    a, b, c = (Topic(name, (name,)) for name in ("甲", "乙", "丙"))
    verdicts.of(a)[1] = verdict("h", True)
    verdicts.of(b)[1] = verdict("h", True)
    verdicts.of(a)  # asked again: b is now the oldest
    verdicts.of(c)
    assert verdicts.of(a) == {1: verdict("h", True)}
    assert verdicts.of(b) == {}


def test_a_topic_s_verdicts_are_bounded() -> None:
    verdicts = TopicVerdicts(items_per_topic=3)
    topic = Topic("甲", ("甲",))
    kept = verdicts.of(topic)
    kept.update({seq: verdict(str(seq), seq % 2 == 0) for seq in range(4)})
    assert verdicts.of(topic) == {}  # past the bound: started afresh rather than grown
    assert verdict("h", True) & 1 and not verdict("h", False) & 1
