"""Digests to WeCom, DingTalk and Feishu group robots, by the real CLI and the real service process,
against the local fakes of the three platforms (tests/fakes/robots.py: signatures, sizes and rate
limits checked with the platforms' own codes).

What the tests hold the bot to — the delivery promise of the README: no part lost, no part the
platform acknowledged ever repeated, at most the part in flight when the process died repeated.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.bot_process import (
    PYTHON,
    BotProcess,
    base_env,
    new_bot_folder,
    query,
    seeded_database,
    wait_until,
    write_config,
)
from tests.fakes.robots import FakeRobot, Limits, RobotFake

# Every test here runs real processes and servers: seconds each.
pytestmark = pytest.mark.slow

DAY = "2022-04-03"
# 08:30 in Shanghai on the day after: the subscriptions' digest of 2022-04-03 falls due at once.
DUE_SOON = "2022-04-04T08:29:57+08:00"
NAMES = {"wecom": "金融办工作群", "dingtalk": "钉钉工作群", "feishu": "飞书工作群"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded_database(tmp_path_factory.mktemp("robots-template"))


@pytest.fixture
def fake() -> Iterator[RobotFake]:
    with RobotFake() as server:
        yield server


class Deployment:
    """A working folder with a config of robots on the fake, and the environment holding their
    webhooks and secrets (the only place they are)."""

    def __init__(self, folder: Path, robots: dict[str, FakeRobot], digest: dict[str, Any] | None = None):
        self.folder = folder
        self.robots = robots
        self.env = base_env(folder)
        entries = []
        for platform, robot in robots.items():
            entry = {
                "name": NAMES[platform],
                "platform": platform,
                "webhook_env": f"FINEWS_ROBOT_{platform.upper()}",
            }
            self.env[entry["webhook_env"]] = robot.url
            if robot.secret:
                entry["secret_env"] = f"FINEWS_ROBOT_{platform.upper()}_SECRET"
                self.env[entry["secret_env"]] = robot.secret
            entries.append(entry)
        self.config = write_config(
            folder,
            robots=entries,
            subscriptions=[{"chat": f"robot:{NAMES[p]}"} for p in robots],
            digest=digest,
        )

    @property
    def database(self) -> Path:
        return Path(self.env["FINEWS_DB"])

    def cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PYTHON, "-m", "bot", "--config", str(self.config), *args],
            cwd=self.folder,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def secrets(self) -> list[str]:
        """Every webhook URL, key and secret: none may appear in output, files or the database."""
        found = []
        for robot in self.robots.values():
            found += [robot.url, robot.token]
            if robot.secret:
                found.append(robot.secret)
        return found

    def assert_no_secret_anywhere(self, *outputs: str) -> None:
        shown = "\n".join(outputs)
        for path in self.folder.rglob("*"):
            if path.is_file() and path.suffix != ".toml":
                shown += path.read_bytes().decode("utf-8", "replace")
        leaked = [secret for secret in self.secrets() if secret in shown]
        assert not leaked, "a webhook URL, key or secret in an output, a file or the database"


def test_digest_send_delivers_a_real_day_to_all_three_robots_once(
    tmp_path: Path, template: Path, fake: RobotFake
) -> None:
    robots = {
        "wecom": fake.add_robot("wecom"),
        "dingtalk": fake.add_robot("dingtalk", secret=True),
        "feishu": fake.add_robot("feishu", secret=True),
    }
    site = Deployment(new_bot_folder(tmp_path, template, "send"), robots)
    first = site.cli("digest", "--date", DAY, "--send")
    assert first.returncode == 0, first.stderr
    for platform, robot in robots.items():
        assert robot.received and not robot.rejected, platform
        assert f"{NAMES[platform]}：{DAY} 的日报已发送 1/1 条" in first.stderr
    wecom = robots["wecom"].messages[0]["markdown"]["content"]
    assert "金融要闻 2022-04-03 星期日 · 金融办工作群" in wecom and "凝聚金融力量" in wecom
    second = site.cli("digest", "--date", DAY, "--send")
    assert second.returncode == 0 and second.stderr.count("不重复发送") == 3
    assert [len(r.received) for r in robots.values()] == [1, 1, 1]  # nothing sent twice
    status = site.cli("status")
    assert status.returncode == 0 and status.stdout.count("：正常，上次发送") == 3
    site.assert_no_secret_anywhere(first.stdout, first.stderr, second.stderr, status.stdout)


def write_posts(folder: Path, count: int) -> None:
    """``count`` different stories of 2022-04-03 about 普惠金融, long enough to need several parts."""
    folder.mkdir()
    for n in range(count):
        body = f"第{n}号：本市小微企业普惠金融贷款余额同比增长{n}%，" + "金融机构加大首贷投放力度，" * 8
        (folder / f"2022-04-03-NW2022040300{n:04d}.md").write_text(
            f'---\ntitle: "普惠金融新举措之{n}"\ndate: 2022-04-03 09:{n % 60:02d}:00 +0800\n'
            f"categories: gannanribao\ntags: 赣南日报新闻\n---\n<p>{body}</p>\n\n"
            f"<http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW2022040300{n:04d}>\n",
            encoding="utf-8",
        )


def sent_parts(database: Path, chat: str) -> list[dict[str, Any]]:
    rows = query(database, "SELECT part, status, body FROM outbox WHERE chat = ? ORDER BY part", chat)
    return [{"part": part, "status": status, "body": json.loads(body)} for part, status, body in rows]


def test_kill_9_mid_digest_loses_no_part_and_repeats_at_most_the_one_in_flight(
    tmp_path: Path, template: Path, fake: RobotFake
) -> None:
    robot = fake.add_robot("wecom")
    site = Deployment(new_bot_folder(tmp_path, template, "kill"), {"wecom": robot}, digest={"top": 40})
    write_posts(site.folder / "posts", 40)
    imported = site.cli("import", str(site.folder / "posts"))
    assert imported.returncode == 0, imported.stderr
    robot.hang_next(0.8, count=100)  # every answer slow: a part is in flight most of the time
    chat = "robot:金融办工作群"
    service = BotProcess(
        site.folder, site.config, telegram=None, env={**site.env, "FINEWS_FAKE_NOW": DUE_SOON}
    )
    try:
        service.start()
        wait_until(lambda: len(robot.received) >= 2, 30, "two parts delivered")
        time.sleep(0.3)  # the third is in flight now
        assert service.process is not None
        os.kill(service.process.pid, signal.SIGKILL)
        service.process.wait()
        parts = sent_parts(site.database, chat)
        assert len(parts) >= 4, "the digest should need several parts"
        robot.clear_faults()
        robot.wait_for(3, timeout=5)  # the platform still delivers the part that was in flight
        again = BotProcess(
            site.folder,
            site.config,
            telegram=None,
            env={**site.env, "FINEWS_FAKE_NOW": DUE_SOON},
            name="again",
        )
        again.start()
        try:
            wait_until(
                lambda: all(p["status"] == "sent" for p in sent_parts(site.database, chat)),
                30,
                "every part sent",
            )
        finally:
            again.stop()
        again.assert_clean_exit()
    finally:
        service.kill()
    bodies = [m.body for m in robot.received]
    expected = [p["body"] for p in sent_parts(site.database, chat)]
    counts = [bodies.count(body) for body in expected]
    assert all(count >= 1 for count in counts), "a part was lost"
    assert sum(count - 1 for count in counts) <= 1, f"more than the in-flight part repeated: {counts}"
    firsts = sorted(range(len(expected)), key=lambda i: bodies.index(expected[i]))
    assert firsts == list(range(len(expected))), "parts arrived out of order"
    site.assert_no_secret_anywhere(service.output, again.output)


def test_a_refused_key_pauses_that_robot_while_the_others_deliver_and_a_fix_resumes_it(
    tmp_path: Path, template: Path, fake: RobotFake
) -> None:
    robots = {"wecom": fake.add_robot("wecom"), "feishu": fake.add_robot("feishu", secret=True)}
    site = Deployment(new_bot_folder(tmp_path, template, "revoked"), robots)
    robots["wecom"].revoke()
    sent = site.cli("digest", "--date", DAY, "--send")
    assert sent.returncode == 1, sent.stderr  # something is held back: a script can tell
    assert "金融办工作群：2022-04-03 的日报已发送 0/1 条；已暂停" in sent.stderr
    assert "93000" in sent.stderr and "Traceback" not in sent.stderr
    assert robots["feishu"].received and not robots["wecom"].received
    status = site.cli("status")
    assert "金融办工作群（企业微信，$ FINEWS_ROBOT_WECOM）：已暂停" in status.stdout
    assert "暂停原因：" in status.stdout and "93000" in status.stdout
    robots["wecom"].restore()  # the admin fixed it (a new key in the environment, here the old one back)
    again = site.cli("digest", "--date", DAY, "--send")
    assert again.returncode == 0, again.stderr
    assert len(robots["wecom"].received) == 1 and len(robots["feishu"].received) == 1
    site.assert_no_secret_anywhere(sent.stderr, status.stdout, again.stderr)


def test_rate_limited_robots_wait_as_the_platform_requires_and_deliver(
    tmp_path: Path, template: Path
) -> None:
    # DingTalk allows one message per 3 s here and then throttles for 1 s; the bot's platform
    # times are scaled so that DingTalk's ten minutes are 3.6 s.
    limits = Limits(dingtalk_per_window=1, dingtalk_window=3.0, dingtalk_throttle=1.0)
    with RobotFake(limits=limits) as fake:
        robot = fake.add_robot("dingtalk", secret=True)
        site = Deployment(new_bot_folder(tmp_path, template, "throttled"), {"dingtalk": robot})
        scaled = {"FINEWS_ROBOT_TIME_SCALE": "0.006"}
        test = site.cli("robots", "--test", "钉钉工作群", env=scaled)  # spends the window
        assert test.returncode == 0 and "已向机器人“钉钉工作群”（钉钉）发送测试消息" in test.stdout
        sent = site.cli("digest", "--date", DAY, "--send", env=scaled)
        assert sent.returncode == 0, sent.stderr
        assert [r.code for r in robot.rejected] == [130101]
        assert "等待 4 秒后继续发送" in sent.stderr and "已发送 1/1 条" in sent.stderr
        assert len(robot.received) == 2  # the test message and the digest, nothing lost


def test_configuration_mistakes_are_one_line_naming_the_robot(tmp_path: Path, template: Path) -> None:
    with RobotFake() as fake:
        site = Deployment(
            new_bot_folder(tmp_path, template, "missing"), {"dingtalk": fake.add_robot("dingtalk")}
        )
        unset = {"FINEWS_ROBOT_DINGTALK": ""}
        done = site.cli("status", env=unset)
        assert done.returncode == 2 and done.stderr.count("\n") == 1
        assert "robots[0] (钉钉工作群)" in done.stderr and "FINEWS_ROBOT_DINGTALK is not set" in done.stderr
        wrong = site.cli("status", env={"FINEWS_ROBOT_DINGTALK": fake.add_robot("wecom").url})
        assert wrong.returncode == 2 and "is not a DingTalk (钉钉) webhook URL" in wrong.stderr
        assert "key=" not in wrong.stderr
        unknown = site.cli("robots", "--test", "不存在")
        assert unknown.returncode == 2 and "没有名为“不存在”的机器人" in unknown.stderr
