"""The WeCom adapter against the smart-robot fake (tests/fakes/wecom.py) on 127.0.0.1: answers,
page cards, de-duplication, reconnects, refused credentials, kicks, pushes and their errors.

The adapter runs on an event loop of its own in a thread (as in the service); the test drives the
fake from its own thread and waits for what the fake records.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.adapters import wecom
from bot.adapters.wecom import Answer, WeComAdapter, app_markdown, pager_card, send_error_for, text_of
from bot.config import AppConfig, Config
from bot.delivery.channels import ConnectError, Failure, SendError
from bot.store import Store
from bot.texts import chat as T
from digests.render_robots import WECOM_CONTENT_LIMIT
from handlers.markup import text_reply
from handlers.request import Button, Reply, Span, Style
from tests.fakes.wecom import Reply as FakeReply
from tests.fakes.wecom import WeComFake
from tests.helpers.chat import NOW, ZHUZHOU_TITLE, import_seeds, seeded_config

pytest_plugins = ("tests.fakes.fixtures",)

T_ = TypeVar("T_")
ADMIN = "lisi"
GROUP = "金融办工作群"


class Loop:
    """An event loop in a thread, for the adapter; coroutines are run on it from the test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="wecom-test-loop", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T_], timeout: float = 10.0) -> T_:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wecom-db")
    with Store(folder / "finews.db") as store:
        import_seeds(store)
    return folder


@pytest.fixture
def config(database: Path, tmp_path: Path) -> Config:
    copy = tmp_path / "finews.db"
    copy.write_bytes((database / "finews.db").read_bytes())
    return seeded_config(tmp_path)


@pytest.fixture
def loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.close()


def app_for(fake: WeComFake, *, secret: str | None = None, url: str | None = None) -> AppConfig:
    return AppConfig(
        "wecom",
        "FINEWS_WECOM_BOT_ID",
        "FINEWS_WECOM_BOT_SECRET",
        url or fake.ws_url,
        frozenset({ADMIN}),
        fake.bot_id,
        secret or fake.secret,
    )


class Running:
    """A started adapter and the loop it runs on."""

    def __init__(self, loop: Loop, adapter: WeComAdapter) -> None:
        self.loop = loop
        self.adapter = adapter

    def send(self, chat: str, body: str) -> str:
        return self.loop.run(self.adapter.send(chat, body, "json"))

    def stop(self) -> None:
        self.loop.run(self.adapter.stop())


@pytest.fixture
def start(loop: Loop, config: Config) -> Iterator[Any]:
    started: list[Running] = []

    def run(fake: WeComFake, *, heartbeat: float | None = None, **app: Any) -> Running:
        adapter = WeComAdapter(config, app_for(fake, **app), lambda: NOW)
        adapter.reconnect_start = 0.05
        if heartbeat is not None:
            adapter.heartbeat_seconds = heartbeat
        running = Running(loop, adapter)
        started.append(running)
        loop.run(adapter.start())
        return running

    yield run
    for running in started:
        running.stop()


def replies_to(fake: WeComFake, count: int, timeout: float = 5.0) -> list[FakeReply]:
    return fake.wait_for_replies(count, timeout)


def test_a_group_query_is_answered_with_one_finished_stream(wecom_fake: WeComFake, start: Any) -> None:
    start(wecom_fake)
    wecom_fake.wait_for_connections(1)
    pushed = wecom_fake.say(GROUP, "zhangsan", "最新 株洲")

    (reply,) = replies_to(wecom_fake, 1)
    assert pushed is not None
    assert (reply.cmd, reply.req_id, reply.errcode) == ("aibot_respond_msg", pushed.req_id, 0)
    assert reply.chatid == wecom_fake.chat(GROUP)
    assert reply.body["msgtype"] == "stream" and reply.body["stream"]["finish"] is True
    assert ZHUZHOU_TITLE in reply.text and "“株洲”共 1 条" in reply.text
    # The bot's own credentials went only into the subscription.
    assert wecom_fake.subscriptions == [({"bot_id": wecom_fake.bot_id, "secret": wecom_fake.secret}, 0)]


def test_one_to_one_and_a_mention_anywhere_in_the_text(wecom_fake: WeComFake, start: Any) -> None:
    start(wecom_fake)
    wecom_fake.wait_for_connections(1)
    wecom_fake.say("", "zhangsan", "latest 株洲", group=False)
    wecom_fake.say(GROUP, "zhangsan", "株洲 @金融资讯助手")  # arrives as "@金融资讯助手 株洲 @金融资讯助手"

    first, second = replies_to(wecom_fake, 2)
    assert ZHUZHOU_TITLE in first.text and first.chatid is None
    assert ZHUZHOU_TITLE in second.text


def test_a_list_gets_a_page_card_whose_buttons_turn_the_page(wecom_fake: WeComFake, start: Any) -> None:
    start(wecom_fake)
    wecom_fake.wait_for_connections(1)
    wecom_fake.say(GROUP, "zhangsan", "/topic 上市 2")
    (first,) = replies_to(wecom_fake, 1)
    assert first.body["msgtype"] == "stream_with_template_card" and first.errcode == 0
    card = first.body["template_card"]
    assert card["card_type"] == "button_interaction" and "第 1/3 页" in card["main_title"]["title"]
    assert [b["text"] for b in card["button_list"]] == ["下一页"]
    assert "第 1/3 页" in first.text

    pressed = wecom_fake.card_event(GROUP, "zhangsan", card["task_id"], card["button_list"][0]["key"])

    update, page = replies_to(wecom_fake, 3)[1:]
    assert pressed is not None
    assert (update.cmd, update.req_id, update.errcode) == ("aibot_respond_update_msg", pressed.req_id, 0)
    new_card = update.body["template_card"]
    assert new_card["task_id"] == card["task_id"] and "第 2/3 页" in new_card["main_title"]["title"]
    assert [b["text"] for b in new_card["button_list"]] == ["上一页", "下一页"]
    assert (page.cmd, page.errcode, page.chatid) == ("aibot_send_msg", 0, wecom_fake.chat(GROUP))
    assert "第 2/3 页" in page.text

    wecom_fake.say(GROUP, "zhangsan", "下一页")  # typed paging goes on from the page the button showed
    assert "第 3/3 页" in replies_to(wecom_fake, 4)[3].text


def test_members_are_refused_admin_commands_and_admins_are_not(wecom_fake: WeComFake, start: Any) -> None:
    start(wecom_fake)
    wecom_fake.wait_for_connections(1)
    wecom_fake.say(GROUP, "zhangsan", "/addkw 上市 科创板")
    wecom_fake.say(GROUP, "zhangsan", "/subscribe")
    wecom_fake.say(GROUP, ADMIN, "/subscribe 08:30")

    refused_edit, refused_subscribe, subscribed = replies_to(wecom_fake, 3)
    assert "只有" in refused_edit.text and "只有" in refused_subscribe.text
    assert T.SUBSCRIBED in subscribed.text


def test_a_message_pushed_again_is_answered_once(wecom_fake: WeComFake, start: Any) -> None:
    start(wecom_fake)
    wecom_fake.wait_for_connections(1)
    first = wecom_fake.say(GROUP, "zhangsan", "最新 株洲")
    replies_to(wecom_fake, 1)
    assert first is not None

    again = wecom_fake.push_again(first)
    wecom_fake.say(GROUP, "zhangsan", "/topics")

    replies = replies_to(wecom_fake, 2)
    time.sleep(0.3)
    assert again is not None and again.msgid == first.msgid
    assert [r.req_id for r in wecom_fake.replies] == [first.req_id, replies[1].req_id]
    assert all(r.req_id != again.req_id for r in wecom_fake.replies)


def test_a_slow_answer_is_announced_by_an_unfinished_stream(
    wecom_fake: WeComFake, start: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wecom, "WORKING_AFTER", 0.0)
    start(wecom_fake)
    wecom_fake.wait_for_connections(1)
    pushed = wecom_fake.say(GROUP, "zhangsan", "最新 株洲")

    working, done = replies_to(wecom_fake, 2)
    assert pushed is not None and working.req_id == done.req_id == pushed.req_id
    assert working.body["stream"] == {
        "id": done.body["stream"]["id"],
        "finish": False,
        "content": T.WECOM_WORKING,
    }
    assert done.body["stream"]["finish"] is True and ZHUZHOU_TITLE in done.text


def test_an_answer_after_the_stream_window_is_pushed_instead(start: Any) -> None:
    with WeComFake(stream_window=0.0) as fake:
        start(fake)
        fake.wait_for_connections(1)
        fake.say(GROUP, "zhangsan", "最新 株洲")

        refused, pushed = replies_to(fake, 2)
    assert (refused.cmd, refused.errcode) == ("aibot_respond_msg", 846608)
    assert (pushed.cmd, pushed.errcode, pushed.chatid) == ("aibot_send_msg", 0, fake.chat(GROUP))
    assert ZHUZHOU_TITLE in pushed.text


def test_a_dropped_connection_is_opened_again_and_answers(wecom_fake: WeComFake, start: Any) -> None:
    start(wecom_fake)
    wecom_fake.wait_for_connections(1)

    assert wecom_fake.drop_connection() == 1
    wecom_fake.wait_for_connections(2)
    wecom_fake.say(GROUP, "zhangsan", "最新 株洲")

    assert ZHUZHOU_TITLE in replies_to(wecom_fake, 1)[0].text


def test_unanswered_heartbeats_close_the_connection_and_open_another(
    wecom_fake: WeComFake, start: Any
) -> None:
    start(wecom_fake, heartbeat=0.1)
    wecom_fake.wait_for_connections(1)
    wecom_fake.wait_until(lambda: wecom_fake.connections[0].pings >= 2, what="two pings")

    wecom_fake.stop_answering_pings()
    wecom_fake.wait_until(lambda: wecom_fake.connections[0].closed_at is not None, what="the close")
    wecom_fake.stop_answering_pings(False)
    wecom_fake.wait_for_connections(2)

    assert wecom_fake.connections[0].how_closed == "client"
    wecom_fake.say(GROUP, "zhangsan", "最新 株洲")
    assert ZHUZHOU_TITLE in replies_to(wecom_fake, 1)[0].text


def test_refused_credentials_are_a_permanent_connect_error(
    wecom_fake: WeComFake, loop: Loop, config: Config
) -> None:
    adapter = WeComAdapter(config, app_for(wecom_fake, secret="wrong-secret-1234567890"), lambda: NOW)
    try:
        with pytest.raises(ConnectError) as refused:
            loop.run(adapter.start())
    finally:
        loop.run(adapter.stop())
    assert refused.value.permanent
    detail = str(refused.value)
    assert "errcode 40001" in detail and "$FINEWS_WECOM_BOT_SECRET" in detail
    assert "wrong-secret" not in detail and "hint" not in detail and "\n" not in detail
    assert wecom_fake.subscriptions[0][1] == 40001


def test_an_unreachable_server_is_worth_retrying(wecom_fake: WeComFake, loop: Loop, config: Config) -> None:
    app = app_for(wecom_fake)
    wecom_fake.stop()
    adapter = WeComAdapter(config, app, lambda: NOW)
    try:
        with pytest.raises(ConnectError) as unreachable:
            loop.run(adapter.start())
    finally:
        loop.run(adapter.stop())
    assert not unreachable.value.permanent and "127.0.0.1" in str(unreachable.value)


def test_kicked_by_a_second_connection_it_stops_and_says_why(
    wecom_fake: WeComFake, start: Any, config: Config
) -> None:
    first = start(wecom_fake)
    wecom_fake.wait_for_connections(1)
    start(wecom_fake)  # a second finews-bot with the same Bot ID
    wecom_fake.wait_for_connections(2)
    wecom_fake.wait_until(lambda: wecom_fake.connections[0].closed_at is not None, what="the kick")
    time.sleep(0.5)

    assert [c.how_closed for c in wecom_fake.connections] == ["kicked", None]  # no fight over the bot
    with pytest.raises(SendError) as offline:
        first.send(
            "wecom:" + wecom_fake.chat(GROUP),
            json.dumps({"msgtype": "markdown", "markdown": {"content": "x"}}),
        )
    assert offline.value.failure is Failure.RETRY and offline.value.retry_after == wecom.OFFLINE_WAIT
    assert "took over" in offline.value.detail
    with Store(config.database) as store:
        state = store.platform_states()["wecom"]
    assert state.state == "stopped" and "took over" in state.detail


def test_send_pushes_a_digest_part_to_the_group(wecom_fake: WeComFake, start: Any) -> None:
    running = start(wecom_fake)
    wecom_fake.wait_for_connections(1)
    chat = "wecom:" + wecom_fake.chat(GROUP)
    body = json.dumps({"msgtype": "markdown", "markdown": {"content": "**金融要闻**"}}, ensure_ascii=False)

    message_id = running.send(chat, body)

    (pushed,) = replies_to(wecom_fake, 1)
    assert message_id == pushed.req_id
    assert pushed.body == {
        "chatid": wecom_fake.chat(GROUP),
        "msgtype": "markdown",
        "markdown": {"content": "**金融要闻**"},
    }
    with pytest.raises(SendError) as bad:
        running.send(chat, "not json")
    assert bad.value.failure is Failure.REJECTED


def test_send_while_not_connected_waits_for_the_connection(wecom_fake: WeComFake, start: Any) -> None:
    running = start(wecom_fake)
    wecom_fake.wait_for_connections(1)
    wecom_fake.stop()  # the server goes away: the adapter keeps trying to reconnect
    time.sleep(0.2)
    with pytest.raises(SendError) as waiting:
        running.send("wecom:wrX", json.dumps({"msgtype": "markdown", "markdown": {"content": "x"}}))
    assert waiting.value.failure is Failure.RETRY and waiting.value.retry_after == wecom.NOT_CONNECTED_WAIT


def test_stop_closes_the_connection(wecom_fake: WeComFake, loop: Loop, config: Config) -> None:
    adapter = WeComAdapter(config, app_for(wecom_fake), lambda: NOW)
    loop.run(adapter.start())
    wecom_fake.wait_for_connections(1)
    loop.run(adapter.stop())
    wecom_fake.wait_until(lambda: wecom_fake.connections[0].closed_at is not None, what="the close")
    assert not [t for t in asyncio.all_tasks(loop.loop) if not t.done()]


@pytest.mark.parametrize(
    ("code", "failure", "retry_after"),
    [
        (45009, Failure.RETRY, wecom.RATE_WAIT),
        (-1, Failure.RETRY, None),
        (93006, Failure.GONE, None),
        (40001, Failure.BLOCKED, None),
        (40058, Failure.REJECTED, None),
        (12345, Failure.RETRY, None),
    ],
)
def test_what_an_answer_to_a_push_means(code: int, failure: Failure, retry_after: float | None) -> None:
    error = send_error_for(code, "invalid chatid")
    assert (error.failure, error.retry_after) == (failure, retry_after)
    assert f"errcode {code}" in error.detail


def test_an_answer_keeps_digest_parts_that_do_not_fit_the_stream_apart() -> None:
    part = "一" * (WECOM_CONTENT_LIMIT // 3 - 10)
    answer = Answer("答复", "答复", (part,) * 8)
    content, rest = answer.stream()
    assert len(content.encode()) <= wecom.STREAM_LIMIT and content.startswith("答复\n\n")
    assert content.count(part) + len(rest) == 8 and rest
    assert answer.pushed() == ("答复", *(part,) * 8)


def test_the_page_card() -> None:
    reply = Reply(
        ((Span("“株洲”共 12 条，第 2/3 页", Style.BOLD),), (Span("正文"),)),
        (Button("上一页", "pg:abc:1"), Button("下一页", "pg:abc:3")),
    )
    card = pager_card(Answer.of(reply), "finews_1")
    assert card["main_title"]["title"] == "“株洲”共 12 条，第 2/3 页"
    assert card["button_list"] == [
        {"text": "上一页", "style": 2, "key": "pg:abc:1"},
        {"text": "下一页", "style": 1, "key": "pg:abc:3"},
    ]
    assert pager_card(Answer.of(text_reply("没有标题")), "t")["main_title"]["title"] == T.WECOM_PAGER_TITLE
    # /why's "不相关" buttons come back the same way; the card does not call them pages.
    feedback = pager_card(
        Answer.of(Reply(text_reply("为什么").lines, (Button("不相关：上市", "nr:t"),))), "t"
    )
    assert feedback["main_title"] == {"title": T.WECOM_BUTTONS_TITLE, "desc": T.WECOM_BUTTONS_DESC}
    assert feedback["button_list"] == [{"text": "不相关：上市", "style": 1, "key": "nr:t"}]


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"msgtype": "text", "text": {"content": "@金融资讯助手 最新 株洲"}}, "@金融资讯助手 最新 株洲"),
        ({"msgtype": "voice", "voice": {"content": "最新株洲"}}, "最新株洲"),
        (
            {
                "msgtype": "mixed",
                "mixed": {
                    "msg_item": [
                        {"msgtype": "text", "text": {"content": "@金融资讯助手 主题"}},
                        {"msgtype": "image", "image": {"url": "https://x"}},
                        {"msgtype": "text", "text": {"content": "上市"}},
                    ]
                },
            },
            "@金融资讯助手 主题 上市",
        ),
        ({"msgtype": "image", "image": {"url": "https://x"}}, None),
        ({"msgtype": "file", "file": {"url": "https://x"}}, None),
        ({"msgtype": "text", "text": "broken"}, ""),
    ],
)
def test_what_the_user_typed(body: dict[str, Any], text: str | None) -> None:
    assert text_of(body) == text


def test_a_group_robots_markdown_in_the_smart_robots_dialect() -> None:
    robot = (
        '**金融要闻**\n共 2 条\n\n1. [标题](http://x)\n<font color="comment">株洲日报 · 08:15</font>\n正文'
    )
    assert app_markdown(robot) == "**金融要闻**  \n共 2 条\n\n1. [标题](http://x)  \n株洲日报 · 08:15  \n正文"
    assert app_markdown(app_markdown(robot)) == app_markdown(robot)


@pytest.mark.slow  # waits out a reconnect of a second
def test_an_answer_lost_with_the_connection_goes_to_the_message_pushed_again(
    wecom_fake: WeComFake, start: Any
) -> None:
    running = start(wecom_fake)
    adapter: WeComAdapter = running.adapter
    adapter.reconnect_start = 1.0
    handle = adapter.worker.handle

    async def slow(request: Any) -> Reply:
        await asyncio.sleep(0.4)
        return await handle(request)

    adapter.worker.handle = slow  # type: ignore[method-assign]
    wecom_fake.wait_for_connections(1)
    first = wecom_fake.say(GROUP, "zhangsan", "最新 株洲")
    time.sleep(0.1)
    wecom_fake.drop_connection()  # the answer is ready only after this, while reconnecting
    wecom_fake.wait_for_connections(2, timeout=5)
    assert first is not None and not wecom_fake.replies

    again = wecom_fake.push_again(first)

    (reply,) = replies_to(wecom_fake, 1)
    assert again is not None and reply.req_id == again.req_id and ZHUZHOU_TITLE in reply.text
    wecom_fake.push_again(first)  # a third time: answered already
    time.sleep(0.3)
    assert len(wecom_fake.replies) == 1


class Recorder:
    """Stands in for the connection: records the frames the adapter sends, answers errcode 0."""

    def __init__(self) -> None:
        self.frames: list[tuple[str, str, dict[str, Any]]] = []

    async def request(self, cmd: str, req_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self.frames.append((cmd, req_id, body))
        return {"headers": {"req_id": req_id}, "errcode": 0, "errmsg": "ok"}


def test_an_image_gets_a_hint_and_opening_the_chat_a_welcome(loop: Loop, config: Config) -> None:
    fake = WeComFake()  # not started: only its ids are used
    adapter = WeComAdapter(config, app_for(fake, url="wss://example.invalid"), lambda: NOW)
    recorder = Recorder()
    adapter._request = recorder.request  # type: ignore[method-assign]
    sender = {"chattype": "single", "from": {"userid": "zhangsan"}}
    image = {"msgid": "m1", **sender, "msgtype": "image", "image": {"url": "https://x"}}
    enter = {"msgid": "m2", **sender, "msgtype": "event", "event": {"eventtype": "enter_chat"}}
    try:
        loop.run(adapter._on_message("r1", image))
        loop.run(adapter._on_enter("r2", enter))
        loop.run(adapter._on_enter("r3", enter))  # the same event again: welcomed once
    finally:
        loop.run(adapter.stop())
    assert [(cmd, req_id) for cmd, req_id, _ in recorder.frames] == [
        ("aibot_respond_msg", "r1"),
        ("aibot_respond_welcome_msg", "r2"),
    ]
    assert recorder.frames[0][2]["stream"]["content"] == T.WECOM_TEXT_ONLY
    assert recorder.frames[1][2]["text"]["content"].startswith("您好")


def test_cancelled_while_connecting_it_cleans_up(loop: Loop, config: Config) -> None:
    """The service cancels a connection attempt at shutdown without calling stop()."""
    with socket.socket() as server:  # accepts the TCP connection, never answers the upgrade
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        fake = WeComFake()
        adapter = WeComAdapter(config, app_for(fake, url=f"ws://127.0.0.1:{port}"), lambda: NOW)
        starting = asyncio.run_coroutine_threadsafe(adapter.start(), loop.loop)
        time.sleep(0.3)
        starting.cancel()
        time.sleep(0.3)
    assert starting.cancelled()
    assert adapter._session is None and adapter._stopping
    loop.run(adapter.stop())  # and stopping again is harmless
