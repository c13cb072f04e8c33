"""Passing mentions: a story that names its topic once, in the body only, comes after the others
in its topic and is marked "正文仅提及一次" in every format."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.domain.models import Item, ItemKind, Topic
from digests.build import build_digest
from digests.render import render_html_page, render_markdown, render_telegram, render_text
from digests.render_robots import render_dingtalk, render_feishu, render_wecom
from digests.rules import TopicMatcher
from digests.values import Digest

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 20)
TOPICS = [Topic("上市", ("上市", "IPO"))]
MARK = "正文仅提及一次"


def item(id_: str, title: str, text: str, *, hour: int = 8, origin: str = "") -> Item:
    when = datetime(2026, 11, 20, hour, tzinfo=SHANGHAI)
    return Item(
        id_, ItemKind.POST, "zzrb", "株洲日报", origin, title, when, f"https://example.com/{id_}", text
    )


def in_passing(it: Item) -> bool:
    (found,) = TopicMatcher(TOPICS).match(it)
    return found.in_passing


def test_a_passing_mention_is_one_occurrence_in_the_body_only() -> None:
    assert in_passing(item("a", "全市经济运行平稳", "其中三家企业上市。"))
    assert not in_passing(item("b", "株洲企业上市", "今年三家。"))  # in the headline
    assert not in_passing(item("c", "全市经济", "三家企业上市，两家上市辅导。"))  # twice
    assert not in_passing(item("d", "全市经济", "三家企业上市，一家启动IPO。"))  # two keywords


def build(items: list[Item]) -> Digest:
    return build_digest(items, TOPICS, DAY, "Asia/Shanghai")


# A readout carried by five outlets that names 上市 once, against one outlet's item naming it twice:
# the readout scores higher (more outlets) but is the passing mention.
READOUT = [
    item(f"r{n}", "全市经济运行情况通报", "……推动企业上市……", origin=name)
    for n, name in enumerate(("株洲日报", "湖南日报", "新华社", "人民日报", "经济日报"))
]
LISTINGS = item("l", "全市经济", "三家企业上市，两家上市辅导。", hour=9)
ONCE = item("o", "一季度工业生产", "工业增加值增长，一家企业上市。", hour=10)  # one copy, in passing


def test_passing_mentions_come_after_the_others_however_widely_carried() -> None:
    (section,) = build([*READOUT, LISTINGS, ONCE]).sections
    assert [(e.ids[0], e.passing) for e in section.entries] == [("l", False), ("r0", True), ("o", True)]
    assert section.entries[1].score > section.entries[0].score  # it would have led by score


def test_every_format_marks_a_passing_mention_and_only_it() -> None:
    digest = build([*READOUT, LISTINGS])
    text = render_text(digest)
    assert text.count(MARK) == 1 and text.index(MARK) > text.index("全市经济运行情况通报")
    assert f"5 家 · 08:00 · {MARK}" in text
    assert render_markdown(digest).count(MARK) == 1
    page = render_html_page(digest)
    assert f'<time datetime="2026-11-20T08:00+08:00">08:00</time> · {MARK}</div>' in page
    (message,) = render_telegram(digest)
    assert message.count(MARK) == 1
    for messages in (render_wecom(digest), render_dingtalk(digest), render_feishu(digest)):
        assert json.dumps(messages, ensure_ascii=False).count(MARK) == 1


def test_a_story_with_one_copy_naming_it_twice_is_no_passing_mention() -> None:
    copy = item("r9", "全市经济运行情况通报", "……推动企业上市，支持上市后备企业……", origin="工人日报")
    (section,) = build([*READOUT, copy]).sections
    assert [(e.ids, e.passing) for e in section.entries] == [(("r0", "r1", "r2", "r3", "r4", "r9"), False)]
