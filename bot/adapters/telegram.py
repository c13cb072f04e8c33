"""The Telegram adapter: python-telegram-bot inside ``finews-bot run``, beside the scheduler.

Updates become :class:`handlers.request.Request` values and go to the one command table
(:func:`handlers.commands.dispatch`); replies come back as Telegram HTML. Handlers are
synchronous and use SQLite, whose connections belong to one thread: they run one at a time in a
single worker thread that owns its own store, so the event loop (polling, the scheduler) never
waits on the database.

Sending respects Telegram's limits with PTB's rate limiter (30 messages/s overall, 20/min per
group). The outbox's sender maps Telegram's answers to :class:`bot.delivery.channels.Failure`: flood
control and network errors are retried, rejected HTML is re-sent as text, a removed bot pauses
the chat.
"""

from __future__ import annotations

import asyncio
import logging
import time as monotonic_time
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.adapters.worker import HandlerWorker
from bot.config import Config
from bot.delivery.channels import ConnectError, Failure, SendError
from bot.domain.models import Channel
from bot.domain.safetext import html_to_text
from bot.texts import chat as T
from digests.render import render_telegram
from handlers.commands import COMMANDS, action_needs_admin, find_command
from handlers.markup import to_html, to_text
from handlers.permissions import Role
from handlers.request import ChatType, Context, Reply, Request

log = logging.getLogger(__name__)

# A member's admin status is asked of Telegram at most this often per (chat, user).
ADMIN_CACHE_SECONDS = 60.0
_GROUP_TYPES = ("group", "supergroup")
# 400 answers that mean the chat itself is unreachable, not that one message was wrong.
_GONE_MARKERS = (
    "chat not found",
    "bot was kicked",
    "upgraded to a supergroup",
    "have no rights to send",
    "not enough rights to send",
)


class _QuietFloodControl(logging.Filter):
    """Drops PTB's "Rate limit hit after maximum of 0 retries" record and its traceback.

    The rate limiter runs with ``max_retries=0`` so that flood control reaches the outbox (and
    ``_send_reply``), which wait it out and log one line of their own; PTB meanwhile logs every
    429 as an ERROR with a full traceback, which reads like a crash in the service's log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Rate limit hit after maximum"))


_FLOOD_LOG_FILTER = _QuietFloodControl()


def retry_after_seconds(error: RetryAfter) -> float:
    """Telegram's retry_after as seconds (PTB gives an int or a timedelta depending on settings)."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def send_error_for(error: TelegramError) -> SendError:
    """What a failed send means for the outbox."""
    detail = str(error.message) if hasattr(error, "message") else str(error)
    if isinstance(error, RetryAfter):
        return SendError(Failure.RETRY, f"flood control: {detail}", retry_after_seconds(error))
    if isinstance(error, Forbidden):
        return SendError(Failure.GONE, detail)
    if isinstance(error, ChatMigrated):
        # A group upgraded to a supergroup: PTB raises ChatMigrated (not BadRequest) for
        # Telegram's 400. The old id will never work again; the chat lives on under the new one.
        return SendError(Failure.MOVED, detail, moved_to=str(error.new_chat_id))
    if isinstance(error, BadRequest):
        lowered = detail.lower()
        if "can't parse entities" in lowered or "unsupported start tag" in lowered:
            return SendError(Failure.BAD_MARKUP, detail)
        if any(marker in lowered for marker in _GONE_MARKERS):
            return SendError(Failure.GONE, detail)
        return SendError(Failure.REJECTED, detail)
    if isinstance(error, NetworkError):  # includes TimedOut and 5xx answers
        return SendError(Failure.RETRY, detail)
    return SendError(Failure.RETRY, detail)


class TelegramAdapter:
    """The bot: polls Telegram for updates, answers commands, sends the outbox's messages."""

    name = "Telegram"
    platform = "telegram"
    channel = Channel.TELEGRAM

    def __init__(self, config: Config, now: Callable[[], datetime]) -> None:
        token = config.telegram.token
        if not token:
            raise ValueError("no Telegram token configured")
        self.config = config
        self.settings = config.telegram
        self.worker = HandlerWorker(config, now)
        self._now = now
        self._admin_cache: dict[tuple[str, str], tuple[float, Role]] = {}
        self.application = (
            Application.builder()
            .token(token)
            .base_url(self.settings.api_url)
            .base_file_url(self.settings.file_url)
            # Throttle to Telegram's limits; no retries here: 429s are the outbox's business.
            .rate_limiter(AIORateLimiter(max_retries=0))
            .build()
        )
        # addFilter ignores a filter that is already there: one per process, however many adapters.
        logging.getLogger("telegram.ext.AIORateLimiter").addFilter(_FLOOD_LOG_FILTER)
        self.application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate))
        self.application.add_handler(MessageHandler(filters.COMMAND, self._on_command))
        self.application.add_handler(CallbackQueryHandler(self._on_button))
        self.application.add_error_handler(self._on_error)

    # --- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect (getMe), publish the command menu, and start polling for updates."""
        try:
            await self._start()
        except InvalidToken as error:
            raise ConnectError(
                f"Telegram refused the bot token (${self.settings.token_env})", permanent=True
            ) from error
        except TelegramError as error:
            raise ConnectError(str(error), permanent=False) from error

    async def _start(self) -> None:
        await self.application.initialize()
        me = self.application.bot
        log.info("Telegram bot @%s connected (API %s)", me.username, _host(self.settings.api_url))
        try:
            await me.set_my_commands([BotCommand(c.name, c.summary[:256]) for c in COMMANDS if c.menu])
        except TelegramError as error:
            log.warning("could not set the command menu: %s", error)
        await self.application.start()
        assert self.application.updater is not None
        await self.application.updater.start_polling(
            poll_interval=self.settings.poll_interval,
            timeout=self.settings.poll_timeout,
            allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY],
            error_callback=self._on_polling_error,
        )

    def _on_polling_error(self, error: TelegramError) -> None:
        """A failed getUpdates: PTB retries with a growing pause (up to 30 s); say so in one line.

        PTB's default logs a full traceback for every failed poll, which during an outage of
        Telegram (or of the network) fills the log with what looks like crashes.
        """
        if isinstance(error, Conflict):
            log.error("another process is polling Telegram with this bot token: %s", error)
        else:
            log.warning("polling Telegram failed, retrying: %s", error)

    async def stop(self) -> None:
        """Stop polling and shut the application down."""
        try:
            if self.application.updater is not None and self.application.updater.running:
                await self.application.updater.stop()
            if self.application.running:
                await self.application.stop()
            await self.application.shutdown()
        finally:
            await asyncio.to_thread(self.worker.close)

    # --- the outbox's channel ---------------------------------------------------------------

    async def send(self, chat: str, body: str, format: str) -> str:
        """Send one outbox message; raises SendError with what the failure means."""
        try:
            message = await self.application.bot.send_message(
                chat_id=int(chat),
                text=body,
                parse_mode=ParseMode.HTML if format == "html" else None,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except TelegramError as error:
            raise send_error_for(error) from error
        return str(message.message_id)

    # --- incoming updates -------------------------------------------------------------------

    def _allowed(self, chat_id: int) -> bool:
        allowed = self.settings.allowed_chats
        return not allowed or str(chat_id) in allowed

    async def _role(self, chat_id: int, chat_type: str, user_id: int, *, ask: bool) -> Role:
        """Who the user is here: a configured admin; else, when ``ask`` (the command needs it) in a
        group, its administrator or a member as Telegram says — or unknown when Telegram cannot
        be asked (the user is told to try again, not refused as a member)."""
        if str(user_id) in self.settings.admins:
            return Role.ADMIN
        if not ask or chat_type not in _GROUP_TYPES:
            return Role.MEMBER
        key = (str(chat_id), str(user_id))
        cached = self._admin_cache.get(key)
        now = monotonic_time.monotonic()
        if cached is not None and now - cached[0] < ADMIN_CACHE_SECONDS:
            return cached[1]
        try:
            member = await self.application.bot.get_chat_member(chat_id, user_id)
        except TelegramError as error:
            log.warning("could not ask Telegram whether %s administers %s: %s", user_id, chat_id, error)
            return Role.UNKNOWN
        administers = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
        role = Role.GROUP_ADMIN if administers else Role.MEMBER
        self._admin_cache[key] = (now, role)
        return role

    def _parse_command(self, message: Message) -> tuple[str, list[str]] | None:
        """The command name and arguments, or None if the command is addressed to another bot."""
        text = message.text or ""
        entity = next(
            (e for e in message.entities if e.type == MessageEntity.BOT_COMMAND and e.offset == 0), None
        )
        if entity is None:
            return None
        word = text[1 : entity.length]
        name, _, target = word.partition("@")
        username = self.application.bot.username or ""
        if target and target.lower() != username.lower():
            return None  # /latest@otherbot: not for us
        return name.lower(), text[entity.length :].split()

    async def _move_chat(self, old: str, new: str) -> None:
        def move(ctx: Context) -> None:
            with ctx.store.transaction():
                ctx.store.move_chat(Channel.TELEGRAM, old, new, self._now())

        await self.worker.call(move)

    async def _on_migrate(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        """A group upgraded to a supergroup: Telegram says so in the old group's last message."""
        message = update.effective_message
        if message is None or message.migrate_to_chat_id is None:
            return  # the new group's first message (migrate_from_chat_id) says the same again
        old, new = str(message.chat_id), str(message.migrate_to_chat_id)
        log.info("chat %s became %s: its subscription and topics move with it", old, new)
        await self._move_chat(old, new)

    async def _on_command(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        chat = update.effective_chat
        user = update.effective_user
        if message is None or chat is None or user is None:
            return
        parsed = self._parse_command(message)
        if parsed is None:
            return
        name, args = parsed
        if not self._allowed(chat.id):
            await self._reply_text(chat.id, T.NOT_ENABLED_HERE)
            return
        command = find_command(name)
        chat_type = ChatType.GROUP if chat.type in _GROUP_TYPES else ChatType.PRIVATE
        ask = command is not None and command.needs_admin(chat_type)
        role = await self._role(chat.id, chat.type, user.id, ask=ask)
        request = Request(
            command=name,
            args=tuple(args),
            chat=str(chat.id),
            chat_type=chat_type,
            user_id=str(user.id),
            user_name=user.full_name or user.username or str(user.id),
            chat_title=chat.title or chat.full_name or "",
            channel=Channel.TELEGRAM,
            role=role,
        )
        reply = await self.worker.handle(request)
        await self._deliver(chat.id, reply)

    async def _on_button(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.message is None:
            return
        chat = query.message.chat
        await query.answer()
        if not self._allowed(chat.id):
            return
        action = query.data or ""
        # A button that changes topics ("不相关", "采用方案") needs an editor, as its command does.
        ask = action_needs_admin(action)
        role = await self._role(chat.id, chat.type, query.from_user.id, ask=ask)
        request = Request(
            command="",
            args=(),
            chat=str(chat.id),
            chat_type=ChatType.GROUP if chat.type in _GROUP_TYPES else ChatType.PRIVATE,
            user_id=str(query.from_user.id),
            user_name=query.from_user.full_name,
            chat_title=chat.title or "",
            channel=Channel.TELEGRAM,
            role=role,
            action=action,
        )
        reply = await self.worker.handle(request)
        if reply.edit and isinstance(query.message, Message):
            try:
                await query.message.edit_text(
                    to_html(reply),
                    parse_mode=ParseMode.HTML,
                    reply_markup=_keyboard(reply),
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
            except BadRequest as error:
                if "not modified" not in str(error).lower():
                    raise
            return
        await self._deliver(chat.id, reply)

    # --- replies ----------------------------------------------------------------------------

    async def _deliver(self, chat_id: int, reply: Reply) -> None:
        try:
            if reply.lines:
                await self._send_reply(chat_id, to_html(reply), to_text(reply), _keyboard(reply))
            if reply.digest is not None:
                for part in render_telegram(reply.digest):
                    await self._send_reply(chat_id, part, None, None)
        except TelegramError as error:
            if send_error_for(error).failure is not Failure.GONE:
                raise
            # The user blocked the bot, or it left the group: nobody to answer, and nothing wrong
            # with the bot (no traceback, no apology that could not arrive either).
            log.warning("could not answer chat %s, it is unreachable: %s", chat_id, error)

    async def _send_reply(
        self, chat_id: int, body: str, plain: str | None, keyboard: InlineKeyboardMarkup | None
    ) -> None:
        """Answer a user now: one wait on flood control, a plain-text retry if the HTML is refused."""
        for attempt in range(2):
            try:
                await self.application.bot.send_message(
                    chat_id=chat_id,
                    text=body,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
                return
            except RetryAfter as error:
                if attempt:
                    raise
                log.warning(
                    "flood control on chat %s: answering in %.0f s", chat_id, retry_after_seconds(error)
                )
                await asyncio.sleep(retry_after_seconds(error))
            except BadRequest as error:
                if send_error_for(error).failure is not Failure.BAD_MARKUP or attempt:
                    raise
                log.warning("reply refused as HTML (%s); sending plain text", error)
                await self.application.bot.send_message(
                    chat_id=chat_id, text=plain or html_to_text(body), reply_markup=keyboard
                )
                return

    async def _reply_text(self, chat_id: int, text: str) -> None:
        try:
            await self.application.bot.send_message(chat_id=chat_id, text=text)
        except TelegramError as error:
            log.warning("could not answer chat %s: %s", chat_id, error)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one error handler: log with the traceback, tell the operator chat, apologise."""
        error = context.error
        log.error("error while handling an update: %s", error, exc_info=error)
        if isinstance(update, Update) and update.effective_chat is not None:
            await self._reply_text(update.effective_chat.id, T.INTERNAL_ERROR)
        operator = self.settings.operator_chat
        if operator:
            summary = f"{type(error).__name__}: {error}"[:3000]
            await self._reply_text(int(operator), T.OPERATOR_ALERT.format(error=summary))


def _keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.action) for b in reply.buttons]]
    )


def _host(url: str) -> str:
    # Log where the bot connects without ever logging a URL that could carry the token.
    return url.split("://", 1)[-1].split("/", 1)[0]
