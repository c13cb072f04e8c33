"""The DingTalk adapter (钉钉 Stream 模式): the app robot answers commands and sends digests.

DingTalk pushes robot messages over a WebSocket the bot opens itself (no public address): the
official ``dingtalk-stream`` SDK keeps that connection, and this module gives it one callback
handler and does everything else with httpx against ``[dingtalk] api_url`` (so a private
deployment or a local fake works; the SDK's own OpenAPI helpers read ``DINGTALK_OPENAPI_ENDPOINT``
once, at import, and are not used).

Receiving. The SDK runs in a thread of its own, on an event loop of its own: its reconnect loop
calls the open-connection API with blocking HTTP, which must never stall the service's loop.
Its handler acks every message at once (the SDK sends the ack when the handler returns; a late
or missing ack makes DingTalk push the message again about 60 s later, with the same ``msgId``)
and hands the message to the service's loop, where the command runs in the adapter's
:class:`~bot.adapters.worker.HandlerWorker`. A message seen before (same ``msgId``) is answered
once. The SDK is told to open connections through :meth:`DingTalkAdapter._open_for_sdk`, which
uses the first answer of :meth:`start`'s own check, has timeouts (the SDK's call has none) and
logs a failing platform once rather than every 10 s.

Connecting. :meth:`start` first calls the open-connection API itself: the SDK never raises on
refused credentials (it logs 401 ``authFailed`` and retries every 10 s for ever), so a refusal
becomes ``ConnectError(permanent=True)`` here, and an unreachable platform (connection refused, a
timeout, 5xx) ``permanent=False``. It then waits until the SDK's WebSocket is up. Reconnects are the
SDK's: at once after a SYSTEM ``disconnect`` frame or a closed socket, 10 s after a dropped TCP
connection; should its ``start()`` ever return or raise, it is started again. :meth:`stop` closes
the socket and cancels the SDK's task until it ends (``start()`` swallows one cancellation and then
sleeps 10 s), then ends its thread and loop.

Replying. An answer goes to the message's ``sessionWebhook`` as ``markdown`` (DingTalk breaks a line
only at "  \\n  "); when that fails (it expires after about 90 minutes: errcode 300001) it is sent
through the robot OpenAPI instead. DingTalk messages cannot be edited and plain robot messages
carry no buttons that come back to the bot: a list's pages are turned by sending 下一页 / 上一页,
which the reply says.

Sending digests (the outbox's channel). A group gets ``POST /v1.0/robot/groupMessages/send``
(``openConversationId``, ``robotCode``, msgKey ``sampleMarkdown``), a one-to-one chat
``POST /v1.0/robot/oToMessages/batchSend`` (``userIds``); both with an access token from
``POST /v1.0/oauth2/accessToken`` (all three on api.dingtalk.com, the open-connection API's host).
``msgParam`` may hold at most 15,000 bytes: a larger digest part is split between its entries. Each
chat's messages are paced at 20 a minute. The platform's answers become
:class:`~bot.delivery.channels.SendError`: rate limits, timeouts and 5xx are retried; refused
credentials or a robotCode not of this app hold the chat's messages (BLOCKED); a group the robot
is no longer in, or a user who can no longer be reached, is GONE; a malformed message REJECTED.

Chats. A group is ``dingtalk:<openConversationId>``; a one-to-one chat ``dingtalk:user:<userId>``
(the staff id the one-to-one API needs). Who may do what: ``[dingtalk] admins`` (staff ids) are
admins; DingTalk tells a robot nothing reliable about a group's owner or administrators (a
message's ``isAdmin`` is not "administers this group"), so everyone else is a member, and a
group's subscription and own topics are changed by configured admins only.

Credentials never appear in logs or errors: the SDK's loggers are kept at WARNING (it logs the
ticket at INFO), its messages go through a filter that drops its warning on every SYSTEM ping,
makes its tracebacks one line and blanks out the secret and tickets.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from dingtalk_stream import AckMessage, CallbackHandler, CallbackMessage, Credential, DingTalkStreamClient

from bot.adapters.worker import HandlerWorker, RecentIds
from bot.config import AppConfig, Config
from bot.delivery.channels import ConnectError, Failure, SendError
from bot.delivery.pacing import Limit, Pacer
from bot.domain.models import Channel, app_chat, app_conversation
from bot.domain.safetext import cap, clean
from bot.texts import chat as T
from bot.texts import cli as cli_texts
from bot.texts import digest as digest_texts
from digests.render_robots import render_dingtalk
from handlers.commands import find_command, parse_line
from handlers.markup import text_line, text_reply, to_markdown
from handlers.pager import turns_page
from handlers.permissions import Role
from handlers.request import ChatType, Context, Line, Reply, Request

log = logging.getLogger(__name__)
# The SDK's own messages, filtered (see _SdkLogFilter); never below WARNING: it logs tickets at INFO.
sdk_log = logging.getLogger(__name__ + ".sdk")

TOPIC_BOT_MESSAGE = "/v1.0/im/bot/messages/get"
OPEN_PATH = "/v1.0/gateway/connections/open"
TOKEN_PATH = "/v1.0/oauth2/accessToken"
GROUP_SEND_PATH = "/v1.0/robot/groupMessages/send"
OTO_SEND_PATH = "/v1.0/robot/oToMessages/batchSend"

# A one-to-one chat's id after "dingtalk:": the user's staff id (what oToMessages/batchSend takes).
PRIVATE_PREFIX = "user:"
# How long start() waits for the SDK's WebSocket before calling the platform unreachable.
CONNECT_WAIT = 15.0
# The open-connection call from the SDK's thread: short, so that a reconnect never holds up stop().
OPEN_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# After the SDK's start() ended (it should not), start it again after this long.
RESTART_DELAY = 3.0
# stop(): the SDK thread's end, and the answers still being worked on, are waited for this long.
STOP_TIMEOUT = 8.0
ANSWER_GRACE = 5.0
# A reply's Markdown text, in UTF-8 bytes: well inside a sessionWebhook body (20,000 bytes) and,
# once wrapped, the OpenAPI's msgParam (15,000 bytes).
REPLY_TEXT_LIMIT = 12_000
MSG_PARAM_LIMIT = 15_000
LINE_BREAK = "  \n  "  # DingTalk's Markdown breaks a line only here
TITLE_CHARS = 40
# A sessionWebhook is not used in the last minute before it expires.
SESSION_MARGIN_MS = 60_000
# DingTalk's robots: 20 messages a minute per chat (the custom robots' documented rate; the app
# robot's per-chat rate is not documented, and this one is safe).
SEND_LIMITS = (Limit(20, 60.0),)
# An answer that says "too many calls" (HTTP 403 QpsLimit…, 429, flow control) waits this long.
THROTTLE_WAIT = 60.0
# How long the SDK waits before it asks for a new connection after a failed one.
SDK_RETRY_SECONDS = 10
ACCESS_TOKEN_MARGIN = 300  # seconds before expiry at which a new access token is fetched
MAX_ANSWER_BYTES = 64 * 1024
# Begins the detail of a send refused for the app's credentials: such a chat's subscription is
# paused with it, and resumed by the next start that connects (the credentials then work again).
CREDENTIALS_REFUSED = "钉钉拒绝了应用凭据"

# A ticket (in the endpoint's URL or the open API's answer) or a sessionWebhook's session, as the SDK,
# websockets or httpx might log them.
_TICKET = re.compile(r"((?:ticket|session)['\"]?\s*[:=]\s*['\"]?)[^\s'\"&,}]+", re.IGNORECASE)


class _SdkThread(threading.Thread):
    """The thread the SDK runs in; ``stopping`` tells the log filter to drop the noise of stopping."""

    stopping = False


class _SdkLogFilter(logging.Filter):
    """What the SDK logs, made fit for the service's log.

    - its warning on every SYSTEM ping ("unknown message topic") is dropped;
    - its ERROR after a dropped connection becomes one WARNING saying it reconnects;
    - ``logger.exception('unknown exception', e)`` (a broken format with a traceback) becomes
      one line;
    - its "open connection failed" is dropped: the adapter's own opener has said why, once;
    - while the adapter stops, everything the cancellation makes it say is dropped;
    - the app secret and any ticket are blanked out of whatever is left.
    """

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(threading.current_thread(), "stopping", False) and record.levelno < logging.CRITICAL:
            return False
        if record.msg == "unknown exception":
            record.msg = "DingTalk Stream: connecting failed (%s); the SDK tries again in 3 s"
            record.exc_info, record.exc_text = None, None
            _as_warning(record)
        elif record.msg == "[start] network exception, error=%s":
            record.msg = "DingTalk Stream: connection lost (%s); the SDK reconnects in 10 s"
            _as_warning(record)
        elif isinstance(record.msg, str) and record.msg.startswith("open connection failed"):
            return False
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        if message.startswith("unknown message topic") and "topic=ping" in message:
            return False
        cleaned = _TICKET.sub(r"\1***", message)
        for secret in sorted(self.secrets, key=len, reverse=True):
            cleaned = cleaned.replace(secret, "***")
        record.msg, record.args = cleaned.replace("\n", " "), ()
        return True


def _as_warning(record: logging.LogRecord) -> None:
    record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)


_SDK_FILTER = _SdkLogFilter()


def _quiet_sdk_loggers() -> None:
    """Keep the SDK's loggers at WARNING: they log the ticket, the endpoint and each frame at INFO
    (and the SDK sets them to INFO whenever it makes a handler)."""
    sdk_log.setLevel(logging.WARNING)
    if _SDK_FILTER not in sdk_log.filters:
        sdk_log.addFilter(_SDK_FILTER)
    for name in ("dingtalk_stream", "dingtalk_stream.client", "dingtalk_stream.handler"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # websockets logs the handshake (with the ticket in the URL) at DEBUG, httpx a sessionWebhook
    # URL (with its session) at INFO: blanked out whatever level someone sets.
    for name in ("websockets.client", "httpx"):
        if _SDK_FILTER not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(_SDK_FILTER)


class _StreamClient(DingTalkStreamClient):  # type: ignore[misc]
    """The SDK's client with the adapter's open-connection call (timeouts, one log line, the first
    ticket from start()'s own check)."""

    def __init__(
        self,
        credential: Any,
        logger: logging.Logger,
        opener: Callable[[], dict[str, str] | None],
        opened: Callable[[], None],
    ) -> None:
        super().__init__(credential, logger=logger)
        self._opener = opener
        self._opened = opened

    def open_connection(self) -> dict[str, str] | None:
        return self._opener()

    async def keepalive(self, ws: Any, ping_interval: int = 60) -> None:
        # start() begins its keepalive task the moment its WebSocket is open: the one place that
        # says a (re)connection succeeded.
        self._opened()
        await super().keepalive(ws, ping_interval)


class _Inbox(CallbackHandler):  # type: ignore[misc]
    """The robot-message topic's handler: takes each message and acks it at once."""

    def __init__(self, take: Callable[[Mapping[str, Any]], None]) -> None:
        super().__init__()
        self.logger = sdk_log
        self._take = take

    async def process(self, message: CallbackMessage) -> tuple[int, str]:
        try:
            self._take(message.data if isinstance(message.data, dict) else {})
        except Exception:
            # Never raise to the SDK: it would send no ack, and DingTalk would push it again.
            log.exception("could not take a DingTalk message")
        return AckMessage.STATUS_OK, "OK"


@dataclass(frozen=True, slots=True)
class Incoming:
    """A robot message, as far as the bot needs it."""

    msg_id: str
    conversation_id: str
    group: bool
    user_id: str  # the sender's staff id (userId), else the sender's DingTalk id
    staff_id: str
    nick: str
    title: str  # the group's name (one-to-one messages carry none)
    text: str | None  # None: not a text message
    session_webhook: str
    session_expires_ms: int
    robot_code: str

    @property
    def chat(self) -> str:
        """The namespaced chat: ``dingtalk:<openConversationId>`` or ``dingtalk:user:<userId>``."""
        if self.group:
            return app_chat(Channel.DINGTALK, self.conversation_id)
        return app_chat(Channel.DINGTALK, PRIVATE_PREFIX + self.user_id)


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _text_of(data: Mapping[str, Any]) -> str | None:
    """The typed text of a text or rich-text message; None for other kinds (pictures, files…)."""
    kind = data.get("msgtype")
    if kind == "text":
        text = data.get("text")
        content = text.get("content") if isinstance(text, dict) else None
        return content if isinstance(content, str) else ""
    if kind == "richText":
        content = data.get("content")
        parts = content.get("richText") if isinstance(content, dict) else None
        if isinstance(parts, list):
            return "".join(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))
    return None


def parse_incoming(data: Mapping[str, Any]) -> Incoming | None:
    """A pushed robot message's data → :class:`Incoming`; None when it names no conversation."""
    conversation = _str(data, "conversationId")
    staff = _str(data, "senderStaffId")
    user = staff or _str(data, "senderId")
    if not conversation or not user:
        return None
    expires = data.get("sessionWebhookExpiredTime")
    return Incoming(
        msg_id=_str(data, "msgId"),
        conversation_id=conversation,
        group=_str(data, "conversationType") == "2",
        user_id=user,
        staff_id=staff,
        nick=_str(data, "senderNick"),
        title=_str(data, "conversationTitle"),
        text=_text_of(data),
        session_webhook=_str(data, "sessionWebhook"),
        session_expires_ms=expires if isinstance(expires, int) and not isinstance(expires, bool) else 0,
        robot_code=_str(data, "robotCode"),
    )


def markdown_message(title: str, text: str) -> dict[str, Any]:
    """A custom-robot / sessionWebhook ``markdown`` message."""
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def _line_text(line: Line) -> str:
    return "".join(span.text for span in line)


def reply_messages(reply: Reply, *, group: bool) -> list[dict[str, Any]]:
    """A reply as DingTalk ``markdown`` messages: its lines (with how to turn the page, since its
    buttons cannot be shown; the feedback buttons' commands are in the text), then its digest's
    parts."""
    lines = reply.lines
    pages = [button for button in reply.buttons if turns_page(button.action)]
    if pages:
        labels = T.PAGE_LABELS_JOINER.join(f"“{button.label}”" for button in pages)
        hint = (T.PAGE_BY_TYPING_GROUP if group else T.PAGE_BY_TYPING).format(labels=labels)
        lines = (*lines, text_line(hint))
    messages = []
    if lines:
        title = cap(clean(_line_text(lines[0])), TITLE_CHARS) or "finews-bot"
        text = to_markdown(Reply(lines), limit=REPLY_TEXT_LIMIT, line_break=LINE_BREAK)
        messages.append(markdown_message(title, text))
    if reply.digest is not None:
        messages.extend(render_dingtalk(reply.digest))
    return messages


def _param_bytes(fields: Mapping[str, str]) -> int:
    return len(json.dumps(fields, ensure_ascii=False).encode("utf-8"))


def _pieces(text: str, fits: Callable[[str], bool]) -> list[str]:
    """``text`` in pieces that each fit: at blank lines (between a digest's entries), else at
    DingTalk's line breaks, else (a single line too long) by characters."""
    if fits(text):
        return [text]
    for joiner in ("\n\n", LINE_BREAK):
        parts = text.split(joiner)
        if len(parts) > 1:
            pieces: list[str] = []
            current = ""
            for part in parts:
                candidate = f"{current}{joiner}{part}" if current else part
                if fits(candidate):
                    current = candidate
                    continue
                if current:
                    pieces.append(current)
                if fits(part):
                    current = part
                else:
                    *whole, current = _pieces(part, fits)
                    pieces.extend(whole)
            if current:
                pieces.append(current)
            return pieces
    low, high = 1, len(text)
    while low < high:  # the longest prefix that fits
        middle = (low + high + 1) // 2
        if fits(text[:middle]):
            low = middle
        else:
            high = middle - 1
    return [text[:low], *_pieces(text[low:], fits)] if low < len(text) else [text]


def app_messages(message: Mapping[str, Any], limit: int = MSG_PARAM_LIMIT) -> list[tuple[str, str]]:
    """A custom-robot message (what ``render_dingtalk`` makes) as the robot OpenAPI's
    (msgKey, msgParam) pairs, split so that each msgParam holds at most ``limit`` bytes."""
    kind = message.get("msgtype")
    section = message.get(kind) if isinstance(kind, str) else None
    if kind == "markdown" and isinstance(section, dict):
        title, text = str(section.get("title") or "finews-bot"), str(section.get("text") or "")
        later = title if title.endswith(digest_texts.CONTINUED) else title + digest_texts.CONTINUED
        if _param_bytes({"title": title, "text": text}) <= limit:
            return [("sampleMarkdown", json.dumps({"title": title, "text": text}, ensure_ascii=False))]
        # Each piece is measured with the longer title, so that it fits whichever title it gets.
        pieces = _pieces(text, lambda piece: _param_bytes({"title": later, "text": piece}) <= limit)
        params = [{"title": later if n else title, "text": piece} for n, piece in enumerate(pieces)]
        return [("sampleMarkdown", json.dumps(param, ensure_ascii=False)) for param in params]
    if kind == "text" and isinstance(section, dict):
        content = str(section.get("content") or "")
        pieces = _pieces(content, lambda piece: _param_bytes({"content": piece}) <= limit)
        return [("sampleText", json.dumps({"content": piece}, ensure_ascii=False)) for piece in pieces]
    raise SendError(Failure.REJECTED, f"钉钉：不支持的消息类型 (unsupported msgtype {kind!r})")


def _acs_answer(response: httpx.Response) -> tuple[dict[str, Any], str, str]:
    """The JSON answer of an OpenAPI call, its error ``code`` and ``message`` ("" when none)."""
    try:
        answer = json.loads(response.content[:MAX_ANSWER_BYTES])
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return {}, "", ""
    code, message = answer.get("code"), answer.get("message")
    return answer, str(code) if code is not None else "", str(message) if message is not None else ""


def _throttled(status: int, code: str) -> bool:
    lowered = code.lower()
    return status == 429 or any(
        word in lowered for word in ("qpslimit", "throttl", "flowcontrol", "ratelimit")
    )


def send_failure(status: int, code: str) -> Failure:
    """What an OpenAPI send answer (HTTP status, ``code``) means for the outbox."""
    lowered = code.lower()
    if status >= 500 or status == 408 or _throttled(status, code):
        return Failure.RETRY
    if status == 200:
        return Failure.RETRY  # no processQueryKey: nothing says it was sent
    if "openconversationid" in lowered or "conversation" in lowered or "notingroup" in lowered:
        return Failure.GONE  # the group is gone, or the robot is not in it any more
    if "robotcode" in lowered or lowered.startswith("forbidden") or status in (401, 403):
        return Failure.BLOCKED  # a robotCode not of this app, or a permission the app lacks
    if "msgkey" in lowered or "msgparam" in lowered or "invalidparameter" in lowered:
        return Failure.REJECTED
    return Failure.RETRY  # unknown: worth another try later


def _host(url: str) -> str:
    # Where the bot connects, without anything a URL could carry after the host.
    return url.split("://", 1)[-1].split("/", 1)[0]


class DingTalkAdapter:
    """The DingTalk app robot: Stream mode in, sessionWebhook and robot OpenAPI out."""

    name = "钉钉"
    platform = "dingtalk"
    channel = Channel.DINGTALK

    def __init__(self, config: Config, app: AppConfig, now: Callable[[], datetime]) -> None:
        if not app.key or not app.secret:
            raise ValueError("no DingTalk AppKey/AppSecret configured")
        self.config = config
        self.app = app
        self._key: str = app.key
        self._secret: str = app.secret
        self._now = now
        self.worker = HandlerWorker(config, now, name="dingtalk-handlers")
        self.recent = RecentIds()
        self._robot_code = app.key  # an internal app's robotCode is its AppKey; messages confirm it
        self._http: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()
        self._pacers: dict[str, Pacer] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        # A digest part split into several OpenAPI messages: how many went, so that a retry after
        # a failure half-way sends only the rest (chat and body → pieces sent).
        self._partial: dict[tuple[str, str], int] = {}
        # The SDK: its client, thread, loop and task; the open-connection answer start() got.
        self._client: _StreamClient | None = None
        self._sdk_thread: _SdkThread | None = None
        self._sdk_loop: asyncio.AbstractEventLoop | None = None
        self._sdk_task: asyncio.Future[Any] | None = None
        self._prefetched: dict[str, str] | None = None
        self._open_failure: str | None = None  # the failure last logged by the SDK's opener
        # The connection's state as last recorded for `status` (read and written in the SDK's
        # thread): the service records the start; reconnects happen inside the SDK.
        self._stream_state = "connecting"
        self._recorded_once = False
        _SDK_FILTER.secrets.update({self._secret})
        _quiet_sdk_loggers()

    # --- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the credentials with the open-connection API, start the SDK, wait for its socket."""
        self._loop = asyncio.get_running_loop()
        first = await self._open_async()
        await self._resume_refused()
        self._start_sdk(first)
        deadline = time.monotonic() + CONNECT_WAIT
        while not self._connected():
            if time.monotonic() > deadline:
                raise ConnectError(
                    f"钉钉 Stream: no WebSocket connection within {CONNECT_WAIT:.0f} s "
                    f"({_host(self.app.api_url)})",
                    permanent=False,
                )
            await asyncio.sleep(0.05)
        log.info("DingTalk Stream connected (%s)", _host(self.app.api_url))

    def _connected(self) -> bool:
        return self._client is not None and self._client.websocket is not None

    async def stop(self) -> None:
        """Stop the SDK (its socket, task, loop and thread), let answers in hand finish, clean up.
        A second call does nothing."""
        if self._stopping:
            return
        self._stopping = True
        try:
            await asyncio.to_thread(self._stop_sdk)
            if self._tasks:
                _done, pending = await asyncio.wait(list(self._tasks), timeout=ANSWER_GRACE)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
            if self._http is not None:
                await self._http.aclose()
                self._http = None
        finally:
            await asyncio.to_thread(self.worker.close)

    def _start_sdk(self, first: dict[str, str]) -> None:
        # The SDK's class attribute, for any of its code that reads it; the adapter's opener uses
        # its own api_url.
        DingTalkStreamClient.OPEN_CONNECTION_API = self._url(OPEN_PATH)
        client = _StreamClient(
            Credential(self._key, self._secret), sdk_log, self._open_for_sdk, self._socket_open
        )
        client.register_callback_handler(TOPIC_BOT_MESSAGE, _Inbox(self._take))
        _quiet_sdk_loggers()  # making a handler set the SDK's loggers to INFO: back to WARNING
        self._client = client
        self._prefetched = first
        self._sdk_loop = asyncio.new_event_loop()
        self._sdk_thread = _SdkThread(target=self._run_sdk, name="dingtalk-stream", daemon=True)
        self._sdk_thread.start()

    def _run_sdk(self) -> None:
        """The SDK thread: its loop runs the client until stop()."""
        loop = self._sdk_loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._sdk_main())
        except BaseException:
            log.exception("the DingTalk Stream thread failed")
        finally:
            _finish_loop(loop)

    async def _sdk_main(self) -> None:
        """Run the SDK's start() and start it again should it ever end."""
        assert self._client is not None and self._sdk_thread is not None
        while not self._sdk_thread.stopping:
            self._sdk_task = asyncio.ensure_future(self._client.start())
            try:
                await self._sdk_task
            except asyncio.CancelledError:
                if self._sdk_thread.stopping:
                    return
                log.warning("the DingTalk Stream client was cancelled; starting it again")
            except Exception as error:
                log.warning(
                    "the DingTalk Stream client stopped (%s); starting it again", type(error).__name__
                )
            else:
                log.warning("the DingTalk Stream client ended; starting it again")
            await asyncio.sleep(RESTART_DELAY)

    async def _sdk_shutdown(self) -> None:
        """In the SDK's loop: close the socket, then cancel the client until it ends."""
        websocket = self._client.websocket if self._client is not None else None
        if websocket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(websocket.close(), 2.0)
        task = self._sdk_task
        while task is not None and not task.done():
            task.cancel()  # start() swallows the first and sleeps: the next one ends it
            await asyncio.wait([task], timeout=0.05)

    def _stop_sdk(self) -> None:
        """Blocking: end the SDK's thread (called in a worker thread by stop())."""
        thread, loop = self._sdk_thread, self._sdk_loop
        if thread is None or loop is None:
            return
        thread.stopping = True
        if thread.is_alive() and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                asyncio.run_coroutine_threadsafe(self._sdk_shutdown(), loop)
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            log.warning("the DingTalk Stream thread did not stop within %.0f s", STOP_TIMEOUT)

    # --- opening a connection ---------------------------------------------------------------

    def _url(self, path: str) -> str:
        return self.app.api_url + path

    def _open_body(self) -> dict[str, Any]:
        return {
            "clientId": self._key,
            "clientSecret": self._secret,
            "subscriptions": [{"type": "CALLBACK", "topic": TOPIC_BOT_MESSAGE}],
            "ua": "finews-bot (dingtalk-stream)",
            "localIp": "",
        }

    def _opened(self, response: httpx.Response) -> dict[str, str]:
        """The endpoint and ticket of an open-connection answer, or the ConnectError it means."""
        answer, code, message = _acs_answer(response)
        endpoint, ticket = answer.get("endpoint"), answer.get("ticket")
        if (
            response.status_code == 200
            and isinstance(endpoint, str)
            and endpoint.startswith(("ws://", "wss://"))
            and isinstance(ticket, str)
            and ticket
        ):
            return {"endpoint": endpoint, "ticket": ticket}
        said = self._redact(f"HTTP {response.status_code} {code} {message}".strip())
        if response.status_code in (400, 401, 403):
            raise ConnectError(
                f"{CREDENTIALS_REFUSED} (${self.app.key_env} / ${self.app.secret_env} refused): {said}",
                permanent=True,
            )
        if response.status_code == 404:
            raise ConnectError(
                f"钉钉 Stream: no open-connection API at {_host(self.app.api_url)} ({said}): "
                "check [dingtalk] api_url / $FINEWS_DINGTALK_API_URL",
                permanent=True,
            )
        raise ConnectError(f"钉钉 Stream: the open-connection API answered {said}", permanent=False)

    def _unreachable(self, error: httpx.HTTPError) -> ConnectError:
        return ConnectError(
            f"钉钉 Stream: {_host(self.app.api_url)} unreachable ({type(error).__name__})", permanent=False
        )

    async def _open_async(self) -> dict[str, str]:
        """start()'s own call of the open-connection API (the SDK never reports a refusal)."""
        try:
            response = await self._client_http().post(self._url(OPEN_PATH), json=self._open_body())
        except httpx.HTTPError as error:
            raise self._unreachable(error) from None
        return self._opened(response)

    def _open_for_sdk(self) -> dict[str, str] | None:
        """The SDK's open_connection (in its thread, blocking): start()'s answer first, then a call
        with timeouts; None (the SDK waits 10 s and calls again) when it fails, said once."""
        if self._sdk_thread is None or self._sdk_thread.stopping:
            return None
        first, self._prefetched = self._prefetched, None
        if first is not None:
            return first
        log.info("DingTalk Stream: opening a new connection")
        if self._stream_state == "connected":
            self._post_state("connecting", cli_texts.PLATFORM_RECONNECTING)
        try:
            with httpx.Client(timeout=OPEN_TIMEOUT, follow_redirects=False) as http:
                opened = self._opened(http.post(self._url(OPEN_PATH), json=self._open_body()))
        except httpx.HTTPError as error:
            self._open_failed(self._unreachable(error))
            return None
        except ConnectError as error:
            self._open_failed(error)
            return None
        if self._open_failure is not None:
            log.info("DingTalk Stream: the platform accepts connections again")
            self._open_failure = None
        return opened

    def _open_failed(self, error: ConnectError) -> None:
        # The SDK goes on trying, refused credentials included (a restart is how new ones take
        # effect): "retrying", with the reason and when it tries next, at every failure.
        self._post_state("retrying", str(error), self._now() + timedelta(seconds=SDK_RETRY_SECONDS))
        if str(error) == self._open_failure:
            return  # said already; the SDK tries again every 10 s
        self._open_failure = str(error)
        if error.permanent:
            log.error("%s; trying again every 10 s (fix the credentials and restart)", error)
        else:
            log.warning("%s; trying again every 10 s", error)

    def _socket_open(self) -> None:
        """In the SDK's thread: its WebSocket is open (the first time, or again after a loss)."""
        if self._stream_state == "connected":
            return
        if self._recorded_once:
            log.info("DingTalk Stream connected again")
        self._post_state("connected")

    def _post_state(self, state: str, detail: str = "", next_attempt: datetime | None = None) -> None:
        """In the SDK's thread: record the connection's state (on the service's loop)."""
        first, self._recorded_once = not self._recorded_once, True
        self._stream_state = state
        if first and state == "connected":
            return  # the first connection: start() returns on it, and the service records that
        loop = self._loop
        if loop is None or self._stopping:
            return
        work = self.worker.record_state(self.platform, state, detail, next_attempt)
        try:
            asyncio.run_coroutine_threadsafe(work, loop)
        except RuntimeError:  # the service's loop is closing
            work.close()

    # --- incoming messages ------------------------------------------------------------------

    def _take(self, data: Mapping[str, Any]) -> None:
        """In the SDK's thread: a message is handed to the service's loop unless seen before."""
        msg_id = _str(data, "msgId")
        if msg_id and not self.recent.first_time(msg_id):
            log.info("DingTalk message %s pushed again: answered already", msg_id)
            return
        loop = self._loop
        if loop is None or self._stopping:
            return
        with contextlib.suppress(RuntimeError):  # the service's loop is closing
            loop.call_soon_threadsafe(self._spawn, dict(data))

    def _spawn(self, data: dict[str, Any]) -> None:
        if self._stopping:
            return
        task = asyncio.get_running_loop().create_task(self._answer(data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, data: Mapping[str, Any]) -> None:
        incoming = parse_incoming(data)
        if incoming is None:
            log.warning("a DingTalk message without a conversation or sender: ignored")
            return
        try:
            await self._handle(incoming)
        except Exception:
            log.exception("error while answering a DingTalk message in %s", incoming.chat)
            with contextlib.suppress(Exception):
                await self._reply(
                    incoming, reply_messages(text_reply(T.INTERNAL_ERROR), group=incoming.group)
                )

    def _role(self, incoming: Incoming) -> Role:
        """A configured admin, else a member: DingTalk tells a robot nothing reliable about who
        owns or administers a group (``isAdmin`` is not that)."""
        return Role.ADMIN if incoming.staff_id and incoming.staff_id in self.app.admins else Role.MEMBER

    async def _handle(self, incoming: Incoming) -> None:
        if incoming.robot_code:
            self._robot_code = incoming.robot_code
        if incoming.text is None:
            await self._reply(incoming, reply_messages(text_reply(T.NOT_TEXT), group=incoming.group))
            return
        name, args = parse_line(incoming.text)
        chat_type = ChatType.GROUP if incoming.group else ChatType.PRIVATE
        role = self._role(incoming)
        request = Request(
            command=name,
            args=args,
            chat=incoming.chat,
            chat_type=chat_type,
            user_id=incoming.user_id,
            user_name=incoming.nick or incoming.user_id,
            chat_title=incoming.title if incoming.group else incoming.nick,
            channel=Channel.DINGTALK,
            role=role,
        )
        reply = await self.worker.handle(request)
        command = find_command(name)
        if command is not None and command.needs_admin(chat_type) and role is Role.MEMBER:
            # Refused as a member: say why nobody but a configured admin can do it here.
            reply = Reply((*reply.lines, text_line(T.DINGTALK_NO_GROUP_ADMINS)), reply.buttons, reply.edit)
        await self._reply(incoming, reply_messages(reply, group=incoming.group))

    # --- replies ----------------------------------------------------------------------------

    def _session_usable(self, incoming: Incoming) -> bool:
        if not incoming.session_webhook.startswith(("https://", "http://")):
            return False
        expires = incoming.session_expires_ms
        return not expires or expires - SESSION_MARGIN_MS > time.time() * 1000

    async def _reply(self, incoming: Incoming, messages: list[dict[str, Any]]) -> None:
        """Answer a message: through its sessionWebhook, else through the robot OpenAPI."""
        session = self._session_usable(incoming)
        for message in messages:
            if session:
                problem = await self._post_session(incoming.session_webhook, message)
                if problem is None:
                    continue
                log.info(
                    "the sessionWebhook of %s failed (%s): answering through the OpenAPI",
                    incoming.chat,
                    problem,
                )
                session = False
            try:
                await self._send_app(incoming.chat, message)
            except SendError as error:
                log.warning("could not answer %s: %s", incoming.chat, error.detail)
                return

    async def _post_session(self, url: str, message: dict[str, Any]) -> str | None:
        """POST to a sessionWebhook; None when delivered, else what went wrong (no URL in it)."""
        try:
            response = await self._client_http().post(url, json=message)
        except httpx.HTTPError as error:
            return type(error).__name__
        answer, _code, _message = _acs_answer(response)
        errcode = answer.get("errcode")
        if response.status_code == 200 and errcode == 0:
            return None
        return f"HTTP {response.status_code}, errcode {errcode}: {answer.get('errmsg', '')}"[:200]

    # --- the outbox's channel ---------------------------------------------------------------

    async def send(self, chat: str, body: str, format: str) -> str:
        """Send one outbox message (``body``: a ``render_dingtalk`` message as JSON) to ``chat``."""
        try:
            message = json.loads(body)
        except ValueError:
            raise SendError(Failure.REJECTED, "钉钉：消息不是 JSON (the message is not JSON)") from None
        if not isinstance(message, dict):
            raise SendError(Failure.REJECTED, "钉钉：消息不是 JSON 对象 (the message is not a JSON object)")
        return await self._send_app(chat, message)

    async def _send_app(self, chat: str, message: Mapping[str, Any]) -> str:
        """Send a custom-robot message to ``chat`` through the robot OpenAPI (several messages if
        its msgParam would be too large); returns the last processQueryKey."""
        pieces = app_messages(message)
        key = (chat, hashlib.sha256(json.dumps(message, sort_keys=True).encode()).hexdigest())
        sent = self._partial.get(key, 0)
        last = ""
        for number in range(sent, len(pieces)):
            msg_key, param = pieces[number]
            last = await self._post_robot(chat, msg_key, param)
            if number + 1 < len(pieces):
                self._partial[key] = number + 1
        self._partial.pop(key, None)
        return last

    def _pacer(self, chat: str) -> tuple[Pacer, asyncio.Lock]:
        if chat not in self._pacers:
            self._pacers[chat] = Pacer(SEND_LIMITS)
            self._locks[chat] = asyncio.Lock()
        return self._pacers[chat], self._locks[chat]

    async def _post_robot(self, chat: str, msg_key: str, param: str) -> str:
        """One OpenAPI robot message to a group or a user, paced; SendError with its meaning."""
        conversation = app_conversation(chat)
        if not conversation:
            raise SendError(Failure.GONE, f"钉钉：无效的聊天 (not a DingTalk chat: {chat!r})")
        private = conversation.startswith(PRIVATE_PREFIX)
        user = conversation.removeprefix(PRIVATE_PREFIX)
        body: dict[str, Any] = {"robotCode": self._robot_code, "msgKey": msg_key, "msgParam": param}
        if private:
            body["userIds"] = [user]
        else:
            body["openConversationId"] = conversation
        path = OTO_SEND_PATH if private else GROUP_SEND_PATH
        pacer, lock = self._pacer(chat)
        async with lock:
            wait = pacer.delay(time.monotonic())
            if wait > 0:
                log.info("DingTalk %s: pacing, next message in %.1f s", chat, wait)
                await asyncio.sleep(wait)
            for attempt in range(2):
                token = await self._access_token(renew=attempt > 0)
                try:
                    response = await self._client_http().post(
                        self._url(path), json=body, headers={"x-acs-dingtalk-access-token": token}
                    )
                except httpx.TimeoutException as error:
                    raise SendError(
                        Failure.RETRY, f"钉钉 {path}: 超时 (timed out: {type(error).__name__})"
                    ) from None
                except httpx.HTTPError as error:
                    raise SendError(
                        Failure.RETRY, f"钉钉 {path}: 网络错误 ({type(error).__name__})"
                    ) from None
                finally:
                    pacer.record(time.monotonic())
                answer, code, text = _acs_answer(response)
                if code == "InvalidAuthentication" and attempt == 0:
                    continue  # the token expired early or was revoked: one more try with a new one
                return self._sent(response.status_code, answer, code, text, path, user if private else None)
        raise SendError(Failure.RETRY, f"钉钉 {path}: the access token was refused twice")

    def _sent(
        self, status: int, answer: Mapping[str, Any], code: str, text: str, path: str, user: str | None
    ) -> str:
        """The processQueryKey of a successful send, or the SendError the answer means."""
        key = answer.get("processQueryKey")
        if status == 200 and isinstance(key, str) and key:
            if user is not None:
                invalid = answer.get("invalidStaffIdList")
                throttled = answer.get("flowControlledStaffIdList")
                if isinstance(invalid, list) and user in invalid:
                    raise SendError(Failure.GONE, f"钉钉 {path}: 用户 {user} 不可达 (invalidStaffIdList)")
                if isinstance(throttled, list) and user in throttled:
                    raise SendError(
                        Failure.RETRY,
                        f"钉钉 {path}: 用户 {user} 被限流 (flowControlledStaffIdList)",
                        THROTTLE_WAIT,
                    )
            return key
        detail = self._redact(f"钉钉 {path}: HTTP {status} {code} {text}".strip())[:300]
        failure = send_failure(status, code)
        if failure is Failure.BLOCKED:
            detail = f"{CREDENTIALS_REFUSED}或权限不足 ({detail})"
        wait = THROTTLE_WAIT if _throttled(status, code) else None
        raise SendError(failure, detail, wait)

    async def _access_token(self, *, renew: bool = False) -> str:
        """The app's access token (cached until 5 minutes before it expires)."""
        async with self._token_lock:
            if self._token is not None and not renew and time.monotonic() < self._token_expires:
                return self._token
            try:
                response = await self._client_http().post(
                    self._url(TOKEN_PATH), json={"appKey": self._key, "appSecret": self._secret}
                )
            except httpx.TimeoutException as error:
                raise SendError(Failure.RETRY, f"钉钉 accessToken: 超时 ({type(error).__name__})") from None
            except httpx.HTTPError as error:
                raise SendError(
                    Failure.RETRY, f"钉钉 accessToken: 网络错误 ({type(error).__name__})"
                ) from None
            answer, code, text = _acs_answer(response)
            token, expires = answer.get("accessToken"), answer.get("expireIn")
            if response.status_code == 200 and isinstance(token, str) and token:
                seconds = expires if isinstance(expires, int) and expires > 0 else 7200
                self._token = token
                self._token_expires = time.monotonic() + max(60, seconds - ACCESS_TOKEN_MARGIN)
                return token
            said = self._redact(f"HTTP {response.status_code} {code} {text}".strip())
            if response.status_code >= 500 or _throttled(response.status_code, code):
                raise SendError(Failure.RETRY, f"钉钉 accessToken: {said}")
            raise SendError(
                Failure.BLOCKED,
                f"{CREDENTIALS_REFUSED} (${self.app.key_env} / ${self.app.secret_env}): {said}",
            )

    async def _resume_refused(self) -> None:
        """Resume the chats paused because a send's credentials were refused: start() has just
        seen them accepted (a restart with fixed credentials is how that is fixed)."""

        def resume(ctx: Context) -> list[str]:
            with ctx.store.transaction():
                return ctx.store.resume_paused(Channel.DINGTALK, ctx.now(), reason=CREDENTIALS_REFUSED)

        try:
            for chat in await self.worker.call(resume):
                log.info("%s: resumed, the app's credentials are accepted again", chat)
        except Exception:  # not worth the connection: said, and carried on
            log.exception("could not resume DingTalk chats paused for refused credentials")

    # --- helpers ----------------------------------------------------------------------------

    def _client_http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False)
        return self._http

    def _redact(self, text: str) -> str:
        for secret in (self._secret, self._key):
            text = text.replace(secret, "***")
        return text.replace("\n", " ")


def _finish_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what the SDK left on its loop (keep-alive pings, frames in hand) and close it."""
    for _ in range(10):
        tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
        if not tasks:
            break
        for task in tasks:
            task.cancel()
        with contextlib.suppress(BaseException):
            loop.run_until_complete(asyncio.wait(tasks, timeout=0.5))
    with contextlib.suppress(BaseException):
        loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
