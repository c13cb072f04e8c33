"""The chat commands through dispatch(), as an adapter calls them, on a real SQLite file of the seeds."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, time
from pathlib import Path

import pytest

from bot import search as news
from bot.domain.models import Channel
from bot.store import Store
from bot.texts import chat as T
from handlers import commands, subscriptions
from handlers import search as chat_news
from handlers.commands import COMMANDS, dispatch, find_command, parse_line
from handlers.pager import ACTION_LIMIT, Pager
from handlers.request import Context, Reply, Request
from tests.chat_helpers import (
    CJK,
    GANNAN_TITLE,
    ZHUZHOU_TITLE,
    ask,
    html,
    import_seeds,
    make_context,
    press,
    request,
    seeded_config,
    text,
)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    """A context over a fresh database holding the five seed items."""
    config = seeded_config(tmp_path)
    with Store(config.database) as store:
        import_seeds(store)
        yield make_context(config, store)


# --- the command table ---------------------------------------------------------------------------


def test_the_table_names_fit_telegram_and_every_command_has_chinese_help() -> None:
    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names))
    for command in COMMANDS:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", command.name)  # setMyCommands' rule
        assert CJK.search(command.summary) and len(command.summary) <= 256
        assert command.example.startswith(f"/{command.name}")
        assert not (command.admin and command.menu), "admin commands stay out of the members' menu"
    assert find_command("/Latest@finews_bot") is find_command("latest") is not None
    assert find_command("nope") is None


def test_lines_parse_with_full_width_slash_and_spaces() -> None:
    assert parse_line("／Latest　株洲　 金融 ") == ("latest", ("株洲", "金融"))
    assert parse_line("/topic@finews_bot 上市") == ("topic", ("上市",))
    assert parse_line("株洲 金融") == ("latest", ("株洲", "金融"))


def test_start_says_what_the_bot_does_with_three_examples(ctx: Context) -> None:
    shown = text(ask(ctx, "/start"))
    assert "finews-bot" in shown and "日报" in shown
    assert all(example in shown for example in ("/latest 株洲", "/topic 上市", "/subscribe 08:30"))


def test_help_lists_every_command_of_the_table_with_admin_commands_apart(ctx: Context) -> None:
    shown = text(ask(ctx, "/help", admin=False))
    members, admins = shown.split("管理员命令")
    for command in COMMANDS:
        part = admins if command.admin else members
        assert f"/{command.name} {command.usage}".rstrip() in part.splitlines()
        assert command.summary in part and f"例：{command.example}" in part
    one = text(ask(ctx, "/help latest"))
    assert one.startswith("/latest <关键词…> [条数]") and "/topic" not in one


def test_unknown_command_points_to_help_and_suggests_a_close_name(ctx: Context) -> None:
    assert text(ask(ctx, "/frobnicate")) == "未知命令 /frobnicate，发送 /help 查看可用命令。"
    assert "/latest" in text(ask(ctx, "/lates 株洲")).splitlines()[1]


# --- /latest and pages ---------------------------------------------------------------------------


def test_latest_zhuzhou_answers_with_the_zhuzhou_daily_story(ctx: Context) -> None:
    reply = ask(ctx, "/latest 株洲")
    shown = html(reply)
    assert shown.startswith("<b>“株洲”共 1 条，第 1/1 页</b>")
    url = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202112292229199167"
    assert f'1. <a href="{url}">{ZHUZHOU_TITLE}</a>' in shown
    assert "株洲日报新闻 · 2021-12-29 07:52" in shown  # local time of the configured zone
    assert "<b>株洲</b>" in shown  # the keyword in the snippet
    assert not reply.buttons and not reply.edit
    # A line without a slash in the console is the same search.
    assert text(dispatch(ctx, request("株洲"))) == text(reply)


def test_latest_pages_forward_and_back_editing_in_place(ctx: Context) -> None:
    first = ask(ctx, "/latest 金融 2")
    assert text(first).startswith("“金融”共 5 条，第 1/3 页")
    assert [b.label for b in first.buttons] == ["下一页"] and not first.edit
    assert all(len(b.action.encode()) <= ACTION_LIMIT for b in first.buttons)
    second = press(ctx, first, "下一页")
    assert second.edit and text(second).startswith("“金融”共 5 条，第 2/3 页")
    assert "\n3. " in text(second) and "\n1. " not in text(second)  # numbered across pages
    assert [b.label for b in second.buttons] == ["上一页", "下一页"]
    third = press(ctx, second, "下一页")
    assert text(third).startswith("“金融”共 5 条，第 3/3 页") and ZHUZHOU_TITLE in text(third)
    assert [b.label for b in third.buttons] == ["上一页"]
    assert text(press(ctx, second, "上一页")) == text(first)


def test_an_expired_or_foreign_page_button_asks_to_query_again(ctx: Context) -> None:
    first = ask(ctx, "/latest 金融 2")
    action = first.buttons[0].action
    for stale in (request("", action="pg:gone:2"), request("", action=action, chat="another chat")):
        reply = dispatch(ctx, stale)
        assert text(reply) == "该列表已过期，请重新查询。" and not reply.buttons
    assert text(dispatch(ctx, request("", action="something else"))) == T.BUTTON_EXPIRED
    # The pager forgets the least recently used query first.
    small = replace(ctx, pager=Pager(capacity=1))
    old = ask(small, "/latest 金融 2")
    ask(small, "/latest 金融 1")
    assert text(press(small, old, "下一页")) == "该列表已过期，请重新查询。"


def test_page_size_is_a_trailing_number_capped_at_twenty(ctx: Context) -> None:
    shown = text(ask(ctx, "/latest 金融 50"))
    assert shown.startswith("每页最多 20 条。\n“金融”共 5 条，第 1/1 页")
    assert text(ask(ctx, "/latest 金融 １")).startswith("“金融”共 5 条，第 1/5 页")  # full-width digit
    # Four digits are a keyword (a year), not a page size.
    assert text(ask(ctx, "/latest 金融 2023")).startswith("“金融 2023”共 1 条")


# --- /topic --------------------------------------------------------------------------------------


def test_topic_shangshi(ctx: Context) -> None:
    shown = text(ask(ctx, "/topic 上市"))
    assert shown.startswith("主题“上市”共 5 条，第 1/1 页\n关键词：上市、IPO")
    assert ZHUZHOU_TITLE in shown and GANNAN_TITLE in shown
    assert text(ask(ctx, "/topic ipo")) != text(ask(ctx, "/topic 上市公司"))


def test_unknown_topic_suggests_close_names_and_lists_the_topics(ctx: Context) -> None:
    lines = text(ask(ctx, "/topic 上市公司")).splitlines()
    assert lines[0] == "没有名为“上市公司”的主题。"
    assert lines[1] == "您是不是要找：上市"
    assert lines[2].startswith("可用主题：上市、普惠金融")
    assert lines[3] == "按关键词搜索可找到 3 条：/latest 上市公司"


def test_topic_respects_not_in_contexts(ctx: Context) -> None:
    # 过会 occurs in the work report (总行过会) and, only as “(含过会)”, in the 赣南日报 story.
    assert "已新建主题“过会”" in text(ask(ctx, "/newtopic 过会 过会"))
    assert GANNAN_TITLE in text(ask(ctx, "/topic 过会"))
    assert "已为主题“过会”添加排除上下文：含过会" in text(ask(ctx, "/addnotin 过会 含过会"))
    shown = text(ask(ctx, "/topic 过会"))
    assert shown.startswith("主题“过会”共 1 条") and GANNAN_TITLE not in shown
    assert "2022年全市金融工作总结" in shown


def test_topic_counts_exactly_within_the_limit_and_says_at_least_beyond(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    ask(ctx, "/newtopic 金融新闻 金融")
    ask(ctx, "/addexclude 金融新闻 株洲")  # a rule beyond keywords: candidates are checked
    exact = news.topic(ctx.store, ctx.digester.topics(), "金融新闻", 2)
    assert isinstance(exact, news.NewsReply) and exact.exact and exact.total == 4
    monkeypatch.setattr(news, "EXACT_COUNT_LIMIT", 2)
    monkeypatch.setattr(news, "_FIRST_BATCH", 1)
    partial = news.topic(ctx.store, ctx.digester.topics(), "金融新闻", 1)
    assert isinstance(partial, news.NewsReply) and not partial.exact
    assert 1 <= partial.total < 4 and len(partial.entries) == 1
    reply = ask(ctx, "/topic 金融新闻 1")
    assert text(reply).startswith(f"主题“金融新闻”至少 {partial.total} 条，第 1 页")
    assert [b.label for b in reply.buttons] == ["下一页"]


def test_a_page_of_a_topic_deleted_meanwhile_says_so(ctx: Context) -> None:
    first = ask(ctx, "/topic 上市 1")
    ask(ctx, "/deltopic 上市")
    assert text(press(ctx, first, "下一页")).startswith("没有名为“上市”的主题。")


# --- subscriptions -------------------------------------------------------------------------------


def test_subscribe_in_a_group_needs_a_group_admin(ctx: Context) -> None:
    refused = ask(ctx, "/subscribe 上市 07:00", group=True, admin=False)
    assert text(refused) == "只有管理员可以更改本群的订阅。"
    # Defence in depth: the handler refuses too when an adapter forgets the table's flag.
    direct = subscriptions.subscribe_command(ctx, request("/subscribe 上市", group=True, admin=False))
    assert text(direct) == "只有管理员可以更改本群的订阅。"
    assert ctx.store.subscription(Channel.TELEGRAM, "-100200") is None
    accepted = text(ask(ctx, "/subscribe 上市 07:00", group=True, admin=True))
    assert accepted.startswith("已订阅") and "主题：上市；时间：每天 07:00" in accepted
    sub = ctx.store.subscription(Channel.TELEGRAM, "-100200")
    assert sub is not None and sub.topics == ("上市",) and sub.time == time(7, 0)
    assert sub.title == "金融办工作群" and sub.origin == "chat" and sub.days == "daily"
    (entry,) = ctx.store.audit_entries()
    assert (entry.action, entry.user_name, entry.chat, entry.before) == (
        "subscribe",
        "张处长",
        "-100200",
        None,
    )
    assert entry.after == {"topics": ["上市"], "time": "07:00", "days": "daily", "title": "金融办工作群"}


def test_private_subscribe_defaults_then_settime_keeps_topics(ctx: Context) -> None:
    shown = text(ask(ctx, "/subscribe", admin=False, chat="42"))
    assert "主题：全部主题；时间：每天 08:30" in shown
    shown = text(ask(ctx, "/settime 07:45 工作日", admin=False, chat="42"))
    assert shown.startswith("推送时间已更新") and "主题：全部主题；时间：工作日 07:45" in shown
    shown = text(ask(ctx, "/subscribe 上市，普惠金融", admin=False, chat="42"))
    assert "主题：上市、普惠金融；时间：工作日 07:45" in shown  # the time and days stay
    shown = text(ask(ctx, "/subscribe 08：30", admin=False, chat="42"))  # a full-width colon
    assert "主题：上市、普惠金融；时间：工作日 08:30" in shown
    assert "主题：全部主题" in text(ask(ctx, "/subscribe 全部", admin=False, chat="42"))
    actions = [e.action for e in ctx.store.audit_entries()]
    assert actions == ["subscribe", "subscribe", "subscribe", "set_time", "subscribe"]


@pytest.mark.parametrize("line", ["/subscribe 25:61", "/subscribe 上市 25:61", "/settime 25:61"])
def test_a_bad_time_is_explained_and_nothing_is_saved(ctx: Context, line: str) -> None:
    ask(ctx, "/subscribe 上市 07:00", chat="7")
    shown = text(ask(ctx, line, chat="7"))
    assert shown == "时间格式不对：“25:61”。请用 HH:MM，例如 08:30"
    sub = ctx.store.subscription(Channel.TELEGRAM, "7")
    assert sub is not None and sub.time == time(7, 0)


def test_subscribe_to_an_unknown_topic_suggests_and_saves_nothing(ctx: Context) -> None:
    lines = text(ask(ctx, "/subscribe 上市公司 08:00")).splitlines()
    assert lines[0] == "没有名为“上市公司”的主题，订阅未更改。" and lines[1] == "您是不是要找：上市"
    assert ctx.store.subscription(Channel.TELEGRAM, "-100200") is None
    assert ctx.store.audit_entries() == []


def test_unsubscribe_and_settime_without_subscription(ctx: Context) -> None:
    assert text(ask(ctx, "/unsubscribe")) == "本聊天尚未订阅日报。"
    assert text(ask(ctx, "/settime 07:00")).startswith("本聊天尚未订阅日报。")
    ask(ctx, "/subscribe", group=True)
    assert text(ask(ctx, "/unsubscribe", group=True, admin=False)) == "只有管理员可以更改本群的订阅。"
    assert text(ask(ctx, "/unsubscribe", group=True)).startswith("已取消订阅")
    assert ctx.store.subscription(Channel.TELEGRAM, "-100200") is None
    entry = ctx.store.audit_entries()[0]
    assert entry.action == "unsubscribe" and entry.after is None and entry.before["time"] == "08:30"


def test_subscriptions_this_chat_or_all_for_an_admin_in_private(ctx: Context) -> None:
    assert text(ask(ctx, "/subscriptions", admin=False)).startswith("本聊天尚未订阅日报。")
    ask(ctx, "/subscribe 上市 07:00", group=True)
    ask(ctx, "/subscribe", chat="42", admin=False)
    ctx.store.pause_subscription(Channel.TELEGRAM, "42", "bot was blocked by the user")
    mine = text(ask(ctx, "/subscriptions", group=True, admin=False))
    assert mine == "本聊天的订阅：\n主题：上市；时间：每天 07:00"
    assert "已暂停：bot was blocked by the user" in text(ask(ctx, "/subscriptions", chat="42", admin=False))
    every = text(ask(ctx, "/subscriptions", chat="99", admin=True))
    assert every.startswith("共 2 个订阅：") and "金融办工作群" in every and "（telegram 42）" in every


def test_digest_of_a_day_for_this_chat(ctx: Context) -> None:
    reply = ask(ctx, "/digest")  # yesterday in Asia/Shanghai: 2022-04-03
    assert reply.digest is not None and reply.digest.day == date(2022, 4, 3)
    assert text(reply) == "2022-04-03 日报（全部主题）："
    assert len(reply.digest.sections) > 1
    assert {s.name for s in reply.digest.sections} >= {"上市", "普惠金融"}
    for line, day in (("/digest 昨天", date(2022, 4, 3)), ("/digest 2021/12/29", date(2021, 12, 29))):
        digest = ask(ctx, line).digest
        assert digest is not None and digest.day == day
    ask(ctx, "/subscribe 上市")
    mine = ask(ctx, "/digest 2022-04-03")
    assert mine.digest is not None and [s.name for s in mine.digest.sections] == ["上市"]
    assert text(mine) == "2022-04-03 日报（上市）："


@pytest.mark.parametrize("value", ["2022-13-45", "明天见", "2022-04"])
def test_a_malformed_date_gets_the_expected_format(ctx: Context, value: str) -> None:
    reply = ask(ctx, f"/digest {value}")
    assert reply.digest is None
    assert text(reply).startswith(f"日期格式不对：“{value}”。") and "YYYY-MM-DD" in text(reply)


# --- topic editing and the audit log -------------------------------------------------------------


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
    assert shown.startswith("已删除主题“上市”。") and "有 1 个订阅包含该主题" in shown
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
        "2022-04-04 09:00 张处长（-100200）：新建主题 · 主题“债券”",
        "  新建（关键词：债券、城投债）",
        "2022-04-04 09:00 张处长（-100200）：设置推送时间 · 聊天 -100200",
        "  时间：07:00 → 06:30；频率：每天 → 工作日",
        "2022-04-04 09:00 张处长（-100200）：订阅 · 聊天 -100200",
        "  新建（主题：上市；时间：07:00；频率：每天）",
    ]
    everything = text(ask(ctx, "/audit")).splitlines()
    # A long list is shown as what changed, a short one whole.
    assert everything[-2:] == [
        "2022-04-04 09:00 张处长（-100200）：添加关键词 · 主题“绿色金融”",
        "  关键词：+株洲",
    ]
    ask(ctx, "/delkw 上市 挂牌 过会")
    assert text(ask(ctx, "/audit 1")).splitlines()[-1] == "  关键词：−挂牌、过会"
    ask(ctx, "/delkw 债券 城投债")
    assert text(ask(ctx, "/audit 1")).splitlines()[-1] == "  关键词：债券、城投债 → 债券"


def test_the_topics_list_shows_rules_beyond_keywords(ctx: Context) -> None:
    ask(ctx, "/addexclude 上市 招聘")
    ask(ctx, "/addnotin 上市 线上市场")
    shown = text(ask(ctx, "/topics"))
    assert shown.startswith("共 8 个主题：\n【上市】企业上市、挂牌与资本市场\n  关键词：上市、IPO")
    rules = shown.split("【普惠金融】")[0].splitlines()
    assert "  排除词：招聘" in rules
    assert any(line.startswith("  排除上下文：") and "线上市场" in line for line in rules)


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


# --- /sources and /status ------------------------------------------------------------------------


def test_sources_and_status(ctx: Context) -> None:
    assert text(ask(ctx, "/sources")).startswith("共 1 个来源：\n· seeds（文件夹，每 10m）：尚未抓取，5 条")
    ask(ctx, "/subscribe")
    shown = text(ask(ctx, "/status"))
    assert "已收录：5 条" in shown and "来源：1 个（正常 0，失败 0，长时间无新内容 0，尚未抓取 1）" in shown
    assert "订阅：1 个（暂停 0）" in shown and "消息：待发送 0，已发送 0，失败 0" in shown


# --- bad input: a helpful Chinese answer, never an exception ------------------------------------


BAD_INPUT = [
    "/latest",
    "/latest 　 ",
    "/topic",
    "/digest 2022-13-45",
    "/digest " + "日" * 1000,
    "/latest " + "株" * 1000,
    "/latest " + "x" * 1000,
    "/topic " + "上" * 1000,
    "/subscribe " + "上" * 1000,
    "/addkw 上市 " + "词" * 1000,
    "/newtopic " + "名" * 1000 + " 词",
    '/latest " AND (',
    '/topic " AND (',
    '/addkw 上市 " AND (',
    "/latest 😀",
    "/topic 😀",
    "/addkw 上市 😀",
    "/newtopic 😀 😀",
    "/subscribe 😀",
    "/frobnicate",
    "/😀",
    "/subscribe 25:61",
    "/settime 25:61 每天",
    "/settime",
    "/addkw",
    "/addkw 上市",
    "/delkw 不存在的主题 词",
    "/deltopic",
    "/newtopic",
    "/audit abc",
    "/audit 99999999",
    "/help 😀",
    "/latest " + " ".join(["株洲"] * 200),
]


@pytest.mark.parametrize("line", BAD_INPUT, ids=lambda line: line[:24])
def test_bad_input_gets_a_helpful_chinese_reply(
    ctx: Context, line: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        reply = ask(ctx, line)
    shown = text(reply)
    assert shown.strip() and CJK.search(shown), shown
    assert T.INTERNAL_ERROR not in shown and not caplog.records  # answered, not crashed
    assert len(shown) < 4096


def test_a_long_argument_is_cut_and_the_reply_says_so(ctx: Context) -> None:
    shown = text(ask(ctx, "/latest " + "株" * 1000))
    assert shown.splitlines()[0] == "参数过长，每个参数只取前 200 个字符。"


def test_fts_syntax_is_literal_text(ctx: Context) -> None:
    assert text(ask(ctx, '/latest " AND (')).startswith('没有找到包含“" AND (”的内容。')
    assert text(ask(ctx, "/latest 株洲 OR 赣州")).startswith("没有找到")


def test_a_bug_in_a_handler_becomes_an_apology_and_a_logged_traceback(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(ctx: Context, request: Request) -> Reply:
        raise RuntimeError("boom")

    latest = find_command("latest")
    assert latest is not None
    monkeypatch.setitem(commands._BY_NAME, "latest", replace(latest, handler=broken))
    with caplog.at_level(logging.ERROR, logger="handlers.commands"):
        reply = ask(ctx, "/latest 株洲")
    assert text(reply) == T.INTERNAL_ERROR
    (record,) = caplog.records
    assert record.exc_info is not None and "boom" in str(record.exc_info[1])


def test_highlight_bolds_every_keyword_occurrence() -> None:
    line = chat_news.highlight("株洲金融，ＩＰＯ与株洲", ["株洲", "ipo"])
    assert [(s.text, s.style.value) for s in line] == [
        ("株洲", "bold"),
        ("金融，", "plain"),
        ("ＩＰＯ", "bold"),
        ("与", "plain"),
        ("株洲", "bold"),
    ]
