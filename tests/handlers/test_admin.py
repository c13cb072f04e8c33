"""Topic editing from chat and the audit log: admins only, every change recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import Store
from handlers.commands import dispatch, find_command
from handlers.request import Context
from tests.helpers.chat import (
    GANNAN_TITLE,
    ZHUZHOU_TITLE,
    ask,
    import_seeds,
    make_context,
    request,
    seeded_config,
    text,
)


def test_addkw_changes_the_next_topic_answer_and_is_audited(ctx: Context) -> None:
    assert ZHUZHOU_TITLE not in text(ask(ctx, "/topic 绿色金融"))
    shown = text(ask(ctx, "/addkw 绿色金融 株洲"))
    assert shown.startswith("已为主题“绿色金融”添加关键词：株洲") and "修改立即生效" in shown
    assert ZHUZHOU_TITLE in text(ask(ctx, "/topic 绿色金融"))
    (entry,) = ctx.store.audit_entries()
    assert (entry.action, entry.target, entry.user_id) == ("add_keyword", "绿色金融", "u1")
    assert "株洲" not in entry.before["keywords"] and entry.after["keywords"][-1] == "株洲"
    # The edit is in the database: a new context (a restarted bot) sees it, and so do digests.
    assert "株洲" in make_context(ctx.config, ctx.store).digester.topics()["绿色金融"].keywords


def test_edits_survive_a_restart(tmp_path: Path) -> None:
    config = seeded_config(tmp_path)
    with Store(config.database) as store:
        import_seeds(store)
        ask(make_context(config, store), "/addexclude 上市 赣州")
    with Store(config.database) as store:
        shown = text(ask(make_context(config, store), "/topic 上市"))
    assert shown.startswith("主题“上市”共 4 条") and GANNAN_TITLE not in shown


def test_adding_a_word_that_is_there_says_so_without_an_audit_row(ctx: Context) -> None:
    shown = text(ask(ctx, "/addkw 上市 ipo"))  # IPO, folded alike
    assert shown.startswith("主题“上市”的关键词中已有：ipo，未作更改。")
    assert ctx.store.audit_entries() == []
    shown = text(ask(ctx, "/addkw 上市 IPO 科创板 创业板"))
    assert "已为主题“上市”添加关键词：创业板" in shown and "已有的词未重复添加：IPO、科创板" in shown


def test_removing_the_last_keyword_is_refused(ctx: Context) -> None:
    ask(ctx, "/newtopic 债券 债券 城投债")
    assert "已从主题“债券”删除关键词：城投债" in text(ask(ctx, "/delkw 债券 城投债"))
    shown = text(ask(ctx, "/delkw 债券 债券"))
    assert shown.startswith("不能删除主题“债券”的最后一个关键词") and "/deltopic 债券" in shown
    assert ctx.digester.topics()["债券"].keywords == ("债券",)
    assert text(ask(ctx, "/delkw 债券 股票")).startswith("主题“债券”的关键词中没有：股票")


def test_deltopic_hides_a_configured_topic(ctx: Context) -> None:
    ask(ctx, "/subscribe 上市 普惠金融", group=True)
    shown = text(ask(ctx, "/deltopic 上市"))
    assert shown.startswith("已删除主题“上市”（全局）。") and "有 1 个订阅包含该主题" in shown
    assert "【上市】" not in text(ask(ctx, "/topics"))
    assert text(ask(ctx, "/topic 上市")).startswith("没有名为“上市”的主题。")
    entry = ctx.store.audit_entries()[0]
    assert entry.action == "delete_topic" and entry.before["name"] == "上市" and entry.after is None
    assert text(ask(ctx, "/newtopic 上市 上市 IPO")).startswith("已新建主题“上市”")
    assert text(ask(ctx, "/newtopic 上市 上市")).startswith("主题“上市”已存在")


def test_audit_shows_who_where_when_and_before_to_after(ctx: Context) -> None:
    assert text(ask(ctx, "/audit")) == "还没有任何管理操作记录。"
    ask(ctx, "/addkw 绿色金融 株洲")
    ask(ctx, "/subscribe 上市 07:00", group=True)
    ask(ctx, "/settime 06:30 工作日", group=True)
    ask(ctx, "/newtopic 债券 债券 城投债")
    lines = text(ask(ctx, "/audit 3")).splitlines()
    assert lines == [
        "最近 3 条操作记录（新的在前）：",
        "2022-04-04 09:00 张处长（-100200）：新建主题 · 主题“债券”（全局）",
        "  新建（关键词：债券、城投债）",
        "2022-04-04 09:00 张处长（-100200）：设置推送时间 · 聊天 -100200（本群）",
        "  时间：07:00 → 06:30；频率：每天 → 工作日",
        "2022-04-04 09:00 张处长（-100200）：订阅 · 聊天 -100200（本群）",
        "  新建（主题：上市；时间：07:00；频率：每天）",
    ]
    everything = text(ask(ctx, "/audit")).splitlines()
    # A long list is shown as what changed, a short one whole.
    assert everything[-2:] == [
        "2022-04-04 09:00 张处长（-100200）：添加关键词 · 主题“绿色金融”（全局）",
        "  关键词：+株洲",
    ]
    ask(ctx, "/delkw 上市 挂牌 过会")
    # A keyword taken away takes its near words along (the default 上市 has them for 挂牌).
    assert text(ask(ctx, "/audit 1")).splitlines()[-1] == "  关键词：−挂牌、过会；邻近词：−挂牌"
    ask(ctx, "/delkw 债券 城投债")
    assert text(ask(ctx, "/audit 1")).splitlines()[-1] == "  关键词：债券、城投债 → 债券"


@pytest.mark.parametrize(
    "line",
    [
        "/addkw 上市 科创板",
        "/delkw 上市 IPO",
        "/addexclude 上市 招聘",
        "/delexclude 上市 招聘",
        "/addnotin 上市 线上市场",
        "/delnotin 上市 线上市场",
        "/newtopic 债券 债券",
        "/deltopic 上市",
        "/audit",
    ],
)
def test_admin_commands_refuse_members_politely_even_when_called_directly(ctx: Context, line: str) -> None:
    member = request(line, admin=False, group=True)
    assert text(dispatch(ctx, member)) == "只有管理员可以使用这个命令。"
    command = find_command(member.command)
    assert command is not None and command.admin
    assert text(command.handler(ctx, member)) == "只有管理员可以使用这个命令。"
    assert ctx.store.audit_entries() == [] and "上市" in ctx.digester.topics()
