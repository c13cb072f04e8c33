"""The bot process's life: without a token, limited to some chats, Telegram unreachable or
refusing the token at start-up, failing while answering, long polling, and SIGTERM at awkward
moments (while connecting, in the middle of a digest's send).

Each test runs its own process (they need different configs, or a fault on a method every bot
calls, such as getMe), one at a time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.bot_process import (
    GLOBAL_ADMIN,
    BotProcess,
    bot_client,
    new_bot_folder,
    query,
    seeded_database,
    wait_until,
    write_config,
)
from tests.e2e.emulator import Emulator

# Every test here runs real processes or servers: seconds each.
pytestmark = pytest.mark.slow

GANNAN_TITLE = "凝聚金融力量 加快振兴发展"
ZHUZHOU_TITLE = "为高质量发展注入澎湃金融动能"


@pytest.fixture
def folder(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    template = seeded_database(tmp_path_factory.getbasetemp() / "seeded")
    return new_bot_folder(tmp_path, template, "bot")


@pytest.fixture
def tg(emulator_server: Emulator) -> Iterator[Emulator]:
    client = bot_client(emulator_server)
    try:
        yield client
    finally:
        client.clear_faults()
        client.stop()  # its HTTP client; the server is the session's


@pytest.fixture
def processes() -> Iterator[list[BotProcess]]:
    """Processes a test started, killed at teardown if the test left them running."""
    started: list[BotProcess] = []
    yield started
    for process in started:
        process.kill()


def test_without_a_token_the_service_runs_and_says_telegram_is_not_configured(
    folder: Path, processes: list[BotProcess]
) -> None:
    bot = BotProcess(folder, write_config(folder), telegram=None)
    processes.append(bot.start())
    bot.wait_for_log("finews-bot service started")
    assert "未配置 Telegram 机器人令牌（环境变量 FINEWS_TELEGRAM_TOKEN）" in bot.output
    assert bot.stop() == 0
    bot.assert_clean_exit()


def test_only_allowed_chats_are_served(folder: Path, tg: Emulator, processes: list[BotProcess]) -> None:
    allowed, other_group, other_user = -72001, -72002, 72003
    bot = BotProcess(folder, write_config(folder, allowed_chats=[allowed]), telegram=tg)
    processes.append(bot.start())
    bot.wait_polling()
    tg.send_command(other_group, other_user, "/latest 株洲")
    tg.send_command(other_user, other_user, "/subscribe")
    tg.send_command(allowed, other_user, "/latest 株洲")
    [answer] = tg.wait_for_messages(allowed, 1)
    assert ZHUZHOU_TITLE in answer["text"]
    for chat in (other_group, other_user):
        [refusal] = tg.wait_for_messages(chat, 1)
        assert refusal["text"] == "本机器人未在此聊天中启用。如需使用，请联系管理员把本群加入允许列表。"
    assert not [c for c in tg.calls("getChatMember")]
    assert bot.stop() == 0
    bot.assert_clean_exit(tokens=[tg.token])
    # Nothing changed for the refused chat.
    assert query(bot.database, "SELECT count(*) FROM subscriptions") == [(0,)]


def test_the_bot_keeps_trying_while_telegram_is_unreachable(
    folder: Path, tg: Emulator, processes: list[BotProcess]
) -> None:
    tg.inject_fault("getMe", 502, description="Bad Gateway")
    bot = BotProcess(folder, write_config(folder), telegram=tg)
    processes.append(bot.start())
    bot.wait_for_log("Telegram unreachable")
    bot.wait_polling(timeout=15)  # the second try, 5 s later
    user = 72101
    tg.send_command(user, user, "/start")
    tg.wait_for_messages(user, 1)
    assert [c["status"] for c in tg.calls("getMe")] == [502, 200]
    assert bot.stop() == 0
    bot.assert_clean_exit(tokens=[tg.token])


def test_sigterm_while_telegram_is_still_unreachable_stops_at_once(
    folder: Path, tg: Emulator, processes: list[BotProcess]
) -> None:
    tg.inject_fault("getMe", 502, count=None)
    bot = BotProcess(folder, write_config(folder), telegram=tg)
    processes.append(bot.start())
    bot.wait_for_log("Telegram unreachable")
    started = time.monotonic()
    assert bot.stop() == 0
    assert time.monotonic() - started < 5
    bot.assert_clean_exit(tokens=[tg.token])


def test_sigterm_while_connecting_stops_cleanly(
    folder: Path, tg: Emulator, processes: list[BotProcess]
) -> None:
    tg.inject_fault("getMe", delay=4.0)
    bot = BotProcess(folder, write_config(folder), telegram=tg)
    processes.append(bot.start())
    tg.wait_for_calls("getMe", timeout=10)
    time.sleep(0.3)
    started = time.monotonic()
    assert bot.stop() == 0
    assert time.monotonic() - started < 10
    bot.assert_clean_exit(tokens=[tg.token])
    assert "Unclosed" not in bot.output and "was never awaited" not in bot.output, bot.output


def test_sigterm_during_a_digest_send_neither_loses_nor_repeats_it(
    folder: Path, tg: Emulator, processes: list[BotProcess]
) -> None:
    """Stopped while Telegram is slow to answer a digest: it arrives once, restart or not."""
    chat = -72201
    due = datetime.fromisoformat("2022-04-04T08:30:00+08:00")
    lead = 5
    write_config(folder, subscriptions=[{"chat": chat, "time": "08:30"}])
    tg.inject_fault("sendMessage", delay=3.0, chat_id=chat)
    env = {"FINEWS_FAKE_NOW": (due - timedelta(seconds=lead)).isoformat()}
    first = BotProcess(folder, folder / "config.toml", telegram=tg, env=env, name="first")
    processes.append(first.start())
    first.wait_polling()
    tg.wait_for_calls("sendMessage", timeout=lead + 10)
    time.sleep(0.5)  # the send is in flight: the emulator answers 3 s after it arrived
    started = time.monotonic()
    assert first.stop() == 0, first.output
    assert time.monotonic() - started < 10
    wait_until(lambda: len(tg.bot_messages(chat)) == 1, 5, "the slow send to be stored")
    first.assert_clean_exit(tokens=[tg.token])

    # A restart later that morning: the digest is not sent a second time.
    env = {"FINEWS_FAKE_NOW": (due + timedelta(minutes=5)).isoformat()}
    second = BotProcess(folder, folder / "config.toml", telegram=tg, env=env, name="second")
    processes.append(second.start())
    second.wait_polling()
    time.sleep(2.5)  # two check cycles
    assert second.stop() == 0
    second.assert_clean_exit(tokens=[tg.token])
    messages = tg.bot_messages(chat)
    assert len(messages) == 1, f"the digest arrived {len(messages)} times"
    assert GANNAN_TITLE in messages[0]["text"]
    rows = query(first.database, "SELECT status, attempts, error FROM outbox WHERE chat = ?", str(chat))
    assert rows == [("sent", 1, "")], rows


def test_an_error_while_answering_apologises_and_tells_the_operator(
    folder: Path, tg: Emulator, processes: list[BotProcess]
) -> None:
    operator, user = 72301, 72302
    bot = BotProcess(folder, write_config(folder, telegram={"operator_chat": operator}), telegram=tg)
    processes.append(bot.start())
    bot.wait_polling()
    tg.inject_fault("sendMessage", 400, description="Bad Request: message is too long", chat_id=user)
    tg.send_command(user, user, "/latest 株洲")
    [apology] = tg.wait_for_messages(user, 1)
    assert apology["text"] == "抱歉，处理这条命令时出了错，已记录。请稍后再试，或发送 /help 查看用法。"
    [alert] = tg.wait_for_messages(operator, 1)
    assert alert["text"] == "finews-bot 出错：BadRequest: Message is too long"
    # The bot still answers.
    tg.send_command(user, user, "/latest 株洲")
    tg.wait_for_messages(user, 2)
    assert bot.stop() == 0
    output = bot.output
    assert "error while handling an update: Message is too long" in output
    assert tg.token not in output and tg.token.split(":")[1] not in output
    assert GLOBAL_ADMIN  # the config's global admin, unused here


def test_with_long_polling_commands_are_answered_at_once_and_sigterm_is_prompt(
    folder: Path, tg: Emulator, processes: list[BotProcess]
) -> None:
    """Production-like polling: getUpdates waits up to 10 s for an update."""
    config = write_config(folder, telegram={"poll_interval": 0.0, "poll_timeout": 10})
    bot = BotProcess(folder, config, telegram=tg)
    processes.append(bot.start())
    bot.wait_polling()
    time.sleep(0.5)  # the bot is now inside a long poll
    user = 72401
    started = time.monotonic()
    tg.send_command(user, user, "/start")
    tg.wait_for_messages(user, 1)
    assert time.monotonic() - started < 2
    assert all(c["params"].get("timeout") == 10 for c in tg.calls("getUpdates")[:-1])
    time.sleep(0.5)
    started = time.monotonic()
    assert bot.stop() == 0
    assert time.monotonic() - started < 5
    bot.assert_clean_exit(tokens=[tg.token])
    assert "Conflict" not in bot.output


def test_a_refused_token_leaves_the_service_running_without_telegram(
    folder: Path, tg: Emulator, processes: list[BotProcess]
) -> None:
    tg.inject_fault("getMe", 401, description="Unauthorized")
    bot = BotProcess(folder, write_config(folder), telegram=tg)
    processes.append(bot.start())
    bot.wait_for_log("Telegram refused the bot token ($FINEWS_TELEGRAM_TOKEN); running without Telegram")
    time.sleep(1.0)
    assert bot.running
    assert len(tg.calls("getMe")) == 1 and not tg.calls("getUpdates")  # no retrying a wrong token
    assert bot.stop() == 0
    bot.assert_clean_exit(tokens=[tg.token])
