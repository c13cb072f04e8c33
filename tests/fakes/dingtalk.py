"""A local fake of DingTalk's Stream mode (钉钉 Stream 模式) and the robot APIs a bot replies with.

No emulator of DingTalk exists. This fake speaks the Stream protocol the real ``dingtalk-stream``
client uses, on a real HTTP + WebSocket server on 127.0.0.1 (``tests.fakes._aioserver``), so the
real SDK, in the test process or in a bot subprocess, connects to it by changing nothing but URLs:

- ``DingTalkStreamClient.OPEN_CONNECTION_API = fake.open_connection_api`` (a class attribute,
  ``dingtalk_stream/stream.py:28``), and
- the environment variable ``DINGTALK_OPENAPI_ENDPOINT=fake.url`` *before* ``dingtalk_stream`` is
  first imported: the SDK reads it once (``dingtalk_stream/utils.py:8``) for its token and OpenAPI
  helpers (``get_access_token``, ``reply_card``, ``CardReplier``…). In a process that has already
  imported it, patch ``dingtalk_stream.stream.DINGTALK_OPENAPI_ENDPOINT`` and
  ``dingtalk_stream.chatbot.DINGTALK_OPENAPI_ENDPOINT`` (and ``card_replier``'s) instead.

Sources. "protocol doc": the Stream protocol description in the public repository
``open-dingtalk/developerpedia`` (``docs/learn/stream/protocol.md``, a supplement to
https://open.dingtalk.com/document/direction/stream-mode-protocol-access-description); "SDK":
``dingtalk-stream`` 0.24.3 as installed (file:line below); "seen": real responses quoted in
public issues.

Connection
    - ``POST /v1.0/gateway/connections/open`` with JSON ``clientId``, ``clientSecret``,
      ``subscriptions`` ([{type, topic}]), ``ua``, ``localIp`` (protocol doc; the SDK sends exactly
      these, ``stream.py:162-168``). Answer ``{"endpoint": "ws://…/connect", "ticket": UUID}``
      (protocol doc). Wrong clientId or clientSecret → HTTP 401 ``{"requestid", "code":
      "authFailed", "message": "鉴权失败"}`` (seen: zfanswer/dify-on-dingtalk#28,
      agentscope-ai/QwenPaw#1027). The SDK logs the error and retries every 10 s for ever
      (``stream.py:66-70``): a wrong secret never raises.
    - The ticket is valid for 90 s and one connection (protocol doc). The WebSocket handshake
      ``GET /connect?ticket=T``; a used, expired or unknown ticket is refused with HTTP 401 (the
      real status is not documented).
    - The SDK opens ``f"{endpoint}?ticket={quote_plus(ticket)}"`` (``stream.py:73``) and sends
      WebSocket pings every 60 s (``stream.py:94``); aiohttp answers them.

Frames (protocol doc, "通用字段说明"): JSON text frames ``{"specVersion": "1.0", "type":
"SYSTEM"|"EVENT"|"CALLBACK", "headers": {"appId", "connectionId", "contentType":
"application/json", "messageId", "time" (ms, as a string), "topic"}, "data": "<JSON string>"}``.
The client answers ``{"code": 200, "headers": {"messageId", "contentType"}, "message": "OK",
"data": "<JSON string>"}`` (the SDK: ``frames.py:AckMessage``, ``handlers.py``).

    - SYSTEM ``ping`` with ``data {"opaque"}``; the client echoes the data (protocol doc; the SDK
      acks it and logs a warning "unknown message topic", ``stream.py:121``).
      :meth:`DingTalkFake.system_ping` sends one.
    - SYSTEM ``disconnect`` with ``data {"reason"}``; the client need not answer and the server cuts
      TCP 10 s later (protocol doc). The SDK acks, closes the socket and reconnects at once
      (``stream.py:105-106``, the ``while True`` of ``start``). :meth:`disconnect_frame`.
    - CALLBACK ``/v1.0/im/bot/messages/get``: a robot message (:meth:`say`). Its data follows the
      protocol doc's sample and the "接收消息" doc (https://open.dingtalk.com/document/orgapp/
      receive-message, copied at kk.hackerjk.top/index.php/archives/72): ``msgId``, ``msgtype``
      "text", ``text.content``, ``createAt`` (ms), ``conversationType`` "1" (one to one) or "2"
      (group), ``conversationId`` (``cid…``), ``senderId`` (``$:LWCP_v1:$…``), ``senderStaffId``,
      ``senderNick``, ``senderCorpId``, ``chatbotCorpId``, ``chatbotUserId``, ``robotCode``,
      ``isAdmin``, ``sessionWebhook`` and ``sessionWebhookExpiredTime`` (createAt + 90 min in the
      doc's sample), and in groups only ``conversationTitle``, ``isInAtList`` true and ``atUsers``
      [{dingtalkId of the robot}]. In a group the @-mention is removed and the text keeps the space
      that followed it: ``" 测试数据"`` (protocol doc sample). ``senderPlatform`` as seen in
      DingTalk-Real-AI/dingtalk-openclaw-connector#26.
    - Only messages that @ the robot reach it in a group (protocol doc: 在群里需要 AT 机器人的消息才
      能被接收): ``say(..., at_bot=False)`` delivers nothing and returns None.
    - CALLBACK ``/v1.0/card/instances/callback``: a button press on an interactive card the robot
      sent through the card API (:meth:`card_action`). The SDK registers it like any callback topic
      (``handlers.py:11``, ``card_callback.py``): data ``{"extension", "corpId", "userId",
      "outTrackId", "content": "{\\"cardPrivateData\\": {\\"actionIds\\", \\"params\\"}}", "type":
      "actionCallback", "spaceType", "spaceId", "userIdType"}``. The protocol doc's section on it
      is "待完善": the content shape is from the SDK's parser and the card docs, not verified on
      the wire.
    - Each push goes to one live connection, chosen at random among those subscribed to its topic
      (protocol doc FAQ: 通过随机策略选取一个 Stream 通道推送). A push while no connection is up is
      not queued (``undelivered``): the real robot then shows its offline prompt.

Acks and re-delivery. The protocol doc says robot messages are "fire-forget" and not re-pushed,
but users see the same message again about 60 s after a late or missing ack
(koishijs/koishi#1429: exactly 60 s, identical JSON; DingTalk-Real-AI/dingtalk-openclaw-connector
#26 and #302: ~60 s; soimy/openclaw-channel-dingtalk#390: 16 s after a slow ack). The fake follows
the observations: an un-acked push (no ack, or an ack whose code is not 200) is pushed again after
``redeliver_after`` seconds (default 60) with the same data (same ``msgId``), at most
``max_redeliveries`` times (default 1). Not verified: whether a re-push keeps the stream
``headers.messageId``; the fake gives it a new one, so only ``data.msgId`` identifies a message.

Replies
    - ``sessionWebhook``: ``POST {url}/robot/sendBySession?session=S`` with a custom-robot body
      (text, markdown, actionCard, link, feedCard; checked as ``tests.fakes.robots`` checks
      DingTalk bodies) → ``{"errcode": 0, "errmsg": "ok"}``. Expired (``session_webhook_ttl``,
      default 90 min, or :meth:`expire_session_webhooks`) or unknown → HTTP 200
      ``{"errcode": 300001, "errmsg": "session 不存在"}`` (seen: agentscope-ai/agentscope#1318,
      agentscope-ai/QwenPaw#1435).
    - ``POST /v1.0/oauth2/accessToken`` ``{appKey, appSecret}`` → ``{"accessToken", "expireIn":
      7200}``; wrong → HTTP 400 ``{"code": "invalidClientIdOrSecret", "message":
      "无效的clientId或者clientSecret"}`` (doc error table, copied in a public docs mirror). The
      SDK's ``get_access_token`` posts JSON ``appKey``/``appSecret`` (``stream.py:201-230``).
    - OpenAPI calls carry ``x-acs-dingtalk-access-token``; missing, unknown or expired → HTTP 400
      ``{"code": "InvalidAuthentication", "message": "不合法的access_token", "requestid"}`` (seen
      in a public curl record of api.dingtalk.com and in an SDKError dump; a 401 is not ruled out).
    - ``POST /v1.0/robot/groupMessages/send`` ``{msgParam (JSON string), msgKey,
      openConversationId, robotCode}`` → ``{"processQueryKey"}``; ``POST
      /v1.0/robot/oToMessages/batchSend`` ``{robotCode, userIds (≤ 20), msgKey, msgParam}`` →
      ``{"processQueryKey", "invalidStaffIdList", "flowControlledStaffIdList"}``. Refusals (HTTP
      400, ``{"code", "message", "requestid"}``): ``invalidParameter.robotCode.auth`` (robotCode
      is not this app's), ``invalid.openConversationId``, ``invalidParameter.msgKey.invalid``,
      ``invalidParameter.msgParam.invalid``, ``invalidParameter.userIds.overMax`` (codes from
      the doc's error list as quoted at developer.aliyun.com/ask/532743; messages not verified).
      msgKeys: sampleText {content}, sampleMarkdown {title, text}, sampleLink {text, title,
      picUrl, messageUrl}, sampleActionCard {title, text, singleTitle, singleURL}, sampleImageMsg
      {photoURL}, sampleActionCard2-6 (not checked).
    - Interactive cards, the two ways the SDK sends them: the card API (``POST
      /v1.0/card/instances`` then ``/v1.0/card/instances/deliver``, or ``POST
      /v1.0/card/instances/createAndDeliver``; ``PUT /v1.0/card/instances`` updates;
      ``card_replier.py``) answering ``{"success": true, "result": …}`` (seen in
      DingTalk-Real-AI/dingtalk-openclaw-connector#12), and the older robot card API (``POST
      /v1.0/im/v1.0/robot/interactiveCards/send``, ``PUT /v1.0/im/robots/interactiveCards``;
      ``chatbot.py:678-799``) answering ``{"processQueryKey"}``. Both are recorded as replies;
      card contents are not validated. For paging, updating the same card by its
      ``outTrackId``/``cardBizId`` is how DingTalk edits a message: messages proper cannot be
      edited (developerpedia ``docs/learn/stream/faq.md`` §1).

Group owners and admins. A robot message carries ``isAdmin`` (doc: 是否为管理员; which admin —
the organisation's or the group's — is not stated; seen true for a one-to-one sender in
DingTalk-Real-AI/dingtalk-openclaw-connector#26, so it is not the group's). The fake sets it from
``user(..., admin=True)``. DingTalk documents no robot API that tells a group's owner or admins
from the ``openConversationId`` a robot message carries (the scene-group API
``/topapi/im/chat/scenegroup/get`` returns ``owner_user_id`` only for groups created by the app
from a template); the fake models none. An adapter has to keep its own admin list.

Fault injection: :meth:`fail_next_opens` (HTTP 5xx on the open API), :meth:`rotate_secret` (the
old secret answers as a wrong one), :meth:`drop_connection` (TCP cut, no close frame: the SDK
waits 10 s, ``stream.py:82-86``), :meth:`disconnect_frame`, :meth:`expire_session_webhooks`,
:meth:`push_again` (a re-delivery now, whether or not the first push was acked).

Not modelled: EVENT pushes (org events), rich text / picture messages and file download, the
HTTP callback mode, message recall, read receipts, rate limits of the OpenAPI (the robot send APIs
have per-app QPS limits), ``DELEGATE_TOPIC``, AI cards' streaming API (``/v1.0/card/streaming``),
TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

from aiohttp import WSMsgType, web

from tests.fakes import _ids
from tests.fakes._aioserver import AioServer, PlatformFake
from tests.fakes.robots import PlatformError, _check_dingtalk_body, _parse_object

T = TypeVar("T")
Json = dict[str, Any]

TOPIC_BOT_MESSAGE = "/v1.0/im/bot/messages/get"
TOPIC_CARD_CALLBACK = "/v1.0/card/instances/callback"
OPEN_PATH = "/v1.0/gateway/connections/open"
CONNECT_PATH = "/connect"
SESSION_PATH = "/robot/sendBySession"
TICKET_TTL = 90.0
OTO_MAX_USERS = 20

MSG_KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "sampleText": ("content",),
    "sampleMarkdown": ("title", "text"),
    "sampleLink": ("text", "title", "picUrl", "messageUrl"),
    "sampleActionCard": ("title", "text", "singleTitle", "singleURL"),
    "sampleImageMsg": ("photoURL",),
    "sampleActionCard2": (),
    "sampleActionCard3": (),
    "sampleActionCard4": (),
    "sampleActionCard5": (),
    "sampleActionCard6": (),
}

ReplyVia = Literal[
    "session_webhook",
    "group_messages",
    "oto_messages",
    "card_create",
    "card_deliver",
    "card_update",
    "robot_card_send",
    "robot_card_update",
]


@dataclass(frozen=True)
class DingTalkUser:
    staff_id: str
    nick: str
    sender_id: str
    admin: bool = False


@dataclass(frozen=True)
class DingTalkGroup:
    conversation_id: str
    title: str


@dataclass(frozen=True)
class PushedMessage:
    """One message or card action the fake pushed (first delivery); ``data`` is what the client
    received in the frame's ``data``."""

    topic: str
    data: Json
    first_message_id: str  # the stream headers.messageId of the first delivery

    @property
    def msg_id(self) -> str:
        value = self.data.get("msgId", self.data.get("outTrackId", ""))
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Delivery:
    """One push of a message on one connection (first delivery or re-delivery)."""

    message_id: str
    connection_id: str
    topic: str
    data: Json
    attempt: int  # 0 for the first delivery
    at: float


@dataclass(frozen=True)
class Ack:
    """A frame the client sent back: the answer to a push (or a stray one)."""

    message_id: str
    code: int | None
    message: str
    data: object  # the parsed ``data`` string, or the raw value when it is not JSON
    connection_id: str
    topic: str | None  # the topic of the push it answers; None when it answers none
    at: float
    raw: str


@dataclass(frozen=True)
class Reply:
    """Something the bot sent to a chat through a reply API."""

    via: ReplyVia
    body: Json
    conversation_id: str | None
    user_ids: tuple[str, ...]
    at: float

    @property
    def text(self) -> str:
        """The reply's readable text where there is one (text content, markdown text, a msgParam's
        content/text), else ""."""
        body = self.body
        for section, key in (("text", "content"), ("markdown", "text"), ("actionCard", "text")):
            value = body.get(section)
            if isinstance(value, dict) and isinstance(value.get(key), str):
                return cast(str, value[key])
        param = body.get("msgParam")
        if isinstance(param, str):
            parsed = _parse_object(param.encode("utf-8"))
            if parsed is not None:
                for key in ("content", "text"):
                    if isinstance(parsed.get(key), str):
                        return cast(str, parsed[key])
        return ""


@dataclass(frozen=True)
class OpenRequest:
    body: Json | None
    status: int
    at: float


@dataclass(frozen=True)
class Rejected:
    """An HTTP request answered with a platform error."""

    path: str
    status: int
    body: Json
    at: float


@dataclass(frozen=True)
class ConnectionInfo:
    connection_id: str
    subscriptions: tuple[tuple[str, str], ...]  # (type, topic)
    opened_at: float
    closed_at: float | None
    how_closed: str | None  # "client", "dropped", "disconnect", "server"


@dataclass
class _Ticket:
    subscriptions: tuple[tuple[str, str], ...]
    expires: float


@dataclass
class _Connection:
    connection_id: str
    subscriptions: tuple[tuple[str, str], ...]
    ws: web.WebSocketResponse
    request: web.Request
    opened_at: float
    draining: bool = False
    closed_at: float | None = None
    how_closed: str | None = None

    def callback_topics(self) -> set[str]:
        return {topic for kind, topic in self.subscriptions if kind == "CALLBACK"}

    def info(self) -> ConnectionInfo:
        return ConnectionInfo(
            self.connection_id, self.subscriptions, self.opened_at, self.closed_at, self.how_closed
        )


@dataclass
class _Pending:
    push: PushedMessage
    attempt: int
    timer: asyncio.TimerHandle | None = None


@dataclass
class _Session:
    conversation_id: str
    expires: float  # time.time()


@dataclass
class _Card:
    out_track_id: str
    conversation_id: str | None
    user_id: str | None
    body: Json


class DingTalkFake(PlatformFake):
    """DingTalk Stream mode and robot reply APIs on 127.0.0.1.

    >>> with DingTalkFake() as fake:
    ...     DingTalkStreamClient.OPEN_CONNECTION_API = fake.open_connection_api
    ...     # start the client with Credential(fake.client_id, fake.client_secret), then:
    ...     fake.wait_for_connections(1)
    ...     fake.say("金融办工作群", "zhangsan", "最新 株洲")
    ...     fake.wait_for_replies(1)
    """

    NAME = "DingTalk"

    def __init__(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        redeliver_after: float = 60.0,
        max_redeliveries: int = 1,
        session_webhook_ttl: float = 90 * 60.0,
        token_ttl: int = 7200,
        disconnect_grace: float = 10.0,
        port: int = 0,
    ) -> None:
        self.client_id = client_id or "ding" + _ids.alnum(16, lower=True)
        self.client_secret = client_secret or _ids.alnum(64)
        self.app_id = str(uuid.uuid4())
        self.corp_id = "ding" + _ids.hexid(16)
        self.chatbot_user_id = "$:LWCP_v1:$" + _ids.b64(24)
        self.redeliver_after = redeliver_after
        self.max_redeliveries = max_redeliveries
        self.session_webhook_ttl = session_webhook_ttl
        self.token_ttl = token_ttl
        self.disconnect_grace = disconnect_grace
        self._server = AioServer(self._make_app, port=port, name="dingtalk-fake")
        self._cond = threading.Condition()
        # State below is changed on the server's loop; records are read from any thread under _cond.
        self._tickets: dict[str, _Ticket] = {}
        self._connections: dict[str, _Connection] = {}
        self._pending: dict[str, _Pending] = {}
        self._pings: dict[str, str] = {}  # stream messageId -> connection id
        self._tokens: dict[str, float] = {}  # access token -> expiry (time.time())
        self._sessions: dict[str, _Session] = {}
        self._cards: dict[str, _Card] = {}
        self._users: dict[str, DingTalkUser] = {}
        self._groups: dict[str, DingTalkGroup] = {}
        self._p2p: dict[str, str] = {}  # staff id -> conversation id of the one-to-one chat
        self._open_faults: list[int] = []
        self._opens: list[OpenRequest] = []
        self._connection_log: list[_Connection] = []
        self._pushes: list[PushedMessage] = []
        self._deliveries: list[Delivery] = []
        self._undelivered: list[PushedMessage] = []
        self._acks: list[Ack] = []
        self._replies: list[Reply] = []
        self._rejected: list[Rejected] = []

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the OpenAPI (``DINGTALK_OPENAPI_ENDPOINT``), ``http://127.0.0.1:PORT``."""
        return self._server.url

    @property
    def open_connection_api(self) -> str:
        """The value for ``DingTalkStreamClient.OPEN_CONNECTION_API``."""
        return self.url + OPEN_PATH

    @property
    def robot_code(self) -> str:
        """An internal app's robotCode is its AppKey (client id)."""
        return self.client_id

    # --- people and chats ----------------------------------------------------------------------

    def user(self, staff_id: str, *, nick: str | None = None, admin: bool | None = None) -> DingTalkUser:
        """The user with this staff id (userid), created on first use."""
        with self._cond:
            known = self._users.get(staff_id)
            if known is None:
                known = DingTalkUser(staff_id, nick or staff_id, "$:LWCP_v1:$" + _ids.b64(24), bool(admin))
            elif nick is not None or admin is not None:
                known = DingTalkUser(
                    staff_id,
                    nick if nick is not None else known.nick,
                    known.sender_id,
                    known.admin if admin is None else admin,
                )
            self._users[staff_id] = known
            return known

    def group(self, title: str) -> DingTalkGroup:
        """The group chat with this title, created on first use (the robot is a member)."""
        with self._cond:
            known = self._groups.get(title)
            if known is None:
                known = DingTalkGroup("cid" + _ids.b64(32), title)
                self._groups[title] = known
            return known

    # --- driving the client --------------------------------------------------------------------

    def say(
        self,
        conversation: str | DingTalkGroup,
        user: str | DingTalkUser,
        text: str,
        *,
        group: bool = True,
        at_bot: bool = True,
    ) -> PushedMessage | None:
        """A user sends ``text``: in the group ``conversation`` (a title or a group), or, with
        ``group=False``, to the robot one to one (``conversation`` is then ignored). Returns the
        pushed message, or None when the robot does not receive it (a group message without an
        @-mention) or no connection was up (see :attr:`undelivered`)."""
        sender = user if isinstance(user, DingTalkUser) else self.user(user)
        if group and not at_bot:
            return None
        created = _ids.now_ms()
        session = uuid.uuid4().hex
        data: Json = {
            "senderPlatform": "Win",
            "msgId": "msg" + _ids.b64(16),
            "msgtype": "text",
            "createAt": created,
            "senderId": sender.sender_id,
            "senderStaffId": sender.staff_id,
            "senderNick": sender.nick,
            "senderCorpId": self.corp_id,
            "chatbotCorpId": self.corp_id,
            "chatbotUserId": self.chatbot_user_id,
            "robotCode": self.robot_code,
            "isAdmin": sender.admin,
            "sessionWebhook": f"{self.url}{SESSION_PATH}?session={session}",
            "sessionWebhookExpiredTime": created + int(self.session_webhook_ttl * 1000),
        }
        if group:
            chat = conversation if isinstance(conversation, DingTalkGroup) else self.group(conversation)
            data.update(
                conversationType="2",
                conversationId=chat.conversation_id,
                conversationTitle=chat.title,
                isInAtList=True,
                atUsers=[{"dingtalkId": self.chatbot_user_id}],
                text={"content": " " + text},
            )
        else:
            with self._cond:
                cid = self._p2p.setdefault(sender.staff_id, "cid" + _ids.b64(32))
            data.update(conversationType="1", conversationId=cid, text={"content": text})
        with self._cond:
            self._sessions[session] = _Session(
                cast(str, data["conversationId"]), time.time() + self.session_webhook_ttl
            )
        return self._server.run(self._push(TOPIC_BOT_MESSAGE, data))

    def card_action(
        self,
        out_track_id: str,
        user: str | DingTalkUser,
        params: Mapping[str, object],
        *,
        action_id: str = "action",
    ) -> PushedMessage | None:
        """A user presses a button of the card ``out_track_id`` (sent through the card API)."""
        sender = user if isinstance(user, DingTalkUser) else self.user(user)
        with self._cond:
            card = self._cards.get(out_track_id)
        if card is None:
            raise KeyError(f"no card {out_track_id!r} was sent through the card API")
        group = card.conversation_id is not None
        data: Json = {
            "extension": "{}",
            "corpId": self.corp_id,
            "userId": sender.staff_id,
            "outTrackId": out_track_id,
            "content": json.dumps(
                {"cardPrivateData": {"actionIds": [action_id], "params": dict(params)}}, ensure_ascii=False
            ),
            "type": "actionCallback",
            "spaceType": "IM_GROUP" if group else "IM_ROBOT",
            "spaceId": card.conversation_id or sender.staff_id,
            "userIdType": 1,
        }
        return self._server.run(self._push(TOPIC_CARD_CALLBACK, data))

    def push_again(self, pushed: PushedMessage) -> bool:
        """Push a message once more, now: the same data (same ``msgId``) with a new stream
        ``messageId``, as DingTalk does about 60 s after an ack that came late or never arrived
        (what ``redeliver_after`` models for un-acked pushes) — for a client that acks at once,
        the only way to see it re-delivered. Returns whether a live connection took it."""
        attempt = 1 + max((d.attempt for d in self.deliveries if d.data == pushed.data), default=0)
        return self._server.run(self._deliver(pushed, self._stream_message_id(), attempt))

    def system_ping(self) -> list[str]:
        """Send a SYSTEM ping to every live connection; returns the opaque values sent."""
        return self._server.run(self._system_ping())

    def disconnect_frame(self, reason: str = "connection is expired") -> int:
        """Send SYSTEM disconnect to every live connection (they get no new pushes; the server cuts
        them after ``disconnect_grace`` s unless the client closes first). Returns how many."""
        return self._server.run(self._disconnect_frame(reason))

    def drop_connection(self) -> int:
        """Cut every live connection's TCP at once, without a close frame. Returns how many."""
        return self._server.call(self._drop_all)

    def fail_next_opens(self, count: int = 1, *, status: int = 503) -> None:
        """The next ``count`` calls of the open API answer HTTP ``status`` (an HTML page)."""
        if count < 1 or not 400 <= status <= 599:
            raise ValueError("count must be ≥ 1 and status an HTTP error status")
        with self._cond:
            self._open_faults.extend([status] * count)

    def rotate_secret(self) -> str:
        """Give the app a new clientSecret (returned): the old one is refused from now on."""
        with self._cond:
            self.client_secret = _ids.alnum(64)
            self._tokens.clear()
            return self.client_secret

    def expire_session_webhooks(self) -> None:
        """Every sessionWebhook handed out so far expires now."""
        with self._cond:
            for session in self._sessions.values():
                session.expires = 0.0

    # --- records -------------------------------------------------------------------------------

    @property
    def opens(self) -> list[OpenRequest]:
        with self._cond:
            return list(self._opens)

    @property
    def connections(self) -> list[ConnectionInfo]:
        """Every WebSocket connection so far, oldest first."""
        with self._cond:
            return [connection.info() for connection in self._connection_log]

    @property
    def live_connections(self) -> list[ConnectionInfo]:
        with self._cond:
            return [c.info() for c in self._connections.values() if c.closed_at is None]

    @property
    def pushes(self) -> list[PushedMessage]:
        with self._cond:
            return list(self._pushes)

    @property
    def deliveries(self) -> list[Delivery]:
        with self._cond:
            return list(self._deliveries)

    @property
    def undelivered(self) -> list[PushedMessage]:
        with self._cond:
            return list(self._undelivered)

    @property
    def acks(self) -> list[Ack]:
        with self._cond:
            return list(self._acks)

    @property
    def replies(self) -> list[Reply]:
        with self._cond:
            return list(self._replies)

    @property
    def rejected(self) -> list[Rejected]:
        with self._cond:
            return list(self._rejected)

    def wait_for_connections(self, count: int = 1, timeout: float = 5.0) -> list[ConnectionInfo]:
        """Block until at least ``count`` connections were opened in all; returns them all."""
        self.wait_until(lambda: len(self._connection_log) >= count, timeout, f"{count} connections")
        return self.connections

    def wait_for_acks(
        self, count: int = 1, timeout: float = 5.0, *, topic: str | None = TOPIC_BOT_MESSAGE
    ) -> list[Ack]:
        """Block until ``count`` acks answering pushes of ``topic`` (None: any) arrived."""

        def matching() -> list[Ack]:
            return [a for a in self._acks if topic is None or a.topic == topic]

        self.wait_until(lambda: len(matching()) >= count, timeout, f"{count} acks")
        with self._cond:
            return matching()

    def wait_for_replies(self, count: int = 1, timeout: float = 5.0) -> list[Reply]:
        self.wait_until(lambda: len(self._replies) >= count, timeout, f"{count} replies")
        return self.replies

    def wait_for_deliveries(self, count: int, timeout: float = 5.0) -> list[Delivery]:
        self.wait_until(lambda: len(self._deliveries) >= count, timeout, f"{count} deliveries")
        return self.deliveries

    # --- the loop side: pushing ---------------------------------------------------------------

    def _live(self, topic: str | None = None) -> list[_Connection]:
        return [
            c
            for c in self._connections.values()
            if c.closed_at is None and not c.draining and (topic is None or topic in c.callback_topics())
        ]

    def _frame(self, kind: str, topic: str, connection: _Connection, message_id: str, data: object) -> str:
        return json.dumps(
            {
                "specVersion": "1.0",
                "type": kind,
                "headers": {
                    "appId": self.app_id,
                    "connectionId": connection.connection_id,
                    "contentType": "application/json",
                    "messageId": message_id,
                    "time": str(_ids.now_ms()),
                    "topic": topic,
                },
                "data": json.dumps(data, ensure_ascii=False, separators=(",", ":")),
            },
            ensure_ascii=False,
        )

    @staticmethod
    def _stream_message_id() -> str:
        return f"{_ids.hexid(8)}_{_ids.hexid(3)}_{_ids.hexid(11)}_{_ids.hexid(5)}"

    async def _push(self, topic: str, data: Json) -> PushedMessage | None:
        message_id = self._stream_message_id()
        push = PushedMessage(topic, data, message_id)
        if not await self._deliver(push, message_id, attempt=0):
            self._record(self._undelivered, push)
            return None
        self._record(self._pushes, push)
        return push

    async def _deliver(self, push: PushedMessage, message_id: str, attempt: int) -> bool:
        candidates = self._live(push.topic)
        if not candidates:
            return False
        connection = random.choice(candidates)
        try:
            await connection.ws.send_str(
                self._frame("CALLBACK", push.topic, connection, message_id, push.data)
            )
        except (ConnectionError, RuntimeError):
            return False
        pending = _Pending(push, attempt)
        pending.timer = asyncio.get_running_loop().call_later(
            self.redeliver_after, self._redeliver_later, message_id
        )
        self._pending[message_id] = pending
        self._record(
            self._deliveries,
            Delivery(message_id, connection.connection_id, push.topic, push.data, attempt, time.time()),
        )
        return True

    def _redeliver_later(self, message_id: str) -> None:
        pending = self._pending.pop(message_id, None)
        if pending is None or pending.attempt >= self.max_redeliveries:
            return
        asyncio.get_running_loop().create_task(self._redeliver(pending.push, pending.attempt + 1))

    async def _redeliver(self, push: PushedMessage, attempt: int) -> None:
        if await self._deliver(push, self._stream_message_id(), attempt):
            return
        # Nobody connected: count the attempt and try again after the same delay.
        if attempt < self.max_redeliveries:
            asyncio.get_running_loop().call_later(
                self.redeliver_after,
                lambda: asyncio.get_running_loop().create_task(self._redeliver(push, attempt + 1)),
            )

    async def _system_ping(self) -> list[str]:
        opaques = []
        for connection in self._live():
            opaque = str(uuid.uuid4())
            message_id = self._stream_message_id()
            self._pings[message_id] = connection.connection_id
            frame = self._frame("SYSTEM", "ping", connection, message_id, {"opaque": opaque})
            with contextlib.suppress(ConnectionError, RuntimeError):
                await connection.ws.send_str(frame)
                opaques.append(opaque)
        return opaques

    async def _disconnect_frame(self, reason: str) -> int:
        count = 0
        for connection in self._live():
            connection.draining = True
            frame = self._frame(
                "SYSTEM", "disconnect", connection, self._stream_message_id(), {"reason": reason}
            )
            with contextlib.suppress(ConnectionError, RuntimeError):
                await connection.ws.send_str(frame)
                count += 1
            asyncio.get_running_loop().call_later(self.disconnect_grace, self._cut, connection, "disconnect")
        return count

    def _cut(self, connection: _Connection, how: str) -> None:
        if connection.closed_at is not None:
            return
        connection.how_closed = how
        transport = connection.request.transport
        if transport is not None:
            transport.abort()

    def _drop_all(self) -> int:
        live = [c for c in self._connections.values() if c.closed_at is None]
        for connection in live:
            self._cut(connection, "dropped")
        return len(live)

    def _cancel_timers(self) -> None:
        for pending in self._pending.values():
            if pending.timer is not None:
                pending.timer.cancel()
        self._pending.clear()

    # --- the loop side: frames from the client ------------------------------------------------

    def _on_frame(self, connection: _Connection, raw: str) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            self._record(self._acks, Ack("", None, "", raw, connection.connection_id, None, time.time(), raw))
            return
        headers = frame.get("headers")
        message_id = headers.get("messageId", "") if isinstance(headers, dict) else ""
        code = frame.get("code")
        data: object = frame.get("data")
        if isinstance(data, str):
            with contextlib.suppress(ValueError):
                data = json.loads(data)
        topic: str | None = None
        pending = self._pending.get(message_id)
        if pending is not None:
            topic = pending.push.topic
            if code == 200:
                del self._pending[message_id]
                if pending.timer is not None:
                    pending.timer.cancel()
        elif message_id in self._pings:
            topic = "ping"
            del self._pings[message_id]
        message = frame.get("message")
        self._record(
            self._acks,
            Ack(
                str(message_id),
                code if isinstance(code, int) else None,
                message if isinstance(message, str) else "",
                data,
                connection.connection_id,
                topic,
                time.time(),
                raw,
            ),
        )

    # --- HTTP ---------------------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post(OPEN_PATH, self._open)
        app.router.add_get(CONNECT_PATH, self._connect)
        app.router.add_post("/v1.0/oauth2/accessToken", self._access_token)
        app.router.add_post(SESSION_PATH, self._session_webhook)
        app.router.add_post("/v1.0/robot/groupMessages/send", self._group_messages)
        app.router.add_post("/v1.0/robot/oToMessages/batchSend", self._oto_messages)
        app.router.add_post("/v1.0/card/instances", self._card_create)
        app.router.add_put("/v1.0/card/instances", self._card_update)
        app.router.add_post("/v1.0/card/instances/deliver", self._card_deliver)
        app.router.add_post("/v1.0/card/instances/createAndDeliver", self._card_create_and_deliver)
        app.router.add_post("/v1.0/im/v1.0/robot/interactiveCards/send", self._robot_card_send)
        app.router.add_put("/v1.0/im/robots/interactiveCards", self._robot_card_update)
        return app

    def _acs_error(self, request: web.Request, status: int, code: str, message: str) -> web.Response:
        body = {"requestid": _ids.request_id(), "code": code, "message": message}
        self._record(self._rejected, Rejected(request.path, status, body, time.time()))
        return web.json_response(body, status=status)

    async def _open(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body = _parse_object(raw)
        with self._cond:
            fault = self._open_faults.pop(0) if self._open_faults else None
        if fault is not None:
            self._record(self._opens, OpenRequest(body, fault, time.time()))
            return web.Response(
                status=fault,
                text=f"<html><body><h1>{fault}</h1>dingtalk fake</body></html>",
                content_type="text/html",
            )
        if (
            body is None
            or body.get("clientId") != self.client_id
            or body.get("clientSecret") != self.client_secret
        ):
            self._record(self._opens, OpenRequest(body, 401, time.time()))
            return self._acs_error(request, 401, "authFailed", "鉴权失败")
        subscriptions: list[tuple[str, str]] = []
        for item in body.get("subscriptions") or []:
            if (
                isinstance(item, dict)
                and isinstance(item.get("type"), str)
                and isinstance(item.get("topic"), str)
            ):
                subscriptions.append((item["type"], item["topic"]))
        ticket = str(uuid.uuid4())
        self._tickets[ticket] = _Ticket(tuple(subscriptions), time.monotonic() + TICKET_TTL)
        self._record(self._opens, OpenRequest(body, 200, time.time()))
        return web.json_response({"endpoint": f"{self._server.ws_url}{CONNECT_PATH}", "ticket": ticket})

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        ticket = self._tickets.pop(request.query.get("ticket", ""), None)
        if ticket is None or ticket.expires < time.monotonic():
            return self._acs_error(request, 401, "authFailed", "ticket 无效")
        ws = web.WebSocketResponse(autoping=True, max_msg_size=8 * 1024 * 1024)
        await ws.prepare(request)
        connection = _Connection(str(uuid.uuid4()), ticket.subscriptions, ws, request, time.time())
        with self._connected(connection, lambda: "client" if ws.close_code is not None else "server"):
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._on_frame(connection, cast(str, message.data))
        return ws

    async def _access_token(self, request: web.Request) -> web.Response:
        body = _parse_object(await request.read())
        if (
            body is None
            or body.get("appKey") != self.client_id
            or body.get("appSecret") != self.client_secret
        ):
            return self._acs_error(request, 400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        token = _ids.hexid(32)
        with self._cond:
            self._tokens[token] = time.time() + self.token_ttl
        return web.json_response({"accessToken": token, "expireIn": self.token_ttl})

    def _authorised(self, request: web.Request) -> bool:
        token = request.headers.get("x-acs-dingtalk-access-token", "")
        with self._cond:
            expiry = self._tokens.get(token)
        return expiry is not None and expiry > time.time()

    async def _session_webhook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        with self._cond:
            session = self._sessions.get(request.query.get("session", ""))
        if session is None or session.expires <= time.time():
            body = {"errcode": 300001, "errmsg": "session 不存在"}
            self._record(self._rejected, Rejected(request.path, 200, body, time.time()))
            return web.json_response(body)
        try:
            message = _check_dingtalk_body(raw)
        except PlatformError as error:
            body = {"errcode": error.code, "errmsg": error.message}
            self._record(self._rejected, Rejected(request.path, 200, body, time.time()))
            return web.json_response(body)
        self._record(
            self._replies, Reply("session_webhook", message, session.conversation_id, (), time.time())
        )
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _robot_body(self, request: web.Request) -> Json | web.Response:
        """The JSON body of an OpenAPI robot call, or the error answer (token, JSON, robotCode, msgKey,
        msgParam), in that order."""
        if not self._authorised(request):
            return self._acs_error(request, 400, "InvalidAuthentication", "不合法的access_token")
        body = _parse_object(await request.read())
        if body is None:
            return self._acs_error(request, 400, "invalidParameter.param.invalid", "参数不合法")
        if body.get("robotCode") != self.robot_code:
            return self._acs_error(
                request, 400, "invalidParameter.robotCode.auth", "此应用appkey和机器人robotCode不匹配"
            )
        if "msgKey" in body or request.path.startswith("/v1.0/robot/"):
            key = body.get("msgKey")
            if not isinstance(key, str) or key not in MSG_KEY_FIELDS:
                return self._acs_error(request, 400, "invalidParameter.msgKey.invalid", "msgKey不合法")
            param = body.get("msgParam")
            parsed = _parse_object(param.encode("utf-8")) if isinstance(param, str) else None
            if parsed is None or not all(
                isinstance(parsed.get(k), str) and parsed[k] for k in MSG_KEY_FIELDS[key]
            ):
                return self._acs_error(request, 400, "invalidParameter.msgParam.invalid", "msgParam不合法")
        return body

    def _known_conversation(self, conversation_id: object) -> bool:
        with self._cond:
            return any(g.conversation_id == conversation_id for g in self._groups.values()) or (
                conversation_id in self._p2p.values()
            )

    async def _group_messages(self, request: web.Request) -> web.Response:
        body = await self._robot_body(request)
        if isinstance(body, web.Response):
            return body
        conversation = body.get("openConversationId")
        if not isinstance(conversation, str) or not self._known_conversation(conversation):
            return self._acs_error(request, 400, "invalid.openConversationId", "openConversationId不合法")
        self._record(self._replies, Reply("group_messages", body, conversation, (), time.time()))
        return web.json_response({"processQueryKey": _ids.b64(32)})

    async def _oto_messages(self, request: web.Request) -> web.Response:
        body = await self._robot_body(request)
        if isinstance(body, web.Response):
            return body
        user_ids = body.get("userIds")
        if not isinstance(user_ids, list) or not user_ids or not all(isinstance(u, str) for u in user_ids):
            return self._acs_error(request, 400, "invalidParameter.userIds.empty", "userIds不能为空")
        if len(user_ids) > OTO_MAX_USERS:
            return self._acs_error(request, 400, "invalidParameter.userIds.overMax", "userIds超过最大值")
        with self._cond:
            invalid = [u for u in user_ids if u not in self._users]
        valid = tuple(u for u in user_ids if u not in invalid)
        if valid:
            self._record(self._replies, Reply("oto_messages", body, None, valid, time.time()))
        return web.json_response(
            {"processQueryKey": _ids.b64(32), "invalidStaffIdList": invalid, "flowControlledStaffIdList": []}
        )

    def _card_target(self, body: Json) -> tuple[str | None, str | None]:
        """(conversation id, user id) of a card deliver body's openSpaceId
        ``dtv1.card//IM_GROUP.{cid}`` or ``dtv1.card//IM_ROBOT.{userId}``."""
        space = body.get("openSpaceId")
        if isinstance(space, str) and space.startswith("dtv1.card//"):
            kind, _, ident = space[len("dtv1.card//") :].partition(".")
            if kind == "IM_GROUP":
                return ident, None
            if kind == "IM_ROBOT":
                return None, ident
        return None, None

    async def _card_call(self, request: web.Request, via: ReplyVia) -> web.Response:
        if not self._authorised(request):
            return self._acs_error(request, 400, "InvalidAuthentication", "不合法的access_token")
        body = _parse_object(await request.read())
        track = body.get("outTrackId") if body is not None else None
        if body is None or not isinstance(track, str) or not track:
            return self._acs_error(request, 400, "invalidParameter.outTrackId.empty", "outTrackId不能为空")
        conversation, user = self._card_target(body)
        with self._cond:
            card = self._cards.get(track)
            if via == "card_update" and card is None:
                pass
            elif card is None:
                card = _Card(track, conversation, user, body)
                self._cards[track] = card
            elif conversation is not None or user is not None:
                card.conversation_id, card.user_id = conversation, user
        if via == "card_update" and card is None:
            return self._acs_error(request, 400, "invalidParameter.outTrackId.notExist", "卡片不存在")
        assert card is not None
        self._record(
            self._replies,
            Reply(via, body, card.conversation_id, (card.user_id,) if card.user_id else (), time.time()),
        )
        result: object = track if via == "card_create" else True
        return web.json_response({"success": True, "result": result})

    async def _card_create(self, request: web.Request) -> web.Response:
        return await self._card_call(request, "card_create")

    async def _card_deliver(self, request: web.Request) -> web.Response:
        return await self._card_call(request, "card_deliver")

    async def _card_create_and_deliver(self, request: web.Request) -> web.Response:
        return await self._card_call(request, "card_deliver")

    async def _card_update(self, request: web.Request) -> web.Response:
        return await self._card_call(request, "card_update")

    async def _robot_card_send(self, request: web.Request) -> web.Response:
        body = await self._robot_body(request)
        if isinstance(body, web.Response):
            return body
        conversation = body.get("openConversationId")
        biz = body.get("cardBizId")
        if isinstance(biz, str):
            with self._cond:
                self._cards[biz] = _Card(
                    biz, conversation if isinstance(conversation, str) else None, None, body
                )
        self._record(
            self._replies,
            Reply(
                "robot_card_send",
                body,
                conversation if isinstance(conversation, str) else None,
                (),
                time.time(),
            ),
        )
        return web.json_response({"processQueryKey": _ids.b64(32)})

    async def _robot_card_update(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._acs_error(request, 400, "InvalidAuthentication", "不合法的access_token")
        body = _parse_object(await request.read())
        biz = body.get("cardBizId") if body is not None else None
        with self._cond:
            card = self._cards.get(biz) if isinstance(biz, str) else None
        if body is None or card is None:
            return self._acs_error(request, 400, "invalidParameter.cardBizId.notExist", "卡片不存在")
        self._record(self._replies, Reply("robot_card_update", body, card.conversation_id, (), time.time()))
        return web.json_response({"success": True, "result": True})
