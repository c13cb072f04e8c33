"""The Feishu (飞书) adapter: the app bot's long connection inside ``finews-bot run``.

Events come over lark-oapi's long connection (``lark_oapi.ws.Client``); answers go out through
Feishu's IM APIs, called here with httpx so that this module decides about tokens, errors and
pacing (the SDK fetches tenant tokens with blocking ``requests`` and never refreshes one Feishu
refused).

The long connection (lark-oapi 1.7.x, ``lark_oapi/ws/client.py``):

- ``ws.Client.start()`` blocks for ever on the module's event loop and has no ``stop()``. It runs
  here in a daemon thread with an event loop of its own (set as the module's ``loop`` before
  ``start()``); stopping disables the SDK's reconnects, stops that loop, cancels its tasks, closes
  the WebSocket and closes the loop (:class:`_LongConnection`).
- Handlers are synchronous and run on the SDK's loop; the ack goes out when a handler returns, and
  Feishu pushes an event again (same ``header.event_id``) when no ack came within 3 s. So a handler
  only drops an event it has seen (:class:`~bot.adapters.worker.RecentIds`) and hands the event to
  the service's loop; the work (the query, in the :class:`~bot.adapters.worker.HandlerWorker`, then
  the reply) happens there, after the ack.
- The SDK reconnects by itself after a dropped connection, as the endpoint's ClientConfig says.
  When a reconnect fails for good (the endpoint refuses the app, or ``ReconnectCount`` runs out)
  it stops trying and stays disconnected without a word: the adapter notices (the reconnect task
  ends with an error), asks Feishu whether the credentials still hold, and either opens a new
  connection (with back-off) or records the platform as refused for ``finews-bot status``.
- Its "Lark" logger logs the WebSocket URL (with the ticket and access key) at INFO and writes to
  stdout through its own handler as well as propagating: it is kept at WARNING, its own handler is
  removed, and a filter blanks secrets out of whatever it still logs.

Replies: a reply with buttons (上一页/下一页) is an interactive card whose buttons come back over
the long connection (``card.action.trigger``) and whose page is then replaced in place with
``PATCH`` (both cards say ``update_multi``); any other reply is a ``post`` (rich text: links and
bold, nothing to escape). Digests — ``Reply.digest`` and the outbox's deliveries — are the
``post`` messages :func:`digests.render_robots.render_feishu` renders, created in the chat.

Who is who: a sender's ``open_id`` always arrives; it is an admin when listed in ``[feishu]
admins``. A group's owner and managers come from the chat-info API (``owner_id``,
``user_manager_id_list``), asked only for commands that need them and cached for a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.adapters.worker import HandlerWorker, RecentIds
from bot.config import AppConfig, Config
from bot.delivery.channels import ConnectError, Failure, SendError
from bot.delivery.pacing import Limit, Pacer
from bot.domain.models import Channel, app_chat, app_conversation
from bot.domain.safetext import ELLIPSIS, html_to_text, safe_url
from bot.texts import chat as T
from bot.texts import cli as cli_texts
from digests.render_robots import render_feishu
from handlers.commands import action_needs_admin, find_command, parse_line
from handlers.markup import text_reply, to_markdown
from handlers.permissions import Role
from handlers.request import ChatType, Context, Reply, Request, Span, Style

log = logging.getLogger(__name__)

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
MESSAGES_PATH = "/open-apis/im/v1/messages"
CHATS_PATH = "/open-apis/im/v1/chats"

# How long start() waits for the long connection (importing lark-oapi alone takes about 2 s).
CONNECT_TIMEOUT = 30.0
# How long stop() waits for the SDK's thread; it may be stuck in the SDK's blocking endpoint call
# (``requests.post`` without a timeout), and is then left to end with the process (a daemon).
STOP_TIMEOUT = 10.0
# Answers still being worked on at stop get this long before they are cancelled.
ANSWER_GRACE = 5.0
# A reconnect the adapter makes itself (after the SDK gave up): 5 s, doubling up to 5 minutes.
RESTART_START = 5.0
RESTART_CAP = 300.0
HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_ANSWER_BYTES = 256 * 1024
# A group's owner and managers are asked of Feishu at most this often per group.
ADMIN_CACHE_SECONDS = 60.0
# Feishu: a post's or a card's content at most 30 KB, a text's 150 KB (发送消息: content).
CONTENT_LIMIT = 30 * 1024
POST_LIMIT = CONTENT_LIMIT - 1024
CARD_TEXT_LIMIT = 20_000
SPAN_CHARS = 2000
# 发送消息 / 回复消息: 1000 per minute and 50 per second for the app; 5 per second to one chat
# (shared by every bot in a group).
APP_LIMITS = (Limit(50, 1.0), Limit(1000, 60.0))
CHAT_LIMITS = (Limit(5, 1.0),)
# A user's reply meeting a rate limit waits at most this long once.
REPLY_RATE_WAIT_CAP = 30.0

# Feishu's codes (HTTP 200 with a non-zero code is an error too).
TOKEN_INVALID = frozenset({99991661, 99991663, 99991668})  # missing, invalid or expired token
RATE_LIMITED = frozenset({99991400, 230020, 11232})
# The chat cannot be reached any more: bot removed, chat dissolved, user out of the bot's range,
# resigned, or blocking the bot; the group does not let the bot speak; no such chat.
GONE = frozenset({230002, 232009, 230013, 230029, 230053, 230035, 230018, 230034, 232011})
# The app is not allowed to send at all: no bot capability, a permission (scope) missing.
APP_REFUSED = frozenset({230006, 230027, 99991672, 99991679})
# This message is refused for good: malformed, too long, sensitive, failed review, bad card.
REJECTED = frozenset({230001, 230022, 230025, 230028, 230054, 230055, 230075, 230099, 9499})
# The long connection's handshake refused for too many connections (the SDK's EXCEED_CONN_LIMIT).
EXCEED_CONN_LIMIT = 1000040350
# How a subscription paused because Feishu refused the credentials is recognised at the next start.
REFUSED_MARK = "飞书拒绝了应用凭据"

_UNSAFE = re.compile("[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f-\x9f]")
_URL_SECRETS = re.compile(r"((?:ticket|access_key|app_secret|AppSecret)=)[^&\s'\"]+", re.IGNORECASE)
_BEARER = re.compile(r"\b[tu]-[0-9A-Za-z_.-]{16,}")


# --- logging --------------------------------------------------------------------------------------


class _LarkLogFilter(logging.Filter):
    """Blanks secrets out of the SDK's log records, and remembers its last error (the cause of a
    failed first connection, which the SDK only logs)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()
        self.last_error = ""

    def redact(self, text: str) -> str:
        return _redact(text, sorted(self.secrets, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.levelno >= logging.ERROR:
            self.last_error = cleaned
        return True


_LARK_FILTER = _LarkLogFilter()


def _quiet_lark_logger(lark_log: Any) -> None:
    """The SDK's "Lark" logger at WARNING, through our handlers only, with secrets blanked out."""
    logger = logging.getLogger("Lark")
    own = getattr(lark_log, "handler", None)
    if isinstance(own, logging.Handler):
        logger.removeHandler(own)  # it writes to stdout besides propagating: every line twice
    logger.setLevel(logging.WARNING)
    logger.addFilter(_LARK_FILTER)  # added once, however many adapters


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _BEARER.sub("***", _URL_SECRETS.sub(r"\1***", text))


# --- the IM APIs ----------------------------------------------------------------------------------


class FeishuApiError(Exception):
    """A Feishu API call failed. ``refused``: the app's credentials are refused (retrying cannot
    help); ``transient``: a timeout, a network error or a server error (worth another try)."""

    def __init__(
        self,
        detail: str,
        *,
        code: int | None = None,
        status: int | None = None,
        refused: bool = False,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.status = status
        self.refused = refused
        self.transient = transient
        self.retry_after = retry_after


def _json_body(response: httpx.Response) -> dict[str, Any] | None:
    try:
        value = json.loads(response.content[:MAX_ANSWER_BYTES])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _wait_of(response: httpx.Response) -> float | None:
    """Feishu's rate-limit wait (``x-ogw-ratelimit-reset``, else ``Retry-After``), in seconds."""
    for header in ("x-ogw-ratelimit-reset", "Retry-After"):
        value = response.headers.get(header, "").strip()
        with contextlib.suppress(ValueError):
            return max(float(value), 0.0)
    return None


class FeishuApi:
    """Feishu's open APIs the bot uses, with the app's tenant token (cached, refreshed before it
    expires and again when Feishu refuses it)."""

    def __init__(self, app: AppConfig, client: httpx.AsyncClient | None = None) -> None:
        if not app.key or not app.secret:
            raise ValueError("no Feishu credentials configured")
        self.app = app
        self._client = client
        self._token: str | None = None
        self._token_until = 0.0
        self._token_lock = asyncio.Lock()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.app.api_url, timeout=HTTP_TIMEOUT, follow_redirects=False
            )
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _detail(self, text: str) -> str:
        return _redact(text, (self.app.secret or "", self._token or ""))[:300]

    async def token(self, *, fresh: bool = False) -> str:
        """The tenant access token (fetched again when ``fresh``, or when it is about to expire)."""
        async with self._token_lock:
            if fresh or self._token is None or time.monotonic() >= self._token_until:
                self._token = None
                self._token, expire = await self._fetch_token()
                # Refreshed ten minutes before it expires, as the SDK does (half-way if it is short).
                self._token_until = time.monotonic() + max(expire - 600, expire / 2)
            return self._token

    async def _fetch_token(self) -> tuple[str, float]:
        body = {"app_id": self.app.key, "app_secret": self.app.secret}
        try:
            response = await self._http().post(
                TOKEN_PATH,
                content=json.dumps(body).encode(),
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        except httpx.TimeoutException as error:
            raise FeishuApiError(
                f"连接飞书超时 (timed out: {type(error).__name__})", transient=True
            ) from None
        except httpx.HTTPError as error:
            raise FeishuApiError(self._detail(f"无法连接飞书 ({error})"), transient=True) from None
        answer = _json_body(response)
        code = answer.get("code") if answer is not None else None
        token = answer.get("tenant_access_token") if answer is not None else None
        if response.status_code == 200 and code == 0 and isinstance(token, str) and token:
            expire = answer.get("expire") if answer is not None else None
            return token, float(expire) if isinstance(expire, int | float) and expire > 0 else 7200.0
        message = str(answer.get("msg", "")) if answer is not None else ""
        detail = self._detail(f"HTTP {response.status_code}, code {code}: {message}")
        if response.status_code >= 500 or response.status_code == 429 or code in RATE_LIMITED:
            raise FeishuApiError(
                f"飞书暂时无法签发令牌 ({detail})",
                code=code if isinstance(code, int) else None,
                status=response.status_code,
                transient=True,
                retry_after=_wait_of(response),
            )
        # Feishu answering no (10003 unknown app, 10014 wrong secret …), or not Feishu at all
        # (a wrong api_url): the configuration must change before anything can work.
        raise FeishuApiError(
            f"{REFUSED_MARK} ({detail})",
            code=code if isinstance(code, int) else None,
            status=response.status_code,
            refused=True,
        )

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Call an API; its ``data`` on success, else FeishuApiError. A token Feishu refuses is
        fetched again, and the call made once more."""
        for attempt in range(2):
            token = await self.token(fresh=attempt > 0)
            headers = {"Authorization": f"Bearer {token}"}
            content = None
            if body is not None:
                content = json.dumps(body, ensure_ascii=False).encode("utf-8")
                headers["Content-Type"] = "application/json; charset=utf-8"
            try:
                response = await self._http().request(
                    method, path, params=params, content=content, headers=headers
                )
            except httpx.TimeoutException as error:
                raise FeishuApiError(
                    f"飞书接口超时 (timed out: {type(error).__name__})", transient=True
                ) from None
            except httpx.HTTPError as error:
                raise FeishuApiError(self._detail(f"无法连接飞书 ({error})"), transient=True) from None
            answer = _json_body(response)
            code = answer.get("code") if answer is not None else None
            if response.status_code == 200 and code == 0 and answer is not None:
                data = answer.get("data")
                return data if isinstance(data, dict) else {}
            if code in TOKEN_INVALID and attempt == 0:
                continue  # refused token (expired early, or revoked): a fresh one, once
            raise self._error(response, answer)
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, response: httpx.Response, answer: dict[str, Any] | None) -> FeishuApiError:
        raw = answer.get("code") if answer is not None else None
        code = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
        message = str(answer.get("msg", "")) if answer is not None else "not a Feishu answer"
        detail = self._detail(f"HTTP {response.status_code}, code {code}: {message}")
        wait = _wait_of(response)
        if response.status_code == 429 or code in RATE_LIMITED:
            return FeishuApiError(
                f"{detail}（限流 rate limited）",
                code=code,
                status=response.status_code,
                transient=True,
                retry_after=wait if wait is not None else 1.0,
            )
        transient = response.status_code >= 500 or response.status_code == 408
        return FeishuApiError(detail, code=code, status=response.status_code, transient=transient)

    async def reply(self, message_id: str, msg_type: str, content: str) -> dict[str, Any]:
        """回复消息: answer a user's message (quoted above the answer)."""
        return await self.call(
            "POST",
            f"{MESSAGES_PATH}/{message_id}/reply",
            body={"msg_type": msg_type, "content": content},
        )

    async def create(
        self, chat_id: str, msg_type: str, content: str, *, uuid: str | None = None
    ) -> dict[str, Any]:
        """发送消息 to a chat; ``uuid``: Feishu sends one message per uuid within an hour."""
        body: dict[str, Any] = {"receive_id": chat_id, "msg_type": msg_type, "content": content}
        if uuid:
            body["uuid"] = uuid
        return await self.call("POST", MESSAGES_PATH, params={"receive_id_type": "chat_id"}, body=body)

    async def update_card(self, message_id: str, content: str) -> dict[str, Any]:
        """更新应用发送的消息卡片 (both cards must say ``update_multi``)."""
        return await self.call("PATCH", f"{MESSAGES_PATH}/{message_id}", body={"content": content})

    async def chat(self, chat_id: str) -> dict[str, Any]:
        """获取群信息: name, owner and managers (as open_ids)."""
        return await self.call("GET", f"{CHATS_PATH}/{chat_id}", params={"user_id_type": "open_id"})


def send_error_for(error: FeishuApiError) -> SendError:
    """What a failed send means for the outbox."""
    detail = error.detail
    if error.refused or error.code in APP_REFUSED:
        if not detail.startswith(REFUSED_MARK):
            detail = f"{REFUSED_MARK}或缺少权限 ({detail})"
        return SendError(Failure.BLOCKED, detail)
    if error.retry_after is not None:
        return SendError(Failure.RETRY, detail, error.retry_after)
    if error.transient:
        return SendError(Failure.RETRY, detail)
    if error.code in GONE:
        return SendError(Failure.GONE, detail)
    if error.code in REJECTED:
        return SendError(Failure.REJECTED, detail)
    return SendError(Failure.RETRY, detail)  # unknown: worth another try, within the outbox's limit


# --- rendering ------------------------------------------------------------------------------------


def _safe(text: str) -> str:
    """Text that JSON can carry and Feishu shows: lone surrogates and control characters go."""
    return _UNSAFE.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else " ", text)


def _dumps(value: Any) -> str:
    """JSON as Feishu gets it (a message's ``content`` is a string of JSON): compact, UTF-8."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_bytes(value: Any) -> int:
    return len(_dumps(value).encode("utf-8"))


def _post_node(span: Span) -> dict[str, Any]:
    text = _safe(span.text[:SPAN_CHARS])
    if span.style is Style.LINK and (url := safe_url(span.url)):
        return {"tag": "a", "text": text, "href": url}
    node: dict[str, Any] = {"tag": "text", "text": text}
    if span.style is Style.BOLD:
        node["style"] = ["bold"]
    elif span.style is Style.ITALIC:
        node["style"] = ["italic"]
    return node


def reply_post(reply: Reply, limit: int = POST_LIMIT) -> dict[str, Any]:
    """A reply's lines as a ``post``'s content ({"zh_cn": {"content": [[…]]}}), at most ``limit``
    bytes of JSON: whole trailing lines go, and "…" says so."""
    paragraphs = [
        [_post_node(span) for span in line if span.text] or [_post_node(Span(""))] for line in reply.lines
    ]

    def post(content: list[list[dict[str, Any]]]) -> dict[str, Any]:
        return {"zh_cn": {"content": content}}  # no title: the answer is its first line

    if _json_bytes(post(paragraphs)) <= limit:
        return post(paragraphs)
    ellipsis = [_post_node(Span(ELLIPSIS))]
    budget = limit - _json_bytes(post([ellipsis]))
    kept: list[list[dict[str, Any]]] = []
    for paragraph in paragraphs:
        cost = _json_bytes(paragraph) + 1
        if cost > budget:
            break
        kept.append(paragraph)
        budget -= cost
    return post([*kept, ellipsis])


def reply_card(reply: Reply) -> dict[str, Any]:
    """A reply as an interactive card: its lines as Markdown, its buttons as buttons whose
    ``value`` carries the action. ``update_multi``: the card can be replaced (a page turned)."""
    text = to_markdown(reply, limit=CARD_TEXT_LIMIT) if reply.lines else ELLIPSIS
    elements: list[dict[str, Any]] = [{"tag": "markdown", "content": text}]
    if reply.buttons:
        elements.append(
            {
                "tag": "action",
                "actions": [
                    {
                        "tag": "button",
                        "text": {"tag": "plain_text", "content": _safe(button.label)},
                        "type": "default",
                        "value": {"action": button.action},
                    }
                    for button in reply.buttons
                ],
            }
        )
    return {"config": {"wide_screen_mode": True, "update_multi": True}, "elements": elements}


def reply_message(reply: Reply) -> tuple[str, str]:
    """(msg_type, content) of a reply's lines: a card when it has buttons, else a post."""
    if reply.buttons:
        return "interactive", _dumps(reply_card(reply))
    return "post", _dumps(reply_post(reply))


def app_message(body: str, format: str) -> tuple[str, str]:
    """(msg_type, content) for the IM API of an outbox message: the group robot's JSON message
    (``{"msg_type": "post", "content": {"post": {"zh_cn": …}}}``) or, for any other format, text."""
    if format != "json":
        text = html_to_text(body) if format == "html" else body
        return "text", _dumps({"text": _safe(text)})
    message = json.loads(body)
    if not isinstance(message, dict) or not isinstance(message.get("content"), dict):
        raise ValueError("not a Feishu robot message")
    msg_type = str(message.get("msg_type", ""))
    content = message["content"]
    if msg_type == "post":
        content = content.get("post")  # the robot wraps the locales in "post"; the IM API does not
        if not isinstance(content, dict):
            raise ValueError("a post without content")
    return msg_type, _dumps(content)


# --- incoming events ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A user's message to the bot (``im.message.receive_v1``), read off the SDK's event."""

    event_id: str
    message_id: str
    chat_id: str
    chat_type: ChatType
    open_id: str
    text: str | None  # None: not text (an image, a file …)


@dataclass(frozen=True, slots=True)
class CardPress:
    """A button pressed on one of the bot's cards (``card.action.trigger``)."""

    event_id: str
    message_id: str
    chat_id: str
    open_id: str
    action: str


def message_text(message_type: str, content: str, mention_keys: Sequence[str]) -> str | None:
    """The text a user typed: ``content`` is a JSON string; mentions arrive as keys in the text
    ("@_user_1 最新 株洲") and are dropped. None for messages that are not text."""
    try:
        parsed = json.loads(content)
    except (TypeError, ValueError):
        return None
    if not isinstance(parsed, dict):
        return None
    if message_type == "text":
        text = parsed.get("text")
        if not isinstance(text, str):
            return None
    elif message_type == "post":  # rich text typed in the composer: its text and link nodes
        body = parsed.get("content")
        if body is None:  # {"zh_cn": {"title", "content"}}
            locale = next((v for v in parsed.values() if isinstance(v, dict)), {})
            body = locale.get("content")
        if not isinstance(body, list):
            return None
        words = [
            node.get("text", "")
            for paragraph in body
            if isinstance(paragraph, list)
            for node in paragraph
            if isinstance(node, dict) and node.get("tag") in ("text", "a")
        ]
        text = " ".join(word for word in words if isinstance(word, str))
    else:
        return None
    for key in sorted(mention_keys, key=len, reverse=True):  # "@_user_10" before "@_user_1"
        if key:
            text = text.replace(key, " ")
    return text


def _incoming_message(data: Any) -> IncomingMessage | None:
    """An ``im.message.receive_v1`` event (lark-oapi's P2ImMessageReceiveV1) as our value."""
    event, header = data.event, data.header
    message, sender = event.message, event.sender
    if sender is None or sender.sender_type not in (None, "user"):
        return None  # another app's message
    open_id = sender.sender_id.open_id if sender.sender_id is not None else None
    if not (header.event_id and message.message_id and message.chat_id and open_id):
        return None
    keys = [m.key for m in (message.mentions or []) if isinstance(m.key, str)]
    return IncomingMessage(
        event_id=header.event_id,
        message_id=message.message_id,
        chat_id=message.chat_id,
        chat_type=ChatType.PRIVATE if message.chat_type == "p2p" else ChatType.GROUP,
        open_id=open_id,
        text=message_text(message.message_type or "", message.content or "", keys),
    )


def _card_press(data: Any) -> CardPress | None:
    """A ``card.action.trigger`` callback (lark-oapi's P2CardActionTrigger) as our value."""
    event, header = data.event, data.header
    if event is None or event.action is None or event.context is None or event.operator is None:
        return None
    value = event.action.value
    action = value.get("action") if isinstance(value, dict) else None
    context = event.context
    if not (isinstance(action, str) and header.event_id and context.open_message_id and context.open_chat_id):
        return None
    return CardPress(
        event_id=header.event_id,
        message_id=context.open_message_id,
        chat_id=context.open_chat_id,
        open_id=event.operator.open_id or "",
        action=action,
    )


# --- the long connection --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Failure:
    """Why the long connection is not up: ``permanent`` when only a new configuration can help;
    ``cause``: the SDK's error as it said it."""

    detail: str
    permanent: bool
    cause: str = ""


def _failure_of(error: BaseException) -> _Failure:
    """What an exception out of the SDK means (its ClientException: the endpoint refused us)."""
    text = _LARK_FILTER.redact(str(error))[:200] or type(error).__name__
    if type(error).__name__ == "ClientException":
        code = getattr(error, "code", None)
        if code == EXCEED_CONN_LIMIT:
            return _Failure(f"飞书长连接数已达上限 ({text})", permanent=False, cause=text)
        return _Failure(f"{REFUSED_MARK}：长连接被拒绝 ({text})", permanent=True, cause=text)
    cause = f"{type(error).__name__}: {text}"
    return _Failure(f"飞书长连接失败 ({cause})", permanent=False, cause=cause)


class _LongConnection:
    """lark-oapi's ``ws.Client`` in a daemon thread, on an event loop of its own.

    Everything of the SDK happens in that thread: it is imported there (its ``ws/client.py`` takes
    the thread's loop at import; a later connection sets the module's ``loop`` again), its client
    is built there (its cache starts a task on the current loop), and its handlers run there. The
    adapter hears of it only through ``notify`` — callbacks run on the adapter's loop.
    """

    def __init__(
        self,
        app: AppConfig,
        *,
        on_message: Callable[[IncomingMessage], None],
        on_press: Callable[[CardPress], None],
        notify: Callable[..., None],
        on_lost: Callable[[_LongConnection, _Failure], None],
        on_reconnecting: Callable[[_LongConnection], None],
        on_reconnected: Callable[[_LongConnection], None],
    ) -> None:
        self._app = app
        self._on_message = on_message
        self._on_press = on_press
        self._notify = notify
        self._on_lost = on_lost
        self._on_reconnecting = on_reconnecting
        self._on_reconnected = on_reconnected
        self.loop = asyncio.new_event_loop()
        self.client: Any = None
        self.up = threading.Event()  # connected at least once
        self.first_failed = threading.Event()  # the first connection failed: the SDK retries alone
        self.finished = threading.Event()  # the thread is over, its loop closed
        self.failure: _Failure | None = None
        self._stopping = False
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="feishu-long-connection", daemon=True)

    def start(self) -> None:
        """Start the thread (the connection opens there)."""
        self._thread.start()

    @property
    def alive(self) -> bool:
        """Whether the thread still runs."""
        return self._thread.is_alive()

    def connected(self) -> bool:
        """Whether the WebSocket is open now (the SDK keeps it in ``_conn``, client.py:225)."""
        client = self.client
        return client is not None and getattr(client, "_conn", None) is not None

    async def wait_up(self, timeout: float) -> _Failure | None:
        """None once connected; else why not, after at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self.up.is_set():
            if self.finished.is_set():
                return self.failure or _Failure("飞书长连接线程已退出", permanent=False)
            if self.first_failed.is_set():
                cause = _LARK_FILTER.last_error or "原因见日志"
                return _Failure(f"未能建立飞书长连接 ({cause[:200]})", permanent=False)
            if time.monotonic() > deadline:
                return _Failure(f"{timeout:.0f} 秒内未能建立飞书长连接", permanent=False)
            await asyncio.sleep(0.05)
        return None

    # --- the SDK's thread -----------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            import lark_oapi as lark  # about 2 s: here, off the service's loop
            import lark_oapi.core.log as lark_log
            import lark_oapi.ws.client as lark_ws_client

            _quiet_lark_logger(lark_log)
            _LARK_FILTER.last_error = ""
            lark_ws_client.loop = self.loop  # start() runs (and every task goes) on this loop
            handler = (
                lark.EventDispatcherHandler.builder("", "")
                .register_p2_im_message_receive_v1(self._message)
                .register_p2_card_action_trigger(self._press)
                .build()
            )
            client = lark.ws.Client(
                self._app.key,
                self._app.secret,
                log_level=lark.LogLevel.WARNING,
                event_handler=handler,
                domain=self._app.api_url,
            )
            client.on_reconnecting = self._reconnecting
            client.on_reconnected = self._reconnected
            self.client = client
            if self._stopping:
                return
            self.loop.create_task(self._watch_up())
            client.start()  # returns only by an error or when the loop is stopped
        except BaseException as error:
            if not self._stopping:
                self.failure = _failure_of(error)
                log.debug("Feishu long connection ended: %s", self.failure.detail)
        finally:
            self._close_loop()
            self.finished.set()

    async def _watch_up(self) -> None:
        while not self.connected():
            await asyncio.sleep(0.02)
        self.up.set()

    def _message(self, data: Any) -> None:
        """The SDK's handler: hand the message over and return at once (the return is the ack)."""
        try:
            incoming = _incoming_message(data)
        except Exception:
            log.exception("an unreadable Feishu message event")
            return
        if incoming is not None:
            self._on_message(incoming)

    def _press(self, data: Any) -> None:
        try:
            press = _card_press(data)
        except Exception:
            log.exception("an unreadable Feishu card callback")
            return None
        if press is not None:
            self._on_press(press)
        return None  # an empty answer: the card is replaced by PATCH once the page is ready

    def _reconnecting(self) -> None:
        """The SDK lost its connection (or could not make the first one) and starts retrying."""
        if not self.up.is_set():
            self.first_failed.set()
        else:
            self._notify(self._on_reconnecting, self)
        task = asyncio.current_task()
        if task is not None:
            # The task that runs the reconnect ends with an error when the SDK gives up for good.
            task.add_done_callback(self._reconnect_over)

    def _reconnect_over(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        error = task.exception()  # retrieved here: no "exception was never retrieved" later
        if error is None or self._stopping or not self.up.is_set():
            return
        self._notify(self._on_lost, self, _failure_of(error))

    def _reconnected(self) -> None:
        self._notify(self._on_reconnected, self)

    def _drive(self, make: Callable[[], Awaitable[Any]], timeout: float) -> None:
        """Run ``make()`` to its end on the (stopped) loop, within ``timeout``."""
        future = asyncio.ensure_future(asyncio.wait_for(make(), timeout), loop=self.loop)
        for _ in range(5):  # a late stop() request interrupts run_until_complete: resume
            try:
                self.loop.run_until_complete(future)
                return
            except RuntimeError:
                if future.done():
                    return
            except BaseException:
                return

    def _close_loop(self) -> None:
        """Cancel the SDK's tasks, close its WebSocket, close the loop (in the thread)."""
        self._closing = True
        loop = self.loop
        try:
            client = self.client
            if client is not None:
                client._auto_reconnect = False
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                self._drive(lambda: asyncio.wait(pending), 3.0)
            if client is not None and getattr(client, "_conn", None) is not None:
                self._drive(client._disconnect, 5.0)  # a close frame, then the socket closed
            self._drive(loop.shutdown_asyncgens, 2.0)
        except Exception:
            log.warning("could not close the Feishu long connection cleanly", exc_info=True)
        finally:
            loop.close()

    # --- stopping, from the adapter's loop --------------------------------------------------------

    async def close(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Stop the SDK for good: no more reconnects, its loop stopped, the WebSocket closed.
        False when its thread did not end within ``timeout``."""
        self._stopping = True
        client = self.client
        if client is not None:
            client._auto_reconnect = False  # start()'s and the receive loop's retries end here
        if not self._thread.is_alive() and not self.finished.is_set():
            if self._thread.ident is None:  # never started
                self.loop.close()
                self.finished.set()
            return True
        deadline = time.monotonic() + timeout
        while not self.finished.is_set():
            if not self._closing:
                # Each stop ends the run_until_complete the SDK is in; start() then gives up.
                with contextlib.suppress(RuntimeError):
                    self.loop.call_soon_threadsafe(self.loop.stop)
            if time.monotonic() > deadline:
                log.warning("the Feishu long connection's thread did not stop within %.0f s", timeout)
                return False
            await asyncio.sleep(0.05)
        return True


# --- the adapter ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ChatInfo:
    name: str
    admins: frozenset[str]  # the owner's and the managers' open_ids


class FeishuAdapter:
    """The Feishu app bot: answers commands over the long connection, sends the outbox's digests."""

    name = "飞书"
    platform = "feishu"
    channel = Channel.FEISHU

    def __init__(self, config: Config, app: AppConfig, now: Callable[[], datetime]) -> None:
        if not app.enabled:
            raise ValueError("no Feishu credentials configured")
        self.config = config
        self.app = app
        self._now = now
        self.api = FeishuApi(app)
        self.worker = HandlerWorker(config, now, name="feishu")
        self.recent = RecentIds()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._link: _LongConnection | None = None
        self._recovery: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self._chat_info_cache: dict[str, tuple[float, _ChatInfo]] = {}
        self._chat_types: dict[str, ChatType] = {}
        self._app_pacer = Pacer(APP_LIMITS)
        self._chat_pacers: dict[str, Pacer] = {}
        self._pace_lock = asyncio.Lock()
        if app.secret:
            _LARK_FILTER.secrets.add(app.secret)

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the credentials (a tenant token), open the long connection, resume what waited."""
        self._loop = asyncio.get_running_loop()
        try:
            await self._open()
            log.info("Feishu long connection open (%s)", _host(self.app.api_url))
            await self._resume_refused()
        except asyncio.CancelledError:  # the service stopped while connecting: no thread left behind
            if self._link is not None:
                await self._link.close()
            raise

    async def _open(self) -> None:
        """A tenant token, then a new long connection; ConnectError when either fails."""
        try:
            await self.api.token(fresh=True)
        except FeishuApiError as error:
            raise ConnectError(
                self._refusal(error.detail) if error.refused else error.detail, permanent=error.refused
            ) from None
        link = _LongConnection(
            self.app,
            on_message=self._received_message,
            on_press=self._received_press,
            notify=self._notify,
            on_lost=self._lost,
            on_reconnecting=self._reconnecting,
            on_reconnected=self._reconnected,
        )
        self._link = link
        link.start()
        failure = await link.wait_up(CONNECT_TIMEOUT)
        if failure is not None:
            await link.close()
            detail = self._refusal(failure.detail) if failure.permanent else failure.detail
            raise ConnectError(detail, permanent=failure.permanent)

    def _refusal(self, detail: str) -> str:
        return f"{detail}；请检查 ${self.app.key_env} 和 ${self.app.secret_env}"

    async def stop(self) -> None:
        """Close the long connection, finish (or cancel) the answers in flight, close the rest."""
        self._stopping = True
        if self._recovery is not None:
            self._recovery.cancel()
            await asyncio.gather(self._recovery, return_exceptions=True)
        try:
            if self._link is not None:
                await self._link.close()
            if self._tasks:
                _done, pending = await asyncio.wait(set(self._tasks), timeout=ANSWER_GRACE)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
            await self.api.aclose()
        finally:
            await asyncio.to_thread(self.worker.close)

    def _notify(self, callback: Callable[..., None], *args: Any) -> None:
        """Run ``callback(*args)`` on the adapter's loop (called from the SDK's thread)."""
        loop = self._loop
        if loop is None or self._stopping:
            return
        with contextlib.suppress(RuntimeError):  # the service's loop is closing
            loop.call_soon_threadsafe(callback, *args)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _reconnecting(self, link: _LongConnection) -> None:
        if link is self._link and not self._stopping:
            log.warning("Feishu long connection lost; the SDK is reconnecting")
            self._spawn(self._record("connecting", cli_texts.PLATFORM_RECONNECTING))

    def _reconnected(self, link: _LongConnection) -> None:
        if link is self._link and not self._stopping:
            log.info("Feishu long connection open again")
            self._spawn(self._record("connected"))

    def _lost(self, link: _LongConnection, failure: _Failure) -> None:
        """The SDK gave up reconnecting: open a connection of our own (or record the refusal)."""
        if link is not self._link or self._stopping or self._recovery is not None:
            return
        log.warning("the Feishu SDK stopped reconnecting (%s): opening a new connection", failure.cause)
        self._recovery = asyncio.get_running_loop().create_task(self._recover(link))

    async def _recover(self, old: _LongConnection) -> None:
        try:
            await old.close()
            delay = RESTART_START
            while not self._stopping:
                try:
                    await self._open()
                except ConnectError as error:
                    if error.permanent:
                        log.error("%s; running without Feishu", error)
                        await self._record("refused", str(error))
                        return
                    log.warning("Feishu unreachable (%s); trying again in %.0f s", error, delay)
                    await self._record("retrying", str(error), self._now() + timedelta(seconds=delay))
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RESTART_CAP)
                    continue
                log.info("Feishu long connection open again (a new connection)")
                await self._record("connected")
                return
        finally:
            self._recovery = None

    async def _record(self, state: str, detail: str = "", next_attempt: datetime | None = None) -> None:
        """Record the connection's state for ``finews-bot status`` (as the service does at start)."""
        await self.worker.record_state(self.platform, state, detail, next_attempt)

    async def _resume_refused(self) -> None:
        """Subscriptions paused because Feishu refused the credentials go on now that it accepts
        them (a restart is how fixed credentials take effect); those paused for another reason
        (the bot removed from the group) stay paused."""

        def resume(ctx: Context) -> list[str]:
            with ctx.store.transaction():
                return ctx.store.resume_paused(Channel.FEISHU, ctx.now(), reason=REFUSED_MARK)

        try:
            for chat in await self.worker.call(resume):
                log.info("%s: resumed (Feishu accepts the credentials again)", chat)
        except Exception:
            log.exception("could not resume Feishu's paused subscriptions")

    # --- the outbox's channel -----------------------------------------------------------------

    async def send(self, chat: str, body: str, format: str) -> str:
        """Create one outbox message (a digest part) in the chat; SendError with what a failure
        means. The same part sent again within the hour (its answer was lost) is sent once: Feishu
        keeps one message per ``uuid``."""
        conversation = app_conversation(chat)
        try:
            msg_type, content = app_message(body, format)
        except ValueError as error:
            raise SendError(Failure.REJECTED, f"not a Feishu message: {error}") from None
        key = hashlib.sha256(f"{chat}\n{format}\n{body}".encode()).hexdigest()[:40]
        try:
            await self._pace(conversation)
            data = await self.api.create(conversation, msg_type, content, uuid=key)
        except FeishuApiError as error:
            raise send_error_for(error) from None
        return str(data.get("message_id") or key)

    async def _pace(self, chat_id: str) -> None:
        """Wait until one more message may go to ``chat_id`` (Feishu's per-chat and app limits)."""
        async with self._pace_lock:
            pacer = self._chat_pacers.setdefault(chat_id, Pacer(CHAT_LIMITS))
            now = time.monotonic()
            wait = max(pacer.delay(now), self._app_pacer.delay(now))
            # The slot is taken now, so that messages waiting at once are spaced, not bunched.
            pacer.record(now + wait)
            self._app_pacer.record(now + wait)
        if wait > 0:
            await asyncio.sleep(wait)

    # --- incoming events (called in the SDK's thread) -----------------------------------------

    def _received_message(self, message: IncomingMessage) -> None:
        if self.recent.first_time(message.event_id):
            self._notify(lambda: self._spawn(self._answer(message)))

    def _received_press(self, press: CardPress) -> None:
        if self.recent.first_time(press.event_id):
            self._notify(lambda: self._spawn(self._turn(press)))

    # --- answering (on the adapter's loop) ----------------------------------------------------

    async def _answer(self, message: IncomingMessage) -> None:
        try:
            await self._answer_message(message)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("error while answering a Feishu message in %s", message.chat_id)
            with contextlib.suppress(Exception):  # said in the log already
                await self._reply(message.message_id, message.chat_id, text_reply(T.INTERNAL_ERROR))

    async def _answer_message(self, message: IncomingMessage) -> None:
        self._chat_types[message.chat_id] = message.chat_type
        if message.text is None:
            await self._reply(message.message_id, message.chat_id, text_reply(T.TEXT_ONLY))
            return
        command, args = parse_line(message.text)
        found = find_command(command)
        ask = found is not None and found.needs_admin(message.chat_type)
        info = await self._chat_info(message.chat_id) if ask else None
        request = Request(
            command=command,
            args=args,
            chat=app_chat(Channel.FEISHU, message.chat_id),
            chat_type=message.chat_type,
            user_id=message.open_id,
            user_name="",  # Feishu sends no name with a message: /audit shows the open_id
            chat_title=info.name if info is not None else "",
            channel=Channel.FEISHU,
            role=self._role(message.open_id, message.chat_type, ask=ask, info=info),
        )
        reply = await self.worker.handle(request)
        await self._reply(message.message_id, message.chat_id, reply)

    def _role(self, open_id: str, chat_type: ChatType, *, ask: bool, info: _ChatInfo | None) -> Role:
        """A configured admin; in a group, when the command needs it, its owner or a manager as
        Feishu says — or unknown when Feishu could not be asked; else a member."""
        if open_id in self.app.admins:
            return Role.ADMIN
        if not ask or chat_type is ChatType.PRIVATE:
            return Role.MEMBER
        if info is None:
            return Role.UNKNOWN
        return Role.GROUP_ADMIN if open_id in info.admins else Role.MEMBER

    async def _chat_info(self, chat_id: str) -> _ChatInfo | None:
        """A group's name, owner and managers (cached for a minute); None when Feishu cannot say."""
        cached = self._chat_info_cache.get(chat_id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < ADMIN_CACHE_SECONDS:
            return cached[1]
        try:
            data = await self.api.chat(chat_id)
        except FeishuApiError as error:
            log.warning("could not ask Feishu who administers %s: %s", chat_id, error.detail)
            return None
        managers = data.get("user_manager_id_list")
        ids = [data.get("owner_id"), *(managers if isinstance(managers, list) else [])]
        info = _ChatInfo(str(data.get("name") or ""), frozenset(i for i in ids if isinstance(i, str) and i))
        self._chat_info_cache[chat_id] = (now, info)
        return info

    async def _turn(self, press: CardPress) -> None:
        """A card button: the next page replaces the card it was on; a feedback button ("不相关",
        "采用方案") is answered with a new message, once Feishu has said who pressed it."""
        try:
            chat_type = self._chat_types.get(press.chat_id, ChatType.GROUP)
            ask = action_needs_admin(press.action)
            info = await self._chat_info(press.chat_id) if ask and chat_type is ChatType.GROUP else None
            request = Request(
                command="",
                args=(),
                chat=app_chat(Channel.FEISHU, press.chat_id),
                chat_type=chat_type,
                user_id=press.open_id,
                channel=Channel.FEISHU,
                role=self._role(press.open_id, chat_type, ask=ask, info=info),
                action=press.action,
            )
            reply = await self.worker.handle(request)
            if reply.edit:
                content = _dumps(reply_card(reply))
                await self.api.update_card(press.message_id, content)
            else:
                await self._reply(press.message_id, press.chat_id, reply)
        except asyncio.CancelledError:
            raise
        except FeishuApiError as error:
            log.warning("could not turn the page in Feishu chat %s: %s", press.chat_id, error.detail)
        except Exception:
            log.exception("error while turning a page in Feishu chat %s", press.chat_id)

    async def _reply(self, message_id: str, chat_id: str, reply: Reply) -> None:
        """Answer a message: its lines as a reply to it, a digest after them in the chat. Feishu's
        refusals are logged, never raised (there is nobody to tell)."""
        try:
            if reply.lines or reply.buttons:
                msg_type, content = reply_message(reply)
                await self._paced(chat_id, lambda: self.api.reply(message_id, msg_type, content))
            if reply.digest is not None:
                for part in render_feishu(reply.digest):
                    kind, body = app_message(_dumps(part), "json")
                    await self._paced(chat_id, functools.partial(self.api.create, chat_id, kind, body))
        except FeishuApiError as error:
            log.warning("could not answer Feishu chat %s: %s", chat_id, error.detail)

    async def _paced(self, chat_id: str, call: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        """One paced call; a rate limit is waited out once (a user is waiting for the answer)."""
        await self._pace(chat_id)
        try:
            return await call()
        except FeishuApiError as error:
            if error.retry_after is None:
                raise
            await asyncio.sleep(min(error.retry_after, REPLY_RATE_WAIT_CAP))
            await self._pace(chat_id)
            return await call()


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]
