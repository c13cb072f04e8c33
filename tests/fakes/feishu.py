"""A local fake of Feishu's long connection (飞书长连接) and the IM APIs a bot replies with.

No emulator of Feishu exists. This fake speaks the protocol of ``lark-oapi``'s WebSocket client
(``lark_oapi/ws/client.py``) and the HTTP APIs of ``lark.Client`` on a real HTTP + WebSocket
server on 127.0.0.1 (``tests.fakes._aioserver``). Point the real SDK at it by its base URL:

- long connection: ``lark.ws.Client(app_id, app_secret, event_handler=..., domain=fake.url)``
  (``domain`` is the origin the client POSTs ``/callback/ws/endpoint`` to, ``client.py:266``; the
  WebSocket URL comes back in the answer);
- API calls: ``lark.Client.builder().app_id(...).app_secret(...).domain(fake.url).build()``
  (``http://`` is accepted for 127.0.0.1 only, and without a trailing slash, ``client.py:74-98``).

Sources. "doc": Feishu's documents as mirrored with their source URLs in the public repository
``wxkingstar/doc-hub-mcp`` (``feishu/003-服务端API/…``; "长连接" = 事件订阅/订阅流程/步骤一：选择订阅方式/
使用长连接接收事件.md, "回调" = 服务端-SDK/Python-SDK-指南/处理回调.md); "SDK": ``lark-oapi`` 1.7.5
as installed (file:line); "seen": responses quoted in public issues or code.

Connection
    - ``POST {domain}/callback/ws/endpoint`` JSON ``{"AppID", "AppSecret"}`` with headers
      ``locale: zh`` and a User-Agent (SDK ``client.py:252-309``). Answer ``{"code": 0, "msg":
      "ok", "data": {"URL": "ws://…/ws/v2?fpid=…&aid=…&device_id=…&access_key=…&service_id=…&
      ticket=…", "ClientConfig": {"ReconnectCount", "ReconnectInterval", "ReconnectNonce",
      "PingInterval"}}}``. The SDK reads ``device_id`` and ``service_id`` from the URL
      (``client.py:219-222``) and obeys ClientConfig (``client.py:468-472``); the fake's
      :class:`ClientConfig` defaults are the SDK's own defaults (``client.py:169-172``), tests
      shrink them. A wrong AppID/AppSecret: HTTP 200 ``{"code": 10014, "msg": "app secret
      invalid"}`` — the code the tenant-token API answers in public reports; what the endpoint
      itself answers is not documented. Any code but 0, 1 and 1000040343 makes the SDK raise
      ``ClientException`` with no retry (``client.py:296-303``): from ``start()`` on the first
      connect, and silently in the reconnect task later (the client then stays disconnected).
    - The handshake ``GET /ws/v2?…&ticket=T``. Tickets are single-use here (not documented).
      Refusals carry the headers the SDK parses (``client.py:102-122``): ``handshake-status``,
      ``handshake-msg``, ``handshake-autherrcode``. A bad ticket → 514 with a non-limit code
      (the SDK retries); more than ``max_connections`` (doc 长连接: 每个应用最多建立 50 个连接)
      → 514 with ``1000040350`` (``EXCEED_CONN_LIMIT``: the SDK raises ``ClientException``).

Frames are protobuf ``pbbp2.Frame`` (``tests.fakes._pbframe``; schema in
``lark_oapi/ws/pb/pbbp2_pb2.py``), binary WebSocket messages, ``service`` = the URL's service_id.

    - Ping: the client sends CONTROL (method 0) frames with header ``type: ping`` every
      PingInterval s (``client.py:49-59, 201-211``); the fake answers ``type: pong`` with the
      ClientConfig JSON as payload, which the SDK applies (``client.py:329-336``).
    - Events: DATA (method 1) frames with headers ``type: event``, ``message_id``, ``trace_id``,
      ``sum``, ``seq`` and the event JSON as payload (``client.py:338-355``). A payload longer
      than ``split_payload_over`` bytes is sent in ``sum`` parts that the SDK joins
      (``client.py:450-466``).
    - Acks: the client sends the same frame back with a ``biz_rt`` header and payload
      ``{"code": 200}`` (plus ``"data": base64(JSON)`` when the handler returned something —
      card callbacks), or ``{"code": 500}`` when the handler raised (``client.py:357-379``).
    - Re-push: "长连接模式下接收到消息后，需要在 3 秒内处理完成且不抛出异常，否则会触发超时重推机制"
      (doc 长连接). An event without a 200 ack within ``ack_timeout`` (3 s) is pushed again, same
      JSON (same ``header.event_id``), at most ``max_redeliveries`` times (default 3: the number and
      spacing of re-pushes are not documented; the HTTP mode retries 4 times over 6 h).
    - Each event goes to one live connection chosen at random (doc 长连接: 集群模式…随机一个).
      An event with no connection up is not queued (``undelivered``).

Events
    - ``im.message.receive_v1`` (:meth:`FeishuFake.say`), schema 2.0, as the doc's example
      (消息/消息管理/事件/接收消息.md): ``header`` {event_id (32 hex), event_type, create_time
      (ms string), token, app_id, tenant_key}; ``event.sender`` {sender_id {union_id, user_id,
      open_id}, sender_type "user", tenant_key}; ``event.message`` {message_id ``om_…``, root_id,
      parent_id, create_time, update_time, chat_id ``oc_…``, chat_type "group"|"p2p",
      message_type "text", content ``"{\\"text\\":\\"@_user_1 最新 株洲\\"}"`` (a JSON *string*),
      mentions [{key "@_user_1", id {…}, name, tenant_key}]}. ``user_id`` is only sent with the
      contact permission (``user_id_permission``, default False; SDK note in chinese-im.md).
    - Group messages reach the bot only when they @ it unless the app has the "获取群组中所有消息"
      permission (doc 接收消息: im:message.group_msg) — ``receive_all_group_messages``.
    - ``card.action.trigger`` (:meth:`card_action`): a button press on an interactive card the bot
      sent, delivered over the same connection (doc 回调: 使用长连接接收回调; the old card callback is
      not). Event body ``{operator {tenant_key, user_id, open_id, union_id}, token, action {value,
      tag}, host "im_message", context {open_message_id, open_chat_id}}`` (the SDK's model,
      ``lark_oapi/event/callback/model/p2_card_action_trigger.py``). The handler's return value
      comes back base64-encoded in the ack; a ``card`` of type ``raw`` in it replaces the message's
      card at once (doc 处理卡片回调: 3 秒内立即更新卡片), a ``toast`` is recorded.

HTTP APIs (answers ``{"code": 0, "msg": "success", "data": …}``; errors in Feishu's shape
``{"code", "msg", "error": {"log_id", "message"}}``)
    - ``POST /open-apis/auth/v3/tenant_access_token/internal`` ``{app_id, app_secret}`` →
      ``{"code": 0, "msg": "ok", "tenant_access_token": "t-…", "expire": 7200}`` (doc). Unknown
      app_id → ``10003 invalid param``; wrong secret → ``10014 app secret invalid`` (seen in a
      public runbook; the doc's table says 10015 "wrong app secret"), both HTTP 200.
    - Every IM call wants ``Authorization: Bearer t-…``: missing → ``99991661 Need a token``,
      unknown or expired (:meth:`expire_tokens`) → ``99991663 Invalid access token for
      authorization…`` (doc 如何解决 tenant token invalid (99991663) 错误), HTTP 400 (not
      verified). The SDK caches its token until 10 min before expiry and does not refetch on
      99991663.
    - ``POST /open-apis/im/v1/messages?receive_id_type=chat_id|open_id`` ``{receive_id, msg_type,
      content, uuid?}`` and ``POST /open-apis/im/v1/messages/:message_id/reply`` ``{msg_type,
      content, reply_in_thread?, uuid?}`` → the message (message_id, root_id, parent_id, msg_type,
      create_time, update_time, deleted, updated, chat_id, sender {id (app id), id_type "app_id",
      sender_type "app", tenant_key}, body {content}). ``content`` must be a string holding a JSON
      object (``text`` {text}; ``post`` {locale: {title?, content: [[…]]}}; ``interactive`` a card
      object). Refusals are HTTP 400 with the doc's codes: 230001 invalid parameter (bad JSON,
      missing field, unknown message or chat), 230025 too long (text 150 KB, post and cards
      30 KB), 230002 bot not in the chat (:meth:`remove_bot`). A repeated ``uuid`` within the
      hour returns the first message again (doc 发送消息: 幂等).
    - ``PATCH /open-apis/im/v1/messages/:message_id`` ``{content}`` updates a card the bot sent;
      both the old and the new card must say ``"config": {"update_multi": true}`` (doc 更新已发送的
      消息卡片), otherwise 230001. This is how a 下一页 button edits a page in place.
    - ``GET /open-apis/im/v1/chats/:chat_id?user_id_type=open_id`` → the chat's name, ``owner_id``,
      ``owner_id_type``, ``user_manager_id_list``, ``bot_manager_id_list`` (app ids), chat_mode,
      chat_type… (doc 群组管理/获取群信息.md). This is what Feishu exposes about group owners and
      admins: one call tells both. There is no separate "list managers" API (only add_managers and
      delete_managers). Unknown chat → 232006; the bot removed from it → 232011 (doc's table; the
      doc also says a non-member gets only name, avatar and counts — not modelled).

Fault injection: :meth:`fail_next_endpoints` (a Feishu code or an HTTP status from the endpoint),
:meth:`rotate_secret`, :meth:`expire_tokens`, :meth:`drop_connection` (TCP cut, no close frame),
:meth:`close_connection` (a close frame), :meth:`remove_bot`.

Not modelled: message types other than text/post/interactive in detail (image, file… are checked
only as JSON objects), ``PUT`` message edit, recall, thread replies' thread ids, rate limits
(230020, 99991400), the Lark (international) domain, encrypted events, ``url.preview.get``,
TLS. The ``verification token`` in event headers is always "".
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, cast

from aiohttp import WSMsgType, web

from tests.fakes import _ids
from tests.fakes import _pbframe as pb
from tests.fakes._aioserver import AioServer, PlatformFake

T = TypeVar("T")
Json = dict[str, Any]

ENDPOINT_PATH = "/callback/ws/endpoint"
WS_PATH = "/ws/v2"
TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
MESSAGES_PATH = "/open-apis/im/v1/messages"
TEXT_MAX_BYTES = 150 * 1024
CARD_MAX_BYTES = 30 * 1024
AUTH_FAILED = 514
EXCEED_CONN_LIMIT = 1000040350
MSG_TYPES = frozenset(
    {"text", "post", "interactive", "image", "file", "audio", "media", "sticker", "share_chat"}
)


@dataclass(frozen=True)
class ClientConfig:
    """What the endpoint and every pong tell the SDK (seconds)."""

    reconnect_count: int = -1
    reconnect_interval: int = 120
    reconnect_nonce: int = 30
    ping_interval: int = 120

    def to_json(self) -> Json:
        return {
            "ReconnectCount": self.reconnect_count,
            "ReconnectInterval": self.reconnect_interval,
            "ReconnectNonce": self.reconnect_nonce,
            "PingInterval": self.ping_interval,
        }


FAST_CONFIG = ClientConfig(reconnect_count=-1, reconnect_interval=1, reconnect_nonce=0, ping_interval=1)


@dataclass(frozen=True)
class FeishuUser:
    name: str
    open_id: str
    union_id: str
    user_id: str

    def ids(self, *, with_user_id: bool) -> Json:
        ids: Json = {"union_id": self.union_id, "open_id": self.open_id}
        if with_user_id:
            ids["user_id"] = self.user_id
        return ids


@dataclass(frozen=True)
class FeishuChat:
    chat_id: str
    name: str
    p2p: bool = False
    owner: FeishuUser | None = None
    managers: tuple[FeishuUser, ...] = ()


@dataclass(frozen=True)
class PushedEvent:
    """An event the fake pushed (first delivery)."""

    event_id: str
    event_type: str
    body: Json  # the whole event JSON (schema, header, event)

    @property
    def message_id(self) -> str:
        message = self.body.get("event", {}).get("message", {})
        value = message.get("message_id") if isinstance(message, dict) else None
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Delivery:
    frame_message_id: str
    connection_id: str
    event_id: str
    attempt: int
    parts: int
    at: float


@dataclass(frozen=True)
class Ack:
    frame_message_id: str
    event_id: str | None
    code: int | None
    data: object  # the decoded base64 JSON of the ack's data, or None
    headers: tuple[tuple[str, str], ...]
    connection_id: str
    at: float


@dataclass(frozen=True)
class SentMessage:
    """A message the bot sent (create or reply), with its current content."""

    message_id: str
    chat_id: str
    msg_type: str
    content: str
    via: str  # "create" or "reply"
    parent_id: str
    root_id: str
    at: float
    updates: int = 0  # PATCHes and card-callback updates applied since

    @property
    def json(self) -> Json:
        value = json.loads(self.content)
        return cast(Json, value) if isinstance(value, dict) else {}

    @property
    def text(self) -> str:
        """The text of a text message, else ""."""
        value = self.json.get("text") if self.msg_type == "text" else None
        return value if isinstance(value, str) else ""


def text_of(message: SentMessage) -> str:
    """What a user reads in a post, a card or a text."""
    body = message.json
    if message.msg_type == "post":
        locale = next(iter(body.values()))
        return "\n".join("".join(node.get("text", "") for node in line) for line in locale["content"])
    if message.msg_type == "interactive":
        return "\n".join(e["content"] for e in body["elements"] if e["tag"] == "markdown")
    return message.text


def buttons_of(message: SentMessage) -> dict[str, str]:
    """A card's buttons: label → action."""
    return {
        button["text"]["content"]: button["value"]["action"]
        for element in message.json.get("elements", [])
        if element["tag"] == "action"
        for button in element["actions"]
    }


@dataclass(frozen=True)
class Rejected:
    path: str
    status: int
    body: Json
    at: float


@dataclass(frozen=True)
class EndpointRequest:
    body: Json | None
    headers: Mapping[str, str]
    code: int | None  # the Feishu code answered, None for an HTTP fault
    status: int
    at: float


@dataclass(frozen=True)
class ConnectionInfo:
    connection_id: str
    device_id: str
    service_id: int
    opened_at: float
    closed_at: float | None
    how_closed: str | None
    pings: int


@dataclass
class _Connection:
    connection_id: str
    device_id: str
    service_id: int
    ws: web.WebSocketResponse
    request: web.Request
    opened_at: float
    closed_at: float | None = None
    how_closed: str | None = None
    pings: int = 0

    def info(self) -> ConnectionInfo:
        return ConnectionInfo(
            self.connection_id,
            self.device_id,
            self.service_id,
            self.opened_at,
            self.closed_at,
            self.how_closed,
            self.pings,
        )


@dataclass
class _Pending:
    event: PushedEvent
    attempt: int
    timer: asyncio.TimerHandle | None = None


@dataclass
class _Ticket:
    device_id: str
    service_id: int


@dataclass
class _Stored:
    message: SentMessage
    sender: str  # "bot" or a user's open_id
    uuid: str | None = None
    extra: Json = field(default_factory=dict)


class FeishuError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code}: {msg}")
        self.code, self.msg, self.status = code, msg, status


class FeishuFake(PlatformFake):
    """Feishu's long connection and IM APIs on 127.0.0.1.

    >>> with FeishuFake(client_config=FAST_CONFIG) as fake:
    ...     # lark.ws.Client(fake.app_id, fake.app_secret, event_handler=h, domain=fake.url).start()
    ...     fake.wait_for_connections(1)
    ...     fake.say("金融办工作群", "王主任", "最新 株洲")
    """

    NAME = "Feishu"

    def __init__(
        self,
        *,
        app_id: str | None = None,
        app_secret: str | None = None,
        bot_name: str = "金融资讯助手",
        client_config: ClientConfig | None = None,
        ack_timeout: float = 3.0,
        max_redeliveries: int = 3,
        max_connections: int = 50,
        token_ttl: int = 7200,
        split_payload_over: int | None = None,
        user_id_permission: bool = False,
        receive_all_group_messages: bool = False,
        port: int = 0,
    ) -> None:
        self.app_id = app_id or "cli_" + _ids.hexid(16)
        self.app_secret = app_secret or _ids.alnum(32)
        self.tenant_key = _ids.hexid(16)
        self.bot_name = bot_name
        self.bot = FeishuUser(bot_name, "ou_" + _ids.hexid(32), "on_" + _ids.hexid(32), "")
        self.client_config = client_config or ClientConfig()
        self.ack_timeout = ack_timeout
        self.max_redeliveries = max_redeliveries
        self.max_connections = max_connections
        self.token_ttl = token_ttl
        self.split_payload_over = split_payload_over
        self.user_id_permission = user_id_permission
        self.receive_all_group_messages = receive_all_group_messages
        self._server = AioServer(self._make_app, port=port, name="feishu-fake")
        self._cond = threading.Condition()
        self._tickets: dict[str, _Ticket] = {}
        self._connections: dict[str, _Connection] = {}
        self._pending: dict[str, _Pending] = {}
        self._tokens: dict[str, float] = {}
        self._users: dict[str, FeishuUser] = {}
        self._chats: dict[str, FeishuChat] = {}  # by name (groups) or "p2p:" + open_id
        self._bot_removed: set[str] = set()
        self._store: dict[str, _Stored] = {}  # message id -> message (users' and the bot's)
        self._endpoint_faults: list[tuple[int | None, int]] = []  # (feishu code, http status)
        self._endpoint_log: list[EndpointRequest] = []
        self._connection_log: list[_Connection] = []
        self._events: list[PushedEvent] = []
        self._undelivered: list[PushedEvent] = []
        self._deliveries: list[Delivery] = []
        self._acks: list[Ack] = []
        self._sent: list[str] = []  # ids of the bot's messages, in order
        self._toasts: list[Json] = []
        self._rejected: list[Rejected] = []
        self._seq = 0

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The ``domain`` for ``lark.ws.Client`` and ``lark.Client``: ``http://127.0.0.1:PORT``."""
        return self._server.url

    # --- people and chats ----------------------------------------------------------------------

    def user(self, name: str) -> FeishuUser:
        with self._cond:
            known = self._users.get(name)
            if known is None:
                known = FeishuUser(
                    name, "ou_" + _ids.hexid(32), "on_" + _ids.hexid(32), _ids.alnum(8, lower=True)
                )
                self._users[name] = known
            return known

    def chat(
        self,
        name: str,
        *,
        owner: str | FeishuUser | None = None,
        managers: Sequence[str | FeishuUser] = (),
    ) -> FeishuChat:
        """The group chat called ``name`` (the bot is a member), created on first use; ``owner`` and
        ``managers`` set who the chat-info API names."""
        owner_user = self.user(owner) if isinstance(owner, str) else owner
        manager_users = tuple(self.user(m) if isinstance(m, str) else m for m in managers)
        with self._cond:
            known = self._chats.get(name) or FeishuChat("oc_" + _ids.hexid(32), name)
            if owner_user is not None:
                known = replace(known, owner=owner_user)
            if managers:
                known = replace(known, managers=manager_users)
            self._chats[name] = known
            return known

    def p2p_chat(self, user: str | FeishuUser) -> FeishuChat:
        person = self.user(user) if isinstance(user, str) else user
        key = "p2p:" + person.open_id
        with self._cond:
            known = self._chats.get(key)
            if known is None:
                known = FeishuChat("oc_" + _ids.hexid(32), person.name, p2p=True, owner=person)
                self._chats[key] = known
            return known

    def remove_bot(self, chat: str | FeishuChat) -> None:
        """The bot leaves the chat: sends to it answer 230002 from now on."""
        target = self.chat(chat) if isinstance(chat, str) else chat
        with self._cond:
            self._bot_removed.add(target.chat_id)

    # --- driving the client --------------------------------------------------------------------

    def say(
        self,
        conversation: str | FeishuChat,
        user: str | FeishuUser,
        text: str,
        *,
        group: bool = True,
        at_bot: bool = True,
    ) -> PushedEvent | None:
        """A user sends ``text`` in the group ``conversation`` (a name or a chat), or to the bot one
        to one with ``group=False`` (``conversation`` is then ignored). Returns the pushed event, or
        None when the bot does not receive it (a group message without @, unless
        ``receive_all_group_messages``) or no connection was up (:attr:`undelivered`)."""
        sender = self.user(user) if isinstance(user, str) else user
        if group:
            chat = self.chat(conversation) if isinstance(conversation, str) else conversation
        else:
            chat = self.p2p_chat(sender)
        if group and not at_bot and not self.receive_all_group_messages:
            return None
        mentions: list[Json] = []
        content = text
        if group and at_bot:
            content = "@_user_1 " + text
            mentions.append(
                {
                    "key": "@_user_1",
                    "id": self.bot.ids(with_user_id=False),
                    "name": self.bot_name,
                    "tenant_key": self.tenant_key,
                }
            )
        now = str(_ids.now_ms())
        message_id = "om_" + _ids.hexid(32)
        message: Json = {
            "message_id": message_id,
            "root_id": "",
            "parent_id": "",
            "create_time": now,
            "update_time": now,
            "chat_id": chat.chat_id,
            "thread_id": "",
            "chat_type": "group" if group else "p2p",
            "message_type": "text",
            "content": json.dumps({"text": content}, ensure_ascii=False),
            "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Feishu/7.30.0",
        }
        if mentions:
            message["mentions"] = mentions
        stored = SentMessage(
            message_id, chat.chat_id, "text", message["content"], "user", "", "", time.time()
        )
        with self._cond:
            self._store[message_id] = _Stored(stored, sender.open_id)
        event = {
            "sender": {
                "sender_id": sender.ids(with_user_id=self.user_id_permission),
                "sender_type": "user",
                "tenant_key": self.tenant_key,
            },
            "message": message,
        }
        return self._server.run(self._push(self._envelope("im.message.receive_v1", event)))

    def card_action(
        self, message_id: str, user: str | FeishuUser, value: Mapping[str, object], *, tag: str = "button"
    ) -> PushedEvent | None:
        """A user presses a button (with ``value``) on the bot's card message ``message_id``."""
        operator = self.user(user) if isinstance(user, str) else user
        with self._cond:
            stored = self._store.get(message_id)
        if stored is None or stored.sender != "bot" or stored.message.msg_type != "interactive":
            raise KeyError(f"{message_id!r} is not a card the bot sent")
        event = {
            "operator": {**operator.ids(with_user_id=self.user_id_permission), "tenant_key": self.tenant_key},
            "token": "c-" + _ids.hexid(40),
            "action": {"value": dict(value), "tag": tag},
            "host": "im_message",
            "context": {"open_message_id": message_id, "open_chat_id": stored.message.chat_id},
        }
        return self._server.run(self._push(self._envelope("card.action.trigger", event)))

    def drop_connection(self) -> int:
        """Cut every live connection's TCP at once (no close frame). Returns how many."""
        return self._server.call(self._drop_all)

    def close_connection(self, code: int = 1000) -> int:
        """Close every live connection with a WebSocket close frame. Returns how many."""
        return self._server.run(self._close_all(code))

    def fail_next_endpoints(self, count: int = 1, *, code: int | None = 1, status: int = 200) -> None:
        """The next ``count`` endpoint calls fail: with HTTP 200 and Feishu ``code`` (1 = system busy,
        which the SDK retries), or with HTTP ``status`` when ``code`` is None."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._cond:
            self._endpoint_faults.extend([(code, status)] * count)

    def rotate_secret(self) -> str:
        """A new app secret (returned): the old one is refused from now on."""
        with self._cond:
            self.app_secret = _ids.alnum(32)
            return self.app_secret

    def expire_tokens(self) -> None:
        """Every tenant_access_token handed out so far is invalid from now on."""
        with self._cond:
            self._tokens.clear()

    # --- records -------------------------------------------------------------------------------

    @property
    def endpoint_requests(self) -> list[EndpointRequest]:
        with self._cond:
            return list(self._endpoint_log)

    @property
    def connections(self) -> list[ConnectionInfo]:
        with self._cond:
            return [c.info() for c in self._connection_log]

    @property
    def live_connections(self) -> list[ConnectionInfo]:
        with self._cond:
            return [c.info() for c in self._connections.values() if c.closed_at is None]

    @property
    def events(self) -> list[PushedEvent]:
        with self._cond:
            return list(self._events)

    @property
    def undelivered(self) -> list[PushedEvent]:
        with self._cond:
            return list(self._undelivered)

    @property
    def deliveries(self) -> list[Delivery]:
        with self._cond:
            return list(self._deliveries)

    @property
    def acks(self) -> list[Ack]:
        with self._cond:
            return list(self._acks)

    @property
    def messages(self) -> list[SentMessage]:
        """The bot's messages (created or replies), oldest first, with their current content."""
        with self._cond:
            return [self._store[m].message for m in self._sent]

    @property
    def toasts(self) -> list[Json]:
        with self._cond:
            return list(self._toasts)

    @property
    def rejected(self) -> list[Rejected]:
        with self._cond:
            return list(self._rejected)

    def message(self, message_id: str) -> SentMessage:
        with self._cond:
            return self._store[message_id].message

    def wait_for_connections(self, count: int = 1, timeout: float = 5.0) -> list[ConnectionInfo]:
        self.wait_until(lambda: len(self._connection_log) >= count, timeout, f"{count} connections")
        return self.connections

    def wait_for_acks(self, count: int = 1, timeout: float = 5.0) -> list[Ack]:
        self.wait_until(lambda: len(self._acks) >= count, timeout, f"{count} acks")
        return self.acks

    def wait_for_messages(self, count: int = 1, timeout: float = 5.0) -> list[SentMessage]:
        self.wait_until(lambda: len(self._sent) >= count, timeout, f"{count} bot messages")
        return self.messages

    def wait_for_deliveries(self, count: int, timeout: float = 5.0) -> list[Delivery]:
        self.wait_until(lambda: len(self._deliveries) >= count, timeout, f"{count} deliveries")
        return self.deliveries

    # --- the loop side --------------------------------------------------------------------------

    def _envelope(self, event_type: str, event: Json) -> Json:
        return {
            "schema": "2.0",
            "header": {
                "event_id": _ids.hexid(32),
                "token": "",
                "create_time": str(_ids.now_ms()),
                "event_type": event_type,
                "tenant_key": self.tenant_key,
                "app_id": self.app_id,
            },
            "event": event,
        }

    async def _push(self, body: Json) -> PushedEvent | None:
        header = body["header"]
        event = PushedEvent(header["event_id"], header["event_type"], body)
        if not await self._deliver(event, attempt=0):
            self._record(self._undelivered, event)
            return None
        self._record(self._events, event)
        return event

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    async def _deliver(self, event: PushedEvent, attempt: int) -> bool:
        live = [c for c in self._connections.values() if c.closed_at is None]
        if not live:
            return False
        connection = random.choice(live)
        payload = json.dumps(event.body, ensure_ascii=False).encode("utf-8")
        size = self.split_payload_over or len(payload) or 1
        parts = [payload[i : i + size] for i in range(0, len(payload), size)] or [b""]
        frame_message_id = _ids.hexid(16)
        trace_id = str(uuid.uuid4())
        try:
            for seq, part in enumerate(parts):
                frame = pb.Frame(
                    seq_id=self._next_seq(),
                    log_id=random.getrandbits(48),
                    service=connection.service_id,
                    method=pb.METHOD_DATA,
                    headers=[
                        ("type", "event"),
                        ("message_id", frame_message_id),
                        ("trace_id", trace_id),
                        ("sum", str(len(parts))),
                        ("seq", str(seq)),
                    ],
                    payload=part,
                )
                await connection.ws.send_bytes(pb.encode(frame))
        except (ConnectionError, RuntimeError):
            return False
        pending = _Pending(event, attempt)
        pending.timer = asyncio.get_running_loop().call_later(
            self.ack_timeout, self._repush_later, frame_message_id
        )
        self._pending[frame_message_id] = pending
        self._record(
            self._deliveries,
            Delivery(
                frame_message_id, connection.connection_id, event.event_id, attempt, len(parts), time.time()
            ),
        )
        return True

    def _repush_later(self, frame_message_id: str) -> None:
        pending = self._pending.pop(frame_message_id, None)
        if pending is None or pending.attempt >= self.max_redeliveries:
            return
        asyncio.get_running_loop().create_task(self._repush(pending.event, pending.attempt + 1))

    async def _repush(self, event: PushedEvent, attempt: int) -> None:
        if await self._deliver(event, attempt):
            return
        if attempt < self.max_redeliveries:
            asyncio.get_running_loop().call_later(
                self.ack_timeout,
                lambda: asyncio.get_running_loop().create_task(self._repush(event, attempt + 1)),
            )

    def _drop_all(self) -> int:
        live = [c for c in self._connections.values() if c.closed_at is None]
        for connection in live:
            connection.how_closed = "dropped"
            transport = connection.request.transport
            if transport is not None:
                transport.abort()
        return len(live)

    async def _close_all(self, code: int) -> int:
        live = [c for c in self._connections.values() if c.closed_at is None]
        for connection in live:
            connection.how_closed = "server_close"
            with contextlib.suppress(ConnectionError, RuntimeError):
                await connection.ws.close(code=code, message=b"closed by the feishu fake")
        return len(live)

    def _cancel_timers(self) -> None:
        for pending in self._pending.values():
            if pending.timer is not None:
                pending.timer.cancel()
        self._pending.clear()

    async def _on_frame(self, connection: _Connection, data: bytes) -> None:
        try:
            frame = pb.decode(data)
        except (pb.DecodeError, UnicodeDecodeError):
            return
        kind = frame.header("type")
        if frame.method == pb.METHOD_CONTROL and kind == "ping":
            with self._cond:
                connection.pings += 1
                self._cond.notify_all()
            pong = pb.Frame(
                service=frame.service,
                method=pb.METHOD_CONTROL,
                headers=[("type", "pong")],
                payload=json.dumps(self.client_config.to_json()).encode("utf-8"),
            )
            with contextlib.suppress(ConnectionError, RuntimeError):
                await connection.ws.send_bytes(pb.encode(pong))
            return
        if frame.method != pb.METHOD_DATA:
            return
        frame_message_id = frame.header("message_id") or ""
        answer: object = None
        code: int | None = None
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            answer = json.loads((frame.payload or b"").decode("utf-8"))
        decoded: object = None
        if isinstance(answer, dict):
            raw_code = answer.get("code")
            code = raw_code if isinstance(raw_code, int) else None
            encoded = answer.get("data")
            if isinstance(encoded, str):
                with contextlib.suppress(ValueError):
                    decoded = json.loads(base64.b64decode(encoded))
        pending = self._pending.get(frame_message_id)
        event_id = pending.event.event_id if pending is not None else None
        if pending is not None and code == 200:
            del self._pending[frame_message_id]
            if pending.timer is not None:
                pending.timer.cancel()
            if pending.event.event_type == "card.action.trigger" and isinstance(decoded, dict):
                self._apply_card_response(pending.event, decoded)
        self._record(
            self._acks,
            Ack(
                frame_message_id,
                event_id,
                code,
                decoded,
                tuple(frame.headers),
                connection.connection_id,
                time.time(),
            ),
        )

    def _apply_card_response(self, event: PushedEvent, response: Json) -> None:
        toast = response.get("toast")
        if isinstance(toast, dict):
            self._record(self._toasts, toast)
        card = response.get("card")
        if isinstance(card, dict) and card.get("type") == "raw" and isinstance(card.get("data"), dict):
            message_id = event.body["event"]["context"]["open_message_id"]
            with self._cond:
                stored = self._store.get(message_id)
                if stored is not None:
                    stored.message = replace(
                        stored.message,
                        content=json.dumps(card["data"], ensure_ascii=False),
                        updates=stored.message.updates + 1,
                    )
                self._cond.notify_all()

    # --- HTTP -----------------------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post(ENDPOINT_PATH, self._endpoint)
        app.router.add_get(WS_PATH, self._websocket)
        app.router.add_post(TOKEN_PATH, self._token)
        app.router.add_post(MESSAGES_PATH, self._create)
        app.router.add_post(MESSAGES_PATH + "/{message_id}/reply", self._reply)
        app.router.add_patch(MESSAGES_PATH + "/{message_id}", self._patch)
        app.router.add_get("/open-apis/im/v1/chats/{chat_id}", self._chat_info)
        return app

    def _error(self, request: web.Request, error: FeishuError) -> web.Response:
        log_id = time.strftime("%Y%m%d%H%M%S") + _ids.hexid(18).upper()
        body = {
            "code": error.code,
            "msg": error.msg,
            "error": {
                "log_id": log_id,
                "message": "Refer to the documentation to fix the error: https://open.feishu.cn/search?"
                f"from=openapi&log_id={log_id}&code={error.code}",
            },
        }
        self._record(self._rejected, Rejected(request.path, error.status, body, time.time()))
        return web.json_response(body, status=error.status)

    async def _json(self, request: web.Request) -> Json | None:
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            value = json.loads(await request.read())
            return cast(Json, value) if isinstance(value, dict) else None
        return None

    async def _endpoint(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        headers = dict(request.headers)
        with self._cond:
            fault = self._endpoint_faults.pop(0) if self._endpoint_faults else None
        if fault is not None:
            code, status = fault
            self._record(self._endpoint_log, EndpointRequest(body, headers, code, status, time.time()))
            if code is None:
                return web.Response(
                    status=status, text="<html><h1>feishu fake</h1></html>", content_type="text/html"
                )
            return web.json_response(
                {"code": code, "msg": "system busy" if code == 1 else "error", "data": {}}
            )
        if body is None or body.get("AppID") != self.app_id or body.get("AppSecret") != self.app_secret:
            self._record(self._endpoint_log, EndpointRequest(body, headers, 10014, 200, time.time()))
            return web.json_response({"code": 10014, "msg": "app secret invalid", "data": {}})
        device_id = str(random.getrandbits(63))
        service_id = random.randint(100_000, 999_999)
        ticket = str(uuid.uuid4())
        self._tickets[ticket] = _Ticket(device_id, service_id)
        url = (
            f"{self._server.ws_url}{WS_PATH}?fpid=493&aid=552564&device_id={device_id}"
            f"&access_key={_ids.hexid(32)}&service_id={service_id}&ticket={ticket}"
        )
        self._record(self._endpoint_log, EndpointRequest(body, headers, 0, 200, time.time()))
        return web.json_response(
            {"code": 0, "msg": "ok", "data": {"URL": url, "ClientConfig": self.client_config.to_json()}}
        )

    def _refuse_handshake(self, message: str, auth_code: int) -> web.Response:
        return web.Response(
            status=403,
            headers={
                "handshake-status": str(AUTH_FAILED),
                "handshake-msg": message,
                "handshake-autherrcode": str(auth_code),
            },
            text=message,
        )

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ticket = self._tickets.pop(request.query.get("ticket", ""), None)
        if ticket is None:
            return self._refuse_handshake("invalid ticket", 1000040351)
        live = [c for c in self._connections.values() if c.closed_at is None]
        if len(live) >= self.max_connections:
            return self._refuse_handshake("exceed conn limit", EXCEED_CONN_LIMIT)
        ws = web.WebSocketResponse(autoping=True, max_msg_size=8 * 1024 * 1024)
        await ws.prepare(request)
        connection = _Connection(
            str(uuid.uuid4()), ticket.device_id, ticket.service_id, ws, request, time.time()
        )
        with self._connected(connection):
            async for message in ws:
                if message.type == WSMsgType.BINARY:
                    await self._on_frame(connection, cast(bytes, message.data))
        return ws

    async def _token(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        if body is None or body.get("app_id") != self.app_id:
            return web.json_response({"code": 10003, "msg": "invalid param"})
        if body.get("app_secret") != self.app_secret:
            return web.json_response({"code": 10014, "msg": "app secret invalid"})
        token = "t-" + _ids.hexid(40)
        with self._cond:
            self._tokens[token] = time.time() + self.token_ttl
        return web.json_response(
            {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": self.token_ttl}
        )

    def _check_token(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[len("Bearer ") :].strip():
            raise FeishuError(99991661, "Need a token. Please make a request with token attached.")
        with self._cond:
            expiry = self._tokens.get(header[len("Bearer ") :].strip())
        if expiry is None or expiry <= time.time():
            raise FeishuError(
                99991663, "Invalid access token for authorization. Please make a request with token attached."
            )

    @staticmethod
    def _check_content(msg_type: object, content: object) -> tuple[str, str]:
        if not isinstance(msg_type, str) or msg_type not in MSG_TYPES:
            raise FeishuError(
                230001, "Your request contains an invalid request parameter, msg_type is invalid."
            )
        if not isinstance(content, str):
            raise FeishuError(
                230001, "Your request contains an invalid request parameter, content is not a string."
            )
        try:
            parsed = json.loads(content)
        except ValueError:
            raise FeishuError(
                230001, "Your request contains an invalid request parameter, invalid content."
            ) from None
        if not isinstance(parsed, dict) or not parsed:
            raise FeishuError(230001, "Your request contains an invalid request parameter, invalid content.")
        limit = TEXT_MAX_BYTES if msg_type == "text" else CARD_MAX_BYTES
        if len(content.encode("utf-8")) > limit:
            raise FeishuError(230025, "The length of the message content reaches its limit.")
        if msg_type == "text" and not isinstance(parsed.get("text"), str):
            raise FeishuError(230001, "Your request contains an invalid request parameter, text is empty.")
        if msg_type == "post":
            locales = [v for v in parsed.values() if isinstance(v, dict)]
            if not locales or not all(isinstance(v.get("content"), list) for v in locales):
                raise FeishuError(230001, "Your request contains an invalid request parameter, invalid post.")
        return msg_type, content

    def _stored_message(self, body: Json, chat_id: str, via: str, parent: _Stored | None) -> Json:
        msg_type, content = self._check_content(body.get("msg_type"), body.get("content"))
        request_uuid = body.get("uuid") if isinstance(body.get("uuid"), str) else None
        with self._cond:
            if chat_id in self._bot_removed:
                raise FeishuError(230002, "The bot can not be outside the group.")
            if request_uuid is not None:
                for stored in self._store.values():
                    if stored.uuid == request_uuid and stored.sender == "bot":
                        return self._message_json(stored.message)
            message_id = "om_" + _ids.hexid(32)
            parent_id = parent.message.message_id if parent is not None else ""
            root_id = (parent.message.root_id or parent_id) if parent is not None else ""
            message = SentMessage(
                message_id, chat_id, msg_type, content, via, parent_id, root_id, time.time()
            )
            self._store[message_id] = _Stored(message, "bot", request_uuid)
            self._sent.append(message_id)
            self._cond.notify_all()
        return self._message_json(message)

    def _message_json(self, message: SentMessage) -> Json:
        created = str(int(message.at * 1000))
        return {
            "message_id": message.message_id,
            "root_id": message.root_id,
            "parent_id": message.parent_id,
            "msg_type": message.msg_type,
            "create_time": created,
            "update_time": created,
            "deleted": False,
            "updated": message.updates > 0,
            "chat_id": message.chat_id,
            "sender": {
                "id": self.app_id,
                "id_type": "app_id",
                "sender_type": "app",
                "tenant_key": self.tenant_key,
            },
            "body": {"content": message.content},
        }

    def _chat_by_id(self, chat_id: str) -> FeishuChat | None:
        with self._cond:
            for chat in self._chats.values():
                if chat.chat_id == chat_id:
                    return chat
        return None

    async def _create(self, request: web.Request) -> web.Response:
        try:
            self._check_token(request)
            body = await self._json(request)
            if body is None:
                raise FeishuError(230001, "Your request contains an invalid request parameter.")
            id_type = request.query.get("receive_id_type", "")
            receive_id = body.get("receive_id")
            chat: FeishuChat | None = None
            if id_type == "chat_id" and isinstance(receive_id, str):
                chat = self._chat_by_id(receive_id)
            elif id_type == "open_id" and isinstance(receive_id, str):
                with self._cond:
                    person = next((u for u in self._users.values() if u.open_id == receive_id), None)
                chat = self.p2p_chat(person) if person is not None else None
            if chat is None:
                raise FeishuError(
                    230001, "Your request contains an invalid request parameter, invalid receive_id."
                )
            data = self._stored_message(body, chat.chat_id, "create", None)
        except FeishuError as error:
            return self._error(request, error)
        return web.json_response({"code": 0, "msg": "success", "data": data})

    async def _reply(self, request: web.Request) -> web.Response:
        try:
            self._check_token(request)
            body = await self._json(request)
            with self._cond:
                parent = self._store.get(request.match_info["message_id"])
            if body is None or parent is None:
                raise FeishuError(
                    230001, "Your request contains an invalid request parameter, invalid message_id."
                )
            data = self._stored_message(body, parent.message.chat_id, "reply", parent)
        except FeishuError as error:
            return self._error(request, error)
        return web.json_response({"code": 0, "msg": "success", "data": data})

    @staticmethod
    def _update_multi(content: str) -> bool:
        with contextlib.suppress(ValueError):
            card = json.loads(content)
            config = card.get("config") if isinstance(card, dict) else None
            return isinstance(config, dict) and config.get("update_multi") is True
        return False

    async def _patch(self, request: web.Request) -> web.Response:
        try:
            self._check_token(request)
            body = await self._json(request)
            message_id = request.match_info["message_id"]
            with self._cond:
                stored = self._store.get(message_id)
            if (
                body is None
                or stored is None
                or stored.sender != "bot"
                or stored.message.msg_type != "interactive"
            ):
                raise FeishuError(
                    230001, "Your request contains an invalid request parameter, invalid message_id."
                )
            _, content = self._check_content("interactive", body.get("content"))
            if not (self._update_multi(stored.message.content) and self._update_multi(content)):
                raise FeishuError(
                    230001, "Your request contains an invalid request parameter, update_multi must be true."
                )
            with self._cond:
                stored.message = replace(stored.message, content=content, updates=stored.message.updates + 1)
                self._cond.notify_all()
        except FeishuError as error:
            return self._error(request, error)
        return web.json_response({"code": 0, "msg": "success", "data": {}})

    async def _chat_info(self, request: web.Request) -> web.Response:
        try:
            self._check_token(request)
            chat = self._chat_by_id(request.match_info["chat_id"])
            if chat is None or chat.p2p:
                raise FeishuError(232006, "Your request specifies a chat_id which is invalid.")
            with self._cond:
                removed = chat.chat_id in self._bot_removed
            if removed:
                raise FeishuError(232011, "Operator can NOT be out of the chat.")
            id_type = request.query.get("user_id_type", "open_id")
            if id_type not in ("open_id", "union_id", "user_id"):
                raise FeishuError(230001, "Your request contains an invalid request parameter, user_id_type.")

            def ident(user: FeishuUser) -> str:
                return cast(str, getattr(user, id_type))

            data = {
                "avatar": "https://p3-lark-file.byteimg.com/img/lark-avatar-staging/default-avatar.jpg",
                "name": chat.name,
                "description": "",
                "i18n_names": {"zh_cn": chat.name},
                "add_member_permission": "all_members",
                "share_card_permission": "allowed",
                "at_all_permission": "all_members",
                "edit_permission": "all_members",
                "owner_id_type": id_type,
                "owner_id": ident(chat.owner) if chat.owner is not None else "",
                "user_manager_id_list": [ident(m) for m in chat.managers],
                "bot_manager_id_list": [],
                "group_message_type": "chat",
                "chat_mode": "group",
                "chat_type": "private",
                "chat_tag": "inner",
                "external": False,
                "tenant_key": self.tenant_key,
                "user_count": str(1 + len(chat.managers)),
                "bot_count": "1",
                "chat_status": "normal",
            }
        except FeishuError as error:
            return self._error(request, error)
        return web.json_response({"code": 0, "msg": "success", "data": data})
