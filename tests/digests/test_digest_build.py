"""Building a day's digest: topics matched, reprints merged, ranked, top N kept, snippets marked."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.domain.models import Item, ItemKind, Topic
from digests.build import build_digest, for_subscription
from digests.snippets import highlight

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 20)
STORY = (
    "株洲市召开企业上市工作推进会。会议指出，今年以来全市新增上市企业三家，"
    "后备资源库企业达到一百二十家。会议要求各地加大培育力度，推动更多企业登陆资本市场。"
)


def item(
    id_: str, title: str, text: str, *, hour: int = 8, source: str = "zzrb", name: str = "株洲日报"
) -> Item:
    return Item(
        id=id_,
        kind=ItemKind.POST,
        source=source,
        source_name=name,
        origin="",
        title=title,
        published=datetime(2026, 11, 20, hour, 0, tzinfo=SHANGHAI),
        url=f"https://example.com/{id_}",
        text=text,
    )


TOPICS = [
    Topic("上市", ("上市", "IPO"), not_in=("线上市场",)),
    Topic("普惠金融", ("普惠金融", "小微企业")),
]


def test_reprints_become_one_entry_listing_every_outlet_earliest_first() -> None:
    items = [
        item("b", "株洲推进企业上市", STORY + "（新华社）", hour=10, source="xinhua", name="新华社"),
        item("a", "株洲召开企业上市推进会", STORY, hour=8),
        item(
            "c",
            "小微企业贷款增长",
            "全市小微企业贷款余额同比增长百分之十二，普惠金融覆盖面持续扩大。",
            hour=9,
        ),
    ]
    digest = build_digest(items, TOPICS, DAY, "Asia/Shanghai")
    listing, inclusive = digest.sections
    assert listing.name == "上市" and listing.total == 1
    (entry,) = listing.entries
    assert entry.ids == ("a", "b") and entry.sources == ("株洲日报", "新华社")
    assert entry.title == "株洲召开企业上市推进会" and entry.url == "https://example.com/a"
    assert entry.matched == ("上市",)
    assert any(part.hit and part.text == "上市" for part in entry.snippet)
    assert inclusive.total == 1 and digest.stories == 2 and digest.items_considered == 3


def test_negative_contexts_and_empty_topics_are_left_out() -> None:
    items = [item("x", "线上市场火热", "双十一线上市场交易额创新高。")]
    digest = build_digest(items, TOPICS, DAY, "Asia/Shanghai")
    assert digest.empty and digest.stories == 0


def test_top_n_and_the_rest_counted() -> None:
    items = [
        item(f"s{i}", f"第{i}家企业上市", f"第{i}家企业今天在深交所上市，募集资金{i}亿元。", hour=i)
        for i in range(1, 9)
    ]
    section = build_digest(items, TOPICS, DAY, "Asia/Shanghai", top=3).sections[0]
    assert section.total == 8 and len(section.entries) == 3 and section.more == 5


def test_title_hits_rank_above_body_hits() -> None:
    items = [
        item("body", "全市经济运行平稳", "报告提到企业上市工作取得进展。", hour=12),
        item("title", "三家企业上市", "今日三家企业挂牌交易，募资总额十亿元。", hour=7),
    ]
    section = build_digest(items, TOPICS, DAY, "Asia/Shanghai").sections[0]
    assert [e.ids[0] for e in section.entries] == ["title", "body"]


def test_source_priority_lifts_regulators() -> None:
    texts = (
        "甲公司首次公开发行股票并上市辅导备案已获受理，辅导机构为某证券公司，预计明年提交申请。",
        "乙公司创业板上市申请获深交所受理，保荐机构为另一家证券公司，拟募集资金八亿元。",
    )
    items = [
        item("paper", "甲公司上市辅导备案", texts[0], hour=9),
        item("csrc", "乙公司上市申请获受理", texts[1], hour=8, source="csrc", name="中国证监会"),
    ]
    plain = build_digest(items, TOPICS, DAY, "Asia/Shanghai").sections[0]
    lifted = build_digest(items, TOPICS, DAY, "Asia/Shanghai", priority={"中国证监会": 5}).sections[0]
    assert [e.ids for e in plain.entries] == [("paper",), ("csrc",)]  # later, otherwise equal
    assert [e.ids for e in lifted.entries] == [("csrc",), ("paper",)]


def test_deterministic_for_equal_inputs() -> None:
    items = [item(f"d{i}", "企业上市", f"企业上市第{i}条消息，内容各不相同{i * 7}。") for i in range(6)]
    first = build_digest(items, TOPICS, DAY, "Asia/Shanghai")
    second = build_digest(list(reversed(items)), TOPICS, DAY, "Asia/Shanghai")
    assert [e.ids for e in first.sections[0].entries] == [e.ids for e in second.sections[0].entries]


def test_a_subscription_sees_only_its_topics() -> None:
    items = [item("a", "企业上市", STORY), item("c", "小微企业", "小微企业贷款增长。")]
    digest = build_digest(items, TOPICS, DAY, "Asia/Shanghai")
    mine = for_subscription(digest, ["普惠金融"], "株洲金融办")
    assert [s.name for s in mine.sections] == ["普惠金融"] and mine.label == "株洲金融办"
    assert for_subscription(digest, []).sections == digest.sections


def test_snippet_is_the_sentence_with_the_first_hit() -> None:
    parts = highlight(STORY, ["上市"])
    text = "".join(p.text for p in parts)
    assert text == "株洲市召开企业上市工作推进会。"
    assert [p.text for p in parts if p.hit] == ["上市"]


def test_snippet_of_a_long_sentence_is_cut_around_the_hit() -> None:
    long = "前言" * 100 + "企业上市" + "后记" * 100 + "。"
    parts = highlight(long, ["上市"], width=40)
    text = "".join(p.text for p in parts)
    assert text.startswith("…") and text.endswith("…") and "上市" in text and len(text) <= 42


def test_snippet_folds_case_and_width_but_shows_the_original() -> None:
    parts = highlight("公司完成ＩＰＯ辅导。", ["ipo"])
    assert [p.text for p in parts if p.hit] == ["ＩＰＯ"]
    assert highlight("", ["x"]) == ()
    assert "".join(p.text for p in highlight("”引号之后。第二句。", ["第二"])) == "第二句。"


def test_of_two_overlapping_keywords_equally_long_the_first_given_is_highlighted() -> None:
    # Not the first in a set's order, which varies with the hash seed from one process to the next.
    text = "切实做好金融风险防控工作。"
    assert [p.text for p in highlight(text, ["风险防控", "金融风险"]) if p.hit] == ["风险防控"]
    assert [p.text for p in highlight(text, ["金融风险", "风险防控"]) if p.hit] == ["金融风险"]


def test_boilerplate_is_counted_over_the_whole_day_not_only_the_matched_items() -> None:
    # Two different 上市 stories carry a feed's long template; twenty posts on other subjects carry
    # it too. Counted over the day, the template is boilerplate and the two stories stay apart.
    template = (
        "【免责声明】本文仅代表作者本人观点，与本网站无关。"
        "本网站对文中陈述、观点判断保持中立，不对内容的准确性作任何保证。"
    )
    stories = [
        item("a", "甲公司上市", template + "甲公司今日在深交所上市。", hour=8),
        item("b", "乙公司上市", template + "乙公司今日在上交所上市。", hour=9),
    ]
    others = [
        item(f"o{i}", f"天气{i}", template + f"今天第{i}号天气预报晴转多云。", hour=10) for i in range(20)
    ]
    digest = build_digest(stories + others, TOPICS, DAY, "Asia/Shanghai")
    (listing,) = [s for s in digest.sections if s.name == "上市"]
    assert sorted(entry.ids for entry in listing.entries) == [("a",), ("b",)]
