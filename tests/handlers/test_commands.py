"""The command table and dispatch(): names, parsing, permissions, and bad input that never raises."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import pytest

from bot.texts import chat as T
from handlers import commands
from handlers.commands import COMMANDS, find_command, parse_line
from handlers.request import Context, Reply, Request
from tests.helpers.chat import (
    CJK,
    ask,
    text,
)


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


def test_unknown_command_points_to_help_and_suggests_a_close_name(ctx: Context) -> None:
    assert text(ask(ctx, "/frobnicate")) == "未知命令 /frobnicate，发送 /help 查看可用命令。"
    assert "/latest" in text(ask(ctx, "/lates 株洲")).splitlines()[1]


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
