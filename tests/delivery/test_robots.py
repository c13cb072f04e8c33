"""The robot channel against the local fakes of the three platforms (real HTTP, signatures checked,
limits enforced with the platforms' codes): delivery, pacing, rate-limit waits, refused keys,
transient faults, and secrets kept out of every error and log line."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import Config, RobotConfig, parse_config
from bot.delivery.channels import Failure, SendError
from bot.delivery.digester import Digester
from bot.delivery.outbox import Deliverer, FlushReport
from bot.delivery.robots import RobotChannel
from bot.domain.models import Channel, Platform
from bot.domain.records import OutboxStatus
from bot.ingest.importer import discover, import_files
from bot.store import Store
from tests.fakes.robots import FakeRobot, Limits, RobotFake
from tests.helpers.paths import REPO, SEEDS

DAY = datetime(2022, 4, 3).date()
DUE = datetime(2022, 4, 4, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai, the day after


class Clock:
    """The outbox's clock, moved by hand."""

    def __init__(self) -> None:
        self.at = DUE

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def fake() -> Iterator[RobotFake]:
    with RobotFake() as server:
        yield server


def robot_config(tmp_path: Path, robots: dict[str, FakeRobot]) -> Config:
    """The embedded default's topics, the given fake robots, each subscribed to every topic."""
    data = tomllib.loads((REPO / "config.example.toml").read_text(encoding="utf-8"))
    env: dict[str, str] = {}
    data["robots"], data["subscriptions"] = [], []
    for name, robot in robots.items():
        entry = {"name": name, "platform": robot.platform, "webhook_env": f"HOOK_{len(env)}"}
        env[entry["webhook_env"]] = robot.url
        if robot.secret:
            entry["secret_env"] = f"SECRET_{len(env)}"
            env[entry["secret_env"]] = robot.secret
        data["robots"].append(entry)
        data["subscriptions"].append({"chat": f"robot:{name}"})
    data["sources"] = [{"name": "seeds", "kind": "folder", "path": str(SEEDS)}]
    data["database"] = str(tmp_path / "finews.db")
    return parse_config(data, path=tmp_path / "config.toml", environ=env)


def seeded_store(config: Config) -> Store:
    store = Store(config.database)
    import_files(store, discover([SEEDS]))
    return store


def queue_day(config: Config, store: Store, clock: Clock) -> None:
    digester = Digester(config, store, clock.now)
    digester.sync_config_subscriptions()
    full = digester.day_digest(DAY)
    for sub in store.subscriptions():
        assert digester.queue(sub, DAY, clock.now(), full)


def flush(store: Store, channel: RobotChannel, clock: Clock) -> FlushReport:
    async def run() -> FlushReport:
        try:
            return await Deliverer(store, {Channel.ROBOT: channel}, clock.now).flush()
        finally:
            await channel.aclose()

    return asyncio.run(run())


def messages(store: Store) -> list[Any]:
    return [m for d in store.deliveries() for m in store.outbox_messages(d.id)]


def test_a_real_digest_reaches_all_three_robots_signed_and_in_their_dialects(
    tmp_path: Path, fake: RobotFake
) -> None:
    robots = {
        "企业微信群": fake.add_robot("wecom"),
        "钉钉群": fake.add_robot("dingtalk", secret=True),
        "飞书群": fake.add_robot("feishu", secret=True),
    }
    config = robot_config(tmp_path, robots)
    clock = Clock()
    with seeded_store(config) as store:
        queue_day(config, store, clock)
        report = flush(store, RobotChannel(config.robots), clock)
        assert report.sent == len(messages(store)) >= 3 and not report.errors
        assert all(m.status is OutboxStatus.SENT for m in messages(store))
    for robot in robots.values():
        assert robot.received and not robot.rejected
    wecom = robots["企业微信群"].messages[0]
    assert wecom["msgtype"] == "markdown" and "金融要闻 2022-04-03" in wecom["markdown"]["content"]
    assert "[" in wecom["markdown"]["content"] and "](http" in wecom["markdown"]["content"]  # linked titles
    dingtalk = robots["钉钉群"].received[0]
    assert "timestamp=" in dingtalk.path and "sign=" in dingtalk.path  # signed in the query
    feishu = robots["飞书群"].messages[0]
    assert feishu["msg_type"] == "post" and {"timestamp", "sign"} <= set(feishu)  # signed in the body
    assert feishu["content"]["post"]["zh_cn"]["title"].startswith("金融要闻 2022-04-03")


def test_a_refused_key_holds_that_robot_s_messages_and_pauses_it_while_the_others_deliver(
    tmp_path: Path, fake: RobotFake, caplog: pytest.LogCaptureFixture
) -> None:
    good, bad = fake.add_robot("feishu", secret=True), fake.add_robot("wecom")
    config = robot_config(tmp_path, {"好群": good, "坏群": bad})
    bad.revoke()
    clock = Clock()
    caplog.set_level(logging.DEBUG)
    with seeded_store(config) as store:
        queue_day(config, store, clock)
        report = flush(store, RobotChannel(config.robots), clock)
        assert report.held == 1 and report.failed == 0
        assert good.received and not bad.received and bad.rejected[0].code == 93000
        paused = store.subscription(Channel.ROBOT, "robot:坏群")
        assert paused is not None and "93000" in paused.paused
        held = [m for m in messages(store) if m.chat == "robot:坏群"]
        assert held and all(m.status is OutboxStatus.PENDING for m in held)  # nothing lost
        # Flushing again does not knock on the refused door (and does not resend the good robot's).
        flush(store, RobotChannel(config.robots), clock)
        assert len(bad.rejected) == 1 and len(good.received) == len(
            [m for m in messages(store) if m.chat == "robot:好群"]
        )
        # Fixed (here: the key restored) and resumed, as a restart does: the held messages go out.
        bad.restore()
        store.resume_paused(Channel.ROBOT, clock.now())
        flush(store, RobotChannel(config.robots), clock)
        assert all(m.status is OutboxStatus.SENT for m in messages(store))
    secrets = [*config.robots[0].secrets(), *config.robots[1].secrets()]
    shown = caplog.text + paused.paused
    assert not [s for s in secrets if s in shown], "a webhook key or secret in a log line or pause reason"


def test_a_rate_limited_answer_waits_as_long_as_the_platform_requires_and_loses_nothing(
    tmp_path: Path,
) -> None:
    limits = Limits(dingtalk_per_window=1, dingtalk_window=0.3, dingtalk_throttle=0.4)
    with RobotFake(limits=limits) as fake:
        robot = fake.add_robot("dingtalk", secret=True)
        config = robot_config(tmp_path, {"钉钉群": robot})
        clock = Clock()
        with seeded_store(config) as store:
            queue_day(config, store, clock)
            channel = RobotChannel(config.robots, scale=0.001)  # DingTalk's 10 minutes: 0.6 s
            asyncio.run(channel.post(config.robots[0], {"msgtype": "text", "text": {"content": "先"}}))
            # The limit of one per window is now spent: the digest's part is refused with 130101.
            report = flush(store, RobotChannel(config.robots, scale=0.001), clock)
            assert report.retried == 1 and robot.rejected[-1].code == 130101
            (waiting,) = store.pending_messages(Channel.ROBOT)
            assert waiting.next_attempt == clock.now() + timedelta(seconds=0.6)
            assert "限流" in waiting.error
            time.sleep(0.7)
            clock.at += timedelta(seconds=0.6)
            assert flush(store, RobotChannel(config.robots, scale=0.001), clock).sent == 1


@pytest.mark.slow
def test_pacing_keeps_a_long_run_of_messages_under_the_limit(fake: RobotFake) -> None:
    # The documented 20 per minute, scaled down a hundredfold on both sides.
    limits = Limits(wecom_per_window=20, wecom_window=0.6)
    with RobotFake(limits=limits) as paced:
        robot = paced.add_robot("wecom")
        config = RobotConfig("群", Platform.WECOM, "HOOK", webhook=robot.url)

        async def send_many() -> float:
            channel = RobotChannel([config], scale=0.01)
            start = time.monotonic()
            try:
                for index in range(45):
                    await channel.post(config, {"msgtype": "text", "text": {"content": str(index)}})
            finally:
                await channel.aclose()
            return time.monotonic() - start

        elapsed = asyncio.run(send_many())
    assert len(robot.received) == 45 and not robot.rejected
    assert elapsed >= 1.2  # two windows waited out


@pytest.mark.slow
def test_feishu_is_paced_to_five_a_second(fake: RobotFake) -> None:
    robot = fake.add_robot("feishu", secret=True)
    config = RobotConfig("飞书群", Platform.FEISHU, "HOOK", "SECRET", webhook=robot.url, secret=robot.secret)

    async def send_many() -> None:
        channel = RobotChannel([config])
        try:
            for index in range(12):
                await channel.post(config, {"msg_type": "text", "content": {"text": str(index)}})
        finally:
            await channel.aclose()

    asyncio.run(send_many())
    assert len(robot.received) == 12 and not robot.rejected


def test_server_errors_and_timeouts_are_retried_later_never_dropped(fake: RobotFake) -> None:
    robot = fake.add_robot("wecom")
    config = RobotConfig("群", Platform.WECOM, "HOOK", webhook=robot.url)
    message = {"msgtype": "text", "text": {"content": "测试"}}

    async def attempt(client: httpx.AsyncClient | None = None) -> SendError:
        channel = RobotChannel([config], client=client)
        try:
            await channel.post(config, message)
        except SendError as error:
            return error
        finally:
            await channel.aclose()
        raise AssertionError("delivered")

    robot.fail_next(1, status=502)
    assert asyncio.run(attempt()).failure is Failure.RETRY
    robot.hang_next(1.0)
    timed_out = asyncio.run(attempt(httpx.AsyncClient(timeout=0.2)))
    assert timed_out.failure is Failure.RETRY and "超时" in timed_out.detail
    robot.drop_next(1)
    assert asyncio.run(attempt()).failure is Failure.RETRY
    # The hung request still reached the group: that is the in-flight part a retry may repeat.
    robot.wait_for(1, timeout=3)


@pytest.mark.parametrize(
    ("platform", "limits_field", "code"),
    [("wecom", "wecom_per_window", 45009), ("feishu", "feishu_per_second", 11232)],
)
def test_each_platform_s_rate_limit_code_means_wait(platform: str, limits_field: str, code: int) -> None:
    with RobotFake(limits=Limits(**{limits_field: 1})) as fake:
        robot = fake.add_robot(platform)  # type: ignore[arg-type]
        config = RobotConfig("群", Platform(platform), "HOOK", webhook=robot.url)
        body: dict[str, Any] = (
            {"msgtype": "text", "text": {"content": "x"}}
            if platform == "wecom"
            else {"msg_type": "text", "content": {"text": "x"}}
        )

        async def twice() -> SendError:
            channel = RobotChannel([config], scale=0.0001)  # our pacing out of the way
            try:
                await channel.post(config, body)
                await channel.post(config, body)
            except SendError as error:
                return error
            finally:
                await channel.aclose()
            raise AssertionError("not refused")

        error = asyncio.run(twice())
    assert error.failure is Failure.RETRY and error.retry_after is not None and f"code {code}" in error.detail


def test_a_bad_signature_is_refused_credentials(fake: RobotFake) -> None:
    robot = fake.add_robot("dingtalk", secret=True)
    config = RobotConfig("钉钉群", Platform.DINGTALK, "HOOK", "S", webhook=robot.url, secret="SECwrong")

    async def send() -> SendError:
        channel = RobotChannel([config])
        try:
            await channel.post(config, {"msgtype": "text", "text": {"content": "x"}})
        except SendError as error:
            return error
        finally:
            await channel.aclose()
        raise AssertionError("accepted")

    error = asyncio.run(send())
    assert error.failure is Failure.BLOCKED and "310000" in error.detail
    assert robot.token not in error.detail and "SECwrong" not in error.detail


def test_outbox_bodies_are_the_platform_messages(tmp_path: Path, fake: RobotFake) -> None:
    config = robot_config(tmp_path, {"群": fake.add_robot("wecom")})
    with seeded_store(config) as store:
        queue_day(config, store, Clock())
        (message, *_) = store.pending_messages(Channel.ROBOT)
        assert message.format == "json" and json.loads(message.body)["msgtype"] == "markdown"
        assert fake.url not in message.body  # the database never holds a webhook
