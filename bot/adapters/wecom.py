"""The WeCom adapter: the 智能机器人 (smart robot) long connection inside ``finews-bot run``.

WeCom's smart robot can run in "API mode" over a WebSocket the bot opens itself
(``wss://openws.work.weixin.qq.com``, document path/101463 "智能机器人长连接"): no public address,
no callback URL, no message encryption. Users @-mention the robot in a group (or talk to it one to
one); their messages arrive over the connection and the robot answers over it.

Why a client of our own and not the official SDK
------------------------------------------------
WeCom publishes ``wecom-aibot-python-sdk`` (package ``aibot``, MIT). Version 1.0.2 was read and
measured against the fake (``tests/fakes/test_wecom.py``) and falls short of a service that must
stay online unattended:

- any close with code 1000 — a refused secret, a kick by a second connection, its own heartbeat
  timeout — ends its receive loop without an exception, so it schedules no reconnect and says
  nothing: the bot is offline for good while looking connected to us;
- it gives up after ``max_reconnect_attempts`` (10 by default), and while WeCom is unreachable
  its ``connect()`` retries recursively inside itself, never returning to the caller;
- it does not know the ``disconnected_event`` (kicked by another connection);
- it always connects with a private module-level SSL context built from certifi's CA file, so
  neither a private deployment's CA nor ``SSL_CERT_FILE`` can be trusted without patching
  ``aibot.ws._SSL_CONTEXT``;
- its default logger prints every step to stderr.

Wrapping it would mean polling ``is_connected``, telling "reconnecting" from "gave up" without an
event for the latter, and patching a private attribute: more code than the protocol itself, which
is documented as a handful of JSON frames that the fake reproduces frame for frame (and proves
against the SDK). So this module speaks the protocol directly on aiohttp (already a dependency),
and the SDK stays a test dependency only. What it does, frame by frame:

- **Connect and subscribe**: open the WebSocket (``app.api_url``; ``ws://`` works too, for a local
  test server), send ``aibot_subscribe`` {bot_id, secret} and wait for its answer. errcode 0: online.
  Any other answer refuses the credentials (:class:`ConnectError` ``permanent``; the service then
  runs on without WeCom and ``status`` says "refused"), except "system busy" (-1) and "too many
  calls" (45009, 45033), which are retried like an unreachable host. TLS is verified with Python's
  default context, so ``SSL_CERT_FILE`` names an extra CA (a private deployment, the test fake).
- **Heartbeat**: a ``ping`` every 30 s; two unanswered in a row and the connection is closed and
  opened again (a half-open TCP connection otherwise goes unnoticed).
- **Reconnect**: whenever the connection ends — dropped, closed by the server, heartbeat lost — a
  new one is opened after 1 s, doubling up to 60 s, for ever. Two cases stop it, each logged as an
  error and recorded for ``finews-bot status``: the server refuses the credentials five times in a
  row, or it sends ``disconnected_event`` (another connection subscribed with this Bot ID and took
  over: reconnecting would take the bot back and forth between the two, which is what WeCom's own
  plugin avoids too).
- **Messages** (``aibot_msg_callback``): there is no ack frame, a reply is the answer. Each
  message is handed to the handler worker at once; if the answer is not ready within 2 s an
  unfinished stream "正在查询，请稍候…" shows the user it is coming. The answer is one finished
  ``stream`` reply (Markdown, ≤ 20,480 bytes) with the callback's ``req_id``, well inside the 6
  minutes WeCom allows (errcode 846608 after that: the answer is then pushed as a message). A
  group message keeps its ``@机器人`` mention in the text: it is dropped before parsing. A voice
  message (one to one) is read as WeCom's transcript, a mixed one as its text items; an image or a
  file gets a hint to type. Markdown is WeCom's ``markdown_v2`` dialect: no font colours (the
  group robot's grey tags are dropped), hard line breaks.
- **De-duplication**: WeCom may push a message again (same ``msgid``, "可能因为网络等原因重复回调")
  without saying when. A repeated ``msgid`` is answered once: ignored if its answer went out, or
  given the answer that could not be delivered the first time (the connection dropped meanwhile).
- **Paging**: template-card button presses come back over the connection
  (``template_card_event``), so a list's 上一页/下一页 are buttons of a ``button_interaction`` card
  attached to the answer (``stream_with_template_card``). A press becomes
  ``Request(action=…)``; within WeCom's 5 s the card is updated in place to show the new page's
  number and buttons, and the page itself is pushed as a new message (a finished stream cannot be
  edited). Typed 下一页/上一页 work too.
- **Digests**: the smart robot can send to a chat on its own initiative (``aibot_send_msg``
  {chatid, msgtype markdown|template_card}; chatid is a group's chatid or a user's userid), so a
  ``/subscribe`` in a WeCom group makes the outbox call :meth:`WeComAdapter.send`, which pushes
  each part rendered by :func:`digests.render_robots.render_wecom` (Markdown ≤ 4,096 bytes). WeCom
  documents no rate for it: each chat is paced like a group robot (20 per minute), and a "too many
  calls" answer waits a minute.
- **Permissions**: a message names only ``from.userid``; nothing in the smart robot's API says who
  owns or manages a group. Users listed in ``[wecom] admins`` are admins; everyone else is a
  member, so only configured admins change a group's subscription or topics on WeCom.

Credentials are never logged: the secret travels only in the subscribe frame, and errors quote
WeCom's errcode and the first words of its errmsg (which names neither).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import re
import ssl
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.adapters.worker import HandlerWorker, RecentIds
from bot.config import AppConfig, Config
from bot.delivery.channels import ConnectError, Failure, SendError
from bot.delivery.pacing import Limit, Pacer
from bot.domain.models import Channel, app_chat, app_conversation
from bot.domain.safetext import cap, clean
from bot.texts import chat as T
from digests.render_robots import render_wecom
from handlers.commands import parse_line
from handlers.markup import to_markdown
from handlers.pager import turns_page
from handlers.permissions import Role
from handlers.request import Button, ChatType, Reply, Request, Style

log = logging.getLogger(__name__)

_FONT_TAGS = re.compile(r"</?font[^>]*>")
_SINGLE_BREAK = re.compile(r"(?<![\n ])\n(?!\n)")
# A line break that holds in CommonMark too (two trailing spaces), invisible where "\n" suffices.
LINE_BREAK = "  \n"

Frame = dict[str, Any]

# The protocol's commands (document path/101463; the official SDKs' WsCmd).
SUBSCRIBE = "aibot_subscribe"
PING = "ping"
MESSAGE_CALLBACK = "aibot_msg_callback"
EVENT_CALLBACK = "aibot_event_callback"
RESPOND = "aibot_respond_msg"
RESPOND_WELCOME = "aibot_respond_welcome_msg"
RESPOND_UPDATE = "aibot_respond_update_msg"
SEND = "aibot_send_msg"

HEARTBEAT_SECONDS = 30.0  # the SDKs' interval
MISSED_PINGS = 2  # unanswered pings before the connection counts as dead (as the SDKs)
OPEN_TIMEOUT = 15.0  # connecting and the subscription's answer
ANSWER_TIMEOUT = 10.0  # WeCom's answer to a reply or a push
CLOSE_TIMEOUT = 2.0
RECONNECT_START = 1.0
RECONNECT_CAP = 60.0
REFUSALS_BEFORE_GIVING_UP = 5  # refused subscriptions in a row while reconnecting
WORKING_AFTER = 2.0  # an answer slower than this is announced by an unfinished stream
EVENT_WINDOW = 5.0  # a card update must follow its event within 5 s (doc: 五秒内)
EVENT_MARGIN = 0.5
STREAM_LIMIT = 20480  # bytes of a stream's content
PUSH_LIMIT = 4096  # bytes of a pushed Markdown message (as the group robot's)
SEND_LIMITS = (Limit(20, 60.0),)  # per chat; WeCom documents none for aibot_send_msg
NOT_CONNECTED_WAIT = 30.0  # an outbox message waits this long while the connection is re-opened
OFFLINE_WAIT = 300.0  # … and this long once the adapter has stopped reconnecting
UNANSWERED_KEEP = 1000  # answers kept for a message WeCom may push again
CARD_TITLE_CHARS = 26  # "建议不超过26字"

TRANSIENT = frozenset({-1, 45009, 45033})  # system busy; too many calls: worth another try
RATE_LIMITED = frozenset({45009, 45033})
RATE_WAIT = 60.0
STREAM_EXPIRED = 846608  # a stream answered more than 6 minutes after the user's message
CHAT_GONE = frozenset({93006})  # invalid chatid: the robot is not (or no longer) in that chat
CREDENTIALS_REFUSED = frozenset({40001, 40014, 42001})
MESSAGE_REFUSED = frozenset({40008, 40058, 44004})  # bad type, bad or too long content, empty


class _Refused(Exception):
    """WeCom refused the subscription (the Bot ID or Secret)."""

    def __init__(self, code: object, message: str) -> None:
        super().__init__(f"errcode {code}: {message}")
        self.code = code
        self.message = message


class _Unreachable(Exception):
    """No subscribed connection could be opened (network, TLS, timeout, a busy server)."""


class _Offline(Exception):
    """There is no open connection to send on."""


def _req_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _dump(cmd: str, req_id: str, body: Frame | None) -> str:
    frame: Frame = {"cmd": cmd, "headers": {"req_id": req_id}}
    if body is not None:
        frame["body"] = body
    return json.dumps(frame, ensure_ascii=False)


def _parse(data: object) -> Frame | None:
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    if not isinstance(data, str):
        return None
    try:
        frame = json.loads(data)
    except ValueError:
        return None
    return frame if isinstance(frame, dict) else None


def _req_id_of(frame: Frame) -> str:
    headers = frame.get("headers")
    value = headers.get("req_id") if isinstance(headers, dict) else None
    return value if isinstance(value, str) else ""


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""


def errcode_of(answer: Frame) -> int | None:
    """The errcode of WeCom's answer (None when it has none)."""
    code = answer.get("errcode")
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def errmsg_of(answer: Frame) -> str:
    """WeCom's errmsg without its tail ("…, hint: [...], from ip: …, more info at …"), one line."""
    message = _string(answer.get("errmsg")).split(", hint:", 1)[0]
    return cap(clean(message), 100)


def send_error_for(code: int | None, message: str) -> SendError:
    """What WeCom's answer to a push means for the outbox."""
    detail = f"企业微信: errcode {code}: {message}"
    if code in RATE_LIMITED:
        return SendError(Failure.RETRY, f"{detail}（限流 rate limited）", RATE_WAIT)
    if code in CHAT_GONE:
        return SendError(Failure.GONE, detail)
    if code in CREDENTIALS_REFUSED:
        return SendError(Failure.BLOCKED, detail)
    if code in MESSAGE_REFUSED:
        return SendError(Failure.REJECTED, detail)
    return SendError(Failure.RETRY, detail)  # -1 (busy) and anything unknown: worth another try


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def app_markdown(content: str) -> str:
    """A group robot's Markdown (:func:`render_wecom`) in the smart robot's dialect.

    The smart robot's replies and pushes use Markdown as WeCom's documents define it for
    ``markdown_v2`` (the reply documents link there): no font colours, so the group robot's grey
    ``<font color="comment">`` tags are dropped and their text kept (text from outside never holds
    a ``<``: the renderer shows it as ＜, so every such tag is the renderer's own); and, should it
    join lines as CommonMark does, each single line break is made a hard one ("  \n")."""
    return _SINGLE_BREAK.sub(LINE_BREAK, _FONT_TAGS.sub("", content))


def _markdown(content: str) -> Frame:
    return {"msgtype": "markdown", "markdown": {"content": content}}


@dataclass(frozen=True, slots=True)
class Answer:
    """A reply rendered for WeCom: its lines as Markdown for a stream (``text``) and for a pushed
    message (``short``), the digest's parts (each ≤ 4,096 bytes), and the page buttons."""

    text: str
    short: str
    parts: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = ()
    title: str = ""

    @classmethod
    def of(cls, reply: Reply) -> Answer:
        digest = render_wecom(reply.digest) if reply.digest else []
        parts = tuple(app_markdown(m["markdown"]["content"]) for m in digest)
        return cls(
            to_markdown(reply, limit=STREAM_LIMIT, line_break=LINE_BREAK) if reply.lines else "",
            to_markdown(reply, limit=PUSH_LIMIT, line_break=LINE_BREAK) if reply.lines else "",
            parts,
            reply.buttons,
            card_title(reply),
        )

    @classmethod
    def of_text(cls, text: str) -> Answer:
        return cls(text, text)

    def stream(self) -> tuple[str, tuple[str, ...]]:
        """The stream's content (the lines and as many digest parts as fit) and the parts left to
        push as messages of their own."""
        content = self.text
        for index, part in enumerate(self.parts):
            joined = f"{content}\n\n{part}" if content else part
            if _utf8(joined) > STREAM_LIMIT:
                return content, self.parts[index:]
            content = joined
        return content, ()

    def pushed(self) -> tuple[str, ...]:
        """The answer as pushed messages (when it cannot be a stream reply)."""
        return tuple(m for m in (self.short, *self.parts) if m)


def card_title(reply: Reply) -> str:
    """The card's title: the reply's first bold line (a list's "“株洲”共 12 条，第 1/3 页"), or ""."""
    for line in reply.lines:
        if any(span.style is Style.BOLD for span in line):
            return cap(clean("".join(span.text for span in line)), CARD_TITLE_CHARS)
    return ""  # the card then says what its buttons do


def pager_card(answer: Answer, task_id: str) -> Frame:
    """A ``button_interaction`` template card with the answer's buttons: 上一页/下一页, or the
    feedback buttons of /why and /notrelevant ("不相关：上市", "采用方案 1")."""
    paging = all(turns_page(button.action) for button in answer.buttons)
    title = answer.title or (T.WECOM_PAGER_TITLE if paging else T.WECOM_BUTTONS_TITLE)
    return {
        "card_type": "button_interaction",
        "main_title": {"title": title, "desc": T.WECOM_PAGER_DESC if paging else T.WECOM_BUTTONS_DESC},
        "button_list": [
            {
                "text": button.label,
                "style": 1 if index == len(answer.buttons) - 1 else 2,
                "key": button.action,
            }
            for index, button in enumerate(answer.buttons[:6])
        ],
        "task_id": task_id,
    }


@dataclass(frozen=True, slots=True)
class _Sender:
    """Where a callback came from: the chat to answer in and who sent it."""

    conversation: str  # a group's chatid, or the user's userid one to one
    chat_type: ChatType
    user: str


def _sender(body: Frame) -> _Sender | None:
    sender = body.get("from")
    user = _string(sender.get("userid")) if isinstance(sender, dict) else ""
    if not user:
        return None
    if body.get("chattype") == "group":
        chatid = _string(body.get("chatid"))
        return _Sender(chatid, ChatType.GROUP, user) if chatid else None
    return _Sender(user, ChatType.PRIVATE, user)


def text_of(body: Frame) -> str | None:
    """What the user typed: a text's content, a voice message's transcript (语音转文字), or the text
    items of a mixed message; None for an image or a file."""
    kind = body.get("msgtype")
    if kind in ("text", "voice"):
        part = body.get(kind)
        return _string(part.get("content")) if isinstance(part, dict) else ""
    if kind == "mixed":
        mixed = body.get("mixed")
        items = mixed.get("msg_item") if isinstance(mixed, dict) else None
        texts = [
            _string(item["text"].get("content"))
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, dict) and item.get("msgtype") == "text" and isinstance(item.get("text"), dict)
        ]
        return " ".join(texts) if texts else None
    return None


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


class WeComAdapter:
    """The smart robot: keeps the long connection, answers commands, pushes the outbox's digests."""

    name = "企业微信"
    platform = "wecom"
    channel = Channel.WECOM

    def __init__(self, config: Config, app: AppConfig, now: Callable[[], datetime]) -> None:
        if not app.enabled:
            raise ValueError("no WeCom Bot ID and Secret configured")
        self.config = config
        self.app = app
        self._now = now
        self.worker = HandlerWorker(config, now, name="wecom-handlers")
        self.heartbeat_seconds = HEARTBEAT_SECONDS
        self.reconnect_start = RECONNECT_START
        self._recent = RecentIds()
        self._unanswered: OrderedDict[str, tuple[_Sender, Answer]] = OrderedDict()
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pending: dict[str, asyncio.Future[Frame]] = {}
        self._runner: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._pacers: dict[str, Pacer] = {}
        self._push_locks: dict[str, asyncio.Lock] = {}
        self._missed = 0
        self._kicked = False
        self._close_reason = ""
        self._gave_up = ""  # why the adapter stopped reconnecting ("" while it keeps trying)
        self._stopping = False

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the connection and subscribe; then keep it open in the background."""
        self._session = aiohttp.ClientSession(trust_env=True)
        try:
            ws, early = await self._open()
        except asyncio.CancelledError:
            await self.stop()  # the service is shutting down while connecting: it will not stop us
            raise
        except _Refused as error:
            raise ConnectError(self._refused_detail(error), permanent=True) from None
        except _Unreachable as error:
            raise ConnectError(f"企业微信 {_host(self.app.api_url)}: {error}", permanent=False) from None
        log.info("企业微信 智能机器人 connected (%s)", _host(self.app.api_url))
        self._runner = asyncio.create_task(self._run(ws, early), name="wecom-connection")

    async def stop(self) -> None:
        """Close the connection, stop reconnecting and the handlers (also after a failed start)."""
        if self._stopping:
            return
        self._stopping = True
        tasks = [task for task in (self._runner, *self._tasks) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()
        if self._session is not None:
            await self._session.close()
            self._session = None
        await asyncio.to_thread(self.worker.close)

    def _refused_detail(self, error: _Refused) -> str:
        return (
            f"企业微信 refused the Bot ID or Secret (${self.app.key_env}, ${self.app.secret_env}): "
            f"errcode {error.code}: {error.message}"
        )

    def _ssl(self) -> ssl.SSLContext | bool:
        # Python's default context: the system's CAs, or SSL_CERT_FILE / SSL_CERT_DIR when set.
        return ssl.create_default_context() if self.app.api_url.startswith("wss://") else True

    async def _open(self) -> tuple[aiohttp.ClientWebSocketResponse, list[Frame]]:
        """A subscribed connection, and the frames that arrived before the subscription's answer."""
        assert self._session is not None
        ws: aiohttp.ClientWebSocketResponse | None = None
        try:
            async with asyncio.timeout(OPEN_TIMEOUT):
                ws = await self._session.ws_connect(
                    self.app.api_url,
                    ssl=self._ssl(),
                    autoping=True,
                    heartbeat=None,  # WeCom's own ping frames keep the connection
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=CLOSE_TIMEOUT),
                    max_msg_size=16 * 1024 * 1024,
                )
                return await self._subscribe(ws)
        except TimeoutError:
            await self._discard(ws)
            raise _Unreachable(f"no connection within {OPEN_TIMEOUT:.0f} s") from None
        except (aiohttp.ClientError, OSError, ssl.SSLError) as error:
            await self._discard(ws)
            raise _Unreachable(f"{type(error).__name__}: {error}") from None
        except BaseException:
            await self._discard(ws)
            raise

    async def _subscribe(
        self, ws: aiohttp.ClientWebSocketResponse
    ) -> tuple[aiohttp.ClientWebSocketResponse, list[Frame]]:
        req_id = _req_id(SUBSCRIBE)
        await ws.send_str(_dump(SUBSCRIBE, req_id, {"bot_id": self.app.key, "secret": self.app.secret}))
        early: list[Frame] = []
        while True:
            message = await ws.receive()
            if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                frame = _parse(message.data)
                if frame is None:
                    continue
                if _req_id_of(frame) == req_id and not frame.get("cmd"):
                    break
                early.append(frame)
            elif message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                raise _Unreachable("the connection closed before the subscription was answered")
        code = errcode_of(frame)
        if code == 0:
            return ws, early
        await self._discard(ws)
        if code in TRANSIENT:
            raise _Unreachable(f"errcode {code}: {errmsg_of(frame)}")
        raise _Refused(code, errmsg_of(frame))

    @staticmethod
    async def _discard(ws: aiohttp.ClientWebSocketResponse | None) -> None:
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()

    async def _run(self, ws: aiohttp.ClientWebSocketResponse, early: list[Frame]) -> None:
        """Serve the connection; when it ends, open another, until stopped (or told to stop)."""
        while True:
            try:
                reason = await self._serve(ws, early)
            except Exception as error:  # a bug of ours must not leave the robot offline
                log.exception("企业微信: reading the connection failed")
                reason = f"{type(error).__name__}: {error}"
            if self._stopping:
                return
            if self._kicked:
                self._gave_up = (
                    "another connection subscribed with this Bot ID and took over (a second "
                    "finews-bot, or another program using the robot); not reconnecting, so that the "
                    "two do not keep taking the robot from each other: stop the other, then restart"
                )
                log.error("企业微信: %s", self._gave_up)
                self._spawn(self._record("stopped", self._gave_up))
                return
            log.warning("企业微信 connection lost (%s); reconnecting", reason)
            opened = await self._reconnect(reason)
            if opened is None:
                return
            ws, early = opened

    async def _reconnect(self, reason: str) -> tuple[aiohttp.ClientWebSocketResponse, list[Frame]] | None:
        delay = self.reconnect_start
        refusals = 0
        while True:
            wait = delay * (1 + 0.2 * random.random())
            self._spawn(self._record("retrying", reason, self._now() + timedelta(seconds=wait)))
            await asyncio.sleep(wait)
            try:
                opened = await self._open()
            except _Refused as error:
                refusals += 1
                reason = self._refused_detail(error)
                if refusals >= REFUSALS_BEFORE_GIVING_UP:
                    self._gave_up = reason
                    log.error("%s, %d times in a row: not reconnecting", reason, refusals)
                    self._spawn(self._record("refused", reason))
                    return None
                log.warning("%s; trying again", reason)
            except _Unreachable as error:
                reason = str(error)
                log.warning("企业微信 still unreachable (%s)", reason)
            except Exception as error:  # unexpected: said with its traceback, and tried again
                reason = f"{type(error).__name__}: {error}"
                log.exception("企业微信: reconnecting failed")
            else:
                log.info("企业微信 智能机器人 reconnected")
                self._spawn(self._record("connected"))
                return opened
            delay = min(delay * 2, RECONNECT_CAP)

    async def _record(self, state: str, detail: str = "", next_attempt: datetime | None = None) -> None:
        """Record the connection's state for ``finews-bot status`` (as the service does at start)."""
        await self.worker.record_state(self.platform, state, detail, next_attempt)

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse, early: list[Frame]) -> str:
        """Read frames until the connection ends; why it ended."""
        self._ws = ws
        self._missed = 0
        self._kicked = False
        self._close_reason = ""
        beat = asyncio.create_task(self._heartbeat(ws), name="wecom-heartbeat")
        try:
            for frame in early:
                self._on_frame(frame)
            async for message in ws:
                if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    parsed = _parse(message.data)
                    if parsed is None:
                        continue
                    try:
                        self._on_frame(parsed)
                    except Exception:  # one odd frame is not worth the connection
                        log.exception("企业微信: a frame could not be handled")
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            self._ws = None
            pending, self._pending = self._pending, {}
            for answer in pending.values():
                if not answer.done():
                    answer.set_exception(_Offline("the connection closed"))
            await self._discard(ws)
        if self._close_reason:
            return self._close_reason
        error = ws.exception()
        if error is not None:
            return f"dropped: {error}"
        return f"closed by 企业微信 (code {ws.close_code})"

    async def _heartbeat(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while not ws.closed:
            await asyncio.sleep(self.heartbeat_seconds)
            if self._missed >= MISSED_PINGS:
                self._close_reason = f"no answer to {self._missed} heartbeats"
                await ws.close()
                return
            self._missed += 1
            try:
                await ws.send_str(_dump(PING, _req_id(PING), None))
            except (aiohttp.ClientError, ConnectionError):
                return

    # --- frames -------------------------------------------------------------------------------

    def _on_frame(self, frame: Frame) -> None:
        cmd = frame.get("cmd")
        req_id = _req_id_of(frame)
        body = frame.get("body")
        if not cmd:  # WeCom's answer to one of our frames
            if req_id.startswith(PING + "_"):
                self._missed = 0
            answer = self._pending.get(req_id)
            if answer is not None and not answer.done():
                answer.set_result(frame)
            return
        if not isinstance(body, dict):
            return
        if cmd == MESSAGE_CALLBACK:
            self._spawn(self._on_message(req_id, body))
        elif cmd == EVENT_CALLBACK:
            event = body.get("event")
            kind = event.get("eventtype") if isinstance(event, dict) else None
            if kind == "disconnected_event":
                self._kicked = True  # WeCom closes this connection next
            elif kind == "template_card_event":
                self._spawn(self._on_card(req_id, body))
            elif kind == "enter_chat":
                self._spawn(self._on_enter(req_id, body))
            else:
                log.debug("企业微信 event %s ignored", kind)
        else:
            log.debug("企业微信 frame %s ignored", cmd)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("企业微信: handling a callback failed")

    async def _request(self, cmd: str, req_id: str, body: Frame) -> Frame:
        """Send one frame and return WeCom's answer to it (_Offline, TimeoutError)."""
        ws = self._ws
        if ws is None or ws.closed:
            raise _Offline("not connected")
        answer: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = answer
        try:
            try:
                await ws.send_str(_dump(cmd, req_id, body))
            except (aiohttp.ClientError, ConnectionError) as error:
                raise _Offline(str(error)) from None
            return await asyncio.wait_for(answer, ANSWER_TIMEOUT)
        finally:
            if self._pending.get(req_id) is answer:
                del self._pending[req_id]

    # --- messages -----------------------------------------------------------------------------

    def _role(self, user: str) -> Role:
        # WeCom names no group owners or admins: the configured admins are the only ones.
        return Role.ADMIN if user in self.app.admins else Role.MEMBER

    def _request_for(self, sender: _Sender, command: str, args: tuple[str, ...], action: str = "") -> Request:
        return Request(
            command=command,
            args=args,
            chat=app_chat(Channel.WECOM, sender.conversation),
            chat_type=sender.chat_type,
            user_id=sender.user,
            user_name=sender.user,
            channel=Channel.WECOM,
            role=self._role(sender.user),
            action=action,
        )

    async def _on_message(self, req_id: str, body: Frame) -> None:
        msgid = _string(body.get("msgid"))
        if msgid and not self._recent.first_time(msgid):
            held = self._unanswered.pop(msgid, None)
            if held is None:
                log.info("企业微信 pushed message %s again; it is answered once", msgid)
                return
            log.info("企业微信 pushed message %s again; sending the answer it missed", msgid)
            await self._answer(req_id, msgid, held[0], held[1], uuid.uuid4().hex)
            return
        sender = _sender(body)
        if sender is None:
            log.warning("企业微信 message without a chat or sender ignored")
            return
        if body.get("msgtype") == "stream":
            return  # a stream refresh (callback mode): the answer is already under way
        stream_id = uuid.uuid4().hex
        try:
            content = text_of(body)
            if content is None:
                answer = Answer.of_text(T.WECOM_TEXT_ONLY)
            else:
                command, args = parse_line(content)
                if sender.chat_type is ChatType.GROUP:
                    # The @mention of the robot stays in a group's text, wherever it was typed.
                    args = tuple(arg for arg in args if not arg.startswith("@"))
                reply = await self._handle(req_id, stream_id, self._request_for(sender, command, args))
                answer = Answer.of(reply)
        except Exception:
            log.exception("企业微信: answering message %s failed", msgid)
            answer = Answer.of_text(T.INTERNAL_ERROR)
        await self._answer(req_id, msgid, sender, answer, stream_id)

    async def _handle(self, req_id: str, stream_id: str, request: Request) -> Reply:
        """The reply to ``request``; a slow one is announced by an unfinished stream first."""
        work = asyncio.ensure_future(self.worker.handle(request))
        try:
            return await asyncio.wait_for(asyncio.shield(work), WORKING_AFTER)
        except TimeoutError:
            pass
        working = {
            "msgtype": "stream",
            "stream": {"id": stream_id, "finish": False, "content": T.WECOM_WORKING},
        }
        with contextlib.suppress(_Offline, TimeoutError):
            await self._request(RESPOND, req_id, working)
        return await work

    async def _answer(self, req_id: str, msgid: str, sender: _Sender, answer: Answer, stream_id: str) -> None:
        """Answer a message with one finished stream (and a page card); the rest as pushes."""
        content, rest = answer.stream()
        stream = {"id": stream_id, "finish": True, "content": content}
        body: Frame = {"msgtype": "stream", "stream": stream}
        if answer.buttons:
            card = pager_card(answer, f"finews_{uuid.uuid4().hex}")
            body = {"msgtype": "stream_with_template_card", "stream": stream, "template_card": card}
        try:
            result = await self._request(RESPOND, req_id, body)
        except (_Offline, TimeoutError) as error:
            if msgid:
                self._unanswered[msgid] = (sender, answer)
                while len(self._unanswered) > UNANSWERED_KEEP:
                    self._unanswered.popitem(last=False)
            log.warning(
                "企业微信: could not answer message %s (%s); kept for a repeat",
                msgid,
                str(error) or "no answer",
            )
            return
        code = errcode_of(result)
        if code != 0:
            if code == STREAM_EXPIRED:
                log.warning("企业微信: the answer to %s came after WeCom's 6 minutes; pushing it", msgid)
            else:
                log.warning(
                    "企业微信 refused the answer to %s (errcode %s: %s); pushing it",
                    msgid,
                    code,
                    errmsg_of(result),
                )
            rest = answer.pushed()
        for part in rest:
            await self._push_quietly(sender.conversation, part)

    async def _on_card(self, req_id: str, body: Frame) -> None:
        """A card button: the page it asks for, the card updated within 5 s, the page pushed."""
        started = time.monotonic()
        msgid = _string(body.get("msgid"))
        if msgid and not self._recent.first_time(msgid):
            return
        sender = _sender(body)
        event = body.get("event")
        card_event = event.get("template_card_event") if isinstance(event, dict) else None
        if sender is None or not isinstance(card_event, dict):
            return
        key, task_id = _string(card_event.get("event_key")), _string(card_event.get("task_id"))
        reply = await self.worker.handle(self._request_for(sender, "", (), action=key))
        answer = Answer.of(reply)
        if answer.buttons and task_id and time.monotonic() - started < EVENT_WINDOW - EVENT_MARGIN:
            update = {"response_type": "update_template_card", "template_card": pager_card(answer, task_id)}
            try:
                result = await self._request(RESPOND_UPDATE, req_id, update)
                if errcode_of(result) != 0:
                    log.info("企业微信 did not update the page card (errcode %s)", errcode_of(result))
            except (_Offline, TimeoutError):
                log.info("企业微信: the page card was not updated (no connection)")
        for part in answer.pushed():
            await self._push_quietly(sender.conversation, part)

    async def _on_enter(self, req_id: str, body: Frame) -> None:
        """A user opened the one-to-one chat: the welcome text (within 5 s)."""
        msgid = _string(body.get("msgid"))
        if msgid and not self._recent.first_time(msgid):
            return
        welcome = {"msgtype": "text", "text": {"content": "\n".join(T.WELCOME)}}
        with contextlib.suppress(_Offline, TimeoutError):
            await self._request(RESPOND_WELCOME, req_id, welcome)

    # --- pushes: digests and what does not fit an answer ---------------------------------------

    async def _push_quietly(self, conversation: str, content: str) -> None:
        try:
            await self._push(conversation, _markdown(content))
        except SendError as error:
            log.warning("企业微信: a message to %s was not sent: %s", conversation, error.detail)

    async def _push(self, conversation: str, message: Frame) -> str:
        """Push one message to a chat (paced per chat); WeCom's refusal as a SendError."""
        lock = self._push_locks.setdefault(conversation, asyncio.Lock())
        async with lock:  # one message of a chat at a time, in order
            pacer = self._pacers.setdefault(conversation, Pacer(SEND_LIMITS))
            wait = pacer.delay(time.monotonic())
            if wait > 0:
                log.info("企业微信 %s: pacing, next message in %.1f s", conversation, wait)
                await asyncio.sleep(wait)
            req_id = _req_id(SEND)
            try:
                result = await self._request(SEND, req_id, {"chatid": conversation, **message})
            except _Offline:
                raise self._offline() from None
            except TimeoutError:
                pacer.record(time.monotonic())
                raise SendError(Failure.RETRY, f"企业微信: no answer within {ANSWER_TIMEOUT:.0f} s") from None
            pacer.record(time.monotonic())
        code = errcode_of(result)
        if code != 0:
            raise send_error_for(code, errmsg_of(result))
        return req_id

    def _offline(self) -> SendError:
        if self._gave_up:
            return SendError(Failure.RETRY, f"企业微信 offline: {self._gave_up}", OFFLINE_WAIT)
        return SendError(Failure.RETRY, "企业微信: not connected, reconnecting", NOT_CONNECTED_WAIT)

    async def send(self, chat: str, body: str, format: str) -> str:
        """Push one outbox message (``body``: a WeCom robot's message as JSON) to ``wecom:<chat>``."""
        try:
            message = json.loads(body)
        except ValueError:
            raise SendError(Failure.REJECTED, "企业微信: the message is not JSON") from None
        if not isinstance(message, dict) or message.get("msgtype") not in ("markdown", "template_card"):
            raise SendError(
                Failure.REJECTED, "企业微信: only markdown and template_card messages can be pushed"
            )
        markdown = message.get("markdown")
        if isinstance(markdown, dict) and isinstance(markdown.get("content"), str):
            message = {**message, "markdown": {**markdown, "content": app_markdown(markdown["content"])}}
        return await self._push(app_conversation(chat), message)
