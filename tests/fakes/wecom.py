"""A local fake of WeCom's 智能机器人 long connection (``wss://openws.work.weixin.qq.com``).

Why this mode and not the group robot's message callback: the callback posts AES-encrypted
messages to a URL the bot must expose on the internet (and self-built app callbacks need a trusted
domain tied to the enterprise's ICP record), which a municipal office's server rarely has. The
long connection needs only outbound HTTPS, like DingTalk's Stream mode and Feishu's long
connection, and is what WeCom now recommends for servers without a public address.

Is the protocol documented well enough to reproduce? Yes, as JSON frames: WeCom's document
"智能机器人长连接" (https://developer.work.weixin.qq.com/document/path/101463, updated 2026-04-01;
its table of contents and overview are in the search tool's docs corpus) and two official SDKs
that agree frame for frame — ``@wecom/aibot-node-sdk`` (public repository
``WecomTeam/aibot-node-sdk``, ``src/ws.ts``, ``src/types/*.ts``) and ``wecom-aibot-python-sdk``
1.0.2 (PyPI, author WeCom, package ``aibot``: ``aibot/ws.py``, ``aibot/client.py``,
``aibot/types.py``). The message bodies are those of the callback mode, documented in "接收消息"
and "接收事件" (path/100719, mirrored in the public repository ``wxkingstar/doc-hub-mcp`` under
``wecom/001-企业内部开发/002-服务端API/009-消息接收与发送/009-智能机器人/``). What is *not* documented
anywhere we could read (the full text of path/101463 was not reachable): the error codes of a
refused subscription, the server's heartbeat timeout, whether an unanswered message is pushed
again. The fake marks each such choice below; the frame shapes are not guesses.

Pointing a client at it. The official Python SDK takes ``WSClientOptions(ws_url=fake.ws_url)``,
but connects with ``ssl=aibot.ws._SSL_CONTEXT`` whatever the URL (``aibot/ws.py:126-132``) and
websockets refuses an SSL context for ``ws://``. So the fake serves ``wss://`` with a certificate
made for 127.0.0.1 when ``tls=True``, and the client must trust it:
``aibot.ws._SSL_CONTEXT = fake.client_ssl_context()``. (A client of our own could use ``ws://``.)

Frames (all JSON text): ``{"cmd", "headers": {"req_id"}, "body"}``; answers to the client's
requests have no ``cmd``: ``{"headers": {"req_id"}, "errcode", "errmsg"}``.

    - ``aibot_subscribe`` ``{bot_id, secret}`` must come first (SDK ``ws.py:172-187``). Success:
      errcode 0 "ok". A wrong bot id or secret: errcode 40001 with WeCom's errmsg tail (``…,
      hint: [...], from ip: ..., more info at https://open.work.weixin.qq.com/devtool/query?e=N``,
      the shape seen for errcode 45009 in WecomTeam/wecom-openclaw-plugin#48); the code itself is
      not documented. The fake then closes the connection (code 1000). The Python SDK emits an
      ``error`` (``ws.py:243-256``) and does not try again: see "clean closes" below.
    - One connection per bot: a new subscription kicks the old connection, which first gets an
      ``aibot_event_callback`` with ``event.eventtype`` ``disconnected_event`` (node SDK
      ``ws.ts:245-262``, ``types/event.ts``; the node SDK then stops reconnecting). The Python SDK
      1.0.2 does not know this event; it stays offline only because of the clean close below.
    - ``ping`` every 30 s (``heartbeat_interval``); answered errcode 0 (``ws.py:295-336``). The SDK
      closes the connection after two unanswered pings; :meth:`WeComFake.stop_answering_pings`.
    - Clean closes (measured with SDK 1.0.2 against this fake): a close with code 1000, whoever
      sends it, ends the SDK's ``async for`` receive loop without an exception, so it schedules
      no reconnect (``ws.py:189-214``): after a refused secret, a kick, or its own heartbeat
      timeout the client is offline for good and says nothing more. Only an abnormal close
      (:meth:`WeComFake.drop_connection`) makes it reconnect, with backoff from
      ``reconnect_interval`` and at most ``max_reconnect_attempts`` (default 10; -1: no limit).
    - ``aibot_msg_callback``: a user's message (:meth:`say`), body ``{msgid, aibotid, chatid (group
      only), chattype "single"|"group", from {userid}, response_url, msgtype "text", text
      {content}}``. In a group the text keeps the mention: ``"@金融资讯助手 最新 株洲"`` (doc 接收消息
      example: ``"@RobotA hello robot"``). Group messages reach the bot only when they @ it (doc:
      用户群里@智能机器人).
    - ``aibot_event_callback``: ``enter_chat`` and ``template_card_event`` {card_type, event_key,
      task_id} (doc 接收事件; :meth:`card_event`).
    - Replies, answered errcode 0 or refused: ``aibot_respond_msg`` with the callback's req_id and
      a body ``msgtype`` ``stream`` {id, finish, content (≤ 20480 bytes)}, ``markdown``,
      ``template_card`` or ``stream_with_template_card`` (node SDK ``types/api.ts``); a stream is
      shown with its latest content and must finish within 6 minutes of the user's message
      (errcode 846608 after that, named in WecomTeam/wecom-openclaw-plugin ``src/interface.ts``;
      ``stream_window``); ``aibot_respond_welcome_msg`` and ``aibot_respond_update_msg`` within
      5 s of their event (doc: 五秒内); ``aibot_send_msg`` ``{chatid, msgtype markdown|
      template_card, …}`` to any chat. A req_id the fake never sent, or too late: errcode 40058
      (not documented which code).

Acks and re-delivery: there is no ack frame; a reply is the answer. The doc warns that a message
may be pushed again (msgid: 可能因为网络等原因重复回调) without saying when; the fake never does so
by itself, and :meth:`push_again` repeats a message (same msgid, new req_id) for tests of
de-duplication.

Group owners and admins: a message names only ``from.userid``; nothing in the smart robot's API
tells a group's owner or admins (the ``appchat`` API covers only chats an app created, and
customer-group APIs only external groups). An adapter needs its own admin list.

Not modelled: media messages and their AES-encrypted downloads, media upload over the socket
(``aibot_upload_media_*``), ``response_url`` (an HTTP reply URL valid for an hour), feedback
events, the HTTP callback mode, rate limits, the server-side heartbeat timeout.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from aiohttp import WSMsgType, web

from tests.fakes import _ids
from tests.fakes._aioserver import AioServer, PlatformFake

T = TypeVar("T")
Json = dict[str, Any]

STREAM_MAX_BYTES = 20480
STREAM_WINDOW = 6 * 60.0
EVENT_REPLY_WINDOW = 5.0
REPLY_MSGTYPES = frozenset({"stream", "markdown", "template_card", "stream_with_template_card", "text"})


def _errmsg(text: str, code: int) -> str:
    hint = f"{int(time.time())}{_ids.hexid(12)}"
    return (
        f"{text}, hint: [{hint}], from ip: 127.0.0.1, more info at "
        f"https://open.work.weixin.qq.com/devtool/query?e={code}"
    )


@dataclass(frozen=True)
class Pushed:
    """A callback frame the fake pushed: its req_id and body."""

    cmd: str
    req_id: str
    body: Json
    at: float

    @property
    def msgid(self) -> str:
        value = self.body.get("msgid")
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Reply:
    """A request frame the bot sent (not subscribe or ping) and what the fake answered."""

    cmd: str
    req_id: str
    body: Json
    errcode: int
    chatid: str | None  # the chat it went to, when known
    at: float

    @property
    def text(self) -> str:
        """The visible text: a stream's content, a markdown's content, a text's content."""
        for section in ("stream", "markdown", "text"):
            value = self.body.get(section)
            if isinstance(value, dict) and isinstance(value.get("content"), str):
                return cast(str, value["content"])
        return ""


@dataclass(frozen=True)
class ConnectionInfo:
    connection_id: str
    authenticated: bool
    opened_at: float
    closed_at: float | None
    how_closed: str | None
    pings: int


@dataclass
class _Connection:
    connection_id: str
    ws: web.WebSocketResponse
    request: web.Request
    opened_at: float
    authenticated: bool = False
    closed_at: float | None = None
    how_closed: str | None = None
    pings: int = 0

    def info(self) -> ConnectionInfo:
        return ConnectionInfo(
            self.connection_id,
            self.authenticated,
            self.opened_at,
            self.closed_at,
            self.how_closed,
            self.pings,
        )


@dataclass
class _Callback:
    pushed: Pushed
    chatid: str | None
    deadline: float  # monotonic: replies after it are refused


class WeComFake(PlatformFake):
    """WeCom's smart-robot long connection on 127.0.0.1 (``tls=True``: wss, for the official SDK).

    >>> with WeComFake(tls=True) as fake:
    ...     aibot.ws._SSL_CONTEXT = fake.client_ssl_context()
    ...     # WSClient(WSClientOptions(bot_id=fake.bot_id, secret=fake.secret, ws_url=fake.ws_url))
    ...     fake.wait_for_connections(1)
    ...     fake.say("金融办工作群", "zhangsan", "最新 株洲")
    """

    NAME = "WeCom"

    def __init__(
        self,
        *,
        bot_id: str | None = None,
        secret: str | None = None,
        bot_name: str = "金融资讯助手",
        tls: bool = False,
        stream_window: float = STREAM_WINDOW,
        event_reply_window: float = EVENT_REPLY_WINDOW,
        port: int = 0,
    ) -> None:
        self.bot_id = bot_id or "aib" + _ids.alnum(29)
        self.secret = secret or _ids.alnum(43)
        self.bot_name = bot_name
        self.stream_window = stream_window
        self.event_reply_window = event_reply_window
        self._tls = None
        context: ssl.SSLContext | None = None
        if tls:
            from tests.fakes._tls import self_signed

            self._tls = self_signed()
            context = self._tls.server_context()
        self._server = AioServer(self._make_app, port=port, name="wecom-fake", ssl_context=context)
        self._cond = threading.Condition()
        self._connections: dict[str, _Connection] = {}
        self._callbacks: dict[str, _Callback] = {}
        self._chats: dict[str, str] = {}  # name -> chatid
        self._answer_pings = True
        self._connection_log: list[_Connection] = []
        self._subscriptions: list[tuple[Json, int]] = []
        self._pushed: list[Pushed] = []
        self._undelivered: list[Pushed] = []
        self._replies: list[Reply] = []

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        """The URL for the SDK's ``ws_url`` (``wss://127.0.0.1:PORT`` with ``tls=True``)."""
        return self._server.ws_url

    def client_ssl_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this fake's certificate (``tls=True`` only)."""
        if self._tls is None:
            raise RuntimeError("this WeCom fake serves plain ws://; build it with tls=True")
        return self._tls.client_context()

    def chat(self, name: str) -> str:
        """The chatid of the group called ``name`` (the bot is in it), created on first use."""
        with self._cond:
            return self._chats.setdefault(name, "wr" + _ids.alnum(30))

    # --- driving the client --------------------------------------------------------------------

    def say(
        self, conversation: str, user: str, text: str, *, group: bool = True, at_bot: bool = True
    ) -> Pushed | None:
        """User ``user`` (a userid) sends ``text`` in the group called ``conversation``, or one to
        one with ``group=False``. None when the bot does not get it (a group message without @, or
        no authenticated connection)."""
        if group and not at_bot:
            return None
        body: Json = {
            "msgid": _ids.b64(24),
            "aibotid": self.bot_id,
            "chattype": "group" if group else "single",
            "from": {"userid": user},
            "response_url": f"{self._server.url}/cgi-bin/aibot/response?response_code={_ids.hexid(32)}",
            "msgtype": "text",
            "text": {"content": f"@{self.bot_name} {text}" if group else text},
        }
        chatid = None
        if group:
            chatid = self.chat(conversation)
            body = {"msgid": body["msgid"], "aibotid": self.bot_id, "chatid": chatid, **body}
        return self._server.run(self._push("aibot_msg_callback", body, chatid, self.stream_window))

    def card_event(
        self,
        conversation: str | None,
        user: str,
        task_id: str,
        event_key: str,
        *,
        card_type: str = "button_interaction",
    ) -> Pushed | None:
        """User ``user`` presses the button ``event_key`` of the template card ``task_id`` (in the
        group ``conversation``, or one to one when None)."""
        body: Json = {
            "msgid": _ids.b64(24),
            "create_time": int(time.time()),
            "aibotid": self.bot_id,
            "from": {"userid": user},
            "chattype": "single" if conversation is None else "group",
            "msgtype": "event",
            "event": {
                "eventtype": "template_card_event",
                "template_card_event": {"card_type": card_type, "event_key": event_key, "task_id": task_id},
            },
        }
        chatid = None if conversation is None else self.chat(conversation)
        if chatid is not None:
            body["chatid"] = chatid
        return self._server.run(self._push("aibot_event_callback", body, chatid, self.event_reply_window))

    def push_again(self, pushed: Pushed) -> Pushed | None:
        """Push the same message again (same msgid, new req_id), as the doc says may happen."""
        with self._cond:
            chatid = self._callbacks[pushed.req_id].chatid if pushed.req_id in self._callbacks else None
        window = self.stream_window if pushed.cmd == "aibot_msg_callback" else self.event_reply_window
        return self._server.run(self._push(pushed.cmd, pushed.body, chatid, window))

    def drop_connection(self) -> int:
        """Cut every live connection's TCP at once (no close frame). Returns how many."""
        return self._server.call(self._drop_all)

    def stop_answering_pings(self, stop: bool = True) -> None:
        with self._cond:
            self._answer_pings = not stop

    def rotate_secret(self) -> str:
        with self._cond:
            self.secret = _ids.alnum(43)
            return self.secret

    # --- records -------------------------------------------------------------------------------

    @property
    def connections(self) -> list[ConnectionInfo]:
        with self._cond:
            return [c.info() for c in self._connection_log]

    @property
    def subscriptions(self) -> list[tuple[Json, int]]:
        """Every ``aibot_subscribe`` body received and the errcode answered."""
        with self._cond:
            return list(self._subscriptions)

    @property
    def pushed(self) -> list[Pushed]:
        with self._cond:
            return list(self._pushed)

    @property
    def undelivered(self) -> list[Pushed]:
        with self._cond:
            return list(self._undelivered)

    @property
    def replies(self) -> list[Reply]:
        with self._cond:
            return list(self._replies)

    def wait_for_connections(self, count: int = 1, timeout: float = 5.0) -> list[ConnectionInfo]:
        """Block until ``count`` connections have subscribed successfully in all."""
        self.wait_until(
            lambda: sum(c.authenticated for c in self._connection_log) >= count,
            timeout,
            f"{count} connections",
        )
        return self.connections

    def wait_for_replies(self, count: int = 1, timeout: float = 5.0) -> list[Reply]:
        self.wait_until(lambda: len(self._replies) >= count, timeout, f"{count} replies")
        return self.replies

    # --- the loop side --------------------------------------------------------------------------

    def _live(self) -> list[_Connection]:
        return [c for c in self._connections.values() if c.closed_at is None and c.authenticated]

    async def _push(self, cmd: str, body: Json, chatid: str | None, window: float) -> Pushed | None:
        pushed = Pushed(cmd, f"{cmd}_{_ids.hexid(16)}", body, time.time())
        live = self._live()
        if not live:
            self._record(self._undelivered, pushed)
            return None
        connection = live[-1]
        try:
            await connection.ws.send_str(
                json.dumps(
                    {"cmd": cmd, "headers": {"req_id": pushed.req_id}, "body": body}, ensure_ascii=False
                )
            )
        except (ConnectionError, RuntimeError):
            self._record(self._undelivered, pushed)
            return None
        with self._cond:
            self._callbacks[pushed.req_id] = _Callback(pushed, chatid, time.monotonic() + window)
        self._record(self._pushed, pushed)
        return pushed

    def _drop_all(self) -> int:
        live = [c for c in self._connections.values() if c.closed_at is None]
        for connection in live:
            connection.how_closed = "dropped"
            transport = connection.request.transport
            if transport is not None:
                transport.abort()
        return len(live)

    async def _answer(self, connection: _Connection, req_id: str, errcode: int, errmsg: str) -> None:
        frame = {"headers": {"req_id": req_id}, "errcode": errcode, "errmsg": errmsg}
        with contextlib.suppress(ConnectionError, RuntimeError):
            await connection.ws.send_str(json.dumps(frame, ensure_ascii=False))

    async def _subscribe(self, connection: _Connection, req_id: str, body: Json) -> None:
        ok = body.get("bot_id") == self.bot_id and body.get("secret") == self.secret
        self._record(self._subscriptions, (body, 0 if ok else 40001))
        if not ok:
            await self._answer(connection, req_id, 40001, _errmsg("invalid credential", 40001))
            connection.how_closed = "refused"
            await connection.ws.close(code=1000, message=b"authentication failed")
            return
        for old in self._live():
            # One connection per bot: the older one is told, then closed.
            event = {
                "msgid": _ids.b64(24),
                "create_time": int(time.time()),
                "aibotid": self.bot_id,
                "msgtype": "event",
                "event": {"eventtype": "disconnected_event"},
            }
            frame = {"cmd": "aibot_event_callback", "headers": {"req_id": _ids.hexid(16)}, "body": event}
            with contextlib.suppress(ConnectionError, RuntimeError):
                await old.ws.send_str(json.dumps(frame))
            old.how_closed = "kicked"
            await old.ws.close(code=1000, message=b"a new connection was established")
        with self._cond:
            connection.authenticated = True
            self._cond.notify_all()
        await self._answer(connection, req_id, 0, "ok")

    def _check_reply(self, cmd: str, req_id: str, body: Json) -> tuple[int, str | None]:
        """The errcode for a reply frame, and the chat it goes to."""
        if cmd == "aibot_send_msg":
            chatid = body.get("chatid")
            if (
                not isinstance(chatid, str)
                or not chatid
                or body.get("msgtype") not in ("markdown", "template_card")
            ):
                return 40058, None
            return 0, chatid
        with self._cond:
            callback = self._callbacks.get(req_id)
        if callback is None or time.monotonic() > callback.deadline:
            return (846608 if callback is not None and cmd == "aibot_respond_msg" else 40058), None
        if cmd == "aibot_respond_msg":
            msgtype = body.get("msgtype")
            if msgtype not in REPLY_MSGTYPES:
                return 40058, callback.chatid
            stream = body.get("stream")
            if msgtype in ("stream", "stream_with_template_card"):
                content = stream.get("content", "") if isinstance(stream, dict) else None
                if (
                    not isinstance(stream, dict)
                    or not isinstance(stream.get("id"), str)
                    or not isinstance(content, str)
                ):
                    return 40058, callback.chatid
                if len(content.encode("utf-8")) > STREAM_MAX_BYTES:
                    return 40058, callback.chatid
        return 0, callback.chatid

    async def _on_frame(self, connection: _Connection, raw: str) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            return
        if not isinstance(frame, dict):
            return
        cmd = frame.get("cmd")
        headers = frame.get("headers")
        req_id = headers.get("req_id") if isinstance(headers, dict) else None
        body = frame.get("body") if isinstance(frame.get("body"), dict) else {}
        if not isinstance(cmd, str) or not isinstance(req_id, str):
            return
        if cmd == "aibot_subscribe":
            await self._subscribe(connection, req_id, cast(Json, body))
            return
        if not connection.authenticated:
            await self._answer(connection, req_id, 40001, _errmsg("not subscribed", 40001))
            return
        if cmd == "ping":
            with self._cond:
                connection.pings += 1
                answer = self._answer_pings
                self._cond.notify_all()
            if answer:
                await self._answer(connection, req_id, 0, "ok")
            return
        errcode, chatid = self._check_reply(cmd, req_id, cast(Json, body))
        self._record(self._replies, Reply(cmd, req_id, cast(Json, body), errcode, chatid, time.time()))
        await self._answer(
            connection, req_id, errcode, "ok" if errcode == 0 else _errmsg("invalid request", errcode)
        )

    # --- HTTP ---------------------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self._websocket)
        return app

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=8 * 1024 * 1024)
        await ws.prepare(request)
        connection = _Connection(str(uuid.uuid4()), ws, request, time.time())
        with self._connected(connection):
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._on_frame(connection, cast(str, message.data))
        return ws
