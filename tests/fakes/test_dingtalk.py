"""The DingTalk fake against the real ``dingtalk-stream`` client (Stream mode, acks, re-delivery,
reconnects, credentials) and its reply APIs over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import dingtalk_stream
import httpx
import pytest
from dingtalk_stream import AckMessage, CallbackHandler, CallbackMessage, ChatbotHandler, ChatbotMessage

from tests.fakes._clientloop import ClientLoop
from tests.fakes.dingtalk import TOPIC_BOT_MESSAGE, TOPIC_CARD_CALLBACK, DingTalkFake

pytest_plugins = ("tests.fakes.fixtures",)


class Bot(ChatbotHandler):
    """Replies to each message through its sessionWebhook; ``fail_first`` messages raise instead
    (so the SDK sends no ack), as a handler that crashed would."""

    def __init__(self, fail_first: int = 0) -> None:
        super().__init__()
        self.fail_first = fail_first
        self.seen: list[ChatbotMessage] = []

    async def process(self, callback: CallbackMessage) -> tuple[int, str]:
        message = ChatbotMessage.from_dict(callback.data)
        self.seen.append(message)
        if len(self.seen) <= self.fail_first:
            raise RuntimeError("handler crashed")
        self.reply_text("收到：" + message.text.content.strip(), message)
        return AckMessage.STATUS_OK, "OK"


class Cards(CallbackHandler):
    def __init__(self) -> None:
        super().__init__()
        self.presses: list[dingtalk_stream.CardCallbackMessage] = []

    async def process(self, callback: CallbackMessage) -> tuple[int, Any]:
        self.presses.append(dingtalk_stream.CardCallbackMessage.from_dict(callback.data))
        return AckMessage.STATUS_OK, {"cardData": {"cardParamMap": {"page": "2"}}}


@pytest.fixture
def point_sdk(monkeypatch: pytest.MonkeyPatch) -> Callable[[DingTalkFake], None]:
    """Point the already-imported SDK at a fake: the open API and the OpenAPI base its helpers
    copied from ``DINGTALK_OPENAPI_ENDPOINT`` at import."""

    def point(fake: DingTalkFake) -> None:
        monkeypatch.setattr(
            dingtalk_stream.DingTalkStreamClient, "OPEN_CONNECTION_API", fake.open_connection_api
        )
        for module in (dingtalk_stream.stream, dingtalk_stream.chatbot, dingtalk_stream.card_replier):
            monkeypatch.setattr(module, "DINGTALK_OPENAPI_ENDPOINT", fake.url)

    return point


@pytest.fixture
def run_client() -> Iterator[Callable[..., dingtalk_stream.DingTalkStreamClient]]:
    loops: list[ClientLoop] = []

    def run(
        fake: DingTalkFake,
        handler: CallbackHandler,
        *,
        secret: str | None = None,
        extra: dict[str, CallbackHandler] | None = None,
    ) -> dingtalk_stream.DingTalkStreamClient:
        credential = dingtalk_stream.Credential(fake.client_id, secret or fake.client_secret)
        client = dingtalk_stream.DingTalkStreamClient(credential)
        client.register_callback_handler(TOPIC_BOT_MESSAGE, handler)
        for topic, other in (extra or {}).items():
            client.register_callback_handler(topic, other)
        loop = ClientLoop("dingtalk-client")
        loop.run_coroutine(client.start)
        loops.append(loop)
        return client

    yield run
    for loop in loops:
        loop.stop()


def test_group_message_is_pushed_acked_and_answered_through_the_session_webhook(
    dingtalk_fake: DingTalkFake, point_sdk: Callable[[DingTalkFake], None], run_client: Callable[..., Any]
) -> None:
    point_sdk(dingtalk_fake)
    bot = Bot()
    run_client(dingtalk_fake, bot)
    (connection,) = dingtalk_fake.wait_for_connections(1)
    assert connection.subscriptions == (("CALLBACK", TOPIC_BOT_MESSAGE),)
    boss = dingtalk_fake.user("manager01", nick="王主任", admin=True)

    pushed = dingtalk_fake.say("金融办工作群", boss, "最新 株洲")

    assert pushed is not None
    (reply,) = dingtalk_fake.wait_for_replies(1)
    (ack,) = dingtalk_fake.wait_for_acks(1)
    message = bot.seen[0]
    assert message.text.content == " 最新 株洲"  # the mention is stripped, its space is not
    assert message.conversation_type == "2"
    assert message.conversation_title == "金融办工作群"
    assert message.is_in_at_list is True
    assert message.is_admin is True
    assert message.sender_staff_id == "manager01" and message.sender_nick == "王主任"
    assert message.message_id == pushed.msg_id and message.message_id.startswith("msg")
    assert message.robot_code == dingtalk_fake.robot_code
    assert ack.code == 200 and ack.topic == TOPIC_BOT_MESSAGE
    assert (reply.via, reply.text, reply.conversation_id) == (
        "session_webhook",
        "收到：最新 株洲",
        dingtalk_fake.group("金融办工作群").conversation_id,
    )
    assert reply.body["at"] == {"atUserIds": ["manager01"]}


def test_one_to_one_message_has_no_mention_fields(
    dingtalk_fake: DingTalkFake, point_sdk: Callable[[DingTalkFake], None], run_client: Callable[..., Any]
) -> None:
    point_sdk(dingtalk_fake)
    bot = Bot()
    run_client(dingtalk_fake, bot)
    dingtalk_fake.wait_for_connections(1)

    dingtalk_fake.say("ignored", "zhangsan", "/subscribe", group=False)

    dingtalk_fake.wait_for_replies(1)
    message = bot.seen[0]
    assert message.text.content == "/subscribe"
    assert message.conversation_type == "1"
    assert message.is_in_at_list is None and message.conversation_title is None
    assert message.is_admin is False


def test_group_message_without_mention_never_reaches_the_robot(
    dingtalk_fake: DingTalkFake, point_sdk: Callable[[DingTalkFake], None], run_client: Callable[..., Any]
) -> None:
    point_sdk(dingtalk_fake)
    run_client(dingtalk_fake, Bot())
    dingtalk_fake.wait_for_connections(1)

    assert dingtalk_fake.say("金融办工作群", "zhangsan", "最新 株洲", at_bot=False) is None
    assert dingtalk_fake.deliveries == []


def test_unacked_message_is_pushed_again_with_the_same_msg_id(
    point_sdk: Callable[[DingTalkFake], None], run_client: Callable[..., Any]
) -> None:
    with DingTalkFake(redeliver_after=0.3, max_redeliveries=2) as fake:
        point_sdk(fake)
        bot = Bot(fail_first=1)  # the first delivery crashes the handler: the SDK sends no ack
        run_client(fake, bot)
        fake.wait_for_connections(1)

        pushed = fake.say("金融办工作群", "zhangsan", "/topic 上市")

        fake.wait_for_replies(1)
        first, second = fake.wait_for_deliveries(2)
        time.sleep(0.5)  # the acked second delivery is not pushed a third time
        assert pushed is not None
        assert [d.attempt for d in fake.deliveries] == [0, 1]
        assert first.data["msgId"] == second.data["msgId"] == pushed.msg_id
        assert first.message_id != second.message_id
        assert [m.message_id for m in bot.seen] == [pushed.msg_id, pushed.msg_id]
        assert [a.message_id for a in fake.acks] == [second.message_id]


def test_push_again_redelivers_an_acked_message_with_the_same_msg_id(
    dingtalk_fake: DingTalkFake, point_sdk: Callable[[DingTalkFake], None], run_client: Callable[..., Any]
) -> None:
    point_sdk(dingtalk_fake)
    bot = Bot()
    run_client(dingtalk_fake, bot)
    dingtalk_fake.wait_for_connections(1)
    pushed = dingtalk_fake.say("金融办工作群", "zhangsan", "最新 株洲")
    dingtalk_fake.wait_for_acks(1)
    assert pushed is not None

    assert dingtalk_fake.push_again(pushed) is True

    first, second = dingtalk_fake.wait_for_acks(2)
    assert [d.attempt for d in dingtalk_fake.deliveries] == [0, 1]
    assert first.message_id != second.message_id
    assert [m.message_id for m in bot.seen] == [pushed.msg_id, pushed.msg_id]


def test_disconnect_frame_makes_the_client_reconnect_at_once(
    dingtalk_fake: DingTalkFake, point_sdk: Callable[[DingTalkFake], None], run_client: Callable[..., Any]
) -> None:
    point_sdk(dingtalk_fake)
    run_client(dingtalk_fake, Bot())
    dingtalk_fake.wait_for_connections(1)

    started = time.monotonic()
    assert dingtalk_fake.disconnect_frame() == 1
    first, _second = dingtalk_fake.wait_for_connections(2, timeout=3)

    assert time.monotonic() - started < 2
    dingtalk_fake.wait_until(lambda: len(dingtalk_fake.live_connections) == 1, what="one live connection")
    assert dingtalk_fake.connections[0].closed_at is not None
    dingtalk_fake.say("金融办工作群", "zhangsan", "最新 株洲")
    dingtalk_fake.wait_for_replies(1)
    assert first.connection_id not in {d.connection_id for d in dingtalk_fake.deliveries}


def test_system_ping_is_echoed(
    dingtalk_fake: DingTalkFake, point_sdk: Callable[[DingTalkFake], None], run_client: Callable[..., Any]
) -> None:
    point_sdk(dingtalk_fake)
    run_client(dingtalk_fake, Bot())
    dingtalk_fake.wait_for_connections(1)

    (opaque,) = dingtalk_fake.system_ping()

    (ack,) = dingtalk_fake.wait_for_acks(1, topic="ping")
    assert ack.code == 200 and ack.data == {"opaque": opaque}


@pytest.mark.slow
def test_dropped_connection_is_reopened_after_the_sdks_ten_seconds(
    dingtalk_fake: DingTalkFake, point_sdk: Callable[[DingTalkFake], None], run_client: Callable[..., Any]
) -> None:
    point_sdk(dingtalk_fake)
    run_client(dingtalk_fake, Bot())
    dingtalk_fake.wait_for_connections(1)

    started = time.monotonic()
    assert dingtalk_fake.drop_connection() == 1
    assert dingtalk_fake.say("金融办工作群", "zhangsan", "最新 株洲") is None  # nobody connected
    dingtalk_fake.wait_for_connections(2, timeout=15)

    assert 9 <= time.monotonic() - started < 14
    assert dingtalk_fake.connections[0].how_closed == "dropped"
    assert len(dingtalk_fake.undelivered) == 1
    dingtalk_fake.say("金融办工作群", "zhangsan", "最新 株洲")
    dingtalk_fake.wait_for_replies(1)


def test_wrong_secret_is_refused_as_dingtalk_does_and_never_connects(
    dingtalk_fake: DingTalkFake, point_sdk: Callable[[DingTalkFake], None], run_client: Callable[..., Any]
) -> None:
    point_sdk(dingtalk_fake)
    run_client(dingtalk_fake, Bot(), secret="not-the-secret")

    dingtalk_fake.wait_until(lambda: len(dingtalk_fake.rejected) >= 1, what="refused open")
    time.sleep(0.2)
    assert [o.status for o in dingtalk_fake.opens] == [401]
    assert dingtalk_fake.rejected[0].body["code"] == "authFailed"
    assert dingtalk_fake.rejected[0].body["message"] == "鉴权失败"
    assert dingtalk_fake.connections == []


def test_open_api_faults_and_tickets(dingtalk_fake: DingTalkFake) -> None:
    body = {
        "clientId": dingtalk_fake.client_id,
        "clientSecret": dingtalk_fake.client_secret,
        "subscriptions": [],
    }
    dingtalk_fake.fail_next_opens(1, status=502)
    with httpx.Client(timeout=5) as client:
        assert client.post(dingtalk_fake.open_connection_api, json=body).status_code == 502
        opened = client.post(dingtalk_fake.open_connection_api, json=body).json()
        old = dingtalk_fake.client_secret
        dingtalk_fake.rotate_secret()
        refused = client.post(dingtalk_fake.open_connection_api, json={**body, "clientSecret": old})
        # The handshake wants a ticket the open API issued.
        url = opened["endpoint"].replace("ws://", "http://")
        assert client.get(url, params={"ticket": "made-up"}).status_code == 401
    assert opened["endpoint"].endswith("/connect") and opened["ticket"]
    assert refused.status_code == 401 and refused.json()["code"] == "authFailed"


def test_openapi_token_group_and_one_to_one_sends(
    dingtalk_fake: DingTalkFake, point_sdk: Callable[[DingTalkFake], None]
) -> None:
    point_sdk(dingtalk_fake)
    client = dingtalk_stream.DingTalkStreamClient(
        dingtalk_stream.Credential(dingtalk_fake.client_id, dingtalk_fake.client_secret)
    )
    token = client.get_access_token()  # the SDK's own token helper
    group = dingtalk_fake.group("金融办工作群")
    dingtalk_fake.user("zhangsan")
    headers = {"x-acs-dingtalk-access-token": token or ""}
    text = json.dumps({"content": "今日摘要"}, ensure_ascii=False)
    with httpx.Client(base_url=dingtalk_fake.url, timeout=5) as http:
        sent = http.post(
            "/v1.0/robot/groupMessages/send",
            headers=headers,
            json={
                "robotCode": dingtalk_fake.robot_code,
                "openConversationId": group.conversation_id,
                "msgKey": "sampleText",
                "msgParam": text,
            },
        )
        oto = http.post(
            "/v1.0/robot/oToMessages/batchSend",
            headers=headers,
            json={
                "robotCode": dingtalk_fake.robot_code,
                "userIds": ["zhangsan", "nobody"],
                "msgKey": "sampleMarkdown",
                "msgParam": json.dumps({"title": "摘要", "text": "## 今日"}, ensure_ascii=False),
            },
        )
        no_token = http.post("/v1.0/robot/groupMessages/send", json={})
        wrong_key = http.post(
            "/v1.0/robot/groupMessages/send",
            headers=headers,
            json={
                "robotCode": dingtalk_fake.robot_code,
                "openConversationId": group.conversation_id,
                "msgKey": "sampleText",
                "msgParam": "{}",
            },
        )
        bad_secret = http.post(
            "/v1.0/oauth2/accessToken", json={"appKey": dingtalk_fake.client_id, "appSecret": "x"}
        )

    assert token and sent.status_code == 200 and sent.json()["processQueryKey"]
    assert oto.json()["invalidStaffIdList"] == ["nobody"]
    assert [(r.via, r.text) for r in dingtalk_fake.replies] == [
        ("group_messages", "今日摘要"),
        ("oto_messages", "## 今日"),
    ]
    assert dingtalk_fake.replies[1].user_ids == ("zhangsan",)
    assert (no_token.status_code, no_token.json()["code"]) == (400, "InvalidAuthentication")
    assert (wrong_key.status_code, wrong_key.json()["code"]) == (400, "invalidParameter.msgParam.invalid")
    assert (bad_secret.status_code, bad_secret.json()["code"]) == (400, "invalidClientIdOrSecret")


def test_expired_session_webhook_answers_session_not_found(
    dingtalk_fake: DingTalkFake, point_sdk: Callable[[DingTalkFake], None], run_client: Callable[..., Any]
) -> None:
    point_sdk(dingtalk_fake)
    bot = Bot()
    run_client(dingtalk_fake, bot)
    dingtalk_fake.wait_for_connections(1)
    dingtalk_fake.say("金融办工作群", "zhangsan", "最新 株洲")
    dingtalk_fake.wait_for_replies(1)

    dingtalk_fake.expire_session_webhooks()
    late = bot.reply_text("晚到的回复", bot.seen[0])

    assert late == {"errcode": 300001, "errmsg": "session 不存在"}
    assert len(dingtalk_fake.replies) == 1


def test_card_sent_through_the_card_api_gets_button_presses_over_the_stream(
    dingtalk_fake: DingTalkFake, point_sdk: Callable[[DingTalkFake], None], run_client: Callable[..., Any]
) -> None:
    point_sdk(dingtalk_fake)
    bot, cards = Bot(), Cards()
    client = run_client(dingtalk_fake, bot, extra={TOPIC_CARD_CALLBACK: cards})
    dingtalk_fake.wait_for_connections(1)
    dingtalk_fake.say("金融办工作群", "zhangsan", "/topic 上市")
    dingtalk_fake.wait_for_replies(1)

    replier = dingtalk_stream.CardReplier(client, bot.seen[0])
    track = replier.create_and_deliver_card("tpl.schema", {"page": "1"})
    dingtalk_fake.card_action(track, "zhangsan", {"next": "下一页"})
    replier.put_card_data(track, {"page": "2"})

    (ack,) = dingtalk_fake.wait_for_acks(1, topic=TOPIC_CARD_CALLBACK)
    dingtalk_fake.wait_for_replies(3)
    (press,) = cards.presses
    assert press.card_instance_id == track and press.user_id == "zhangsan"
    assert press.content == {"cardPrivateData": {"actionIds": ["action"], "params": {"next": "下一页"}}}
    assert ack.data == {"response": {"cardData": {"cardParamMap": {"page": "2"}}}}
    vias = [r.via for r in dingtalk_fake.replies]
    assert vias == ["session_webhook", "card_deliver", "card_update"]
    assert dingtalk_fake.replies[1].conversation_id == dingtalk_fake.group("金融办工作群").conversation_id
