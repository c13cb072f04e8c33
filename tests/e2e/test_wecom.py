"""WeCom end to end: the real service process (``python -m bot run``) with its WeCom adapter,
connected to the local smart-robot fake (tests/fakes/wecom.py) by configuration only:
``FINEWS_WECOM_API_URL`` names the fake, and — where the fake serves TLS as the real host does —
``SSL_CERT_FILE`` names the fake's certificate (a private deployment's CA is trusted the same way).

Every process is stopped with SIGTERM at the end of its test and must exit cleanly, without a
traceback, and without the Bot ID or the Secret anywhere in its output.
"""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import time
from collections.abc import Iterator
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
from tests.fakes.wecom import Reply, WeComFake

# Every test here runs the real process against the fake: seconds each.
pytestmark = pytest.mark.slow

ADMIN = "lisi"  # [wecom] admins
MEMBER = "zhangsan"
GROUP = "金融办工作群"
ZHUZHOU_TITLE = "为高质量发展注入澎湃金融动能"  # 株洲日报, seeds
CJK = re.compile(r"[\u4e00-\u9fff]")
# The subscription's 08:30 falls due this many seconds after the process starts (room for
# start-up and the /subscribe before it: a subscription made after 08:30 waits for tomorrow).
LEAD = 8
DUE = datetime.fromisoformat("2022-04-04T08:30:00+08:00")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded_database(tmp_path_factory.getbasetemp() / "seeded")


def certificate_file(fake: WeComFake, folder: Path) -> Path:
    """The fake's self-signed certificate (its own CA), as a file for ``SSL_CERT_FILE``."""
    port = int(fake.ws_url.rsplit(":", 1)[1])
    path = folder / "wecom-fake-ca.pem"
    path.write_text(ssl.get_server_certificate(("127.0.0.1", port)), encoding="ascii")
    return path


class Site:
    """A working folder whose config has ``[wecom] admins``, and the process's environment: the
    fake's Bot ID and Secret, its URL, and (TLS) its certificate."""

    def __init__(
        self, folder: Path, fake: WeComFake, *, secret: str | None = None, **settings: object
    ) -> None:
        self.folder = folder
        self.fake = fake
        self.config = write_config(folder, **settings)  # type: ignore[arg-type]
        with self.config.open("a", encoding="utf-8") as config:
            config.write(f'\n[wecom]\nadmins = ["{ADMIN}"]\n')
        self.env = {
            "FINEWS_WECOM_BOT_ID": fake.bot_id,
            "FINEWS_WECOM_BOT_SECRET": secret or fake.secret,
            "FINEWS_WECOM_API_URL": fake.ws_url,
        }
        if fake.ws_url.startswith("wss://"):
            self.env["SSL_CERT_FILE"] = str(certificate_file(fake, folder))

    def process(self, name: str = "bot", **env: str) -> BotProcess:
        return BotProcess(self.folder, self.config, telegram=None, env={**self.env, **env}, name=name)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        bot = self.process()
        return subprocess.run(
            [PYTHON, "-m", "bot", "--config", str(self.config), *args],
            cwd=self.folder,
            env=bot.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def assert_clean(self, bot: BotProcess) -> None:
        bot.assert_clean_exit()
        for credential in (self.fake.bot_id, self.fake.secret, self.env["FINEWS_WECOM_BOT_SECRET"]):
            assert credential not in bot.output, "a WeCom credential in the process's output"


def ask(fake: WeComFake, text: str, *, user: str = MEMBER, group: bool = True) -> Reply:
    """A user's message; the bot's finished answer to it (the last reply with its req_id)."""
    pushed = fake.say(GROUP if group else "", user, text, group=group)
    assert pushed is not None, "the bot is not connected"

    def answered() -> bool:
        return any(r.req_id == pushed.req_id and _finished(r) for r in fake.replies)

    fake.wait_until(answered, 15, f"the answer to {text[:20]!r}")
    return [r for r in fake.replies if r.req_id == pushed.req_id][-1]


def _finished(reply: Reply) -> bool:
    stream = reply.body.get("stream")
    return isinstance(stream, dict) and stream.get("finish") is True


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[tuple[WeComFake, Site]]:
    """One TLS fake and one bot process for the scenarios that leave no state behind them."""
    with WeComFake(tls=True) as fake:
        site = Site(new_bot_folder(tmp_path_factory.mktemp("wecom"), template, "shared"), fake)
        bot = site.process().start()
        try:
            fake.wait_for_connections(1, timeout=20)
            yield fake, site
            bot.stop()
            site.assert_clean(bot)
        finally:
            bot.kill()


def test_a_member_asks_for_the_latest_news_of_zhuzhou(shared: tuple[WeComFake, Site]) -> None:
    fake, _ = shared
    answer = ask(fake, "最新 株洲")
    assert answer.errcode == 0 and answer.cmd == "aibot_respond_msg"
    assert answer.chatid == fake.chat(GROUP)
    assert ZHUZHOU_TITLE in answer.text and "株洲日报" in answer.text
    one_to_one = ask(fake, "/latest 株洲", group=False)
    assert ZHUZHOU_TITLE in one_to_one.text


def test_a_topic_is_paged_with_the_card_buttons_and_by_typing(shared: tuple[WeComFake, Site]) -> None:
    fake, _ = shared
    first = ask(fake, "/topic 上市 2")
    assert first.body["msgtype"] == "stream_with_template_card" and "第 1/3 页" in first.text
    card = first.body["template_card"]
    (next_page,) = card["button_list"]
    count = len(fake.replies)

    pressed = fake.card_event(GROUP, MEMBER, card["task_id"], next_page["key"])

    fake.wait_until(lambda: len(fake.replies) >= count + 2, 10, "the card update and the page")
    update, page = fake.replies[count : count + 2]
    assert pressed is not None and (update.cmd, update.req_id, update.errcode) == (
        "aibot_respond_update_msg",
        pressed.req_id,
        0,
    )
    assert "第 2/3 页" in update.body["template_card"]["main_title"]["title"]
    assert (page.cmd, page.errcode, page.chatid) == ("aibot_send_msg", 0, fake.chat(GROUP))
    assert "第 2/3 页" in page.text
    assert "第 3/3 页" in ask(fake, "下一页").text


def test_a_member_may_not_edit_topics(shared: tuple[WeComFake, Site]) -> None:
    fake, site = shared
    refused = ask(fake, "/addkw 上市 科创板")
    assert "只有" in refused.text
    assert not query(site.process().database, "SELECT * FROM topic_edits")


def test_a_message_pushed_again_is_answered_once(shared: tuple[WeComFake, Site]) -> None:
    fake, _ = shared
    first = fake.say(GROUP, MEMBER, "最新 株洲")
    assert first is not None
    fake.wait_until(lambda: any(r.req_id == first.req_id for r in fake.replies), 10, "the answer")

    again = fake.push_again(first)
    time.sleep(1.5)

    assert again is not None and again.msgid == first.msgid
    assert [r.req_id for r in fake.replies].count(first.req_id) == 1
    assert not [r for r in fake.replies if r.req_id == again.req_id]


@pytest.mark.parametrize(
    ("text", "user"),
    [
        ('/latest " AND (', MEMBER),
        ("/latest " + "株" * 1000, MEMBER),
        ("最新 " + "a" * 1000, MEMBER),
        ("/subscribe 25:61", ADMIN),
        ("/frobnicate 株洲", MEMBER),
        ("/topic", MEMBER),
        ("@金融资讯助手", MEMBER),
    ],
)
def test_hostile_arguments_get_chinese_answers(shared: tuple[WeComFake, Site], text: str, user: str) -> None:
    fake, _ = shared
    answer = ask(fake, text, user=user)
    assert answer.errcode == 0 and CJK.search(answer.text), answer.text
    assert len(answer.text.encode()) <= 20480


def test_an_admin_subscribes_the_group_and_the_digest_arrives_once(tmp_path: Path, template: Path) -> None:
    with WeComFake() as fake:
        site = Site(new_bot_folder(tmp_path, template, "subscribe"), fake, digest={"check_every": "1s"})
        bot = site.process(FINEWS_FAKE_NOW=(DUE - timedelta(seconds=LEAD)).isoformat()).start()
        try:
            fake.wait_for_connections(1, timeout=20)
            subscribed = ask(fake, "订阅", user=ADMIN)
            assert "已订阅" in subscribed.text
            (created,) = query(bot.database, "SELECT created FROM subscriptions WHERE chat LIKE 'wecom:%'")
            assert datetime.fromisoformat(created[0]) < DUE, (
                "start-up took too long: the digest is tomorrow's"
            )
            chat = fake.chat(GROUP)

            def digests() -> list[Reply]:
                return [r for r in fake.replies if r.cmd == "aibot_send_msg" and r.chatid == chat]

            wait_until(lambda: bool(digests()), LEAD + 20, "the digest in the group")
            time.sleep(3)  # a few more checks (every second): nothing may go out twice
            parts = digests()
            assert [p.errcode for p in parts] == [0] * len(parts)
            shown = "".join(p.text for p in parts)
            assert "金融要闻 2022-04-03" in parts[0].text and "凝聚金融力量" in shown
            assert "<font" not in shown  # the smart robot's Markdown has no colours
            rows = query(bot.database, "SELECT status FROM outbox WHERE chat = ?", f"wecom:{chat}")
            assert len(rows) == len(parts) and all(status == "sent" for (status,) in rows)
            bot.stop()
            site.assert_clean(bot)
        finally:
            bot.kill()


def test_a_dropped_connection_is_opened_again(tmp_path: Path, template: Path) -> None:
    with WeComFake(tls=True) as fake:
        site = Site(new_bot_folder(tmp_path, template, "drop"), fake)
        bot = site.process().start()
        try:
            fake.wait_for_connections(1, timeout=20)
            assert ZHUZHOU_TITLE in ask(fake, "最新 株洲").text

            assert fake.drop_connection() == 1
            fake.wait_for_connections(2, timeout=20)

            assert ZHUZHOU_TITLE in ask(fake, "最新 株洲").text
            bot.wait_for_log("企业微信 connection lost")
            bot.wait_for_log("企业微信 智能机器人 reconnected")
            status = site.cli("status", "--json")
            (wecom,) = [p for p in json.loads(status.stdout)["platforms"] if p["platform"] == "wecom"]
            assert wecom["state"] == "connected"
            bot.stop()
            site.assert_clean(bot)
        finally:
            bot.kill()


def test_refused_credentials_show_in_status(tmp_path: Path, template: Path) -> None:
    with WeComFake() as fake:
        wrong = "Wr0ngSecretWr0ngSecretWr0ngSecretWr0ngSecr"
        site = Site(new_bot_folder(tmp_path, template, "refused"), fake, secret=wrong)
        bot = site.process().start()
        try:
            wait_until(
                lambda: bool(query(bot.database, "SELECT 1 FROM platform_state WHERE state = 'refused'")),
                20,
                "the refusal recorded",
            )
            status = site.cli("status")
            assert bot.running, bot.output  # the service runs on without WeCom
            bot.stop()
            site.assert_clean(bot)
        finally:
            bot.kill()
    assert status.returncode == 0, status.stderr
    # One line for the state, one for WeCom's reason; no traceback.
    state, reason = [line.strip() for line in status.stdout.splitlines() if "企业微信" in line]
    assert state.startswith("企业微信：凭据被拒绝") and "errcode 40001: invalid credential" in reason
    assert "$FINEWS_WECOM_BOT_SECRET" in reason and "Traceback" not in status.stdout + status.stderr
    for credential in (wrong, fake.secret, fake.bot_id):
        assert credential not in status.stdout + status.stderr + bot.output
    assert fake.subscriptions and all(code == 40001 for _, code in fake.subscriptions)
    assert len(fake.subscriptions) == 1  # refused once: not tried again and again
