"""The Feishu fake against the real ``lark-oapi`` clients: the long-connection client (endpoint,
protobuf frames, pings, acks, re-push, reconnects, credentials) and ``lark.Client`` for replies,
card updates and chat info.

``import lark_oapi`` takes about two seconds; the module is imported once for all these tests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import lark_oapi as lark
import lark_oapi.ws.client as lark_ws_client
import pytest
from lark_oapi.api.im.v1 import (
    CreateMessageRequest,
    CreateMessageRequestBody,
    GetChatRequest,
    PatchMessageRequest,
    PatchMessageRequestBody,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)
from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse
from lark_oapi.ws.exception import ClientException

from tests.fakes import _pbframe as pb
from tests.fakes._clientloop import ClientLoop
from tests.fakes.feishu import FAST_CONFIG, FeishuFake

pytest_plugins = ("tests.fakes.fixtures",)


def card(page: int) -> dict[str, Any]:
    return {
        "config": {"update_multi": True},
        "elements": [
            {"tag": "markdown", "content": f"第 {page} 页"},
            {
                "tag": "button",
                "text": {"tag": "plain_text", "content": "下一页"},
                "value": {"page": page + 1},
            },
        ],
    }


class Bot:
    """Event handlers as an adapter would register them; ``fail_first`` messages raise (the SDK
    then acks 500)."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.messages: list[Any] = []
        self.presses: list[Any] = []

    def on_message(self, data: Any) -> None:
        self.messages.append(data)
        if len(self.messages) <= self.fail_first:
            raise RuntimeError("handler crashed")

    def on_card(self, data: Any) -> P2CardActionTriggerResponse:
        self.presses.append(data)
        page = int(data.event.action.value["page"])
        return P2CardActionTriggerResponse(
            {
                "toast": {"type": "info", "content": f"第 {page} 页"},
                "card": {"type": "raw", "data": card(page)},
            }
        )

    def dispatcher(self) -> Any:
        return (
            lark.EventDispatcherHandler.builder("", "")
            .register_p2_im_message_receive_v1(self.on_message)
            .register_p2_card_action_trigger(self.on_card)
            .build()
        )


@pytest.fixture
def feishu_fast() -> Iterator[FeishuFake]:
    """A fake whose ClientConfig makes the SDK reconnect at once and ping every second, and whose
    re-push comes after 0.3 s instead of 3."""
    with FeishuFake(client_config=FAST_CONFIG, ack_timeout=0.3) as fake:
        yield fake


@pytest.fixture
def run_ws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ClientLoop]]:
    loops: list[ClientLoop] = []

    def run(fake: FeishuFake, bot: Bot, *, secret: str | None = None) -> ClientLoop:
        loop = ClientLoop("lark-ws-client")
        # The SDK runs on the loop it took at import; each client gets a fresh one.
        monkeypatch.setattr(lark_ws_client, "loop", loop.loop)
        client = lark.ws.Client(
            fake.app_id,
            secret or fake.app_secret,
            event_handler=bot.dispatcher(),
            domain=fake.url,
            log_level=lark.LogLevel.ERROR,
        )
        loop.run_blocking(client.start)
        loops.append(loop)
        return loop

    yield run
    for loop in loops:
        loop.stop()


def api(fake: FeishuFake) -> Any:
    return (
        lark.Client.builder()
        .app_id(fake.app_id)
        .app_secret(fake.app_secret)
        .domain(fake.url)
        .log_level(lark.LogLevel.ERROR)
        .build()
    )


def test_group_message_arrives_as_the_sdk_event_and_is_answered_by_reply(
    feishu_fast: FeishuFake, run_ws: Callable[..., ClientLoop]
) -> None:
    fake = feishu_fast
    bot = Bot()
    run_ws(fake, bot)
    fake.wait_for_connections(1)

    pushed = fake.say("金融办工作群", "王主任", "最新 株洲")

    (ack,) = fake.wait_for_acks(1)
    assert pushed is not None and ack.code == 200 and ack.event_id == pushed.event_id
    assert ("biz_rt" in dict(ack.headers)) and ack.data is None
    event = bot.messages[0]
    assert event.header.event_type == "im.message.receive_v1"
    assert event.header.event_id == pushed.event_id
    message = event.event.message
    assert message.chat_type == "group" and message.message_type == "text"
    assert json.loads(message.content) == {"text": "@_user_1 最新 株洲"}
    assert message.mentions[0].key == "@_user_1" and message.mentions[0].id.open_id == fake.bot.open_id
    assert event.event.sender.sender_id.open_id == fake.user("王主任").open_id
    assert event.event.sender.sender_id.user_id is None  # needs the contact permission

    request = (
        ReplyMessageRequest.builder()
        .message_id(message.message_id)
        .request_body(
            ReplyMessageRequestBody.builder()
            .msg_type("text")
            .content(json.dumps({"text": "株洲：共 3 条"}, ensure_ascii=False))
            .build()
        )
        .build()
    )
    response = api(fake).im.v1.message.reply(request)

    assert response.success(), response.msg
    (sent,) = fake.messages
    assert (sent.via, sent.text, sent.parent_id) == ("reply", "株洲：共 3 条", message.message_id)
    assert sent.chat_id == fake.chat("金融办工作群").chat_id == response.data.chat_id


def test_one_to_one_message_and_group_message_without_mention(
    feishu_fast: FeishuFake, run_ws: Callable[..., ClientLoop]
) -> None:
    fake = feishu_fast
    bot = Bot()
    run_ws(fake, bot)
    fake.wait_for_connections(1)

    assert fake.say("金融办工作群", "张三", "最新 株洲", at_bot=False) is None
    fake.say("ignored", "张三", "/subscribe", group=False)

    fake.wait_for_acks(1)
    message = bot.messages[0].event.message
    assert message.chat_type == "p2p" and message.mentions is None
    assert json.loads(message.content) == {"text": "/subscribe"}
    assert [d.event_id for d in fake.deliveries] == [bot.messages[0].header.event_id]


def test_event_acked_500_is_pushed_again_with_the_same_event_id(
    feishu_fast: FeishuFake, run_ws: Callable[..., ClientLoop]
) -> None:
    fake = feishu_fast
    bot = Bot(fail_first=1)
    run_ws(fake, bot)
    fake.wait_for_connections(1)

    pushed = fake.say("金融办工作群", "王主任", "/topic 上市")

    first, second = fake.wait_for_acks(2)
    time.sleep(0.5)  # acked 200: no third push
    assert pushed is not None
    assert (first.code, second.code) == (500, 200)
    assert [d.attempt for d in fake.deliveries] == [0, 1]
    ids = [m.header.event_id for m in bot.messages]
    assert ids == [pushed.event_id, pushed.event_id]
    assert bot.messages[0].event.message.message_id == bot.messages[1].event.message.message_id


def test_dropped_connection_is_reopened_and_pings_are_answered(
    feishu_fast: FeishuFake, run_ws: Callable[..., ClientLoop]
) -> None:
    fake = feishu_fast
    bot = Bot()
    run_ws(fake, bot)
    fake.wait_for_connections(1)
    fake.wait_until(lambda: fake.connections[0].pings >= 1, what="a ping")

    fake.fail_next_endpoints(1, code=1)  # system busy once: the SDK retries after ReconnectInterval
    assert fake.drop_connection() == 1
    fake.wait_for_connections(2, timeout=6)

    assert [r.code for r in fake.endpoint_requests] == [0, 1, 0]
    assert fake.connections[0].how_closed == "dropped"
    fake.say("金融办工作群", "王主任", "最新 株洲")
    fake.wait_for_acks(1)
    assert fake.deliveries[0].connection_id == fake.connections[1].connection_id


def test_close_frame_also_reconnects(feishu_fast: FeishuFake, run_ws: Callable[..., ClientLoop]) -> None:
    fake = feishu_fast
    run_ws(fake, Bot())
    fake.wait_for_connections(1)

    assert fake.close_connection() == 1
    fake.wait_for_connections(2, timeout=5)


def test_wrong_secret_makes_start_raise(feishu_fast: FeishuFake, run_ws: Callable[..., ClientLoop]) -> None:
    loop = run_ws(feishu_fast, Bot(), secret="wrong")

    assert loop.finished.wait(5)
    assert isinstance(loop.error, ClientException)
    assert loop.error.code == 10014
    assert feishu_fast.connections == []


def test_large_event_is_sent_in_parts_the_sdk_joins(run_ws: Callable[..., ClientLoop]) -> None:
    with FeishuFake(client_config=FAST_CONFIG, split_payload_over=200) as fake:
        bot = Bot()
        run_ws(fake, bot)
        fake.wait_for_connections(1)

        fake.say("金融办工作群", "王主任", "株洲 " * 100)

        fake.wait_for_acks(1)
        assert fake.deliveries[0].parts > 1
        assert json.loads(bot.messages[0].event.message.content)["text"].count("株洲") == 100


def test_card_button_press_updates_the_card_through_the_callback_and_patch(
    feishu_fast: FeishuFake, run_ws: Callable[..., ClientLoop]
) -> None:
    fake = feishu_fast
    bot = Bot()
    run_ws(fake, bot)
    fake.wait_for_connections(1)
    chat = fake.chat("金融办工作群")
    client = api(fake)
    created = client.im.v1.message.create(
        CreateMessageRequest.builder()
        .receive_id_type("chat_id")
        .request_body(
            CreateMessageRequestBody.builder()
            .receive_id(chat.chat_id)
            .msg_type("interactive")
            .content(json.dumps(card(1), ensure_ascii=False))
            .build()
        )
        .build()
    )
    assert created.success(), created.msg
    message_id = created.data.message_id

    fake.card_action(message_id, "王主任", {"page": 2})  # the button of card(1)

    (ack,) = fake.wait_for_acks(1)
    assert ack.code == 200 and isinstance(ack.data, dict) and ack.data["card"]["type"] == "raw"
    press = bot.presses[0]
    assert press.header.event_type == "card.action.trigger"
    assert press.event.context.open_message_id == message_id
    assert press.event.operator.open_id == fake.user("王主任").open_id
    assert fake.message(message_id).json == card(2)
    assert fake.toasts == [{"type": "info", "content": "第 2 页"}]

    patched = client.im.v1.message.patch(
        PatchMessageRequest.builder()
        .message_id(message_id)
        .request_body(
            PatchMessageRequestBody.builder().content(json.dumps(card(3), ensure_ascii=False)).build()
        )
        .build()
    )
    assert patched.success(), patched.msg
    assert fake.message(message_id).json == card(3) and fake.message(message_id).updates == 2


def test_chat_info_names_the_owner_and_the_managers(feishu_fake: FeishuFake) -> None:
    chat = feishu_fake.chat("金融办工作群", owner="王主任", managers=["李科长"])

    response = api(feishu_fake).im.v1.chat.get(
        GetChatRequest.builder().chat_id(chat.chat_id).user_id_type("open_id").build()
    )

    assert response.success(), response.msg
    assert response.data.owner_id == feishu_fake.user("王主任").open_id
    assert response.data.owner_id_type == "open_id"
    assert response.data.user_manager_id_list == [feishu_fake.user("李科长").open_id]


def test_refusals_in_feishus_shape(feishu_fake: FeishuFake) -> None:
    client = api(feishu_fake)
    chat = feishu_fake.chat("金融办工作群")

    def send(content: str, msg_type: str = "text") -> Any:
        return client.im.v1.message.create(
            CreateMessageRequest.builder()
            .receive_id_type("chat_id")
            .request_body(
                CreateMessageRequestBody.builder()
                .receive_id(chat.chat_id)
                .msg_type(msg_type)
                .content(content)
                .build()
            )
            .build()
        )

    not_json = send("株洲")
    too_long = send(json.dumps({"text": "株" * 60_000}, ensure_ascii=False))
    feishu_fake.remove_bot(chat)
    outside = send(json.dumps({"text": "hi"}))
    feishu_fake.expire_tokens()  # the SDK keeps using its cached token
    stale = send(json.dumps({"text": "hi"}))

    assert (not_json.code, too_long.code, outside.code, stale.code) == (230001, 230025, 230002, 99991663)
    assert stale.raw.status_code == 400
    with httpx.Client(base_url=feishu_fake.url, timeout=5) as http:
        wrong = http.post(
            "/open-apis/auth/v3/tenant_access_token/internal",
            json={"app_id": feishu_fake.app_id, "app_secret": "x"},
        )
    assert wrong.json() == {"code": 10014, "msg": "app secret invalid"}


def test_frame_codec_round_trip() -> None:
    frame = pb.Frame(
        seq_id=1, log_id=2, service=3, method=pb.METHOD_DATA, headers=[("type", "event")], payload=b"x"
    )
    assert pb.decode(pb.encode(frame)) == frame
    with pytest.raises(pb.DecodeError):
        pb.decode(b"\x08\x01")  # SeqID only: the other required fields are missing
