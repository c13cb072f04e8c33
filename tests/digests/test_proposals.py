"""Rule changes proposed to drop an item marked "not relevant": each drops it, each says what else
it drops, the most local kind first, and words are words (no digits, no punctuation, no fragments
when the stored news says which strings recur)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.models import Item, ItemKind, Topic
from digests.proposals import EXCLUDE, MIN_SCORE, NEAR, NOT_IN, NOT_NEAR, exclude_candidates, propose
from digests.rules import TopicMatcher

AT = datetime(2021, 12, 8, tzinfo=UTC)


def item(id_: str, text: str, title: str = "") -> Item:
    return Item(id_, ItemKind.POST, "eastmoney", "东财滚动新闻", "", title, AT, "", text)


LISTING = Topic("上市", ("上市", "IPO"))
BUYBACK = item("buyback", "在谈论美股上涨的原因时，上市公司大量回购股票是一个经常被提起的理由。")
VERDICT = item("verdict", "被告人顾国平，原A股上市公司慧球科技的实际控制人，被判无期徒刑。")
ZHUZHOU = item("zhuzhou", "时代电气首次公开发行A股并在科创板上市，成为我市第一家A+H两地上市企业。")
OTHERS = [BUYBACK, VERDICT, ZHUZHOU]


def matches(topic: Topic, it: Item) -> bool:
    return bool(TopicMatcher([topic]).match(it))


def test_every_proposal_drops_the_item_and_names_what_else_it_drops() -> None:
    found = propose(LISTING, BUYBACK, OTHERS)
    assert [p.kind for p in found] == [NOT_IN, NOT_NEAR, EXCLUDE, MIN_SCORE]
    for proposal in found:
        assert matches(LISTING, BUYBACK) and not matches(proposal.topic, BUYBACK)
        assert {o.id for o in proposal.dropped} == {
            o.id
            for o in OTHERS
            if o is not BUYBACK and matches(LISTING, o) and not matches(proposal.topic, o)
        }
    context = found[0]
    assert context.words == ("上市公司",) and context.topic.not_in == ("上市公司",)
    assert [o.id for o in context.dropped] == ["verdict"]  # another 上市公司 item: shown, not hidden


def test_a_particle_makes_the_shortest_context() -> None:
    forecast = item("ff", "FF首次披露了IPO后财务状况。")
    (context, *_) = propose(LISTING, forecast, OTHERS)
    assert context.kind == NOT_IN and context.words == ("IPO后",)  # as written, not folded


def test_contexts_never_take_in_digits_punctuation_or_a_lone_character() -> None:
    # Before IPO stands 年 (one character, not a particle), after it 、: no context to propose.
    flow = item("flow", "资金消耗方面，2022年IPO、净减持规模均约为5000亿元。")
    assert all(p.kind != NOT_IN for p in propose(LISTING, flow, OTHERS))
    alone = item("alone", "上市。")
    assert all(p.kind != NOT_IN for p in propose(LISTING, alone, OTHERS))


def test_proposed_words_are_whole_words_as_the_segmenter_cuts_them() -> None:
    # 递表 here is no word at all: it straddles 快递 and 表示. Cut at fixed lengths, the context
    # was 通快递表 and the word beside it 通快.
    parcels = item("parcels", "中通快递表示，旺季包裹量同比增长。")
    found = propose(Topic("上市", ("递表",)), parcels, [])
    assert [(p.kind, p.words) for p in found if p.kind != MIN_SCORE] == [
        (NOT_IN, ("快递表示",)),
        (NOT_NEAR, ("中通",)),
        (EXCLUDE, ("中通",)),
    ]
    office = item("office", "广州市地方金融管理局联合印发科技保险新规。")
    local = Topic("地方金融监管", ("地方金融",))
    assert "广州市" in exclude_candidates(local, office) and "州市" not in exclude_candidates(local, office)
    (context, *_) = propose(local, office, [])
    assert context.kind == NOT_IN and context.words == ("地方金融管理局",)


def test_a_near_requirement_is_learnt_from_the_topics_other_matches() -> None:
    others = [item(f"o{n}", f"第{n}家企业上市，另有企业上市辅导。") for n in range(5)]
    drug = item("drug", "新药获批上市，用于治疗成人患者。")
    near = next(p for p in propose(LISTING, drug, others) if p.kind == NEAR)
    assert near.keyword == "上市" and "企业" in near.words and "辅导" in near.words
    assert not matches(near.topic, drug) and near.dropped == ()


def test_narrowing_a_near_list_takes_the_word_that_let_the_item_count() -> None:
    topic = Topic("上市", ("上市",), near={"上市": ("企业", "公司")})
    earnings = item("earnings", "归属于上市公司股东的净利润增长。")
    near = next(p for p in propose(topic, earnings, [ZHUZHOU]) if p.kind == NEAR)
    assert near.removed == ("公司",) and near.topic.near == {"上市": ("企业",)}
    assert matches(near.topic, ZHUZHOU)  # 企业上市 still counts


LOCAL = Topic("地方金融监管", ("小额贷款",))
PLEDGE = item("pledge", "控股股东将所持股份再质押给深圳市中小担小额贷款有限公司，质押用途为自身资金需求。")
SUPERVISION = [
    item("s1", "深圳市地方金融管理局开展小额贷款公司年度监管评级，清理失联空壳小额贷款公司。"),
    item("s2", "小额贷款公司综合融资成本上限公布，多家降至12%。"),
    item("s3", "股东质押股份用于补充流动资金。"),  # 质押, but no 小额贷款: not a match, not dropped
]


def test_a_negative_near_word_is_the_word_beside_the_keyword_that_spares_the_other_matches() -> None:
    grams = exclude_candidates(LOCAL, PLEDGE)
    # 深圳 stands closer to 小额贷款 than 质押 here, but also beside it in the supervision news.
    counts = {g: 1 for g in grams} | {"质押": 40, "深圳": 30, "股份": 50}
    found = propose(LOCAL, PLEDGE, SUPERVISION, word_counts=counts, stored=1000)
    (far,) = [p for p in found if p.kind == NOT_NEAR]
    assert far.keyword == "小额贷款" and far.words == ("质押",)
    assert far.topic.not_near == {"小额贷款": ("质押",)}
    assert not matches(far.topic, PLEDGE) and far.dropped == ()
    assert all(matches(far.topic, s) for s in SUPERVISION[:2])


def test_a_negative_near_word_is_never_a_near_word_and_stays_within_the_window() -> None:
    topic = Topic("地方金融监管", ("小额贷款",), near={"小额贷款": ("质押", "公司")}, near_window=2)
    counts = {"质押": 40, "深圳市": 30, "有限公司": 20}
    found = propose(topic, PLEDGE, SUPERVISION, word_counts=counts, stored=1000)
    far = [p for p in found if p.kind == NOT_NEAR]
    assert far and all("质押" not in p.words for p in far)  # a near word lets the keyword count
    assert all(p.words == ("有限公司",) for p in far)  # 深圳市 stands 3 characters away, beyond 2


def test_exclude_words_are_words_that_recur_but_not_words_of_all_news() -> None:
    grams = exclude_candidates(LISTING, BUYBACK)
    assert "回购" in grams and "原因" in grams and all(not g.isdigit() for g in grams)
    counts = {g: 1 for g in grams} | {"回购": 3, "原因": 900}
    (exclude,) = [
        p for p in propose(LISTING, BUYBACK, OTHERS, word_counts=counts, stored=1000) if p.kind == EXCLUDE
    ]
    assert exclude.words == ("回购",)  # 原因 is in most news; fragments occur once
    assert exclude_candidates(LISTING, item("x", "无关。")) == []


def test_a_near_word_is_never_proposed_as_an_exclude_word() -> None:
    topic = Topic("上市", ("上市",), near={"上市": ("公司", "企业")})
    found = propose(topic, BUYBACK, OTHERS, word_counts={"公司": 5}, stored=100)
    assert all("公司" not in p.words for p in found if p.kind == EXCLUDE)


def test_min_score_is_just_above_the_item() -> None:
    (score,) = [p for p in propose(LISTING, BUYBACK, OTHERS) if p.kind == MIN_SCORE]
    assert score.item_score == 1 and score.score == 2 and score.topic.min_score == 2
    assert [o.id for o in score.dropped] == ["verdict"]  # one body mention too; 株洲 says 上市 twice


def test_nothing_is_proposed_for_an_item_that_does_not_match() -> None:
    assert propose(LISTING, item("x", "新品发布会。"), OTHERS) == []
    assert len(propose(LISTING, BUYBACK, OTHERS, limit=1)) == 1


def test_a_context_is_never_a_keyword_of_the_topic() -> None:
    # The word 普惠 stands in is 普惠金融, itself a keyword: as a context it would switch 普惠金融 off.
    topic = Topic("普惠金融", ("普惠金融", "普惠"))
    plan = item("plan", "到2030年，普惠金融、数字金融发展水平显著提升。")
    assert all(p.words != ("普惠金融",) for p in propose(topic, plan, []) if p.kind == NOT_IN)
