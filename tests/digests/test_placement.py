"""A story once per digest: under its strongest topic, the other topics named on it, counts right."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.models import Item, ItemKind, Topic
from digests.build import build_digest, for_subscription
from digests.render import render_html_page, render_markdown, render_telegram, render_text
from digests.render_view import digest_view
from digests.rules import TopicMatcher
from digests.values import Digest

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 20)
TOPICS = [
    Topic("上市", ("上市",)),
    Topic("普惠金融", ("小微企业", "普惠金融")),
    Topic("科技金融", ("科技金融",)),
]


def item(id_: str, title: str, text: str, hour: int = 8) -> Item:
    return Item(
        id_,
        ItemKind.POST,
        "zzrb",
        "株洲日报",
        "",
        title,
        datetime(2026, 11, 20, hour, tzinfo=SHANGHAI),
        f"https://example.com/{id_}",
        text,
    )


# Headline on 普惠金融, a passing mention of 上市 and of 科技金融 in the body.
BOTH = item("both", "小微企业贷款余额增长", "全市小微企业贷款增长，三家企业上市，科技金融持续发力。")
LISTING = item("listing", "株洲企业上市", "今年新增上市企业三家。", hour=9)


def build(items: list[Item], **kwargs: object) -> Digest:
    return build_digest(items, TOPICS, DAY, "Asia/Shanghai", **kwargs)  # type: ignore[arg-type]


def names(digest: Digest) -> list[tuple[str, int, list[str]]]:
    return [(s.name, s.total, [e.ids[0] for e in s.entries]) for s in digest.sections]


def test_a_story_is_shown_once_under_its_strongest_topic_with_the_others_named() -> None:
    digest = build([BOTH, LISTING])
    assert names(digest) == [("上市", 1, ["listing"]), ("普惠金融", 1, ["both"])]
    entry = digest.sections[1].entries[0]
    assert entry.also == ("上市", "科技金融")  # every other topic it matched, in topic order
    assert digest.sections[0].entries[0].also == ()
    assert digest.stories == 2 and digest_view(digest).summary.startswith("2 条新闻 · 2 个主题")


def test_equally_strong_topics_go_to_the_first_configured() -> None:
    twin = item("twin", "", "三家企业上市，小微企业贷款增长。")
    assert names(build([twin])) == [("上市", 1, ["twin"])]


def test_a_subscription_gets_the_story_under_a_topic_it_follows() -> None:
    digest = build([BOTH, LISTING])
    assert names(for_subscription(digest, ["上市"])) == [("上市", 2, ["listing", "both"])]
    assert names(for_subscription(digest, ["科技金融", "上市"])) == [("上市", 2, ["listing", "both"])]
    only = for_subscription(digest, ["科技金融"])
    assert names(only) == [("科技金融", 1, ["both"])]
    assert only.sections[0].entries[0].also == ("上市", "普惠金融")
    assert for_subscription(digest, ["没有"]).empty
    assert for_subscription(digest, []).sections == digest.sections


def test_a_section_shows_its_best_stories_that_were_not_placed_elsewhere() -> None:
    # Five stories headlined on 普惠金融 also mention 上市; the digest keeps 2 per topic.
    stories = [
        item(f"p{i}", f"第{i}笔小微企业贷款", f"小微企业贷款第{i}笔，企业上市。", hour=i) for i in range(1, 6)
    ]
    own = [item(f"l{i}", "", f"第{i}家企业上市。", hour=10 + i) for i in range(1, 4)]
    digest = build(stories + own, top=2)
    (listing, inclusive) = digest.sections
    assert listing.total == 3 and [e.ids[0] for e in listing.entries] == ["l3", "l2"]
    assert inclusive.total == 5 and inclusive.more == 3
    assert digest.stories == 8


def test_repeat_stories_restores_the_repetition() -> None:
    digest = build([BOTH, LISTING], repeat_stories=True)
    assert names(digest) == [
        ("上市", 2, ["listing", "both"]),
        ("普惠金融", 1, ["both"]),
        ("科技金融", 1, ["both"]),
    ]
    assert all(e.also == () for s in digest.sections for e in s.entries)
    assert digest.stories == 2  # a story under three topics still counts once
    assert names(for_subscription(digest, ["普惠金融"])) == [("普惠金融", 1, ["both"])]


def test_every_format_names_the_other_topics() -> None:
    digest = build([BOTH])
    assert "也属于：上市、科技金融" in render_text(digest)
    assert "*也属于：上市、科技金融*" in render_markdown(digest)
    assert '<p class="also">也属于：上市、科技金融</p>' in render_html_page(digest)
    (message,) = render_telegram(digest)
    assert "<i>也属于：上市、科技金融</i>" in message
    (entry,) = digest_view(digest).sections[0].entries
    assert entry.also == ("上市", "科技金融") and entry.also_line == "也属于：上市、科技金融"


def test_a_topic_name_is_escaped_where_it_is_named() -> None:
    topics = [Topic("<b>上市</b>", ("上市",)), Topic("普惠*金融*", ("小微企业",))]
    digest = build_digest([BOTH], topics, DAY, "Asia/Shanghai")
    (message,) = render_telegram(digest)
    assert "<i>也属于：&lt;b&gt;上市&lt;/b&gt;</i>" in message
    assert "*也属于：\\<b\\>上市\\<\\/b\\>*" in render_markdown(digest)
    assert '<p class="also">也属于：&lt;b&gt;上市&lt;/b&gt;</p>' in render_html_page(digest)


@settings(max_examples=60, deadline=None)
@given(
    matrix=st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=1, max_size=12),
    titles=st.lists(st.sampled_from(["", "上市", "小微企业", "科技金融"]), min_size=12, max_size=12),
    chosen=st.lists(st.sampled_from(["上市", "普惠金融", "科技金融"]), max_size=3, unique=True),
    top=st.integers(1, 4),
)
def test_each_story_of_a_selection_is_placed_exactly_once(
    matrix: list[list[bool]], titles: list[str], chosen: list[str], top: int
) -> None:
    words = ("企业上市", "小微企业", "科技金融")
    items = []
    for n, row in enumerate(matrix):
        body = "，".join(f"第{n}号{w}" for w, on in zip(words, row, strict=True) if on) or f"第{n}号无关"
        items.append(item(f"i{n:02d}", titles[n], body + "。", hour=n % 24))
    full = build(items, top=top)
    digest = for_subscription(full, chosen)
    selection = set(chosen) or {t.name for t in TOPICS}
    matcher = TopicMatcher(TOPICS)
    matched = {i.id: {m.topic for m in matcher.match(i)} & selection for i in items}
    # The stories of the selection (reprints merged), as the repeating digest counts them.
    repeated = for_subscription(build(items, top=top, repeat_stories=True), chosen)
    stories = frozenset().union(*(s.story_keys for s in repeated.sections))
    assert sum(s.total for s in digest.sections) == len(stories) == digest.stories
    shown = [e.ids[0] for s in digest.sections for e in s.entries]
    assert len(shown) == len(set(shown))
    for section in digest.sections:
        assert len(section.entries) == min(top, section.total)
        for entry in section.entries:
            assert section.name in matched[entry.ids[0]]
            assert set(entry.also) | {section.name} >= matched[entry.ids[0]]


@pytest.mark.parametrize("repeat", [False, True])
def test_placing_is_deterministic(repeat: bool) -> None:
    items = [BOTH, LISTING, item("x", "科技金融", "科技金融，小微企业。", hour=7)]
    first = build(items, repeat_stories=repeat)
    second = build(list(reversed(items)), repeat_stories=repeat)
    assert names(first) == names(second)
