"""/subscribe, /unsubscribe, /settime and /subscriptions."""

from __future__ import annotations

from datetime import time

import pytest

from bot.domain.models import Channel
from handlers import subscriptions
from handlers.request import Context
from tests.helpers.chat import (
    ask,
    request,
    text,
)


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
