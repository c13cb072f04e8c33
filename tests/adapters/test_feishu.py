"""The Feishu adapter with the real lark-oapi long-connection client, against the Feishu fake.

Each test runs an adapter on an event loop of its own in a thread (as ``finews-bot run`` does on
its loop) and plays users through the fake: acks before the work, one answer per event however
often Feishu pushes it, cards whose buttons turn the page in place, group owners and managers,
digests sent into chats with what each refusal means, reconnects (by the SDK, and by the adapter
when the SDK gives up), and a stop that really ends the SDK's thread, loop and connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.adapters.feishu import (
    REFUSED_MARK,
    FeishuAdapter,
    FeishuApiError,
    IncomingMessage,
)
from bot.config import AppConfig, Config, load_config
from bot.delivery.channels import ConnectError, Failure, SendError
from bot.domain.models import Channel
from bot.store import Store
from bot.texts import chat as T
from digests.render_robots import render_feishu
from handlers.request import ChatType
from tests.fakes.feishu import FAST_CONFIG, FeishuFake, SentMessage, buttons_of, text_of
from tests.helpers.chat import NOW, ZHUZHOU_TITLE, import_seeds
from tests.helpers.digests import make_digest, make_entry, section

# The SDK is imported, connected and stopped in every test: seconds.
pytestmark = pytest.mark.slow

_T = TypeVar("_T")
GROUP = "金融办工作群"


class LoopThread:
    """An event loop running in a thread: the service's loop, as far as the adapter can tell."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="service-loop", daemon=True)
        self._thread.start()

    def run(self, work: Coroutine[Any, Any, _T], timeout: float = 60.0) -> _T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("feishu-seeds") / "finews.db"
    with Store(database) as store:
        import_seeds(store)
    return database


class Site:
    """A fake, a seeded database, a config pointing at the fake, and the adapters started."""

    def __init__(self, folder: Path, seeded: Path, fake: FeishuFake) -> None:
        self.fake = fake
        shutil.copyfile(seeded, folder / "finews.db")
        env = {
            "FINEWS_DB": str(folder / "finews.db"),
            "FINEWS_FEISHU_APP_ID": fake.app_id,
            "FINEWS_FEISHU_APP_SECRET": fake.app_secret,
            "FINEWS_FEISHU_API_URL": fake.url,
        }
        self.config: Config = load_config(environ=env, cwd=folder)
        self.loop = LoopThread()
        self.adapters: list[FeishuAdapter] = []

    @property
    def app(self) -> AppConfig:
        return self.config.apps.feishu

    def adapter(self, app: AppConfig | None = None) -> FeishuAdapter:
        built = FeishuAdapter(self.config, app or self.app, lambda: NOW)
        self.adapters.append(built)
        return built

    def start(self, app: AppConfig | None = None) -> FeishuAdapter:
        built = self.adapter(app)
        self.loop.run(built.start())
        self.fake.wait_for_connections(len(self.fake.connections) or 1)
        return built

    def ask(
        self, text: str, user: str = "王主任", *, group: bool = True, answers: int = 1
    ) -> list[SentMessage]:
        before = len(self.fake.messages)
        self.fake.say(GROUP, user, text, group=group)
        return self.fake.wait_for_messages(before + answers, timeout=15)[before:]

    def close(self) -> None:
        for adapter in self.adapters:
            self.loop.run(adapter.stop())
        self.loop.close()


@pytest.fixture
def fake() -> Iterator[FeishuFake]:
    with FeishuFake(client_config=FAST_CONFIG) as server:
        yield server


@pytest.fixture
def site(tmp_path: Path, seeded: Path, fake: FeishuFake) -> Iterator[Site]:
    built = Site(tmp_path, seeded, fake)
    try:
        yield built
    finally:
        built.close()


def state_of(config: Config) -> tuple[str, str] | None:
    with Store(config.database) as store:
        state = store.platform_states().get("feishu")
    return (state.state, state.detail) if state else None


# --- answering --------------------------------------------------------------------------------


def test_a_group_question_is_answered_in_a_post_replying_to_it(site: Site) -> None:
    site.start()
    [answer] = site.ask("最新 株洲")

    pushed = site.fake.events[-1]
    assert answer.via == "reply" and answer.parent_id == pushed.message_id
    assert answer.msg_type == "post" and answer.chat_id == site.fake.chat(GROUP).chat_id
    assert ZHUZHOU_TITLE in text_of(answer)
    paragraphs = next(iter(answer.json.values()))["content"]
    links = [node for line in paragraphs for node in line if node["tag"] == "a"]
    assert links and links[0]["text"] == ZHUZHOU_TITLE and links[0]["href"].startswith("http://finews.")
    # One to one, without a mention and with a slash.
    [private] = site.ask("/latest 株洲", "张科员", group=False)
    assert ZHUZHOU_TITLE in text_of(private)


def test_the_ack_goes_out_before_the_work_and_a_slow_answer_is_not_pushed_again(
    tmp_path: Path, seeded: Path
) -> None:
    with FeishuFake(client_config=FAST_CONFIG, ack_timeout=0.5) as fake:
        site = Site(tmp_path, seeded, fake)
        try:
            adapter = site.start()
            gate = threading.Event()
            site.loop.loop.call_soon_threadsafe(
                lambda: asyncio.ensure_future(adapter.worker.call(lambda ctx: gate.wait(10)))
            )  # the worker is busy (a slow query) for as long as the test says
            pushed = fake.say(GROUP, "王主任", "最新 株洲")
            [ack] = fake.wait_for_acks(1)
            time.sleep(1.0)  # twice the re-push delay, with the answer still waiting
            assert pushed is not None and ack.code == 200 and ack.event_id == pushed.event_id
            assert ack.at - fake.deliveries[0].at < 0.5
            assert fake.messages == [] and len(fake.deliveries) == 1
            gate.set()
            [answer] = fake.wait_for_messages(1)
            assert ZHUZHOU_TITLE in text_of(answer)
        finally:
            site.close()


def test_an_event_pushed_again_is_answered_once(site: Site) -> None:
    site.start()
    site.fake.ack_timeout = 0.0  # every ack is "late": Feishu pushes the event again, same event_id
    pushed = site.fake.say(GROUP, "王主任", "最新 株洲")
    assert pushed is not None
    site.fake.wait_until(lambda: len(site.fake.deliveries) >= 3, what="re-pushes")
    site.fake.wait_for_messages(1)
    time.sleep(1.0)
    assert {d.event_id for d in site.fake.deliveries} == {pushed.event_id}
    assert len(site.fake.messages) == 1


def test_a_paged_list_is_a_card_whose_buttons_turn_the_page_in_place(site: Site) -> None:
    site.start()
    [card] = site.ask("/latest 金融 1")
    assert card.msg_type == "interactive" and card.json["config"]["update_multi"] is True
    assert text_of(card).startswith("**“金融”共 5 条，第 1/5 页**")
    assert list(buttons_of(card)) == [T.NEXT_PAGE]

    site.fake.card_action(card.message_id, "张科员", {"action": buttons_of(card)[T.NEXT_PAGE]})
    site.fake.wait_until(lambda: site.fake.message(card.message_id).updates == 1, what="the card replaced")
    page = site.fake.message(card.message_id)
    assert text_of(page).startswith("**“金融”共 5 条，第 2/5 页**")
    assert list(buttons_of(page)) == [T.PREVIOUS_PAGE, T.NEXT_PAGE]
    assert len(site.fake.messages) == 1  # edited, not sent anew
    assert [a.code for a in site.fake.acks] == [200, 200]

    # 下一页 typed: the next page of the chat's last list, as a new card.
    [typed] = site.ask("下一页")
    assert text_of(typed).startswith("**“金融”共 5 条，第 3/5 页**")
    # A button of a list nobody remembers: said so, as a reply to the card.
    site.fake.card_action(card.message_id, "张科员", {"action": "pg:unknown:2"})
    [expired] = site.fake.wait_for_messages(3)[2:]
    assert text_of(expired) == T.LIST_EXPIRED and expired.parent_id == card.message_id


def test_a_not_relevant_button_works_for_the_group_s_owner_and_not_for_a_member(site: Site) -> None:
    site.fake.chat(GROUP, owner="李主任")
    site.start()
    site.ask("/topic 上市", user="李主任")
    [why] = site.ask("/why 1", user="李主任")
    marks = buttons_of(why)
    assert marks and all(label.startswith("不相关：") for label in marks)
    [member_view] = site.ask("/why 1", user="张科员")  # a member sees no button
    assert member_view.msg_type == "post"
    press = next(iter(marks.values()))
    site.fake.card_action(why.message_id, "张科员", {"action": press})
    [refused] = site.fake.wait_for_messages(4)[3:]
    assert text_of(refused) == "只有管理员可以使用这个命令。"
    site.fake.card_action(why.message_id, "李主任", {"action": press})
    [proposals] = site.fake.wait_for_messages(5, timeout=15)[4:]
    assert "（本群）" in text_of(proposals) and any(b.startswith("采用方案") for b in buttons_of(proposals))


def test_a_message_that_is_not_text_gets_a_chinese_hint(site: Site) -> None:
    adapter = site.start()
    chat = site.fake.chat(GROUP)
    [said] = site.ask("帮助")  # a real message to reply to
    adapter._received_message(
        IncomingMessage("e" * 32, said.parent_id, chat.chat_id, ChatType.GROUP, "ou_x", None)
    )
    [hint] = site.fake.wait_for_messages(2)[1:]
    assert text_of(hint) == T.TEXT_ONLY


# --- who may do what ----------------------------------------------------------------------------


def test_group_owner_and_managers_edit_the_group_members_do_not_admins_everything(site: Site) -> None:
    site.fake.chat(GROUP, owner="李主任", managers=["赵科长"])
    admin = site.fake.user("钱局长")
    adapter = site.start(replace(site.app, admins=frozenset({admin.open_id})))
    calls: list[str] = []
    real_chat = adapter.api.chat

    async def counted(chat_id: str) -> dict[str, Any]:
        calls.append(chat_id)
        return await real_chat(chat_id)

    adapter.api.chat = counted  # type: ignore[method-assign]

    [refused] = site.ask("/addkw 上市 路演", "张科员")
    assert text_of(refused) == T.ADMIN_ONLY
    [owner] = site.ask("/addkw 上市 路演", "李主任")
    assert text_of(owner).startswith("已为主题“上市”添加关键词：路演（本群）")
    [manager] = site.ask("/delkw 上市 路演", "赵科长")
    assert text_of(manager).startswith("已从主题“上市”删除关键词：路演（本群）")
    [global_refused] = site.ask("/addkw 全局 上市 路演", "李主任")
    assert text_of(global_refused).startswith("只有配置的管理员可以修改全局主题")
    [global_ok] = site.ask("/addkw 全局 上市 路演", "钱局长")
    assert text_of(global_ok).startswith("已为主题“上市”添加关键词：路演（全局）")
    [query] = site.ask("最新 株洲", "张科员")  # a query never asks Feishu who is who
    assert ZHUZHOU_TITLE in text_of(query)
    assert len(calls) == 1  # one chat-info call, cached for a minute

    with Store(site.config.database) as store:
        rows = store.audit_entries(10)
    assert {row.user_id for row in rows} == {
        site.fake.user(n).open_id for n in ("李主任", "赵科长", "钱局长")
    }
    assert all(row.chat == "feishu:" + site.fake.chat(GROUP).chat_id for row in rows)


def test_when_feishu_cannot_say_who_administers_the_group_the_user_is_asked_to_try_again(
    site: Site,
) -> None:
    adapter = site.start()

    async def failing(chat_id: str) -> dict[str, Any]:
        raise FeishuApiError("HTTP 500", transient=True)

    adapter.api.chat = failing  # type: ignore[method-assign]
    [answer] = site.ask("/subscribe", "李主任")
    assert text_of(answer) == T.ROLE_UNKNOWN


def test_subscribe_in_a_group_saves_the_group_title_and_the_digest_is_sent_into_the_chat(
    site: Site,
) -> None:
    site.fake.chat(GROUP, owner="李主任")
    adapter = site.start()
    [answer] = site.ask("订阅 上市 08:30", "李主任")
    assert text_of(answer).startswith(T.SUBSCRIBED)
    chat = "feishu:" + site.fake.chat(GROUP).chat_id
    with Store(site.config.database) as store:
        sub = store.subscription(Channel.FEISHU, chat)
    assert sub is not None and sub.title == GROUP and sub.topics == ("上市",)

    [part] = render_feishu(make_digest(section("上市", make_entry())))
    body = json.dumps(part, ensure_ascii=False)
    message_id = site.loop.run(adapter.send(chat, body, "json"))
    [_, sent] = site.fake.messages
    assert sent.message_id == message_id and sent.via == "create" and sent.msg_type == "post"
    assert sent.json == part["content"]["post"]
    # The same part again (its answer was lost, the outbox tries again): one message.
    assert site.loop.run(adapter.send(chat, body, "json")) == message_id
    assert len(site.fake.messages) == 2


def test_what_each_refusal_of_a_send_means(site: Site) -> None:
    adapter = site.start()
    chat_id = site.fake.chat(GROUP).chat_id
    chat = "feishu:" + chat_id

    def send(body: dict[str, Any]) -> SendError | str:
        try:
            return site.loop.run(adapter.send(chat, json.dumps(body, ensure_ascii=False), "json"))
        except SendError as error:
            return error

    def post(text: str) -> dict[str, Any]:
        return {
            "msg_type": "post",
            "content": {"post": {"zh_cn": {"content": [[{"tag": "text", "text": text}]]}}},
        }

    site.fake.expire_tokens()  # refused token: a fresh one, and the message goes
    assert isinstance(send(post("一")), str)
    too_long = send(post("长" * 20_000))
    assert isinstance(too_long, SendError) and too_long.failure is Failure.REJECTED
    assert "230025" in too_long.detail
    site.fake.remove_bot(GROUP)
    gone = send(post("二"))
    assert isinstance(gone, SendError) and gone.failure is Failure.GONE and "230002" in gone.detail
    secret = site.fake.rotate_secret()
    site.fake.expire_tokens()
    blocked = send(post("三"))
    assert isinstance(blocked, SendError) and blocked.failure is Failure.BLOCKED
    assert blocked.detail.startswith(REFUSED_MARK) and "10014" in blocked.detail
    assert str(site.app.secret) not in blocked.detail and secret not in blocked.detail
    site.fake.stop()
    down = send(post("四"))
    assert isinstance(down, SendError) and down.failure is Failure.RETRY


# --- connecting, reconnecting, stopping ------------------------------------------------------------


def test_refused_credentials_are_permanent_and_never_shown(site: Site) -> None:
    wrong = replace(site.app, secret="WrongSecretWrongSecret1234")
    adapter = site.adapter(wrong)
    with pytest.raises(ConnectError) as raised:
        site.loop.run(adapter.start())
    assert raised.value.permanent
    detail = str(raised.value)
    assert detail.startswith(REFUSED_MARK) and "10014" in detail
    assert "$FINEWS_FEISHU_APP_SECRET" in detail and "WrongSecret" not in detail
    assert site.fake.connections == []


def test_an_unreachable_platform_is_worth_another_try(site: Site) -> None:
    closed = replace(site.app, api_url="http://127.0.0.1:9")  # the discard port: nothing listens
    adapter = site.adapter(closed)
    with pytest.raises(ConnectError) as raised:
        site.loop.run(adapter.start())
    assert not raised.value.permanent


def test_the_endpoint_refusing_the_app_is_permanent(site: Site) -> None:
    site.fake.fail_next_endpoints(1, code=10099)
    adapter = site.adapter()
    with pytest.raises(ConnectError) as raised:
        site.loop.run(adapter.start())
    assert raised.value.permanent and "10099" in str(raised.value)
    assert site.fake.connections == []


def test_stop_ends_the_sdk_thread_its_loop_and_its_connection(site: Site) -> None:
    adapter = site.start()
    link = adapter._link
    assert link is not None and link.alive
    site.ask("最新 株洲")
    started = time.monotonic()
    site.loop.run(adapter.stop())
    assert time.monotonic() - started < 5
    assert not link.alive and link.loop.is_closed()
    site.fake.wait_until(lambda: not site.fake.live_connections, what="the connection closed")
    assert [c.how_closed for c in site.fake.connections] == ["client"]
    endpoints = len(site.fake.endpoint_requests)
    time.sleep(2.5)  # FAST_CONFIG would reconnect within a second
    assert len(site.fake.endpoint_requests) == endpoints and site.fake.live_connections == []
    assert not any(t.name == "feishu-long-connection" for t in threading.enumerate())
    site.adapters.remove(adapter)


@pytest.mark.parametrize("after", [0.0, 0.03, 0.1, 0.3])
def test_a_start_cancelled_midway_leaves_no_thread_behind(site: Site, after: float) -> None:
    adapter = site.adapter()

    async def cancel_start() -> bool:
        task = asyncio.ensure_future(adapter.start())
        await asyncio.sleep(after)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return task.cancelled()

    if not site.loop.run(cancel_start()):  # started before the cancel came: stopped as usual
        site.loop.run(adapter.stop())
    site.adapters.remove(adapter)
    site.fake.wait_until(lambda: not site.fake.live_connections, what="no live connection")
    assert not any(t.name == "feishu-long-connection" for t in threading.enumerate())


def test_stop_while_the_sdk_is_reconnecting(site: Site) -> None:
    adapter = site.start()
    link = adapter._link
    assert link is not None
    site.fake.fail_next_endpoints(100, code=1)  # system busy: the SDK retries every second
    site.fake.drop_connection()
    site.fake.wait_until(lambda: len(site.fake.endpoint_requests) >= 3, timeout=10, what="retries")
    site.loop.run(adapter.stop())
    assert not link.alive and link.loop.is_closed()
    requests = len(site.fake.endpoint_requests)
    time.sleep(2.5)
    assert len(site.fake.endpoint_requests) == requests
    site.adapters.remove(adapter)


def test_a_dropped_connection_is_reopened_by_the_sdk(site: Site) -> None:
    site.start()
    site.fake.drop_connection()
    site.fake.wait_for_connections(2, timeout=10)
    site.fake.wait_until(lambda: len(site.fake.live_connections) == 1, what="a live connection")
    [answer] = site.ask("最新 株洲")
    assert ZHUZHOU_TITLE in text_of(answer)
    site.fake.wait_until(lambda: state_of(site.config) == ("connected", ""), what="connected recorded")


def test_when_the_sdk_gives_up_the_adapter_opens_a_new_connection(site: Site) -> None:
    adapter = site.start()
    first = adapter._link
    site.fake.fail_next_endpoints(1, code=4242)  # not retried by the SDK: its reconnect ends
    site.fake.drop_connection()
    site.fake.wait_for_connections(2, timeout=20)
    site.fake.wait_until(lambda: len(site.fake.live_connections) == 1, what="one live connection")
    assert adapter._link is not first and first is not None and not first.alive
    [answer] = site.ask("最新 株洲")
    assert ZHUZHOU_TITLE in text_of(answer)
    site.fake.wait_until(lambda: state_of(site.config) == ("connected", ""), what="connected recorded")


def test_credentials_refused_on_a_reconnect_are_recorded_and_nothing_retries(site: Site) -> None:
    adapter = site.start()
    secret = site.fake.rotate_secret()
    site.fake.drop_connection()
    site.fake.wait_until(
        lambda: (state_of(site.config) or ("", ""))[0] == "refused", timeout=20, what="refused recorded"
    )
    state = state_of(site.config)
    assert state is not None and REFUSED_MARK in state[1] and secret not in state[1]
    link = adapter._link
    assert link is not None
    site.fake.wait_until(lambda: not link.alive, what="the SDK's thread ended")
    requests = len(site.fake.endpoint_requests)
    time.sleep(2.5)
    assert len(site.fake.endpoint_requests) == requests and site.fake.live_connections == []


def test_subscriptions_paused_for_refused_credentials_resume_at_start(site: Site) -> None:
    held, gone = "feishu:oc_held", "feishu:oc_gone"
    with Store(site.config.database) as store, store.transaction():
        for chat in (held, gone):
            store.save_subscription(Channel.FEISHU, chat, topics=(), clock=NOW.time(), days="daily", now=NOW)
        store.pause_subscription(Channel.FEISHU, held, f"{REFUSED_MARK} (code 10014)", NOW)
        store.pause_subscription(Channel.FEISHU, gone, "HTTP 400, code 230002: bot not in chat", NOW)
    site.start()
    with Store(site.config.database) as store:
        assert store.paused_chats(Channel.FEISHU) == {gone}


def test_the_lark_logger_is_quiet_and_nothing_secret_is_logged(
    site: Site, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    site.start()
    lark = logging.getLogger("Lark")
    assert lark.level == logging.WARNING
    assert not [h for h in lark.handlers if isinstance(h, logging.StreamHandler)]
    site.ask("最新 株洲")
    site.fake.fail_next_endpoints(1, code=1)
    site.fake.drop_connection()
    site.fake.wait_for_connections(2, timeout=10)
    logging.getLogger("Lark").error(
        "connect failed: ws://x/ws/v2?ticket=T1&access_key=K1 %s", site.app.secret
    )
    shown = caplog.text + capsys.readouterr().out
    assert "Lark" in caplog.text  # its errors still reach the log, through our handlers
    assert str(site.app.secret) not in shown and "ticket=T1" not in shown and "access_key=K1" not in shown
    assert "ticket=***" in shown
