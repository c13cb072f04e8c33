"""The real bot process (``python -m bot run``) answering on Feishu, against the Feishu fake.

The process runs the real lark-oapi long-connection client; the only thing pointed anywhere is a
URL (``FINEWS_FEISHU_API_URL``: the fake's origin, for the long connection's endpoint and the IM
APIs alike). The fake pushes users' messages and button presses over the long connection as
Feishu does and records what the bot sends back through the IM APIs.

One process serves the queries (start-up, with lark-oapi's import, is the slow part); the digest
delivery at a test-controlled time and refused credentials get processes of their own.
"""

from __future__ import annotations

import itertools
import subprocess
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.bot_process import (
    PYTHON,
    BotProcess,
    new_bot_folder,
    query,
    seeded_database,
    toml_value,
    wait_until,
    write_config,
)
from tests.fakes.feishu import FAST_CONFIG, FeishuFake, SentMessage, buttons_of, text_of

# Every test here runs real processes and servers: seconds each.
pytestmark = pytest.mark.slow

ZHUZHOU_TITLE = "为高质量发展注入澎湃金融动能"  # seeds/2021-12-29-NW202112292229199167.md (株洲日报)
GANNAN_TITLE = "凝聚金融力量 加快振兴发展"  # seeds/2022-04-03-NW202204032332360450.md (赣南日报)
# The process's business clock starts this long before 08:30 on the day after the 赣南日报 story:
# room to start, connect and subscribe before the digest of 2022-04-03 falls due.
LEAD_SECONDS = 30
DUE = "2022-04-04T08:30:00+08:00"
_groups = itertools.count(1)


def new_group() -> str:
    """A group never seen by the module's bot (its pager, its admin cache)."""
    return f"飞书工作群{next(_groups)}"


def feishu_env(fake: FeishuFake, secret: str | None = None) -> dict[str, str]:
    """The credentials and the fake's URL: all a deployment sets to use Feishu."""
    return {
        "FINEWS_FEISHU_APP_ID": fake.app_id,
        "FINEWS_FEISHU_APP_SECRET": secret or fake.app_secret,
        "FINEWS_FEISHU_API_URL": fake.url,
    }


def feishu_config(folder: Path, admins: Sequence[str] = (), digest: dict[str, str] | None = None) -> Path:
    """The e2e config with a ``[feishu]`` table naming the configured admins (open_ids)."""
    path = write_config(folder, digest=digest)
    with path.open("a", encoding="utf-8") as config:
        config.write(f"\n[feishu]\nadmins = {toml_value(list(admins))}\n")
    return path


def ask(fake: FeishuFake, group: str, user: str, text: str, *, private: bool = False) -> SentMessage:
    """``user`` says ``text`` (to the bot in ``group``, or one to one); the bot's one answer."""
    before = len(fake.messages)
    pushed = fake.say(group, user, text, group=not private)
    assert pushed is not None, "no long connection to push the message over"
    [answer] = fake.wait_for_messages(before + 1, timeout=20)[before:]
    assert answer.parent_id == pushed.message_id and answer.via == "reply"
    return answer


def assert_no_secret(fake: FeishuFake, *outputs: str, secrets: Sequence[str] = ()) -> None:
    shown = "\n".join(outputs)
    for secret in (fake.app_secret, *secrets):
        assert secret not in shown, "the app secret appears in the output"
    assert "ticket=" not in shown and "access_key=" not in shown, "the long connection's URL was logged"
    assert "Bearer" not in shown and "tenant_access_token" not in shown


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded_database(tmp_path_factory.mktemp("feishu-template"))


@pytest.fixture(scope="module")
def fake() -> Iterator[FeishuFake]:
    """The module's Feishu; its ClientConfig makes the SDK reconnect within a second."""
    with FeishuFake(client_config=FAST_CONFIG) as server:
        yield server


@pytest.fixture(scope="module")
def bot(fake: FeishuFake, template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """The module's bot process on the fake; stopped and checked at the end."""
    folder = new_bot_folder(tmp_path_factory.mktemp("feishu"), template, "bot")
    config = feishu_config(folder, admins=[fake.user("钱局长").open_id])
    process = BotProcess(folder, config, telegram=None, env=feishu_env(fake)).start()
    try:
        wait_until(lambda: bool(fake.live_connections) or not process.running, 60, "the long connection")
        assert process.running, process.output
        yield process
        assert process.stop() == 0, process.output
        process.assert_clean_exit()
        assert_no_secret(fake, process.output)
        # Stopped for real: the bot closed its connection itself, and nothing reconnects.
        wait_until(lambda: not fake.live_connections, 5, "the connection closed")
        assert {c.how_closed for c in fake.connections} <= {"client", "dropped"}
        assert fake.connections[-1].how_closed == "client"
    finally:
        process.kill()


@pytest.fixture
def feishu(fake: FeishuFake, bot: BotProcess) -> Iterator[FeishuFake]:
    yield fake
    fake.ack_timeout = 3.0
    assert bot.running, f"the bot exited:\n{bot.output}"


def test_a_member_asks_for_the_latest_zhuzhou_news(feishu: FeishuFake, bot: BotProcess) -> None:
    answer = ask(feishu, new_group(), "张科员", "最新 株洲")
    assert answer.msg_type == "post"
    assert text_of(answer).startswith("“株洲”共 1 条")
    assert ZHUZHOU_TITLE in text_of(answer)
    private = ask(feishu, "", "张科员", "/latest 株洲", private=True)
    assert ZHUZHOU_TITLE in text_of(private)


def test_a_topic_is_listed_page_by_page(feishu: FeishuFake, bot: BotProcess) -> None:
    group = new_group()
    first = ask(feishu, group, "张科员", "/topic 上市 1")
    assert first.msg_type == "interactive"
    assert text_of(first).startswith("**主题“上市”")
    assert "第 1/" in text_of(first) and list(buttons_of(first)) == ["下一页"]

    feishu.card_action(first.message_id, "张科员", {"action": buttons_of(first)["下一页"]})
    feishu.wait_until(lambda: feishu.message(first.message_id).updates == 1, 10, "the card turned")
    second = feishu.message(first.message_id)
    assert "第 2/" in text_of(second) and text_of(second) != text_of(first)
    assert list(buttons_of(second)) == ["上一页", "下一页"]

    typed = ask(feishu, group, "张科员", "上一页")
    assert "第 1/" in text_of(typed)


def test_a_member_may_not_edit_topics_the_group_owner_may_for_the_group(
    feishu: FeishuFake, bot: BotProcess
) -> None:
    group = new_group()
    feishu.chat(group, owner="李主任")
    refused = ask(feishu, group, "张科员", "/addkw 上市 路演")
    assert text_of(refused) == "只有管理员可以使用这个命令。"
    assert text_of(ask(feishu, group, "张科员", "/subscribe")) == "只有管理员可以更改本群的订阅。"
    accepted = ask(feishu, group, "李主任", "/addkw 上市 路演")
    assert text_of(accepted).startswith("已为主题“上市”添加关键词：路演（本群）")
    global_refused = ask(feishu, group, "李主任", "/addkw 全局 上市 路演")
    assert text_of(global_refused).startswith("只有配置的管理员可以修改全局主题")
    # The record names the owner by open_id (Feishu sends no names): how admins find theirs.
    audit = ask(feishu, group, "李主任", "操作记录")
    assert feishu.user("李主任").open_id in text_of(audit)


def test_an_event_pushed_again_is_answered_once(feishu: FeishuFake, bot: BotProcess) -> None:
    feishu.ack_timeout = 0.0  # every ack comes "too late": Feishu pushes the event again
    before = len(feishu.messages)
    pushed = feishu.say(new_group(), "张科员", "最新 株洲")
    assert pushed is not None
    feishu.wait_until(
        lambda: len([d for d in feishu.deliveries if d.event_id == pushed.event_id]) >= 3, 10, "re-pushes"
    )
    feishu.ack_timeout = 3.0
    feishu.wait_for_messages(before + 1, timeout=20)
    time.sleep(1.5)
    answers = [m for m in feishu.messages[before:] if m.parent_id == pushed.message_id]
    assert len(answers) == 1 and ZHUZHOU_TITLE in text_of(answers[0])
    assert len(feishu.messages) == before + 1


def test_hostile_input_gets_chinese_answers_and_no_traceback(feishu: FeishuFake, bot: BotProcess) -> None:
    group = new_group()
    quoted = ask(feishu, group, "张科员", '/latest " AND (')
    assert text_of(quoted).startswith('没有找到包含“" AND (”的内容')
    long = ask(feishu, group, "张科员", "最新 " + "金" * 1000)
    assert text_of(long).startswith("参数过长，每个参数只取前 200 个字符")
    private_time = ask(feishu, "", "张科员", "/subscribe 25:61", private=True)
    assert text_of(private_time).startswith("时间格式不对：“25:61”")
    unknown = ask(feishu, group, "张科员", "/frobnicate")
    assert text_of(unknown).startswith("未知命令 /frobnicate")
    mention_only = ask(feishu, group, "张科员", "")
    assert text_of(mention_only).startswith("请输入至少一个关键词")
    assert "Traceback" not in bot.output, bot.output
    assert " ERROR " not in bot.output, bot.output


def test_a_dropped_connection_is_opened_again_and_answers_again(feishu: FeishuFake, bot: BotProcess) -> None:
    connections = len(feishu.connections)
    assert feishu.drop_connection() == 1
    feishu.wait_for_connections(connections + 1, timeout=20)
    wait_until(lambda: len(feishu.live_connections) == 1, 10, "a live connection")
    answer = ask(feishu, new_group(), "张科员", "最新 株洲")
    assert ZHUZHOU_TITLE in text_of(answer)
    states = query(bot.database, "SELECT state FROM platform_state WHERE platform = 'feishu'")
    assert states == [("connected",)]


# --- processes of their own -----------------------------------------------------------------------


def test_an_admin_subscribes_a_group_and_the_digest_arrives_once(template: Path, tmp_path: Path) -> None:
    with FeishuFake(client_config=FAST_CONFIG) as fake:
        admin = fake.user("钱局长")
        folder = new_bot_folder(tmp_path, template, "digest")
        config = feishu_config(folder, admins=[admin.open_id], digest={"check_every": "1s"})
        start = datetime.fromisoformat(DUE) - timedelta(seconds=LEAD_SECONDS)
        env = {**feishu_env(fake), "FINEWS_FAKE_NOW": start.isoformat()}
        process = BotProcess(folder, config, telegram=None, env=env).start()
        try:
            wait_until(lambda: bool(fake.live_connections) or not process.running, 60, "the long connection")
            group = fake.chat("金融办工作群")
            answer = ask(fake, group.name, admin.name, "订阅 08:30")
            assert text_of(answer).startswith("已订阅：每天的日报会发到这里。")
            wait_until(lambda: any(m.via == "create" for m in fake.messages), LEAD_SECONDS + 30, "the digest")
            time.sleep(4)  # four more checks of the outbox: nothing is sent twice
            digest = [m for m in fake.messages if m.via == "create"]
            rows = query(
                process.database,
                "SELECT status, message_id FROM outbox WHERE chat = ? ORDER BY id",
                "feishu:" + group.chat_id,
            )
            assert [status for status, _ in rows] == ["sent"] * len(rows) and len(digest) == len(rows)
            assert [m.message_id for m in digest] == [platform_id for _, platform_id in rows]
            assert all(m.chat_id == group.chat_id and m.msg_type == "post" for m in digest)
            title = next(iter(digest[0].json.values()))["title"]
            assert title.startswith("金融要闻 2022-04-03")
            assert GANNAN_TITLE in "".join(text_of(m) for m in digest)
            assert process.stop() == 0
            process.assert_clean_exit()
            assert_no_secret(fake, process.output)
        finally:
            process.kill()


def test_refused_credentials_show_in_status_and_the_service_runs_on(template: Path, tmp_path: Path) -> None:
    with FeishuFake(client_config=FAST_CONFIG) as fake:
        folder = new_bot_folder(tmp_path, template, "refused")
        config = feishu_config(folder)
        wrong = "WrongSecretOfTheFeishuApp0123"
        env = feishu_env(fake, secret=wrong)
        process = BotProcess(folder, config, telegram=None, env=env).start()
        try:
            wait_until(
                lambda: (
                    query(process.database, "SELECT state FROM platform_state WHERE platform = 'feishu'")
                    == [("refused",)]
                ),
                60,
                "Feishu refused",
            )
            status = subprocess.run(
                [PYTHON, "-m", "bot", "--config", str(config), "status"],
                cwd=folder,
                env=process.env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert status.returncode == 0, status.stderr
            lines = status.stdout.splitlines()
            at = lines.index("聊天平台：")
            assert lines[at + 1].startswith("  飞书：凭据被拒绝，已停止")
            assert "飞书拒绝了应用凭据" in lines[at + 2] and "10014" in lines[at + 2]
            assert "$FINEWS_FEISHU_APP_SECRET" in lines[at + 2]
            assert process.running  # the service runs on without Feishu
            assert fake.connections == []
            assert process.stop() == 0
            process.assert_clean_exit()
            refusals = [line for line in process.output.splitlines() if "飞书拒绝了应用凭据" in line]
            assert len(refusals) == 1, process.output
            assert_no_secret(fake, process.output, status.stdout, status.stderr, secrets=[wrong])
        finally:
            process.kill()
