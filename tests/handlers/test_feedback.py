"""/why, /notrelevant and /apply over the seeds: how a chat refers to an item, what it is told,
what an admin can change, and a clear answer to every stale or hostile reference."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_config
from bot.domain.models import Item, ItemKind
from bot.store import Store
from handlers.commands import dispatch
from handlers.request import Context
from tests.helpers.chat import (
    GANNAN_TITLE,
    NOW,
    ZHUZHOU_TITLE,
    ask,
    import_seeds,
    make_context,
    request,
    text,
)


def test_why_needs_a_list_or_an_id_first(ctx: Context) -> None:
    assert text(ask(ctx, "/why 1")).startswith("本聊天还没有可引用编号的列表")
    assert text(ask(ctx, "/why")).startswith("用法：/why [主题] 编号")


def test_why_explains_an_entry_of_the_last_list(ctx: Context) -> None:
    listing = text(ask(ctx, "/topic 上市"))
    number = next(line.split(".")[0] for line in listing.splitlines() if ZHUZHOU_TITLE in line)
    reply = ask(ctx, f"/why {number}")
    shown = text(reply)
    assert shown.startswith(f"第 {number} 条（/topic 上市）：{ZHUZHOU_TITLE}")
    assert "ID NW202112292229199167" in shown and "【上市】相关" in shown
    assert "正文第" in shown and "“上市”：计入，前后 10 字内有“" in shown
    # The words around an occurrence, as written, the keyword in bold.
    assert any(s.text == "上市" and s.style == "bold" for line in reply.lines for s in line)
    assert [b.label for b in reply.buttons] == ["不相关：上市"]
    assert f"/notrelevant 上市 {number}" in shown
    member = text(dispatch(ctx, request(f"/why {number}", admin=False)))
    assert "【上市】相关" in member  # everyone may ask why
    assert dispatch(ctx, request(f"/why {number}", admin=False)).buttons == ()


def test_why_says_why_not_and_by_id(ctx: Context) -> None:
    shown = text(ask(ctx, "/why 科技金融 NW202112292229199167"))
    assert shown.startswith("条目 NW202112292229199167：" + ZHUZHOU_TITLE)
    assert "【科技金融】" in shown
    everything = text(ask(ctx, "/why NW202112292229199167"))
    assert everything.count("【") >= 2  # every topic whose words occur


def test_topic_replies_mark_a_passing_mention(ctx: Context) -> None:
    shown = text(ask(ctx, "/topic 科技金融"))
    first = shown.splitlines().index(
        next(line for line in shown.splitlines() if "金融是现代经济的核心" in line)
    )
    assert "正文仅提及一次" in shown.splitlines()[first + 1]  # on its source-and-time line
    assert shown.count("正文仅提及一次") == 1


def test_why_says_when_a_match_is_a_passing_mention(ctx: Context) -> None:
    once = Item(
        "once", ItemKind.FEED, "feed", "新闻", "", "一季度工业生产", NOW, "", "工业增加值增长，一家企业上市。"
    )
    twice = Item(
        "twice", ItemKind.FEED, "feed", "新闻", "", "工业生产", NOW, "", "三家企业上市，两家上市辅导。"
    )
    for it in (once, twice):
        ctx.store.upsert(it)
    passing = "· 正文仅提及一次：日报中排在本主题其他新闻之后，并注明“正文仅提及一次”"
    assert passing in text(ask(ctx, "/why 上市 once"))
    assert passing not in text(ask(ctx, "/why 上市 twice"))
    assert passing not in text(ask(ctx, "/why 上市 NW202112292229199167"))  # a headline hit


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/why 99", "最近的列表（/topic 上市）中没有第 99 条。"),
        ("/why 0", "最近的列表（/topic 上市）中没有第 0 条。"),
        ("/why 股票 1", "没有名为“股票”的主题。"),
        ("/why '; DROP TABLE items; --", "没有名为“'; DROP TABLE items;”的主题。"),
        ("/why NW2021'--", "找不到条目“NW2021'--”"),
        ("/why " + "x" * 300, "找不到条目“"),
        ("/why \u202e1", "找不到条目"),
        ("/notrelevant 99", "最近的列表（/topic 上市）中没有第 99 条。"),
        ("/apply", "用法：/apply 方案编号"),
        ("/apply 1", "这些修改建议已过期"),
        ("/apply 一", "用法：/apply 方案编号"),
    ],
)
def test_bad_references_get_a_clear_answer(ctx: Context, line: str, answer: str) -> None:
    ask(ctx, "/topic 上市")
    assert answer in text(ask(ctx, line))
    assert ctx.store.audit_entries() == []


def test_a_digest_entry_is_referred_to_by_topic_and_number(ctx: Context) -> None:
    ask(ctx, "/digest 2022-04-03")
    assert text(ask(ctx, "/why 1")).startswith(f"第 1 条（2022-04-03 日报）：{GANNAN_TITLE}")
    assert text(ask(ctx, "/why 普惠金融 1")).startswith(f"第 1 条（2022-04-03 日报）：{GANNAN_TITLE}")
    # It is shown once, under 普惠金融: 上市 has no first entry in this digest.
    assert text(ask(ctx, "/why 上市 1")) == "最近的列表（2022-04-03 日报）中没有“上市”的第 1 条。"


def test_a_number_several_sections_have_asks_which(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[topics."上市"]\nkeywords = ["上市"]\n[topics."普惠金融"]\nkeywords = ["普惠金融"]\n'
        "[digest]\nrepeat_stories = true\n",
        encoding="utf-8",
    )
    config = load_config(str(path), environ={"FINEWS_DB": str(tmp_path / "finews.db")})
    with Store(config.database) as store:
        import_seeds(store)
        ctx = make_context(config, store)
        ask(ctx, "/digest 2022-04-03")  # the story under both topics, each its entry 1
        shown = text(ask(ctx, "/why 1"))
        assert (
            shown
            == "最近的日报（2022-04-03 日报）中有多个第 1 条，请写明主题，例如：/why 上市 1、/why 普惠金融 1"
        )
        assert text(ask(ctx, "/why 普惠金融 1")).startswith(f"第 1 条（2022-04-03 日报）：{GANNAN_TITLE}")


def test_notrelevant_proposes_and_apply_adopts_with_an_audit_row(ctx: Context) -> None:
    ask(ctx, "/newtopic 株洲 株洲")
    listing = text(ask(ctx, "/topic 株洲"))
    assert ZHUZHOU_TITLE in listing
    reply = ask(ctx, "/notrelevant 1")
    shown = text(reply)
    assert shown.startswith(f"“{ZHUZHOU_TITLE}”不属于“株洲”（全局）。去掉它的规则修改（任选其一）：")
    assert "方案 1：" in shown and "近 30 天" in shown and "/apply" in shown
    assert reply.buttons[0].label == "采用方案 1"
    applied = text(ask(ctx, "/apply 1"))
    assert applied.startswith("已采用方案 1：") and f"“{ZHUZHOU_TITLE}”已不再属于“株洲”。" in applied
    assert "如需撤销：/" in applied
    entry = ctx.store.audit_entries()[0]
    assert entry.action == "feedback" and entry.target == "株洲"
    assert "按“不相关”反馈修改规则" in text(ask(ctx, "/audit 1"))
    assert ZHUZHOU_TITLE not in text(ask(ctx, "/topic 株洲"))
    assert text(ask(ctx, "/apply 1")).startswith("这些修改建议已过期")  # adopted once only


def test_proposals_made_before_an_edit_are_refused(ctx: Context) -> None:
    ask(ctx, "/newtopic 株洲 株洲")
    ask(ctx, "/topic 株洲")
    ask(ctx, "/notrelevant 1")
    ask(ctx, "/addkw 株洲 湘江")
    assert (
        text(ask(ctx, "/apply 1"))
        == "主题“株洲”在给出建议之后已被修改，建议已作废。请重新发送 /notrelevant。"
    )
    assert ctx.store.audit_entries()[0].action == "add_keyword"


def test_notrelevant_asks_for_the_topic_of_an_item_in_several(ctx: Context) -> None:
    shown = text(ask(ctx, "/notrelevant NW202204032332360450"))
    assert shown.startswith("这条新闻属于多个主题：") and "/notrelevant 上市 NW202204032332360450" in shown
    assert "不属于主题“债券”" not in shown
    ask(ctx, "/newtopic 债券 城投债")
    assert text(ask(ctx, "/notrelevant 债券 NW202204032332360450")).startswith("这条新闻目前不属于主题“债券”")


def test_buttons_need_an_admin_of_this_chat_and_expire(ctx: Context) -> None:
    ask(ctx, "/newtopic 株洲 株洲")
    ask(ctx, "/topic 株洲")
    (marking,) = ask(ctx, "/why 1").buttons
    member = dispatch(ctx, request("", action=marking.action, admin=False))
    assert text(member) == "只有管理员可以使用这个命令。"
    elsewhere = dispatch(ctx, request("", action=marking.action, chat="-999"))
    assert text(elsewhere) == "这个按钮已失效，请重新发送命令。"
    proposals = dispatch(ctx, request("", action=marking.action))
    assert text(proposals).startswith(f"“{ZHUZHOU_TITLE}”不属于“株洲”")
    adopt = proposals.buttons[0].action
    assert text(dispatch(ctx, request("", action=adopt, chat="-999"))).startswith("这些修改建议已过期")
    assert text(dispatch(ctx, request("", action=adopt))).startswith("已采用方案 1")
    assert text(dispatch(ctx, request("", action=adopt))).startswith("这些修改建议已过期")
    for garbage in ("fx:", "fx:zz", "fx:zz:99999", "nr:", "nr:nope"):
        assert text(dispatch(ctx, request("", action=garbage))) in (
            "这个按钮已失效，请重新发送命令。",
            "这些修改建议已过期（机器人重启过，或已采用、已有更新的建议）。请重新发送 /notrelevant。",
        )


def test_members_cannot_mark_or_apply(ctx: Context) -> None:
    ask(ctx, "/topic 上市")
    for line in ("/notrelevant 1", "/apply 1"):
        assert text(dispatch(ctx, request(line, admin=False, group=True))) == "只有管理员可以使用这个命令。"


OFFICE_REPORT = "2022年全市金融工作总结和2023年工作打算"  # its id too; 融资租赁 once, after 典当行


def test_why_names_a_negative_near_word_beside_an_occurrence(ctx: Context) -> None:
    ask(ctx, "/newtopic 租赁 融资租赁")
    ask(ctx, "/addnotnear 租赁 融资租赁 典当")
    shown = text(ask(ctx, f"/why 租赁 {OFFICE_REPORT}"))
    assert "【租赁】不相关" in shown and "“融资租赁”：不计，前后 10 字内有排除邻近词“典当”" in shown


def test_a_negative_near_word_is_proposed_applied_and_undone_by_its_command(ctx: Context) -> None:
    # A second item naming 典当行 makes it a word the stored news uses, not one item's alone.
    pawnshops = Item(
        "pawnshops",
        ItemKind.DOCUMENT,
        "documents",
        "办公文档",
        "",
        "典当行年审结果",
        datetime(2023, 1, 5, tzinfo=UTC),
        "",
        "全市典当行完成年审，3家评为A类。",
    )
    ctx.store.upsert(pawnshops)
    ask(ctx, "/newtopic 租赁 融资租赁")
    ask(ctx, "/topic 租赁")
    shown = text(ask(ctx, "/notrelevant 1"))
    (line,) = [s for s in shown.splitlines() if "时不再计入" in s]
    number = line.split("：")[0].removeprefix("方案 ")
    assert line.startswith(f"方案 {number}：“融资租赁”前后 10 字内有“典当行”时不再计入")
    applied = text(ask(ctx, f"/apply {number}"))
    (word,) = ctx.digester.topics()["租赁"].not_near["融资租赁"]
    assert f"如需撤销：/delnotnear 租赁 融资租赁 {word}" in applied
    assert OFFICE_REPORT not in text(ask(ctx, "/topic 租赁"))
    ask(ctx, f"/delnotnear 租赁 融资租赁 {word}")
    assert OFFICE_REPORT in text(ask(ctx, "/topic 租赁"))


def test_a_context_that_goes_with_most_of_its_keywords_stored_news_is_flagged(ctx: Context) -> None:
    # Years of 融资租赁公司 news, none in the last 30 days: "what else it drops" sees nothing, the
    # archive-wide share says what the context would do.
    old = datetime(2021, 3, 1, tzinfo=UTC)
    for n in range(24):
        ctx.store.upsert(
            Item(f"lease{n}", ItemKind.FEED, "feed", "新闻", "", f"第{n}家融资租赁公司获批开业", old, "", "")
        )
    deal = Item(
        "deal", ItemKind.FEED, "feed", "新闻", "", "某融资租赁公司与银行签约", NOW, "", "双方将合作。"
    )
    ctx.store.upsert(deal)
    ask(ctx, "/newtopic 租赁 融资租赁")
    shown = text(ask(ctx, "/notrelevant 租赁 deal"))
    assert "方案 1：添加排除上下文“融资租赁公司”" in shown
    assert (
        "注意：存档中含“融资租赁”的 26 条新闻里，25 条（96%）含“融资租赁公司”——"
        "今后其中的“融资租赁”都不再计入。" in shown
    )
