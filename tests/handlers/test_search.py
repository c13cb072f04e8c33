"""/latest and /topic in chat: entries, highlights, pages."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import search as news
from bot.texts import chat as T
from handlers import search as chat_news
from handlers.commands import dispatch
from handlers.pager import ACTION_LIMIT, Pager
from handlers.request import Context
from tests.helpers.chat import (
    GANNAN_TITLE,
    ZHUZHOU_TITLE,
    ask,
    html,
    press,
    request,
    text,
)


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


def test_highlight_bolds_every_keyword_occurrence() -> None:
    line = chat_news.highlight("株洲金融，ＩＰＯ与株洲", ["株洲", "ipo"])
    assert [(s.text, s.style.value) for s in line] == [
        ("株洲", "bold"),
        ("金融，", "plain"),
        ("ＩＰＯ", "bold"),
        ("与", "plain"),
        ("株洲", "bold"),
    ]
