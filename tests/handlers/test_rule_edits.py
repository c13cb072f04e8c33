"""The sense rules from chat: near words, headline-only keywords, the window and the minimum score;
each edit audited, each bad argument answered in Chinese."""

from __future__ import annotations

import pytest

from bot.domain.topics import topic_to_dict
from handlers.commands import dispatch, find_command
from handlers.request import Context
from tests.helpers.chat import GANNAN_TITLE, ZHUZHOU_TITLE, ask, request, text


def topic(ctx: Context, name: str = "上市") -> dict[str, object]:
    return topic_to_dict(ctx.digester.topics()[name])


def test_addnear_makes_a_keyword_count_only_beside_a_near_word(ctx: Context) -> None:
    ask(ctx, "/newtopic 株洲 株洲")
    assert ZHUZHOU_TITLE in text(ask(ctx, "/topic 株洲"))
    shown = text(ask(ctx, "/addnear 株洲 株洲 火星"))
    assert shown.splitlines() == [
        "已为主题“株洲”的“株洲”添加邻近词：火星（全局）",
        "“株洲”前后 10 字内须有：火星",
        "修改立即生效，并已记入 /audit。",
    ]
    assert text(ask(ctx, "/topic 株洲")).startswith("主题“株洲”暂无相关内容")
    entry = ctx.store.audit_entries()[0]
    assert (
        entry.action == "add_near"
        and entry.before["near"] == {}
        and entry.after["near"] == {"株洲": ["火星"]}
    )
    assert text(ask(ctx, "/audit 1")).splitlines()[-1] == "  邻近词：+株洲（火星）"
    # A near word that is there: the keyword counts again.
    ask(ctx, "/addnear 株洲 株洲 金融，上市")
    assert topic(ctx, "株洲")["near"] == {"株洲": ["火星", "金融", "上市"]}
    assert ZHUZHOU_TITLE in text(ask(ctx, "/topic 株洲"))


def test_delnear_removes_words_or_the_whole_requirement(ctx: Context) -> None:
    ask(ctx, "/newtopic 株洲 株洲")
    ask(ctx, "/addnear 株洲 株洲 火星 金融")
    assert text(ask(ctx, "/delnear 株洲 株洲 火星")).startswith("已从主题“株洲”的“株洲”删除邻近词：火星")
    assert text(ask(ctx, "/delnear 株洲 株洲 月球")).startswith("“株洲”的邻近词中没有：月球，未作更改。")
    shown = text(ask(ctx, "/delnear 株洲 株洲"))
    assert shown.startswith("已取消主题“株洲”中“株洲”的邻近词要求（全局）。") and "每处都算" in shown
    assert topic(ctx, "株洲")["near"] == {}
    assert text(ask(ctx, "/delnear 株洲 株洲")) == "“株洲”没有邻近词要求：每处都算。"
    assert [e.action for e in ctx.store.audit_entries(3)] == ["delete_near", "delete_near", "add_near"]


def test_deleting_a_keyword_takes_its_near_words_along(ctx: Context) -> None:
    assert "挂牌" in topic(ctx)["near"]  # type: ignore[operator]
    ask(ctx, "/delkw 上市 挂牌")
    assert "挂牌" not in topic(ctx)["near"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/addnear", "用法：/addnear 主题 关键词 邻近词…"),
        ("/addnear 上市 上市", "用法：/addnear 主题 关键词 邻近词…"),
        ("/delnear 上市", "用法：/delnear 主题 关键词 [邻近词…]"),
        ("/addnear 上市 股票 企业", "“股票”不是主题“上市”的关键词，邻近词只能加在关键词上。"),
        ("/addnear 没有 上市 企业", "没有名为“没有”的主题。"),
        ("/addnear 上市 上市 ！！", "“！！”不含文字或数字，无法用于检索。"),
        ("/addnear 上市 上市 " + "长" * 60, "太长了：每个词最多 50 个字。"),
        ("/addnear 上市 上市 " + " ".join(f"词{n}" for n in range(25)), "一次最多 20 个词。"),
        ("/addnear 上市 上市 企业", "“上市”的邻近词中已有：企业，未作更改。"),
    ],
)
def test_bad_near_edits_are_answered_and_change_nothing(ctx: Context, line: str, answer: str) -> None:
    before = topic(ctx)
    assert answer in text(ask(ctx, line))
    assert topic(ctx) == before and ctx.store.audit_entries() == []


OFFICE_REPORT = "2022年全市金融工作总结和2023年工作打算"  # 融资租赁 once, after 典当行


def test_addnotnear_keeps_an_occurrence_beside_the_word_from_counting(ctx: Context) -> None:
    ask(ctx, "/newtopic 租赁 融资租赁")
    assert OFFICE_REPORT in text(ask(ctx, "/topic 租赁"))
    shown = text(ask(ctx, "/addnotnear 租赁 融资租赁 典当"))
    assert shown.splitlines() == [
        "已为主题“租赁”的“融资租赁”添加排除邻近词：典当（全局）",
        "“融资租赁”前后 10 字内有这些词时不算：典当",
        "修改立即生效，并已记入 /audit。",
    ]
    assert text(ask(ctx, "/topic 租赁")).startswith("主题“租赁”暂无相关内容")
    entry = ctx.store.audit_entries()[0]
    assert entry.action == "add_not_near" and entry.after["not_near"] == {"融资租赁": ["典当"]}
    assert text(ask(ctx, "/audit 1")).splitlines()[-1] == "  排除邻近词：+融资租赁（典当）"
    assert "  排除邻近词：前后 10 字内有则不算——融资租赁：典当" in text(ask(ctx, "/topics"))
    # "典当行、融资租赁": two characters lie between them, so a window of 2 still sees 典当, one of
    # 1 does not; removing the word brings the report back whatever the window.
    ask(ctx, "/setwindow 租赁 2")
    assert text(ask(ctx, "/topic 租赁")).startswith("主题“租赁”暂无相关内容")
    ask(ctx, "/setwindow 租赁 1")
    assert OFFICE_REPORT in text(ask(ctx, "/topic 租赁"))
    ask(ctx, "/setwindow 租赁 10")
    assert text(ask(ctx, "/delnotnear 租赁 融资租赁 典当")).startswith(
        "已取消主题“租赁”中“融资租赁”的排除邻近词（全局）。"
    )
    assert OFFICE_REPORT in text(ask(ctx, "/topic 租赁"))
    assert topic(ctx, "租赁")["not_near"] == {}


def test_delnotnear_removes_words_or_all_of_them(ctx: Context) -> None:
    ask(ctx, "/newtopic 租赁 融资租赁")
    ask(ctx, "/addnotnear 租赁 融资租赁 典当 合同")
    assert text(ask(ctx, "/delnotnear 租赁 融资租赁 合同")).startswith(
        "已从主题“租赁”的“融资租赁”删除排除邻近词：合同"
    )
    assert text(ask(ctx, "/delnotnear 租赁 融资租赁 签署")).startswith(
        "“融资租赁”的排除邻近词中没有：签署，未作更改。"
    )
    ask(ctx, "/delnotnear 租赁 融资租赁")
    assert text(ask(ctx, "/delnotnear 租赁 融资租赁")) == "“融资租赁”没有排除邻近词：附近有什么词都算。"
    assert [e.action for e in ctx.store.audit_entries(3)] == [
        "delete_not_near",
        "delete_not_near",
        "add_not_near",
    ]


def test_deleting_a_keyword_takes_its_negative_near_words_along(ctx: Context) -> None:
    ask(ctx, "/newtopic 租赁 融资租赁 典当")
    ask(ctx, "/addnotnear 租赁 典当 青春")
    ask(ctx, "/delkw 租赁 典当")
    assert topic(ctx, "租赁")["not_near"] == {}


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/addnotnear 上市 上市", "用法：/addnotnear 主题 关键词 排除邻近词…"),
        ("/delnotnear 上市", "用法：/delnotnear 主题 关键词 [排除邻近词…]"),
        ("/addnotnear 上市 股票 终止", "“股票”不是主题“上市”的关键词，排除邻近词只能加在关键词上。"),
        ("/addnotnear 上市 上市 ！！", "“！！”不含文字或数字，无法用于检索。"),
        ("/addnotnear 没有 上市 终止", "没有名为“没有”的主题。"),
    ],
)
def test_bad_negative_near_edits_change_nothing(ctx: Context, line: str, answer: str) -> None:
    before = topic(ctx)
    assert answer in text(ask(ctx, line))
    assert topic(ctx) == before and ctx.store.audit_entries() == []


def test_a_negative_near_word_already_there_is_said(ctx: Context) -> None:
    ask(ctx, "/addnotnear 上市 上市 终止")
    again = text(ask(ctx, "/addnotnear 上市 上市 终止"))
    assert again.startswith("“上市”的排除邻近词中已有：终止，未作更改。")
    assert "注意：排除邻近词“上市”就是关键词本身" in text(ask(ctx, "/addnotnear 上市 上市 上市"))


def test_a_near_word_equal_to_its_keyword_is_pointed_out(ctx: Context) -> None:
    ask(ctx, "/newtopic 株洲 株洲")
    assert "注意：邻近词“株洲”就是关键词本身" in text(ask(ctx, "/addnear 株洲 株洲 株洲"))


def test_title_keywords_count_only_in_the_headline(ctx: Context) -> None:
    ask(ctx, "/newtopic 动能 火星矿业")  # a keyword that never occurs
    assert "金融办" in text(ask(ctx, "/latest 金融办"))  # in bodies, never in a headline
    shown = text(ask(ctx, "/addtitlekw 动能 金融办"))
    assert shown.startswith("已为主题“动能”添加标题关键词：金融办")
    assert ctx.store.audit_entries()[0].action == "add_title_keyword"
    assert text(ask(ctx, "/topic 动能")).startswith("主题“动能”暂无相关内容")
    ask(ctx, "/addtitlekw 动能 澎湃金融动能")
    answer = text(ask(ctx, "/topic 动能"))
    assert answer.startswith("主题“动能”共 1 条") and ZHUZHOU_TITLE in answer


def test_a_word_is_either_a_keyword_or_a_title_keyword(ctx: Context) -> None:
    shown = text(ask(ctx, "/addtitlekw 上市 ＩＰＯ"))
    assert shown.startswith("“ＩＰＯ”已是主题“上市”的关键词，未作更改。") and "/delkw" in shown
    ask(ctx, "/addtitlekw 上市 敲锣")
    assert "/deltitlekw" in text(ask(ctx, "/addkw 上市 敲锣"))
    assert text(ask(ctx, "/deltitlekw 上市 敲锣")).startswith("已从主题“上市”删除标题关键词：敲锣")
    assert ctx.store.audit_entries()[0].action == "delete_title_keyword"


def test_setminscore_keeps_passing_mentions_out(ctx: Context) -> None:
    before = text(ask(ctx, "/topic 融资担保"))
    assert GANNAN_TITLE in before
    shown = text(ask(ctx, "/setminscore 融资担保 ５０"))  # full-width digits are digits
    assert shown.splitlines()[0] == "已将主题“融资担保”的最低分由 0 改为 50（全局）。"
    assert text(ask(ctx, "/topic 融资担保")).startswith("主题“融资担保”暂无相关内容")
    assert "最低分：50（正文每处 1 分，标题每处 2 分）" in text(ask(ctx, "/topics"))
    assert text(ask(ctx, "/setminscore 融资担保 50")) == "主题“融资担保”的最低分已是 50，未作更改。"
    assert text(ask(ctx, "/setminscore 融资担保 0")).startswith(
        "已将主题“融资担保”的最低分由 50 改为 0（全局）。"
    )
    assert [e.action for e in ctx.store.audit_entries(2)] == ["set_min_score", "set_min_score"]
    assert text(ask(ctx, "/audit 1")).splitlines()[-1] == "  最低分：50.0 → 0.0"


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1e3", "101", "2.555", "两分", "0x10"])
def test_a_bad_score_is_refused(ctx: Context, value: str) -> None:
    shown = text(ask(ctx, f"/setminscore 上市 {value}"))
    assert shown.startswith(f"分数不对：“{value}”。") and "0 到 100" in shown
    assert ctx.store.audit_entries() == []


@pytest.mark.parametrize("value", ["0", "101", "8.5", "八", "-3"])
def test_a_bad_window_is_refused(ctx: Context, value: str) -> None:
    shown = text(ask(ctx, f"/setwindow 上市 {value}"))
    assert shown.startswith(f"字数不对：“{value}”。") and "1 到 100" in shown
    assert ctx.store.audit_entries() == []


def test_setwindow_changes_how_close_a_near_word_must_be(ctx: Context) -> None:
    assert text(ask(ctx, "/setwindow 上市 8")).startswith("已将主题“上市”的邻近字数由 10 改为 8（全局）。")
    assert topic(ctx)["near_window"] == 8
    assert "前后 8 字内须有" in text(ask(ctx, "/topics"))
    assert text(ask(ctx, "/setwindow 上市")).startswith("用法：/setwindow 主题 字数")


@pytest.mark.parametrize(
    "line",
    [
        "/addnear 上市 上市 企业",
        "/delnear 上市 上市",
        "/addnotnear 上市 上市 终止",
        "/delnotnear 上市 上市",
        "/addtitlekw 上市 敲钟",
        "/deltitlekw 上市 敲钟",
        "/setminscore 上市 2",
        "/setwindow 上市 8",
    ],
)
def test_members_cannot_edit_rules(ctx: Context, line: str) -> None:
    member = request(line, admin=False, group=True)
    assert text(dispatch(ctx, member)) == "只有管理员可以使用这个命令。"
    command = find_command(member.command)
    assert command is not None and command.admin
    assert text(command.handler(ctx, member)) == "只有管理员可以使用这个命令。"
    assert ctx.store.audit_entries() == []


def test_topics_lists_every_rule_kind(ctx: Context) -> None:
    ask(ctx, "/addtitlekw 上市 敲锣")
    shown = text(ask(ctx, "/topics"))
    assert "  标题关键词：敲锣" in shown
    assert "  邻近词：前后 10 字内须有——上市：企业、公司" in shown
