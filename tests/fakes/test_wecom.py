"""The WeCom smart-robot fake against WeCom's official Python SDK (``wecom-aibot-python-sdk``,
package ``aibot``): subscription, messages, stream replies, template-card events, pushes,
heartbeats, one connection per bot, reconnects and a refused secret."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import aibot.ws
import pytest
from aibot import WSClient, WSClientOptions

from tests.fakes._clientloop import ClientLoop
from tests.fakes.wecom import WeComFake

pytest_plugins = ("tests.fakes.fixtures",)


class QuietLogger:
    """The SDK's logger interface; keeps the records for assertions instead of printing."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def debug(self, message: str, *args: Any) -> None:
        pass

    def info(self, message: str, *args: Any) -> None:
        self.lines.append(message)

    def warn(self, message: str, *args: Any) -> None:
        self.lines.append(message)

    def error(self, message: str, *args: Any) -> None:
        self.lines.append(message)


class Bot:
    """Answers each text with one finished stream message, as an adapter would."""

    def __init__(self, client: WSClient) -> None:
        self.client = client
        self.frames: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.errors: list[Exception] = []
        self.acks: list[dict[str, Any]] = []
        self.loop = asyncio.get_running_loop()
        client.on("message.text", self.on_text)
        client.on("event", self.events.append)
        client.on("error", self.errors.append)

    def call(self, coro: Any) -> Any:
        """Run an SDK coroutine on the client's loop from the test's thread; its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(5)

    async def on_text(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)
        content = frame["body"]["text"]["content"]
        self.acks.append(
            await self.client.reply_stream(frame, f"s{len(self.frames)}", "收到：" + content, finish=True)
        )


@pytest.fixture
def wecom_tls(monkeypatch: pytest.MonkeyPatch) -> Iterator[WeComFake]:
    """A TLS fake the SDK trusts (the SDK always connects with its own SSL context)."""
    with WeComFake(tls=True) as fake:
        monkeypatch.setattr(aibot.ws, "_SSL_CONTEXT", fake.client_ssl_context())
        yield fake


@pytest.fixture
def run_bot() -> Iterator[Callable[..., Bot]]:
    loops: list[ClientLoop] = []

    def run(fake: WeComFake, *, secret: str | None = None, heartbeat_ms: int = 30_000) -> Bot:
        options = WSClientOptions(
            bot_id=fake.bot_id,
            secret=secret or fake.secret,
            ws_url=fake.ws_url,
            reconnect_interval=100,
            max_reconnect_attempts=-1,
            heartbeat_interval=heartbeat_ms,
            logger=QuietLogger(),
        )
        loop = ClientLoop("wecom-client")
        holder: list[Bot] = []

        async def main() -> None:
            client = WSClient(options)  # pyee's emitter wants the running loop
            holder.append(Bot(client))
            await client.connect()
            await asyncio.Event().wait()

        loop.run_coroutine(main)
        loops.append(loop)
        deadline = time.monotonic() + 5
        while not holder and time.monotonic() < deadline:
            time.sleep(0.01)
        return holder[0]

    yield run
    for loop in loops:
        loop.stop()


def test_group_message_and_stream_reply(wecom_tls: WeComFake, run_bot: Callable[..., Bot]) -> None:
    bot = run_bot(wecom_tls)
    (connection,) = wecom_tls.wait_for_connections(1)
    assert connection.authenticated
    assert wecom_tls.subscriptions == [({"bot_id": wecom_tls.bot_id, "secret": wecom_tls.secret}, 0)]

    pushed = wecom_tls.say("金融办工作群", "zhangsan", "最新 株洲")

    (reply,) = wecom_tls.wait_for_replies(1)
    assert pushed is not None
    body = bot.frames[0]["body"]
    assert body["text"]["content"] == "@金融资讯助手 最新 株洲"  # the mention stays in the text
    assert (body["chattype"], body["chatid"], body["from"]) == (
        "group",
        wecom_tls.chat("金融办工作群"),
        {"userid": "zhangsan"},
    )
    assert (reply.cmd, reply.req_id, reply.errcode, reply.chatid) == (
        "aibot_respond_msg",
        pushed.req_id,
        0,
        wecom_tls.chat("金融办工作群"),
    )
    assert reply.body["msgtype"] == "stream" and reply.body["stream"]["finish"] is True
    assert reply.text == "收到：@金融资讯助手 最新 株洲"
    wecom_tls.wait_until(lambda: len(bot.acks) == 1, what="the SDK's reply ack")
    assert bot.acks[0]["errcode"] == 0


def test_one_to_one_message_and_no_delivery_without_mention(
    wecom_tls: WeComFake, run_bot: Callable[..., Bot]
) -> None:
    bot = run_bot(wecom_tls)
    wecom_tls.wait_for_connections(1)

    assert wecom_tls.say("金融办工作群", "zhangsan", "最新 株洲", at_bot=False) is None
    wecom_tls.say("", "zhangsan", "/subscribe", group=False)

    wecom_tls.wait_for_replies(1)
    body = bot.frames[0]["body"]
    assert body["chattype"] == "single" and "chatid" not in body
    assert body["text"]["content"] == "/subscribe"


def test_a_message_pushed_again_keeps_its_msgid(wecom_tls: WeComFake, run_bot: Callable[..., Bot]) -> None:
    bot = run_bot(wecom_tls)
    wecom_tls.wait_for_connections(1)
    first = wecom_tls.say("金融办工作群", "zhangsan", "/topic 上市")
    assert first is not None

    again = wecom_tls.push_again(first)

    wecom_tls.wait_for_replies(2)
    assert again is not None and again.msgid == first.msgid and again.req_id != first.req_id
    assert [f["body"]["msgid"] for f in bot.frames] == [first.msgid, first.msgid]


def test_card_event_update_and_late_reply(
    run_bot: Callable[..., Bot], monkeypatch: pytest.MonkeyPatch
) -> None:
    with WeComFake(tls=True, stream_window=0.3, event_reply_window=0.3) as fake:
        monkeypatch.setattr(aibot.ws, "_SSL_CONTEXT", fake.client_ssl_context())
        bot = run_bot(fake)
        fake.wait_for_connections(1)
        client = bot.client

        event = fake.card_event("金融办工作群", "zhangsan", "task-1", "next_page")
        fake.wait_until(lambda: len(bot.events) == 1, what="the card event")
        frame = bot.events[0]
        card = {"card_type": "button_interaction", "task_id": "task-1", "main_title": {"title": "第 2 页"}}
        update = bot.call(client.update_template_card(frame, card))
        sent = bot.call(
            client.send_message(
                fake.chat("金融办工作群"), {"msgtype": "markdown", "markdown": {"content": "摘要"}}
            )
        )
        time.sleep(0.4)  # past the windows
        with pytest.raises(RuntimeError, match="errcode=40058"):
            bot.call(client.update_template_card(frame, card))

    assert event is not None and frame["body"]["event"]["template_card_event"]["event_key"] == "next_page"
    assert update["errcode"] == 0 and sent["errcode"] == 0
    assert [(r.cmd, r.errcode) for r in fake.replies] == [
        ("aibot_respond_update_msg", 0),
        ("aibot_send_msg", 0),
        ("aibot_respond_update_msg", 40058),
    ]
    assert fake.replies[1].text == "摘要" and fake.replies[1].chatid == fake.chat("金融办工作群")


def test_stream_reply_after_the_window_is_refused(
    run_bot: Callable[..., Bot], monkeypatch: pytest.MonkeyPatch
) -> None:
    with WeComFake(tls=True, stream_window=0.2) as fake:
        monkeypatch.setattr(aibot.ws, "_SSL_CONTEXT", fake.client_ssl_context())
        bot = run_bot(fake)
        fake.wait_for_connections(1)
        pushed = fake.say("金融办工作群", "zhangsan", "最新 株洲")
        fake.wait_for_replies(1)
        time.sleep(0.3)

        with pytest.raises(RuntimeError, match="errcode=846608"):
            bot.call(bot.client.reply_stream(bot.frames[0], "s1", "迟到", finish=True))
    assert pushed is not None


def test_dropped_connection_is_reopened(wecom_tls: WeComFake, run_bot: Callable[..., Bot]) -> None:
    run_bot(wecom_tls)
    wecom_tls.wait_for_connections(1)

    assert wecom_tls.drop_connection() == 1
    wecom_tls.wait_for_connections(2, timeout=5)

    wecom_tls.say("金融办工作群", "zhangsan", "最新 株洲")
    wecom_tls.wait_for_replies(1)


def test_unanswered_heartbeats_make_the_sdk_close_and_stay_closed(
    wecom_tls: WeComFake, run_bot: Callable[..., Bot]
) -> None:
    bot = run_bot(wecom_tls, heartbeat_ms=100)
    wecom_tls.wait_for_connections(1)
    wecom_tls.wait_until(lambda: wecom_tls.connections[0].pings >= 2, what="two pings")

    wecom_tls.stop_answering_pings()
    wecom_tls.wait_until(lambda: wecom_tls.connections[0].closed_at is not None, what="the SDK giving up")
    time.sleep(1.0)

    # SDK 1.0.2 closes the socket cleanly (code 1000); its receive loop then ends without an
    # exception and schedules no reconnect: the client is silently offline for good.
    assert wecom_tls.connections[0].how_closed == "client"
    assert len(wecom_tls.connections) == 1
    assert bot.client.is_connected is False


def test_a_second_connection_kicks_the_first(wecom_tls: WeComFake, run_bot: Callable[..., Bot]) -> None:
    first = run_bot(wecom_tls)
    wecom_tls.wait_for_connections(1)

    run_bot(wecom_tls)

    wecom_tls.wait_until(
        lambda: any(e["body"]["event"]["eventtype"] == "disconnected_event" for e in first.events),
        what="disconnected_event",
    )
    wecom_tls.wait_until(lambda: wecom_tls.connections[0].closed_at is not None, what="the kick")
    time.sleep(0.5)
    # The kicked client was closed with code 1000, so SDK 1.0.2 does not reconnect (no fight).
    assert wecom_tls.connections[0].how_closed == "kicked"
    assert len(wecom_tls.connections) == 2 and first.client.is_connected is False


def test_wrong_secret_is_refused(wecom_tls: WeComFake, run_bot: Callable[..., Bot]) -> None:
    bot = run_bot(wecom_tls, secret="wrong")

    wecom_tls.wait_until(lambda: len(bot.errors) >= 1, what="an authentication error")
    assert wecom_tls.subscriptions[0][1] == 40001
    assert "Authentication failed" in str(bot.errors[0]) and "40001" in str(bot.errors[0])
    assert not any(c.authenticated for c in wecom_tls.connections)
    assert wecom_tls.say("金融办工作群", "zhangsan", "最新 株洲") is None
    time.sleep(0.5)
    assert len(wecom_tls.connections) == 1  # refused and closed cleanly: the SDK does not retry
