"""/start, /help, /topics, /sources and /status."""

from __future__ import annotations

from handlers.commands import COMMANDS
from handlers.request import Context
from tests.helpers.chat import (
    ask,
    text,
)


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


def test_the_topics_list_shows_rules_beyond_keywords(ctx: Context) -> None:
    ask(ctx, "/addexclude 上市 招聘")
    ask(ctx, "/addnotin 上市 线上市场")
    shown = text(ask(ctx, "/topics"))
    assert shown.startswith("共 8 个主题：\n【上市】企业上市、挂牌与资本市场\n  关键词：上市、IPO")
    rules = shown.split("【普惠金融】")[0].splitlines()
    assert "  排除词：招聘" in rules
    assert any(line.startswith("  排除上下文：") and "线上市场" in line for line in rules)


def test_sources_and_status(ctx: Context) -> None:
    assert text(ask(ctx, "/sources")).startswith("共 1 个来源：\n· seeds（文件夹，每 10m）：尚未抓取，5 条")
    ask(ctx, "/subscribe")
    shown = text(ask(ctx, "/status"))
    assert "已收录：5 条" in shown and "来源：1 个（正常 0，失败 0，长时间无新内容 0，尚未抓取 1）" in shown
    assert "订阅：1 个（暂停 0）" in shown and "消息：待发送 0，已发送 0，失败 0" in shown
