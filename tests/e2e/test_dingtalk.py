"""DingTalk (钉钉 Stream mode) end to end: the real service process (``python -m bot run``) with the
real dingtalk-stream client inside, against the local DingTalk fake (tests/fakes/dingtalk.py).
Nothing is patched: the process gets the app's credentials and ``FINEWS_DINGTALK_API_URL`` (the
fake) in its environment, as a deployment gets the real ones.

One process serves the module. It starts with ``FINEWS_FAKE_NOW`` a few seconds before 08:30
(Asia/Shanghai) on 2022-04-04; as soon as it is connected, a configured admin subscribes a group
and a member their one-to-one chat at 08:30, so the digest of 2022-04-03 falls due seconds later.
Bad credentials and an unreachable platform get processes of their own.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.bot_process import (
    PYTHON,
    BotProcess,
    new_bot_folder,
    query,
    seeded_database,
    wait_until,
    write_config,
)
from tests.fakes.dingtalk import DingTalkFake, Reply

# Every test here runs real processes and servers: seconds each.
pytestmark = pytest.mark.slow

ZHUZHOU_TITLE = "为高质量发展注入澎湃金融动能"  # seeds: the 株洲日报 story
GANNAN_TITLE = "凝聚金融力量 加快振兴发展"  # seeds: the 赣南日报 story of 2022-04-03
ADMIN = "manager01"  # [dingtalk] admins
MEMBER = "zhangsan"
GROUP = "金融办工作群"
DIGEST_GROUP = "钉钉日报群"
# Seconds between the process's start and 08:30 of its clock: room for start-up, connecting and
# the two /subscribe (made after 08:30 they would rightly wait for the next day).
LEAD = 12


@dataclass
class Site:
    """The module's deployment: the fake, the bot process, and how to run the CLI beside it."""

    fake: DingTalkFake
    bot: BotProcess
    started: float

    def say(self, text: str, *, user: str = MEMBER, group: str = GROUP, private: bool = False) -> Reply:
        """A user's message, and the one reply it gets."""
        before = len(self.fake.replies)
        pushed = self.fake.say(group, user, text, group=not private)
        assert pushed is not None, "the bot is not connected"
        return self.fake.wait_for_replies(before + 1, timeout=15)[before]

    def secrets(self) -> list[str]:
        return [self.fake.client_secret, self.fake.client_id]


def configure(folder: Path) -> Path:
    """write_config's deployment, plus a [dingtalk] table naming its admin."""
    config = write_config(folder, digest={"check_every": "1s"})
    with config.open("a", encoding="utf-8") as file:
        file.write(f'\n[dingtalk]\nadmins = ["{ADMIN}"]\n')
    return config


def dingtalk_env(fake: DingTalkFake, *, secret: str | None = None) -> dict[str, str]:
    return {
        "FINEWS_DINGTALK_CLIENT_ID": fake.client_id,
        "FINEWS_DINGTALK_CLIENT_SECRET": secret or fake.client_secret,
        "FINEWS_DINGTALK_API_URL": fake.url,
    }


def start_bot(
    folder: Path,
    fake: DingTalkFake,
    *,
    secret: str | None = None,
    fake_now: datetime | None = None,
    name: str,
) -> BotProcess:
    env = dingtalk_env(fake, secret=secret)
    if fake_now is not None:
        env["FINEWS_FAKE_NOW"] = fake_now.isoformat()
    return BotProcess(folder, configure(folder), telegram=None, env=env, name=name).start()


def status(bot: BotProcess) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "bot", "--config", str(bot.config), "status"],
        cwd=bot.folder,
        env=bot.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded_database(tmp_path_factory.mktemp("dingtalk-template"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Site]:
    fake = DingTalkFake().start()
    folder = new_bot_folder(tmp_path_factory.mktemp("dingtalk"), template, "bot")
    fake_now = datetime.fromisoformat("2022-04-04T08:30:00+08:00") - timedelta(seconds=LEAD)
    bot = start_bot(folder, fake, fake_now=fake_now, name="bot")
    try:
        fake.wait_until(lambda: bool(fake.live_connections) or not bot.running, 20, "a connection")
        assert bot.running, bot.output
        site = Site(fake, bot, time.monotonic())
        subscribed = site.say("订阅 08:30", user=ADMIN, group=DIGEST_GROUP)
        private = site.say("订阅 08:30", private=True)
        assert "已订阅" in subscribed.text and "已订阅" in private.text, (subscribed.text, private.text)
        yield site
    finally:
        bot.kill()
        fake.stop()


def test_a_member_asks_for_the_latest_zhuzhou_news(site: Site) -> None:
    in_group = site.say("最新 株洲")
    one_to_one = site.say("/latest 株洲", private=True)

    for reply in (in_group, one_to_one):
        assert reply.via == "session_webhook" and reply.body["msgtype"] == "markdown"
        assert ZHUZHOU_TITLE in reply.text and "株洲日报" in reply.text, reply.text
    assert in_group.conversation_id == site.fake.group(GROUP).conversation_id


def test_topic_pages_are_turned_by_typing_next(site: Site) -> None:
    first = site.say("主题 上市 1")
    second = site.say("下一页")
    back = site.say("/prev")

    assert "第 1/" in first.text and "“下一页”" in first.text, first.text
    assert "第 2/" in second.text and "“上一页” 或 “下一页”" in second.text, second.text
    assert "第 1/" in back.text
    assert first.text.split("  \n  ")[3] != second.text.split("  \n  ")[3]  # another story


def test_an_admins_subscribe_brings_the_digest_to_the_group_once(site: Site) -> None:
    fake = site.fake

    def digests(via: str) -> list[Reply]:
        return [r for r in fake.replies if r.via == via and GANNAN_TITLE in r.text]

    wait_until(lambda: bool(digests("group_messages")), LEAD + 20, "the group's digest")
    wait_until(lambda: bool(digests("oto_messages")), 10, "the one-to-one chat's digest")
    time.sleep(3.5)  # a few more check cycles (check_every = 1s): nothing may go out again

    (to_group,) = digests("group_messages")
    (to_user,) = digests("oto_messages")
    assert to_group.conversation_id == fake.group(DIGEST_GROUP).conversation_id
    assert to_group.body["msgKey"] == "sampleMarkdown" and to_user.user_ids == (MEMBER,)
    sent = query(
        site.bot.database,
        "SELECT chat, part, parts, status FROM outbox WHERE channel = 'dingtalk' ORDER BY chat",
    )
    assert sorted(status for *_, status in sent) == ["sent", "sent"], sent
    assert {chat for chat, *_ in sent} == {f"dingtalk:{to_group.conversation_id}", f"dingtalk:user:{MEMBER}"}


def test_a_members_topic_edit_and_group_subscribe_are_refused(site: Site) -> None:
    site.fake.user(MEMBER, admin=True)  # DingTalk's isAdmin says nothing about this group
    addkw = site.say("/addkw 上市 科创板")
    subscribe = site.say("/subscribe")

    for reply in (addkw, subscribe):
        assert "只有管理员" in reply.text and "钉钉不告诉机器人谁是群主或群管理员" in reply.text, reply.text
    chat = f"dingtalk:{site.fake.group(GROUP).conversation_id}"
    assert not query(site.bot.database, "SELECT * FROM audit WHERE chat = ?", chat)
    assert not query(site.bot.database, "SELECT * FROM subscriptions WHERE chat = ?", chat)


def test_a_message_pushed_again_is_answered_once(site: Site) -> None:
    fake = site.fake
    before = len(fake.replies)
    pushed = fake.say(GROUP, MEMBER, "最新 株洲")
    fake.wait_for_replies(before + 1)
    assert pushed is not None

    assert fake.push_again(pushed)  # as DingTalk does when an ack came late
    again = [d for d in fake.deliveries if d.data["msgId"] == pushed.msg_id][-1]
    wait_until(lambda: any(a.message_id == again.message_id for a in fake.acks), 10, "the re-push acked")
    time.sleep(1)

    answers = [r for r in fake.replies[before:] if ZHUZHOU_TITLE in r.text]
    assert len(answers) == 1
    assert [d.attempt for d in fake.deliveries if d.data["msgId"] == pushed.msg_id] == [0, 1]


def test_hostile_arguments_get_chinese_answers(site: Site) -> None:
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for line in ('/latest " AND (', "株" * 1000, "/subscribe 25:61", "/frobnicate 株洲"):
        reply = site.say(line, user=ADMIN)
        assert cjk.search(reply.text), (line, reply.text)
    assert "Traceback" not in site.bot.output


def test_a_dropped_connection_is_reestablished_and_answers_again(site: Site) -> None:
    fake = site.fake
    opened = len(fake.connections)

    assert fake.drop_connection() == 1  # TCP cut without a close frame: the SDK waits 10 s
    fake.wait_for_connections(opened + 1, timeout=20)
    fake.wait_until(lambda: len(fake.live_connections) == 1, what="one live connection")
    assert ZHUZHOU_TITLE in site.say("最新 株洲").text

    assert fake.disconnect_frame() == 1  # DingTalk's "reconnect please": at once
    fake.wait_for_connections(opened + 2, timeout=5)
    fake.wait_until(lambda: len(fake.live_connections) == 1, what="one live connection")
    assert ZHUZHOU_TITLE in site.say("最新 株洲").text


def test_the_process_stops_cleanly_and_never_showed_a_credential(site: Site) -> None:
    shown = status(site.bot)
    assert "钉钉：已连接" in shown.stdout, shown.stdout

    site.bot.stop()

    site.bot.assert_clean_exit()
    output = site.bot.output + shown.stdout + shown.stderr
    for secret in site.secrets():
        assert secret not in output
    assert "endpoint is" not in output and "ticket" not in output.replace("ticket=***", "")
    assert "unknown message topic" not in output
    assert "Logging error" not in output
    after = status(site.bot)
    assert "钉钉：服务已停止" in after.stdout, after.stdout


def test_bad_credentials_are_refused_in_status_in_one_line(tmp_path: Path, template: Path) -> None:
    with DingTalkFake() as fake:
        wrong = "WrongSecret" + "x" * 40
        bot = start_bot(new_bot_folder(tmp_path, template, "refused"), fake, secret=wrong, name="refused")
        try:
            wait_until(lambda: "钉钉" in bot.output and "refused" in bot.output, 20, "the refusal logged")
            shown = status(bot)
            assert bot.running  # the service runs on without DingTalk
            time.sleep(1)
            assert [o.status for o in fake.opens] == [401]  # refused once, not retried every 10 s
        finally:
            bot.stop()
    bot.assert_clean_exit()
    assert "钉钉：凭据被拒绝" in shown.stdout, shown.stdout
    assert "authFailed" in shown.stdout and "$FINEWS_DINGTALK_CLIENT_SECRET" in shown.stdout
    refusals = [line for line in bot.output.splitlines() if "authFailed" in line]
    assert len(refusals) == 1, bot.output
    for secret in (wrong, fake.client_id, fake.client_secret):
        assert secret not in bot.output + shown.stdout + shown.stderr
    assert fake.connections == []


def test_an_unreachable_platform_is_retried_until_it_answers(tmp_path: Path, template: Path) -> None:
    with DingTalkFake() as fake:
        fake.fail_next_opens(1, status=503)
        bot = start_bot(new_bot_folder(tmp_path, template, "retrying"), fake, name="retrying")
        try:
            wait_until(lambda: bool(fake.opens), 20, "the first open")
            retrying = status(bot)
            fake.wait_for_connections(1, timeout=20)  # the service's next attempt, 5 s later
            wait_until(lambda: "已连接" in status(bot).stdout, 10, "connected in status")
            before = len(fake.replies)
            fake.say(GROUP, MEMBER, "最新 株洲")
            assert ZHUZHOU_TITLE in fake.wait_for_replies(before + 1, timeout=15)[before].text
        finally:
            bot.stop()
    bot.assert_clean_exit()
    assert "无法连接，重试中" in retrying.stdout or "连接中" in retrying.stdout, retrying.stdout
    assert [o.status for o in fake.opens][:2] == [503, 200]
