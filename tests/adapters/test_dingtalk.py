"""The DingTalk adapter in this process, with the real dingtalk-stream client in its thread, against
the local DingTalk fake (tests/fakes/dingtalk.py): connecting and refusals, acks and re-pushes,
replies through the sessionWebhook and the OpenAPI, the outbox's sends and what their failures
mean, stopping, and what reaches the log."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from dingtalk_stream import DingTalkStreamClient

from bot.adapters import dingtalk
from bot.adapters.dingtalk import (
    CREDENTIALS_REFUSED,
    MSG_PARAM_LIMIT,
    DingTalkAdapter,
    app_messages,
    parse_incoming,
    reply_messages,
    send_failure,
)
from bot.config import AppConfig, Config
from bot.delivery.channels import ConnectError, Failure, SendError
from bot.domain.models import Channel
from bot.domain.records import PlatformState
from bot.store import Store
from bot.texts import chat as T
from handlers.markup import text_reply
from handlers.pager import page_action
from handlers.request import Button, Reply
from tests.fakes.dingtalk import TOPIC_BOT_MESSAGE, DingTalkFake
from tests.helpers.chat import NOW, ZHUZHOU_TITLE, import_seeds, seeded_config

pytest_plugins = ("tests.fakes.fixtures",)

_T = TypeVar("_T")
ADMIN = "manager01"


class LoopThread:
    """The service's event loop, in a thread: the test drives the fake and the adapter from outside."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="service-loop", daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, _T], timeout: float = 20.0) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dingtalk-seeded")
    config = seeded_config(folder)
    with Store(config.database) as store:
        import_seeds(store)
    return config.database


@pytest.fixture
def config(tmp_path: Path, seeded: Path) -> Config:
    shutil.copyfile(seeded, tmp_path / "finews.db")
    return seeded_config(tmp_path)


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    runner = LoopThread()
    yield runner
    runner.close()


def app_for(fake: DingTalkFake, *, secret: str | None = None, url: str | None = None) -> AppConfig:
    return AppConfig(
        "dingtalk",
        "FINEWS_DINGTALK_CLIENT_ID",
        "FINEWS_DINGTALK_CLIENT_SECRET",
        url or fake.url,
        frozenset({ADMIN}),
        fake.client_id,
        secret or fake.client_secret,
    )


@pytest.fixture
def make_adapter(config: Config, loop: LoopThread) -> Iterator[Callable[..., DingTalkAdapter]]:
    made: list[DingTalkAdapter] = []

    def make(fake: DingTalkFake, **kwargs: Any) -> DingTalkAdapter:
        adapter = DingTalkAdapter(config, app_for(fake, **kwargs), lambda: NOW)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        loop.run(adapter.stop())


@pytest.fixture
def connected(
    dingtalk_fake: DingTalkFake, make_adapter: Callable[..., DingTalkAdapter], loop: LoopThread
) -> DingTalkAdapter:
    adapter = make_adapter(dingtalk_fake)
    loop.run(adapter.start())
    return adapter


def say_and_wait(fake: DingTalkFake, text: str, *, user: str = "zhangsan", group: bool = True) -> str:
    """A user's message, and the text of the reply it gets."""
    before = len(fake.replies)
    pushed = fake.say("金融办工作群", user, text, group=group)
    assert pushed is not None
    return fake.wait_for_replies(before + 1)[before].text


# --- connecting ------------------------------------------------------------------------------


def test_start_connects_with_one_ticket_and_subscribes_to_robot_messages(
    dingtalk_fake: DingTalkFake, connected: DingTalkAdapter
) -> None:
    (connection,) = dingtalk_fake.connections
    assert connection.subscriptions == (("CALLBACK", TOPIC_BOT_MESSAGE),)
    # start()'s own check got the ticket the SDK then used: one open call, not two.
    assert [o.status for o in dingtalk_fake.opens] == [200]


def test_a_refused_secret_is_a_permanent_connect_error_without_the_secret(
    dingtalk_fake: DingTalkFake, make_adapter: Callable[..., DingTalkAdapter], loop: LoopThread
) -> None:
    adapter = make_adapter(dingtalk_fake, secret="not-the-secret-0123456789")

    with pytest.raises(ConnectError) as refused:
        loop.run(adapter.start())

    assert refused.value.permanent is True
    assert CREDENTIALS_REFUSED in str(refused.value) and "authFailed" in str(refused.value)
    assert "$FINEWS_DINGTALK_CLIENT_SECRET" in str(refused.value)
    assert "not-the-secret" not in str(refused.value)
    assert dingtalk_fake.connections == []


def test_a_server_error_or_no_server_is_worth_trying_again(
    dingtalk_fake: DingTalkFake, make_adapter: Callable[..., DingTalkAdapter], loop: LoopThread
) -> None:
    dingtalk_fake.fail_next_opens(1, status=503)
    with pytest.raises(ConnectError) as failing:
        loop.run(make_adapter(dingtalk_fake).start())
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(ConnectError) as unreachable:
        loop.run(make_adapter(dingtalk_fake, url=f"http://127.0.0.1:{port}").start())

    assert failing.value.permanent is False and "503" in str(failing.value)
    assert unreachable.value.permanent is False and "unreachable" in str(unreachable.value)
    # The next attempt (the service's) connects.
    loop.run(make_adapter(dingtalk_fake).start())
    assert len(dingtalk_fake.wait_for_connections(1)) == 1


def test_stop_closes_the_connection_and_ends_the_sdk_thread_at_once(
    dingtalk_fake: DingTalkFake, connected: DingTalkAdapter, loop: LoopThread
) -> None:
    started = time.monotonic()
    loop.run(connected.stop())

    assert time.monotonic() - started < 3
    assert not any(t.name == "dingtalk-stream" and t.is_alive() for t in threading.enumerate())
    dingtalk_fake.wait_until(lambda: not dingtalk_fake.live_connections, what="the connection closed")
    assert dingtalk_fake.connections[0].how_closed == "client"
    assert dingtalk_fake.say("金融办工作群", "zhangsan", "最新 株洲") is None


def test_a_disconnect_frame_is_followed_by_a_new_connection_that_answers(
    dingtalk_fake: DingTalkFake, connected: DingTalkAdapter
) -> None:
    dingtalk_fake.disconnect_frame()
    dingtalk_fake.wait_for_connections(2, timeout=5)
    dingtalk_fake.wait_until(lambda: len(dingtalk_fake.live_connections) == 1, what="one live connection")

    assert ZHUZHOU_TITLE in say_and_wait(dingtalk_fake, "最新 株洲")


def state_of(config: Config) -> PlatformState | None:
    with Store(config.database) as store:
        return store.platform_states().get("dingtalk")


@pytest.mark.slow  # the SDK waits 10 s before it asks again for a connection
def test_status_follows_the_sdk_s_reconnects(
    dingtalk_fake: DingTalkFake, connected: DingTalkAdapter, config: Config
) -> None:
    assert state_of(config) is None  # the first connection is the service's to record
    dingtalk_fake.fail_next_opens(1, status=503)
    dingtalk_fake.disconnect_frame()
    dingtalk_fake.wait_until(
        lambda: (state := state_of(config)) is not None and state.state == "retrying",
        what="the failed reconnect recorded",
    )
    failing = state_of(config)
    assert failing is not None and "503" in failing.detail
    assert failing.next_attempt == NOW + timedelta(seconds=10)

    dingtalk_fake.wait_for_connections(2, timeout=20)
    dingtalk_fake.wait_until(
        lambda: (state := state_of(config)) is not None and state.state == "connected",
        what="the reconnection recorded",
    )
    assert ZHUZHOU_TITLE in say_and_wait(dingtalk_fake, "最新 株洲")


def test_an_sdk_client_that_ends_is_started_again(
    dingtalk_fake: DingTalkFake,
    make_adapter: Callable[..., DingTalkAdapter],
    loop: LoopThread,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Its start() loops for ever; should it ever end all the same (it returns on a
    # KeyboardInterrupt), the adapter starts it again rather than stay deaf.
    original = DingTalkStreamClient.start
    calls: list[int] = []

    async def ends_once(self: DingTalkStreamClient) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the SDK gave up")
        await original(self)

    monkeypatch.setattr(DingTalkStreamClient, "start", ends_once)
    monkeypatch.setattr(dingtalk, "RESTART_DELAY", 0.1)
    adapter = make_adapter(dingtalk_fake)

    loop.run(adapter.start())

    assert len(calls) == 2
    assert ZHUZHOU_TITLE in say_and_wait(dingtalk_fake, "最新 株洲")


# --- answering -------------------------------------------------------------------------------


def test_a_group_query_is_acked_and_answered_through_its_session_webhook(
    dingtalk_fake: DingTalkFake, connected: DingTalkAdapter
) -> None:
    text = say_and_wait(dingtalk_fake, "最新 株洲")

    (reply,) = dingtalk_fake.replies
    (ack,) = dingtalk_fake.wait_for_acks(1)
    assert ack.code == 200
    assert reply.via == "session_webhook" and reply.body["msgtype"] == "markdown"
    assert reply.conversation_id == dingtalk_fake.group("金融办工作群").conversation_id
    assert ZHUZHOU_TITLE in text
    assert "  \n  " in text  # DingTalk's line break
    assert reply.body["markdown"]["title"].startswith("“株洲”共 1 条")


def test_one_to_one_and_paging_by_typing(dingtalk_fake: DingTalkFake, connected: DingTalkAdapter) -> None:
    first = say_and_wait(dingtalk_fake, "主题 上市 1", group=False)
    second = say_and_wait(dingtalk_fake, "下一页", group=False)
    in_group = say_and_wait(dingtalk_fake, "/topic 上市 1")

    assert "第 1/" in first and T.PAGE_BY_TYPING.format(labels="“下一页”") in first
    assert "第 2/" in second and "“上一页” 或 “下一页”" in second
    assert T.PAGE_BY_TYPING_GROUP.format(labels="“下一页”") in in_group


def test_a_message_pushed_again_is_answered_once(
    dingtalk_fake: DingTalkFake, connected: DingTalkAdapter
) -> None:
    pushed = dingtalk_fake.say("金融办工作群", "zhangsan", "最新 株洲")
    dingtalk_fake.wait_for_replies(1)
    assert pushed is not None

    assert dingtalk_fake.push_again(pushed)
    dingtalk_fake.wait_for_acks(2)
    time.sleep(0.3)

    assert len(dingtalk_fake.replies) == 1
    assert [d.attempt for d in dingtalk_fake.deliveries] == [0, 1]


def test_acks_go_out_before_the_answer_is_ready(
    dingtalk_fake: DingTalkFake, connected: DingTalkAdapter, loop: LoopThread
) -> None:
    # Hold the worker thread: the command cannot run, the ack must still go out at once.
    gate = threading.Event()
    busy = asyncio.run_coroutine_threadsafe(connected.worker.call(lambda ctx: gate.wait(10)), loop.loop)
    try:
        dingtalk_fake.say("金融办工作群", "zhangsan", "最新 株洲")
        (ack,) = dingtalk_fake.wait_for_acks(1, timeout=3)
        assert ack.code == 200 and dingtalk_fake.replies == []
    finally:
        gate.set()
        busy.result(10)
    dingtalk_fake.wait_for_replies(1)


def test_a_member_may_not_subscribe_a_group_and_is_told_why(
    dingtalk_fake: DingTalkFake, connected: DingTalkAdapter
) -> None:
    dingtalk_fake.user("zhangsan", admin=True)  # DingTalk's isAdmin: not this group's admin
    refused = say_and_wait(dingtalk_fake, "订阅 08:30")
    addkw = say_and_wait(dingtalk_fake, "/addkw 上市 科创板")
    admin = say_and_wait(dingtalk_fake, "订阅 08:30", user=ADMIN)
    private = say_and_wait(dingtalk_fake, "订阅 08:30", group=False)

    assert T.GROUP_ADMIN_ONLY in refused and "钉钉不告诉机器人谁是群主或群管理员" in refused
    assert "钉钉不告诉机器人" in addkw
    assert T.SUBSCRIBED in admin and T.SUBSCRIBED in private
    with Store(connected.config.database) as store:
        chats = sorted(s.chat for s in store.subscriptions() if s.channel is Channel.DINGTALK)
    group = dingtalk_fake.group("金融办工作群").conversation_id
    assert chats == sorted([f"dingtalk:{group}", "dingtalk:user:zhangsan"])


def test_hostile_input_gets_chinese_answers(dingtalk_fake: DingTalkFake, connected: DingTalkAdapter) -> None:
    for line in ('/latest " AND (', "株" * 1000, "/subscribe 25:61", "/frobnicate", "", "@someone"):
        answer = say_and_wait(dingtalk_fake, line, user=ADMIN)
        assert answer and any("\u4e00" <= c <= "\u9fff" for c in answer), (line, answer)


def test_an_expired_session_webhook_falls_back_to_the_openapi(
    dingtalk_fake: DingTalkFake, connected: DingTalkAdapter
) -> None:
    dingtalk_fake.say("金融办工作群", "zhangsan", "最新 株洲")  # the group exists; its data as a model
    (model,) = [d.data for d in dingtalk_fake.wait_for_deliveries(1)]
    dingtalk_fake.wait_for_replies(1)
    late = {
        **model,
        "msgId": "msg-late",
        "sessionWebhook": dingtalk_fake.url + "/robot/sendBySession?session=x",
    }
    late_private = {
        **late,
        "msgId": "msg-late-2",
        "conversationType": "1",
        "conversationId": "cid-private",
        "senderStaffId": "zhangsan",
    }

    connected._take(late)  # what the SDK's handler is given
    connected._take(late_private)

    replies = dingtalk_fake.wait_for_replies(3)
    assert [r.via for r in replies[1:]] == ["group_messages", "oto_messages"]
    assert ZHUZHOU_TITLE in replies[1].text and replies[2].user_ids == ("zhangsan",)
    assert json.loads(replies[1].body["msgParam"])["title"].startswith("“株洲”")


def test_a_picture_gets_a_hint(dingtalk_fake: DingTalkFake, connected: DingTalkAdapter) -> None:
    dingtalk_fake.say("金融办工作群", "zhangsan", "x")
    (model,) = [d.data for d in dingtalk_fake.wait_for_deliveries(1)]
    dingtalk_fake.wait_for_replies(1)
    picture = {k: v for k, v in model.items() if k != "text"} | {"msgId": "msg-pic", "msgtype": "picture"}

    connected._take(picture)

    assert dingtalk_fake.wait_for_replies(2)[1].text == T.NOT_TEXT


# --- the outbox's channel --------------------------------------------------------------------


def markdown_body(text: str = "**金融要闻**  \n  内容", title: str = "金融要闻 2022-04-03") -> str:
    return json.dumps({"msgtype": "markdown", "markdown": {"title": title, "text": text}}, ensure_ascii=False)


def test_send_to_a_group_and_to_a_user(
    dingtalk_fake: DingTalkFake, connected: DingTalkAdapter, loop: LoopThread
) -> None:
    group = dingtalk_fake.group("金融办工作群")
    dingtalk_fake.user("zhangsan")

    first = loop.run(connected.send(f"dingtalk:{group.conversation_id}", markdown_body(), "json"))
    second = loop.run(connected.send("dingtalk:user:zhangsan", markdown_body(), "json"))

    to_group, to_user = dingtalk_fake.replies
    assert first and second
    assert (to_group.via, to_group.conversation_id) == ("group_messages", group.conversation_id)
    assert (to_user.via, to_user.user_ids) == ("oto_messages", ("zhangsan",))
    for reply in (to_group, to_user):
        assert (
            reply.body["msgKey"] == "sampleMarkdown" and reply.body["robotCode"] == dingtalk_fake.robot_code
        )
        assert json.loads(reply.body["msgParam"]) == {
            "title": "金融要闻 2022-04-03",
            "text": "**金融要闻**  \n  内容",
        }


def send_error(loop: LoopThread, adapter: DingTalkAdapter, chat: str, body: str) -> SendError:
    with pytest.raises(SendError) as failed:
        loop.run(adapter.send(chat, body, "json"))
    return failed.value


def test_what_send_failures_mean(
    dingtalk_fake: DingTalkFake, connected: DingTalkAdapter, loop: LoopThread
) -> None:
    group = f"dingtalk:{dingtalk_fake.group('金融办工作群').conversation_id}"

    gone_group = send_error(loop, connected, "dingtalk:cidNoSuchGroup", markdown_body())
    gone_user = send_error(loop, connected, "dingtalk:user:nobody", markdown_body())
    rejected = send_error(loop, connected, group, "not json")
    unsupported = send_error(loop, connected, group, json.dumps({"msgtype": "feedCard", "feedCard": {}}))
    secret = dingtalk_fake.client_secret
    dingtalk_fake.rotate_secret()  # the token is revoked and the old secret refused
    blocked = send_error(loop, connected, group, markdown_body())

    assert gone_group.failure is Failure.GONE and "openConversationId" in gone_group.detail
    assert gone_user.failure is Failure.GONE
    assert rejected.failure is Failure.REJECTED and unsupported.failure is Failure.REJECTED
    assert blocked.failure is Failure.BLOCKED and blocked.detail.startswith(CREDENTIALS_REFUSED)
    assert secret not in blocked.detail and dingtalk_fake.client_id not in blocked.detail


def test_a_server_that_went_away_is_a_retry(
    dingtalk_fake: DingTalkFake, connected: DingTalkAdapter, loop: LoopThread
) -> None:
    group = f"dingtalk:{dingtalk_fake.group('金融办工作群').conversation_id}"
    loop.run(connected.send(group, markdown_body(), "json"))  # the token is cached
    dingtalk_fake.stop()

    assert send_error(loop, connected, group, markdown_body()).failure is Failure.RETRY


def test_a_part_too_large_for_msg_param_goes_as_several_messages(
    dingtalk_fake: DingTalkFake, connected: DingTalkAdapter, loop: LoopThread
) -> None:
    group = dingtalk_fake.group("金融办工作群")
    entries = [
        f"{n}. [为高质量发展注入澎湃金融动能{n}](http://x/{n})  \n  " + "金融" * 600 for n in range(12)
    ]
    text = "\n\n".join(entries)

    loop.run(connected.send(f"dingtalk:{group.conversation_id}", markdown_body(text), "json"))

    params = [json.loads(r.body["msgParam"]) for r in dingtalk_fake.replies]
    assert len(params) > 1
    assert all(len(r.body["msgParam"].encode()) <= MSG_PARAM_LIMIT for r in dingtalk_fake.replies)
    assert "\n\n".join(p["text"] for p in params) == text
    assert params[0]["title"] == "金融要闻 2022-04-03" and params[1]["title"] == "金融要闻 2022-04-03（续）"


def test_a_chat_paused_for_refused_credentials_resumes_when_they_work_again(
    dingtalk_fake: DingTalkFake,
    make_adapter: Callable[..., DingTalkAdapter],
    loop: LoopThread,
    config: Config,
) -> None:
    with Store(config.database) as store, store.transaction():
        for chat, reason in (("dingtalk:cidA", f"{CREDENTIALS_REFUSED} (…)"), ("dingtalk:cidB", "gone")):
            store.save_subscription(Channel.DINGTALK, chat, topics=(), clock=NOW.time(), days="daily")
            store.pause_subscription(Channel.DINGTALK, chat, reason)

    loop.run(make_adapter(dingtalk_fake).start())

    with Store(config.database) as store:
        paused = {s.chat: s.paused for s in store.subscriptions()}
    assert paused == {"dingtalk:cidA": "", "dingtalk:cidB": "gone"}


# --- the log ---------------------------------------------------------------------------------


def test_the_log_holds_no_secret_no_ticket_and_no_ping_warnings(
    dingtalk_fake: DingTalkFake,
    connected: DingTalkAdapter,
    loop: LoopThread,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    dingtalk_fake.system_ping()
    dingtalk_fake.wait_for_acks(1, topic="ping")
    dingtalk_fake.disconnect_frame()
    dingtalk_fake.wait_for_connections(2, timeout=5)
    say_and_wait(dingtalk_fake, "最新 株洲")
    loop.run(connected.stop())

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "unknown message topic" not in logged
    assert dingtalk_fake.client_secret not in logged
    assert "ticket=" not in logged.replace("ticket=***", "")
    assert "session=" not in logged.replace("session=***", "")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- pure parts ------------------------------------------------------------------------------


def test_parse_incoming_reads_group_and_one_to_one_messages() -> None:
    group = parse_incoming(
        {
            "msgId": "m1",
            "conversationId": "cidG",
            "conversationType": "2",
            "conversationTitle": "金融办工作群",
            "senderStaffId": "u1",
            "senderNick": "张处长",
            "text": {"content": " 最新 株洲"},
            "msgtype": "text",
        }
    )
    private = parse_incoming(
        {
            "conversationId": "cidP",
            "conversationType": "1",
            "senderId": "$:x",
            "msgtype": "richText",
            "content": {"richText": [{"text": "最新"}, {"downloadCode": "d"}, {"text": " 株洲"}]},
        }
    )
    assert group is not None and private is not None
    assert (group.chat, group.text, group.title) == ("dingtalk:cidG", " 最新 株洲", "金融办工作群")
    assert (private.chat, private.text, private.staff_id) == ("dingtalk:user:$:x", "最新 株洲", "")
    assert parse_incoming({"conversationId": "cid"}) is None


def test_reply_messages_show_the_page_hint_and_the_digest_parts() -> None:
    (only,) = reply_messages(text_reply("第一行", "第二行"), group=False)
    assert only == {"msgtype": "markdown", "markdown": {"title": "第一行", "text": "第一行  \n  第二行"}}
    buttons = (Button("下一页", page_action("t", 2)), Button("不相关：上市", "nr:t"))
    (paged,) = reply_messages(Reply(text_reply("列表").lines, buttons), group=True)
    # Only paging is typed as a button's label; feedback has its own commands in the text.
    assert paged["markdown"]["text"].endswith("翻页请 @我 并发送：“下一页”")
    (feedback,) = reply_messages(Reply(text_reply("为什么").lines, buttons[1:]), group=True)
    assert feedback["markdown"]["text"] == "为什么"


def test_app_messages_keep_small_ones_whole_and_text_as_sample_text() -> None:
    (markdown,) = app_messages({"msgtype": "markdown", "markdown": {"title": "t", "text": "x"}})
    (text,) = app_messages({"msgtype": "text", "text": {"content": "你好"}})
    assert markdown == ("sampleMarkdown", '{"title": "t", "text": "x"}')
    assert text == ("sampleText", '{"content": "你好"}')
    long = app_messages({"msgtype": "text", "text": {"content": "长" * 12_000}})
    assert len(long) > 1 and "".join(json.loads(p)["content"] for _, p in long) == "长" * 12_000


@pytest.mark.parametrize(
    ("status", "code", "failure"),
    [
        (503, "", Failure.RETRY),
        (403, "Forbidden.AccessDenied.QpsLimitForApi", Failure.RETRY),
        (429, "", Failure.RETRY),
        (400, "invalid.openConversationId", Failure.GONE),
        (400, "invalidParameter.robotCode.auth", Failure.BLOCKED),
        (403, "Forbidden.AccessDenied.AccessTokenPermissionDenied", Failure.BLOCKED),
        (400, "invalidParameter.msgParam.invalid", Failure.REJECTED),
        (400, "somethingNew", Failure.RETRY),
    ],
)
def test_send_failure_maps_the_platforms_codes(status: int, code: str, failure: Failure) -> None:
    assert send_failure(status, code) is failure
