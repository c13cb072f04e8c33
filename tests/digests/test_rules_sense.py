"""Rules that see the sense of an occurrence: near words and negative near words, headline-only
keywords, a minimum score.

Sentences are of the relevance set's kind (tests/data/relevance): the same word 上市 for a company
going public and for a drug or a phone coming to market.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.models import Item, ItemKind, Topic
from bot.domain.textindex import fold
from digests.explain import Verdict
from digests.rules import TopicMatcher
from digests.values import Field, Hit

AT = datetime(2026, 6, 25, tzinfo=UTC)

LISTING = "深圳市盛世智能装备股份有限公司于2026年6月25日正式启动上市辅导，中信建投证券担任辅导机构。"
POLICY = "积极支持优质企业上市，壮大科技服务。"
DRUG = "批准公司自主研发的1类新药富马酸立康可泮胶囊上市，用于治疗成人患者。"
EARNINGS = "归属于上市公司股东的净利润2.98亿元，同比增长209.5%。"


def item(text: str, title: str = "", id: str = "1") -> Item:
    return Item(id, ItemKind.FEED, "cls", "财联社电报", "", title, AT, "", text)


def matched(topic: Topic, it: Item) -> bool:
    return bool(TopicMatcher([topic]).match(it))


LISTING_SENSE = Topic("上市", ("上市",), near={"上市": ("企业", "辅导", "公司")}, near_window=6)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (LISTING, True),  # 上市辅导: the near word right after it
        (POLICY, True),  # 企业上市: right before it
        (DRUG, False),  # 胶囊上市: no near word within 6 characters
        (EARNINGS, True),  # 上市公司: near, as configured (not_in is what drops it, below)
    ],
)
def test_a_near_rule_counts_an_occurrence_only_with_a_near_word_close_by(text: str, expected: bool) -> None:
    assert matched(LISTING_SENSE, item(text)) is expected


def test_near_and_not_in_combine_on_each_occurrence() -> None:
    topic = Topic("上市", ("上市",), not_in=("上市公司",), near={"上市": ("企业", "辅导", "公司")})
    assert not matched(topic, item(EARNINGS))
    # The listed company is negated, the second occurrence has its near word: the item counts.
    match = TopicMatcher([topic]).match(item(EARNINGS + POLICY))
    assert match and match[0].hits == (Hit("上市", Field.TEXT, 1, fold(EARNINGS + POLICY).rindex("上市")),)


@pytest.mark.parametrize(
    ("gap", "window", "expected"),
    [(0, 0 + 1, True), (5, 5, True), (6, 5, False), (9, 10, True), (40, 10, False)],
)
def test_the_window_counts_characters_between_the_words(gap: int, window: int, expected: bool) -> None:
    # Mixed widths: ASCII is one byte and Chinese three, and the window is in characters.
    filler = ("年a" * gap)[:gap]
    topic = Topic("上市", ("上市",), near={"上市": ("企业",)}, near_window=window)
    assert matched(topic, item(f"企业{filler}上市。")) is expected
    assert matched(topic, item(f"上市{filler}企业。")) is expected


def test_a_near_word_that_contains_the_keyword_counts_where_they_overlap() -> None:
    topic = Topic("上市", ("上市",), near={"上市": ("企业上市",)}, near_window=1)
    assert matched(topic, item("推动企业上市。"))
    assert not matched(topic, item("新药上市。"))


def test_near_applies_only_to_the_keyword_it_names() -> None:
    topic = Topic("上市", ("上市", "IPO"), near={"上市": ("企业",)})
    it = item("新药上市，IPO 申购。")
    match = TopicMatcher([topic]).match(it)
    assert match and match[0].keywords == ("IPO",)


def test_near_keys_and_words_are_folded_like_keywords() -> None:
    topic = Topic("上市", ("ＩＰＯ",), near={"ipo": ("Nasdaq",)})
    assert matched(topic, item("Plans an IPO on NASDAQ."))
    assert not matched(topic, item("Plans an IPO soon."))


def test_title_keywords_count_only_in_the_headline() -> None:
    topic = Topic("上市", ("IPO",), title_keywords=("挂牌",))
    assert matched(topic, item("股权公开挂牌转让。", title="企业新三板挂牌"))
    assert not matched(topic, item("拟公开挂牌转让子公司股权。", title="中粮科技公告"))
    match = TopicMatcher([topic]).match(item("公开挂牌。", title="挂牌"))
    assert match and match[0].hits == (Hit("挂牌", Field.TITLE, 1, 0),)


@pytest.mark.parametrize(
    ("title", "text", "min_score", "weights", "expected"),
    [
        ("", "企业上市。", 2, {}, False),  # one body occurrence: 1 point
        ("", "企业上市，上市融资。", 2, {}, True),  # two body occurrences
        ("企业上市", "", 2, {}, True),  # one headline occurrence: 2 points
        ("", "企业上市。", 2, {"上市": 2.0}, True),  # a weighty keyword scores its weight
        ("", "企业上市。", 0, {"上市": 0.5}, True),  # no minimum: any counted occurrence
        ("", "企业上市。", 1, {"上市": 0.5}, False),
    ],
)
def test_a_minimum_score_keeps_passing_mentions_out(
    title: str, text: str, min_score: float, weights: dict[str, float], expected: bool
) -> None:
    topic = Topic("上市", ("上市",), min_score=min_score, weights=weights)
    assert matched(topic, item(text, title)) is expected
    assert TopicMatcher([topic]).explain(item(text, title), "上市").matched is expected


def test_explain_reports_every_occurrence_with_its_position_and_fate() -> None:
    topic = Topic(
        "上市",
        ("上市",),
        not_in=("上市公司",),
        near={"上市": ("企业", "辅导")},
        title_keywords=("挂牌",),
        near_window=4,
    )
    text = EARNINGS + DRUG + POLICY + "拟公开挂牌转让。"
    why = TopicMatcher([topic]).explain(item(text, title="企业挂牌"), "上市")
    folded = fold(text)
    verdicts = [(o.field, o.keyword, o.start, o.verdict, o.context) for o in why.occurrences]
    assert verdicts == [
        (Field.TITLE, "挂牌", 2, Verdict.COUNTED, ""),
        (Field.TEXT, "上市", folded.index("上市公司"), Verdict.NEGATED, "上市公司"),
        (Field.TEXT, "上市", folded.index("胶囊上市") + 2, Verdict.NOT_NEAR, ""),
        (Field.TEXT, "上市", folded.index("企业上市") + 2, Verdict.COUNTED, "企业"),
        (Field.TEXT, "挂牌", folded.index("挂牌"), Verdict.TITLE_ONLY, ""),
    ]
    assert why.counted()[1].distance == 0
    assert why.matched and why.score == 3.0
    assert why.lines() == [
        "「上市」：相关",
        "标题命中「挂牌」1 次",
        "正文命中「上市」1 次",
        "正文「上市」1 处位于「上市公司」中，不计",
        "正文「上市」1 处前后 4 字内没有「企业、辅导」，不计",
        "「挂牌」只在标题中计，正文 1 处不计",
    ]


PLEDGE = "控股股东将所持股份再质押给深圳市中小担小额贷款有限公司，质押用途为自身资金需求。"
SUPERVISION = "加强小额贷款公司监管，清理失联空壳小额贷款公司。"
COUNTERPARTY = Topic("地方金融监管", ("小额贷款",), not_near={"小额贷款": ("质押", "合同")})


def test_a_negative_near_word_keeps_an_occurrence_beside_it_from_counting() -> None:
    assert not matched(COUNTERPARTY, item(PLEDGE))  # 质押 7 characters before it, 5 after
    assert matched(COUNTERPARTY, item(SUPERVISION))
    # Per occurrence: the pledge's 小额贷款 does not count, the supervision's does.
    match = TopicMatcher([COUNTERPARTY]).match(item(PLEDGE + SUPERVISION))
    assert match and match[0].hits[0].count == 2
    # Beyond the window it says nothing about the occurrence.
    far = replace(COUNTERPARTY, near_window=4)
    assert matched(far, item(PLEDGE))


def test_a_negative_near_word_wins_over_a_near_word() -> None:
    topic = replace(COUNTERPARTY, near={"小额贷款": ("公司",)})
    assert not matched(topic, item(PLEDGE))  # 公司 is near, but so is 质押
    assert matched(topic, item(SUPERVISION))
    assert not matched(topic, item("小额贷款余额增长。"))  # no near word at all


def test_explain_names_the_negative_near_word_found() -> None:
    why = TopicMatcher([COUNTERPARTY]).explain(item(PLEDGE), "地方金融监管")
    (occ,) = why.occurrences
    assert occ.verdict is Verdict.NEAR_NEGATIVE and occ.context == "质押" and occ.distance == 5  # the closer
    assert why.lines() == [
        "「地方金融监管」：不相关",
        "正文「小额贷款」1 处前后 10 字内有「质押」，不计",
        "未命中任何关键词",
    ]


def test_explain_says_when_the_score_falls_short() -> None:
    topic = Topic("上市", ("上市",), min_score=2)
    why = TopicMatcher([topic]).explain(item(POLICY), "上市")
    assert not why.matched and why.below_min_score
    assert why.lines()[-1] == "得分 1，低于最低分 2（标题每处计两倍）"


@given(
    text=st.text(alphabet="企业上市公司新药IPO挂牌。a ", max_size=50),
    title=st.text(alphabet="企业上市挂牌IPO", max_size=8),
    data=st.data(),
)
def test_match_and_explain_agree_with_every_rule_kind(text: str, title: str, data: st.DataObject) -> None:
    topics = [
        Topic(
            f"t{n}",
            ("上市", "IPO"),
            not_in=tuple(data.draw(st.lists(st.sampled_from(["上市公司", "新药上市"]), max_size=2))),
            near=data.draw(st.sampled_from([{}, {"上市": ("企业",)}, {"IPO": ("公司", "a")}])),
            not_near=data.draw(st.sampled_from([{}, {"上市": ("公司",)}, {"IPO": ("新药",)}])),
            near_window=data.draw(st.integers(1, 6)),
            title_keywords=data.draw(st.sampled_from([(), ("挂牌",)])),
            min_score=data.draw(st.sampled_from([0, 1, 2, 3])),
        )
        for n in range(3)
    ]
    matcher = TopicMatcher(topics)
    it = item(text, title)
    found = {m.topic: m for m in matcher.match(it)}
    for topic in topics:
        why = matcher.explain(it, topic.name)
        assert why.matched == (topic.name in found)
        counted = sum(1 for o in why.occurrences if o.verdict is Verdict.COUNTED)
        assert counted >= sum(h.count for h in why.hits)
        if why.matched:
            assert found[topic.name].hits == why.hits
