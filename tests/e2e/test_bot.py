"""The real bot process answering chat commands through the Telegram emulator.

One ``python -m bot run`` serves the whole module (start-up is the slow part). Tests do not
reset the emulator under it: the process has its own token, so its calls and messages are its
own, and every test talks in chats (and as users) of its own, so that neither the bot's admin
cache nor Telegram's per-group rate limit carries over from one test to the next. Updates are
handled one at a time in order, so a later command's answer proves an earlier one was handled.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.bot_process import (
    GLOBAL_ADMIN,
    BotProcess,
    bot_client,
    new_bot_folder,
    seeded_database,
    wait_until,
    write_config,
)
from tests.e2e.emulator import Emulator

# Every test here runs real processes or servers: seconds each.
pytestmark = pytest.mark.slow

Json = dict[str, Any]

ZHUZHOU_TITLE = "为高质量发展注入澎湃金融动能"  # seeds/2021-12-29-NW202112292229199167.md (株洲日报)
GANNAN_TITLE = "凝聚金融力量 加快振兴发展"  # seeds/2022-04-03-NW202204032332360450.md (赣南日报)

_ids = itertools.count(1)


def new_user() -> int:
    """A user never seen by this module's bot (its private chat has the same id)."""
    return 50000 + next(_ids)


def new_group() -> int:
    """A basic group never seen by this module's bot."""
    return -60000 - next(_ids)


class Chat:
    """One chat with the module's bot, as seen by a test."""

    def __init__(self, tg: Emulator, chat_id: int) -> None:
        self.tg = tg
        self.id = chat_id

    def messages(self) -> list[Json]:
        return self.tg.bot_messages(self.id)

    def ask(self, user: int, text: str, answers: int = 1, timeout: float = 10.0) -> list[Json]:
        """Send ``text`` as ``user``; the bot's ``answers`` new messages (at least that many)."""
        before = len(self.messages())
        self.tg.send_command(self.id, user, text)
        return self.tg.wait_for_messages(self.id, before + answers, timeout)[before:]

    def answer(self, user: int, text: str) -> str:
        """The text of the one message the bot answers ``text`` with."""
        found = self.ask(user, text)
        assert len(found) == 1, found
        reply: str = found[0]["text"]
        return reply


@pytest.fixture(scope="module")
def bot(emulator_server: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """The module's bot process, polling its own token; stopped (and checked) at the end."""
    template = seeded_database(tmp_path_factory.getbasetemp() / "seeded")
    folder = new_bot_folder(tmp_path_factory.mktemp("bot"), template, "chat-bot")
    config = write_config(folder)
    process = BotProcess(folder, config, telegram=bot_client(emulator_server)).start()
    try:
        process.wait_polling()
        yield process
        started = time.monotonic()
        assert process.stop() == 0, process.output
        assert time.monotonic() - started < 10
        assert process.telegram is not None
        process.assert_clean_exit(tokens=[process.telegram.token])
    finally:
        process.kill()
        if process.telegram is not None:
            process.telegram.stop()  # its HTTP client; the server is the session's


@pytest.fixture
def tg(bot: BotProcess) -> Iterator[Emulator]:
    """The emulator as seen through the module bot's token; faults cleared after the test."""
    assert bot.telegram is not None
    yield bot.telegram
    bot.telegram.clear_faults()
    assert bot.running, f"the bot exited:\n{bot.output}"


def test_start_and_help_answer_in_chinese_and_the_menu_is_published(tg: Emulator) -> None:
    user = new_user()
    chat = Chat(tg, user)
    welcome = chat.answer(user, "/start")
    assert welcome.startswith("您好！我是 finews-bot")
    assert "/latest 株洲" in welcome
    help_text = chat.answer(user, "/help")
    assert help_text.startswith("finews-bot 命令")
    assert "/subscribe [主题…] [HH:MM]" in help_text

    menu = {entry["command"]: entry["description"] for entry in tg.commands()}
    assert {"start", "help", "latest", "topic", "topics", "subscribe", "unsubscribe"} <= set(menu)
    assert menu["latest"].startswith("搜索")
    # Admin commands stay out of the menu every group member sees.
    assert "addkw" not in menu and "deltopic" not in menu
    assert len(tg.calls("setMyCommands")) == 1


def test_latest_finds_the_zhuzhou_story(tg: Emulator) -> None:
    user = new_user()
    reply = Chat(tg, user).ask(user, "/latest 株洲")
    assert len(reply) == 1
    assert ZHUZHOU_TITLE in reply[0]["text"]
    assert reply[0]["text"].startswith("“株洲”共 1 条")
    assert reply[0]["parse_mode"] == "HTML"


def test_latest_addressed_to_this_bot_in_a_group_and_ignored_when_for_another(tg: Emulator) -> None:
    group, user = new_group(), new_user()
    chat = Chat(tg, group)
    assert ZHUZHOU_TITLE in chat.answer(user, f"/latest@{tg.bot_username} 株洲")

    before = len(chat.messages())
    tg.send_command(group, user, "/latest@otherbot 株洲")
    tg.send_command(group, user, "/LATEST@FINEWS_TEST_BOT 金融风险")  # names are case-insensitive
    tg.wait_for_messages(group, before + 1)
    time.sleep(0.3)  # an answer to the first would have come before the second's
    new = chat.messages()[before:]
    assert len(new) == 1, new
    assert new[0]["text"].startswith("“金融风险”共")


def test_topic_answers_and_the_next_page_button_edits_the_message(tg: Emulator) -> None:
    user = new_user()
    chat = Chat(tg, user)
    topic = chat.answer(user, "/topic 上市")
    assert topic.startswith("主题“上市”")
    assert "关键词：" in topic

    [first] = chat.ask(user, "/latest 金融 1")
    assert first["text"].startswith("“金融”共 5 条，第 1/5 页")
    [[button]] = first["reply_markup"]["inline_keyboard"]
    assert button["text"] == "下一页"

    tg.press_button(user, user, first["message_id"], button["callback_data"])
    wait_until(lambda: "edit_date" in chat.messages()[-1], 10, "the page to be edited in place")
    [edited] = chat.messages()[-1:]
    assert edited["message_id"] == first["message_id"]
    assert edited["text"].startswith("“金融”共 5 条，第 2/5 页")
    assert edited["text"] != first["text"]
    labels = [b["text"] for b in edited["reply_markup"]["inline_keyboard"][0]]
    assert labels == ["上一页", "下一页"]
    assert len(chat.messages()) == 2  # edited, not sent anew
    answered = [c for c in tg.calls("answerCallbackQuery") if c["status"] == 200]
    assert answered, "the button press was not answered"

    # The same button again: the page shown is already page 2 ("message is not modified").
    tg.press_button(user, user, first["message_id"], button["callback_data"])
    wait_until(lambda: len(tg.calls("answerCallbackQuery")) >= len(answered) + 1, 10, "the second press")
    # Back to page 1 with the other button.
    back = edited["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    tg.press_button(user, user, first["message_id"], back)
    wait_until(lambda: "第 1/5 页" in chat.messages()[-1]["text"], 10, "page 1 again")


def test_digest_of_a_day_in_a_group(tg: Emulator) -> None:
    group, user = new_group(), new_user()
    header, digest = Chat(tg, group).ask(user, "/digest 2022-04-03", answers=2)
    assert header["text"] == "2022-04-03 日报（全部主题）："
    assert digest["text"].startswith("金融要闻 2022-04-03")
    assert GANNAN_TITLE in digest["text"]


def test_subscribe_in_a_group_needs_a_group_admin(tg: Emulator) -> None:
    group, admin, member = new_group(), new_user(), new_user()
    tg.set_admins(group, [admin])
    chat = Chat(tg, group)

    refused = chat.answer(member, "/subscribe")
    assert refused == "只有管理员可以更改本群的订阅。"
    assert chat.answer(member, "/subscriptions").startswith("本聊天尚未订阅日报")

    accepted = chat.answer(admin, "/subscribe 上市 07:45")
    assert accepted.startswith("已订阅")
    state = chat.answer(member, "/subscriptions")
    assert "主题：上市；时间：每天 07:45" in state

    asked = {c["params"]["user_id"] for c in tg.calls("getChatMember") if c["params"]["chat_id"] == group}
    assert asked == {member, admin}
    # The global admin of the config needs no getChatMember.
    assert chat.answer(GLOBAL_ADMIN, "/settime 08:00 工作日").startswith("推送时间已更新。")


def test_an_admin_edit_changes_the_next_topic_answer(tg: Emulator) -> None:
    admin = GLOBAL_ADMIN
    chat = Chat(tg, admin)
    created = chat.answer(admin, "/newtopic 振兴测试 韦秀长")
    assert created.startswith("已新建主题“振兴测试”")
    before = chat.answer(admin, "/topic 振兴测试")
    assert before.startswith("主题“振兴测试”共 1 条")
    assert GANNAN_TITLE in before and ZHUZHOU_TITLE not in before

    added = chat.answer(admin, "/addkw 振兴测试 株洲")
    assert added.startswith("已为主题“振兴测试”添加关键词：株洲")
    after = chat.answer(admin, "/topic 振兴测试")
    assert after.startswith("主题“振兴测试”共 2 条")
    assert GANNAN_TITLE in after and ZHUZHOU_TITLE in after

    # A plain user may not edit topics, in private or in a group.
    user = new_user()
    assert Chat(tg, user).answer(user, "/addkw 振兴测试 金融") == "只有管理员可以使用这个命令。"
    group = new_group()
    assert Chat(tg, group).answer(user, "/delkw 振兴测试 株洲") == "只有管理员可以使用这个命令。"


def test_not_relevant_buttons_ask_telegram_who_is_an_admin(tg: Emulator) -> None:
    group, admin, member = new_group(), new_user(), new_user()
    tg.set_admins(group, [admin])
    chat = Chat(tg, group)
    assert chat.answer(admin, "/newtopic 反馈测试 韦秀长").startswith("已新建主题“反馈测试”")
    assert chat.answer(member, "/topic 反馈测试").startswith("主题“反馈测试”共 1 条")
    [why] = chat.ask(admin, "/why 1")
    assert "【反馈测试】相关" in why["text"] and "正文第" in why["text"]
    [[marking]] = why["reply_markup"]["inline_keyboard"]
    assert marking["text"] == "不相关：反馈测试"

    # A member pressing it is refused, an administrator of the group gets the proposals.
    before = len(chat.messages())
    tg.press_button(group, member, why["message_id"], marking["callback_data"])
    refused = tg.wait_for_messages(group, before + 1, 10)[-1]
    assert refused["text"] == "只有管理员可以使用这个命令。"
    tg.press_button(group, admin, why["message_id"], marking["callback_data"])
    proposals = tg.wait_for_messages(group, before + 2, 10)[-1]
    assert "不属于“反馈测试”" in proposals["text"] and "方案 1：" in proposals["text"]
    adopt = proposals["reply_markup"]["inline_keyboard"][0][0]
    assert adopt["text"] == "采用方案 1"
    tg.press_button(group, admin, proposals["message_id"], adopt["callback_data"])
    applied = tg.wait_for_messages(group, before + 3, 10)[-1]
    assert applied["text"].startswith("已采用方案 1：")
    assert chat.answer(member, "/topic 反馈测试").startswith("主题“反馈测试”暂无相关内容")


@pytest.mark.parametrize("where", ["private", "group"])
def test_bad_input_gets_a_chinese_answer_and_no_traceback(tg: Emulator, bot: BotProcess, where: str) -> None:
    user = new_user()
    chat = Chat(tg, user if where == "private" else new_group())
    assert chat.answer(user, "/latest").startswith("请输入至少一个关键词")
    assert chat.answer(user, '/latest " AND (').startswith('没有找到包含“" AND (”的内容')
    long_reply = chat.answer(user, "/latest " + "金" * 1000)
    assert long_reply.startswith("参数过长，每个参数只取前 200 个字符")
    assert len(long_reply) < 4096
    assert chat.answer(GLOBAL_ADMIN, "/subscribe 25:61").startswith("时间格式不对：“25:61”")
    assert chat.answer(user, "/foo").startswith("未知命令 /foo")
    assert chat.answer(user, "/lates 株洲").endswith("您是不是要找：/latest")
    assert chat.answer(user, "/topic 不存在的主题").startswith("没有名为“不存在的主题”的主题")
    assert chat.answer(user, "/digest 2022-13-45").startswith("日期格式不对")
    assert "Traceback" not in bot.output, bot.output
    assert "ERROR" not in bot.output, bot.output


def test_a_reply_with_html_telegram_refuses_is_sent_again_as_plain_text(
    tg: Emulator, bot: BotProcess
) -> None:
    user = new_user()
    tg.inject_fault(
        "sendMessage",
        400,
        description='Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 3',
        chat_id=user,
        parse_mode="HTML",
    )
    [reply] = Chat(tg, user).ask(user, "/latest 株洲")
    assert reply["parse_mode"] is None
    assert ZHUZHOU_TITLE in reply["text"]
    assert reply["raw_text"] == reply["text"]  # as sent: no markup
    assert "<i>" not in reply["text"] and "<a href" not in reply["text"]
    sends = [c for c in tg.calls("sendMessage") if c["params"]["chat_id"] == user]
    assert [c["status"] for c in sends] == [400, 200]
    assert "Traceback" not in bot.output


def test_a_reply_waits_out_flood_control(tg: Emulator, bot: BotProcess) -> None:
    user = new_user()
    tg.inject_fault("sendMessage", 429, retry_after=1, chat_id=user)
    started = time.monotonic()
    [reply] = Chat(tg, user).ask(user, "/latest 株洲")
    assert time.monotonic() - started >= 1.0
    assert ZHUZHOU_TITLE in reply["text"]
    sends = [c for c in tg.calls("sendMessage") if c["params"]["chat_id"] == user]
    assert [c["status"] for c in sends] == [429, 200]
    assert sends[1]["time"] - sends[0]["time"] >= 1.0
    assert "Traceback" not in bot.output, bot.output


def test_an_answer_to_a_user_who_blocked_the_bot_is_dropped_quietly(tg: Emulator, bot: BotProcess) -> None:
    user = new_user()
    tg.inject_fault("sendMessage", 403, description="Forbidden: bot was blocked by the user", chat_id=user)
    tg.send_command(user, user, "/latest 株洲")
    # The bot goes on answering others; updates are handled in order, so this answer comes after.
    other = new_user()
    assert ZHUZHOU_TITLE in Chat(tg, other).answer(other, "/latest 株洲")
    sends = [c for c in tg.calls("sendMessage") if c["params"]["chat_id"] == user]
    assert [c["status"] for c in sends] == [403]  # no apology sent after it
    assert not tg.bot_messages(user)
    assert f"could not answer chat {user}, it is unreachable" in bot.output
    assert "Traceback" not in bot.output, bot.output


def test_failed_polls_are_retried_and_logged_in_one_line(tg: Emulator, bot: BotProcess) -> None:
    polls = len(tg.calls("getUpdates"))
    tg.inject_fault("getUpdates", 502, description="Bad Gateway")
    tg.inject_fault("getUpdates", drop=True)  # the connection closed without an answer
    wait_until(lambda: len(tg.calls("getUpdates")) >= polls + 3, 10, "polls after the failures")
    user = new_user()
    assert ZHUZHOU_TITLE in Chat(tg, user).answer(user, "/latest 株洲")
    assert "polling Telegram failed, retrying: Bad Gateway" in bot.output
    assert "Traceback" not in bot.output, bot.output


def test_an_unanswered_admin_check_says_so_and_is_asked_again(tg: Emulator, bot: BotProcess) -> None:
    group, admin = new_group(), new_user()
    tg.set_admins(group, [admin])
    tg.inject_fault("getChatMember", 500, chat_id=group)
    chat = Chat(tg, group)
    # Telegram could not say: the user is told so (try again), not refused as a member.
    assert chat.answer(admin, "/subscribe") == "暂时无法向平台确认您是否为本群管理员，请稍后再试。"
    assert chat.answer(admin, "/subscribe").startswith("已订阅")  # the failure was not cached
    assert [c["status"] for c in tg.calls("getChatMember") if c["params"]["chat_id"] == group] == [500, 200]
    assert f"could not ask Telegram whether {admin} administers {group}" in bot.output


def test_a_group_owner_who_is_no_configured_admin_edits_only_their_group(tg: Emulator) -> None:
    group, other, owner, member = new_group(), new_group(), new_user(), new_user()
    tg.set_admins(group, [], creator_id=owner)  # Telegram: the group's creator, not in [telegram] admins
    chat = Chat(tg, group)

    refused = chat.answer(owner, "/deltopic 全局 上市")
    assert refused.startswith("只有配置的管理员可以修改全局主题")
    assert chat.answer(owner, "/addkw 全局 上市 路演").startswith("只有配置的管理员可以修改全局主题")

    mine = chat.answer(owner, "/newtopic 振兴本群 韦秀长")
    assert mine.startswith("已新建主题“振兴本群”") and "（本群）" in mine
    assert GANNAN_TITLE in chat.answer(member, "/topic 振兴本群")
    elsewhere = Chat(tg, other)
    assert elsewhere.answer(member, "/topic 振兴本群").startswith("没有名为“振兴本群”的主题")
    assert chat.answer(owner, "/deltopic 上市").startswith("已删除主题“上市”（本群）。")
    assert chat.answer(member, "/topic 上市").startswith("没有名为“上市”的主题")
    assert elsewhere.answer(member, "/topic 上市").startswith("主题“上市”")  # another group: unchanged
    assert chat.answer(member, "/addkw 振兴本群 路演") == "只有管理员可以使用这个命令。"
    assert "（本群）" in chat.answer(owner, "/audit")
