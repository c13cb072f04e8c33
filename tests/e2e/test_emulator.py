"""The emulator answers python-telegram-bot 22 like Telegram: proved with the real PTB client.

No finews code here: these tests pin down what the end-to-end tests of the bot rely on. They are
sync tests around asyncio.run (pytest-asyncio is not installed); blocking waits on the emulator
run in a thread so that PTB's polling keeps going meanwhile.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import shutil
import time
import warnings
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, MessageEntityType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.e2e.emulator import Emulator, ensure_installed

# Every test here runs real processes or servers: seconds each.
pytestmark = pytest.mark.slow

USER = 4242  # a user; their private chat with the bot has the same id
OTHER = 4343
GROUP = -4567  # a basic group
SUPERGROUP = -1001234567890
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("更多", callback_data="more:1")]])


def bot_for(emulator: Emulator) -> Bot:
    return Bot(emulator.token, base_url=emulator.base_url, base_file_url=emulator.base_file_url)


def application_for(emulator: Emulator) -> Application[Any, Any, Any, Any, Any, Any]:
    return (
        Application.builder()
        .token(emulator.token)
        .base_url(emulator.base_url)
        .base_file_url(emulator.base_file_url)
        .build()
    )


def test_get_me_lets_ptb_initialize(emulator: Emulator) -> None:
    async def main() -> Any:
        async with bot_for(emulator) as bot:  # initialize() calls getMe
            return bot.bot

    me = asyncio.run(main())
    assert me.is_bot
    assert me.id == emulator.bot_id
    assert me.username == "finews_test_bot"
    assert me.can_join_groups
    assert [call["method"] for call in emulator.calls()] == ["getMe"]


def test_send_message_answers_chat_type_and_date_as_telegram(emulator: Emulator) -> None:
    async def main() -> list[Message]:
        async with bot_for(emulator) as bot:
            return [await bot.send_message(chat, "你好") for chat in (USER, GROUP, SUPERGROUP)]

    sent = asyncio.run(main())
    assert [message.chat.type for message in sent] == [ChatType.PRIVATE, ChatType.GROUP, ChatType.SUPERGROUP]
    now = dtm.datetime.now(dtm.UTC)
    assert all(abs((message.date - now).total_seconds()) < 60 for message in sent)
    assert len({message.message_id for message in sent}) == 3
    assert sent[1].from_user is not None and sent[1].from_user.id == emulator.bot_id
    stored = emulator.bot_messages(GROUP)
    assert [(m["message_id"], m["text"]) for m in stored] == [(sent[1].message_id, "你好")]


def test_html_is_stored_as_telegram_shows_it(emulator: Emulator) -> None:
    html = '<b>株洲</b> &amp; <a href="https://finews.example/1">链接</a>'

    async def main() -> Message:
        async with bot_for(emulator) as bot:
            return await bot.send_message(GROUP, html, parse_mode=ParseMode.HTML, reply_markup=KEYBOARD)

    sent = asyncio.run(main())
    assert sent.text == "株洲 & 链接"
    assert [(e.type, e.offset, e.length, e.url) for e in sent.entities] == [
        (MessageEntityType.BOLD, 0, 2, None),
        (MessageEntityType.TEXT_LINK, 5, 2, "https://finews.example/1"),
    ]
    assert sent.reply_markup == KEYBOARD
    [stored] = emulator.bot_messages(GROUP)
    assert stored["text"] == "株洲 & 链接"
    assert stored["raw_text"] == html
    assert stored["parse_mode"] == "HTML"
    assert stored["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "more:1"


def test_edits_return_the_edited_message(emulator: Emulator) -> None:
    async def main() -> None:
        async with bot_for(emulator) as bot:
            sent = await bot.send_message(GROUP, "第一页", reply_markup=KEYBOARD)
            edited = await bot.edit_message_text(
                "第二页", chat_id=GROUP, message_id=sent.message_id, reply_markup=KEYBOARD
            )
            assert isinstance(edited, Message)
            assert (edited.message_id, edited.text, edited.reply_markup) == (
                sent.message_id,
                "第二页",
                KEYBOARD,
            )
            assert edited.edit_date is not None
            [stored] = emulator.bot_messages(GROUP)
            assert (stored["text"], stored["reply_markup"]) == ("第二页", KEYBOARD.to_dict())

            # Like Telegram, editing the text without repeating the keyboard removes it.
            edited = await bot.edit_message_text("第三页", chat_id=GROUP, message_id=sent.message_id)
            assert isinstance(edited, Message) and edited.reply_markup is None
            assert "reply_markup" not in emulator.bot_messages(GROUP)[0]

            edited = await bot.edit_message_reply_markup(GROUP, sent.message_id, reply_markup=KEYBOARD)
            assert isinstance(edited, Message)
            assert (edited.text, edited.reply_markup) == ("第三页", KEYBOARD)

            with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
                await bot.edit_message_text(
                    "第三页", chat_id=GROUP, message_id=sent.message_id, reply_markup=KEYBOARD
                )
            with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
                await bot.edit_message_text("?", chat_id=GROUP, message_id=sent.message_id + 1000)

    asyncio.run(main())
    # telegram-test-api's own history holds the edit as well.
    assert any(entry["message"].get("text") == "第三页" for entry in emulator.history())


def test_replies_carry_the_replied_message(emulator: Emulator) -> None:
    asked = emulator.send_text(GROUP, USER, "问题")

    async def main() -> None:
        async with bot_for(emulator) as bot:
            reply = await bot.send_message(
                GROUP, "回答", reply_parameters=ReplyParameters(asked["message_id"])
            )
            assert reply.reply_to_message is not None
            assert reply.reply_to_message.text == "问题"
            assert reply.reply_to_message.from_user is not None
            assert reply.reply_to_message.from_user.id == USER
            with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
                await bot.send_message(GROUP, "x", reply_parameters=ReplyParameters(999999))
            anyway = ReplyParameters(999999, allow_sending_without_reply=True)
            assert (await bot.send_message(GROUP, "x", reply_parameters=anyway)).reply_to_message is None

    asyncio.run(main())
    assert emulator.bot_messages(GROUP)[0]["reply_to_message"]["message_id"] == asked["message_id"]


def test_delete_message(emulator: Emulator) -> None:
    async def main() -> None:
        async with bot_for(emulator) as bot:
            sent = await bot.send_message(GROUP, "临时")
            assert await bot.delete_message(GROUP, sent.message_id) is True
            with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
                await bot.delete_message(GROUP, sent.message_id)

    asyncio.run(main())
    assert emulator.bot_messages(GROUP) == []


def test_set_my_commands_is_stored_per_scope(emulator: Emulator) -> None:
    async def main() -> tuple[BotCommand, ...]:
        async with bot_for(emulator) as bot:
            assert await bot.set_my_commands([("latest", "最新消息"), ("search", "搜索")])
            await bot.set_my_commands([("digest", "摘要")], scope=BotCommandScopeAllGroupChats())
            got = await bot.get_my_commands()
            with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
                await bot.set_my_commands([("Latest-News", "upper case and hyphen")])
            return got

    got = asyncio.run(main())
    assert [(c.command, c.description) for c in got] == [("latest", "最新消息"), ("search", "搜索")]
    assert emulator.commands() == [
        {"command": "latest", "description": "最新消息"},
        {"command": "search", "description": "搜索"},
    ]
    assert emulator.commands({"type": "all_group_chats"}) == [{"command": "digest", "description": "摘要"}]

    async def delete() -> None:
        async with bot_for(emulator) as bot:
            assert await bot.delete_my_commands() is True

    asyncio.run(delete())
    assert emulator.commands() == []


def test_chat_members_and_chats(emulator: Emulator) -> None:
    emulator.set_admins(SUPERGROUP, [OTHER], creator_id=USER)

    async def main() -> None:
        async with bot_for(emulator) as bot:
            statuses = [(await bot.get_chat_member(SUPERGROUP, u)).status for u in (USER, OTHER, 999)]
            assert statuses == [
                ChatMemberStatus.OWNER,
                ChatMemberStatus.ADMINISTRATOR,
                ChatMemberStatus.MEMBER,
            ]
            assert (await bot.get_chat_member(GROUP, OTHER)).status == ChatMemberStatus.MEMBER
            admins = await bot.get_chat_administrators(SUPERGROUP)
            assert sorted(a.user.id for a in admins) == [USER, OTHER]
            assert (await bot.get_chat(SUPERGROUP)).type == ChatType.SUPERGROUP
            assert (await bot.get_chat(USER)).type == ChatType.PRIVATE
            assert await bot.send_chat_action(GROUP, "typing") is True

    asyncio.run(main())


def test_updates_through_get_updates_honour_offset(emulator: Emulator) -> None:
    async def main() -> None:
        async with bot_for(emulator) as bot:
            sent = await bot.send_message(GROUP, "选择", reply_markup=KEYBOARD)
            said = emulator.send_text(USER, USER, "你好")
            pressed = emulator.press_button(GROUP, OTHER, sent.message_id, "more:1")

            first = await bot.get_updates(timeout=0)
            # Not confirmed by an offset yet: Telegram delivers them again.
            again = await bot.get_updates(timeout=0)
            assert [u.update_id for u in again] == [u.update_id for u in first]
            assert [u.update_id for u in first] == [said["update_id"], pressed["update_id"]]

            message = first[0].message
            assert message is not None and message.message_id == said["message_id"]
            assert (message.text, message.chat.type, message.entities) == ("你好", ChatType.PRIVATE, ())
            assert message.from_user is not None and not message.from_user.is_bot

            query = first[1].callback_query
            assert query is not None
            assert query.chat_instance
            assert (query.id, query.data, query.from_user.id) == (
                pressed["callback_query_id"],
                "more:1",
                OTHER,
            )
            assert isinstance(query.message, Message)
            assert (query.message.message_id, query.message.text) == (sent.message_id, "选择")
            assert query.message.chat.type == ChatType.GROUP
            assert await bot.answer_callback_query(query.id, text="好") is True
            with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
                await bot.answer_callback_query("999999")

            assert await bot.get_updates(offset=first[-1].update_id + 1, timeout=0) == ()
            assert await bot.get_updates(timeout=0) == ()

    asyncio.run(main())
    assert emulator.calls("answerCallbackQuery")[0]["params"]["text"] == "好"


def test_application_handles_commands_and_buttons(emulator: Emulator) -> None:
    handled: list[Update] = []

    async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        handled.append(update)
        assert update.effective_message is not None and context.args is not None
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton("更多", callback_data=f"more:{context.args[0]}")]]
        )
        await update.effective_message.reply_text(f"最新：{context.args[0]}", reply_markup=keyboard)

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        handled.append(update)
        assert update.effective_message is not None
        await update.effective_message.reply_text("欢迎")

    async def more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        handled.append(update)
        query = update.callback_query
        assert query is not None
        await query.answer("加载中")
        await query.edit_message_text(f"更多：{query.data}")

    app = application_for(emulator)
    app.add_handler(CommandHandler("latest", latest))
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(more))

    async def main() -> None:
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.2, timeout=0)
            try:
                emulator.send_command(SUPERGROUP, USER, "/latest@finews_test_bot 株洲")
                emulator.send_command(SUPERGROUP, USER, "/latest@another_bot 长沙")  # not for this bot
                emulator.send_command(USER, USER, "/start")
                [reply] = await asyncio.to_thread(emulator.wait_for_messages, SUPERGROUP, 1)
                await asyncio.to_thread(emulator.wait_for_messages, USER, 1)
                button = reply["reply_markup"]["inline_keyboard"][0][0]
                emulator.press_button(SUPERGROUP, OTHER, reply["message_id"], button["callback_data"])
                await asyncio.to_thread(emulator.wait_for_calls, "editMessageText")
                await asyncio.sleep(0.5)  # a few more polls: nothing may arrive twice
            finally:
                await app.updater.stop()
                await app.stop()

    asyncio.run(main())

    assert len(handled) == 3
    command = handled[0].message
    assert command is not None and command.text == "/latest@finews_test_bot 株洲"
    [entity] = command.entities
    assert (entity.type, entity.offset, entity.length) == (MessageEntityType.BOT_COMMAND, 0, 23)
    assert command.chat.type == ChatType.SUPERGROUP
    assert command.from_user is not None and command.from_user.id == USER
    assert handled[2].callback_query is not None and handled[2].callback_query.chat_instance

    [edited] = emulator.bot_messages(SUPERGROUP)
    assert edited["text"] == "更多：more:株洲"
    assert edited["reply_to_message"]["text"] == "/latest@finews_test_bot 株洲"  # PTB quotes in groups
    assert "reply_markup" not in edited and edited["edit_date"]
    assert [m["text"] for m in emulator.bot_messages(USER)] == ["欢迎"]
    assert emulator.calls("answerCallbackQuery")[0]["params"]["text"] == "加载中"

    methods = [call["method"] for call in emulator.calls()]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    polls = emulator.calls("getUpdates")
    delivered = [u["update_id"] for call in polls for u in call["response"]["result"]]
    assert len(delivered) == len(set(delivered)) == 4
    # Updater.stop() confirms what it fetched with one last getUpdates(offset, timeout=0).
    assert methods[-1] == "getUpdates"
    assert polls[-1]["params"]["offset"] == max(delivered) + 1
    assert polls[-1]["params"]["timeout"] == 0


def test_long_polling_answers_when_an_update_arrives(emulator: Emulator) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text is not None
        await update.effective_message.reply_text(update.effective_message.text)

    app = application_for(emulator)
    app.add_handler(MessageHandler(filters.TEXT, echo))
    timings: dict[str, float] = {}

    async def main() -> None:
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=10)  # PTB's default timeout
            try:
                await asyncio.sleep(0.3)
                started = time.monotonic()
                emulator.send_text(USER, USER, "ping")
                await asyncio.to_thread(emulator.wait_for_messages, USER, 1)
                timings["reply"] = time.monotonic() - started
            finally:
                started = time.monotonic()
                await app.updater.stop()
                timings["stop"] = time.monotonic() - started
                await app.stop()

    asyncio.run(main())
    assert [m["text"] for m in emulator.bot_messages(USER)] == ["ping"]
    assert timings["reply"] < 2 and timings["stop"] < 2
    # Long polls wait instead of answering at once: a handful of calls, not a busy loop.
    assert len(emulator.calls("getUpdates")) < 10


def test_two_pollers_conflict_like_telegram(emulator: Emulator) -> None:
    async def main() -> None:
        async with bot_for(emulator) as first, bot_for(emulator) as second:
            waiting = asyncio.create_task(first.get_updates(timeout=5))
            await asyncio.sleep(0.3)
            assert await second.get_updates(timeout=0) == ()
            with pytest.raises(Conflict, match="terminated by other getUpdates request"):
                await waiting

    asyncio.run(main())


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_injected_rate_limit_raises_retry_after_once(emulator: Emulator) -> None:
    emulator.inject_fault("sendMessage", 429, retry_after=2)

    async def main() -> None:
        async with bot_for(emulator) as bot:
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(GROUP, "太快")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert caught.value.retry_after in (2, dtm.timedelta(seconds=2))
            await bot.send_message(GROUP, "太快")  # count=1: the next call goes through

    asyncio.run(main())
    [failed, passed] = emulator.calls("sendMessage")
    assert failed["fault"] and failed["status"] == 429
    assert failed["response"] == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 2",
        "parameters": {"retry_after": 2},
    }
    assert passed["status"] == 200
    assert [m["text"] for m in emulator.bot_messages(GROUP)] == ["太快"]


@pytest.mark.parametrize(
    ("fault", "error", "match"),
    [
        ({"status": 403}, Forbidden, "bot was kicked from the group chat"),
        ({"status": 500}, NetworkError, "Internal Server Error"),
        ({"status": 502}, NetworkError, "Bad Gateway"),
        ({"drop": True}, NetworkError, None),
        (
            {
                "status": 400,
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "migrate_to_chat_id": SUPERGROUP,
            },
            ChatMigrated,
            None,
        ),
    ],
)
def test_injected_errors_raise_ptb_exceptions(
    emulator: Emulator, fault: dict[str, Any], error: type[Exception], match: str | None
) -> None:
    emulator.inject_fault("sendMessage", chat_id=GROUP, **fault)

    async def main() -> None:
        async with bot_for(emulator) as bot:
            await bot.send_message(SUPERGROUP, "别的群不受影响")
            with pytest.raises(error, match=match) as caught:
                await bot.send_message(GROUP, "x")
            assert not isinstance(caught.value, BadRequest) or isinstance(caught.value, ChatMigrated)
            await bot.send_message(GROUP, "x")

    asyncio.run(main())
    assert len(emulator.bot_messages(GROUP)) == 1


def test_a_timed_out_send_may_still_arrive(emulator: Emulator) -> None:
    emulator.inject_fault("sendMessage", delay=0.5)

    async def main() -> None:
        async with bot_for(emulator) as bot:
            with pytest.raises(TimedOut):
                await bot.send_message(GROUP, "慢", read_timeout=0.1)

    asyncio.run(main())
    # As with Telegram, the slow call still goes through: a retry after a timeout can duplicate.
    assert [m["text"] for m in emulator.wait_for_messages(GROUP, 1)] == ["慢"]
    [call] = emulator.calls("sendMessage")
    assert call["fault"] and call["client_gone"]


def test_fault_for_html_only_lets_the_plain_text_fallback_through(emulator: Emulator) -> None:
    emulator.inject_fault(
        "sendMessage",
        400,
        description='Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0',
        parse_mode="HTML",
        count=None,  # every HTML send fails until reset
    )

    async def send(bot: Bot, html: str, plain: str) -> Message:
        try:
            return await bot.send_message(GROUP, html, parse_mode=ParseMode.HTML)
        except BadRequest as error:
            assert "can't parse entities" in error.message.lower()  # PTB capitalizes the description
            return await bot.send_message(GROUP, plain)

    async def main() -> None:
        async with bot_for(emulator) as bot:
            await send(bot, "<b>一</b>", "一")
            await send(bot, "<b>二</b>", "二")

    asyncio.run(main())
    assert [(m["text"], m["parse_mode"]) for m in emulator.bot_messages(GROUP)] == [
        ("一", None),
        ("二", None),
    ]
    assert [c["status"] for c in emulator.calls("sendMessage")] == [400, 200, 400, 200]


def test_send_message_is_validated_like_telegram(emulator: Emulator) -> None:
    async def main() -> None:
        async with bot_for(emulator) as bot:
            for html, match in [
                ("<b>粗体", 'Can\'t find end tag corresponding to start tag "b"'),
                ("一<br>二", 'Unsupported start tag "br"'),
                ("<b>一</i>", "Unmatched end tag"),
                ("a < b", "can't parse entities"),
            ]:
                with pytest.raises(BadRequest, match=rf"(?i){match}"):
                    await bot.send_message(GROUP, html, parse_mode=ParseMode.HTML)
            for text in ["长" * 4097, "😀" * 2049]:  # 2049 emoji are 4098 UTF-16 units
                with pytest.raises(BadRequest, match=r"(?i)message is too long"):
                    await bot.send_message(GROUP, text)
            with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
                await bot.send_message(GROUP, "  ")
            # The limit counts the text after the tags are parsed; "a < b" is fine without HTML.
            assert (
                await bot.send_message(GROUP, f"<b>{'长' * 4096}</b>", parse_mode="HTML")
            ).text == "长" * 4096
            assert (await bot.send_message(GROUP, "a &lt; b", parse_mode=ParseMode.HTML)).text == "a < b"
            assert (await bot.send_message(GROUP, "a < b")).text == "a < b"

    asyncio.run(main())
    assert len(emulator.bot_messages(GROUP)) == 3


def test_documents_are_kept(emulator: Emulator) -> None:
    async def main() -> Message:
        async with bot_for(emulator) as bot:
            return await bot.send_document(
                GROUP, b"digest body", filename="digest.txt", caption="<b>日报</b>", parse_mode="HTML"
            )

    sent = asyncio.run(main())
    assert sent.document is not None and sent.document.file_name == "digest.txt"
    assert sent.caption == "日报"
    assert emulator.file_content(sent.document.file_id) == b"digest body"
    assert emulator.bot_messages(GROUP)[0]["document"]["file_id"] == sent.document.file_id


def test_reset_forgets_everything(emulator: Emulator) -> None:
    async def send() -> None:
        async with bot_for(emulator) as bot:
            await bot.send_message(GROUP, "一")

    asyncio.run(send())
    emulator.set_admins(GROUP, [USER])
    emulator.inject_fault("sendMessage", 403, count=None)
    emulator.send_text(USER, USER, "pending")
    emulator.reset()
    assert emulator.bot_messages() == [] and emulator.calls() == [] and emulator.history() == []
    asyncio.run(send())  # no fault left
    assert len(emulator.bot_messages(GROUP)) == 1


def test_missing_node_skips_locally_and_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="node and npm not found on PATH"):
        ensure_installed()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        ensure_installed()
