"""``[[robots]]``: webhook URLs and secrets from the environment only, every mistake in one line
that names the robot — and never shows the URL, its key or the secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from bot.config.robots import is_webhook, webhook_key
from bot.domain.models import Platform

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=8a5f1e7c9b2d4f6a"
FEISHU = "https://open.feishu.cn/open-apis/bot/v2/hook/2f3e4d5c-6b7a-8988-7766-554433221100"
DING_SECRET = "SECc0ffeec0ffeec0ffee"

ROBOTS = """
[[robots]]
name = "金融办工作群"
platform = "wecom"
webhook_env = "FINEWS_ROBOT_JRB"

[[robots]]
name = "钉钉群"
platform = "dingtalk"
webhook_env = "FINEWS_ROBOT_DING"
secret_env = "FINEWS_ROBOT_DING_SECRET"

[[robots]]
name = "飞书群"
platform = "feishu"
webhook_env = "FINEWS_ROBOT_FEISHU"

[[subscriptions]]
chat = "robot:金融办工作群"
topics = ["上市"]
time = "08:00"

[topics."上市"]
keywords = ["上市"]
"""
ENV = {
    "FINEWS_ROBOT_JRB": WECOM,
    "FINEWS_ROBOT_DING": DINGTALK,
    "FINEWS_ROBOT_DING_SECRET": DING_SECRET,
    "FINEWS_ROBOT_FEISHU": FEISHU,
}


def load(tmp_path: Path, text: str, env: dict[str, str]) -> object:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(str(path), environ=env, cwd=tmp_path)


def refusal(tmp_path: Path, text: str, env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, env)
    message = str(caught.value)
    assert "\n" not in message
    keys = [webhook_key(platform, value) for value in env.values() for platform in Platform]
    plain = [value for value in env.values() if "://" not in value]  # secrets, not URLs
    for secret in (*filter(None, keys), *plain, DING_SECRET):
        assert secret not in message, "a webhook key or secret in an error message"
    return message


def test_robots_read_their_webhooks_and_secrets_from_the_environment(tmp_path: Path) -> None:
    config = load_config(str(_write(tmp_path, ROBOTS)), environ=ENV, cwd=tmp_path)
    wecom, dingtalk, feishu = config.robots
    assert (wecom.name, wecom.platform, wecom.webhook, wecom.signed) == (
        "金融办工作群",
        Platform.WECOM,
        WECOM,
        False,
    )
    assert dingtalk.secret == DING_SECRET and dingtalk.signed and feishu.platform is Platform.FEISHU
    (sub,) = config.subscriptions
    assert sub.chat == "robot:金融办工作群" and sub.title == "金融办工作群"  # headed with the robot's name
    assert config.robot("钉钉群") is dingtalk and config.robot("nope") is None
    shown = repr(config)
    assert all(secret not in shown for secret in ENV.values()), "a secret in the config's repr"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_missing_webhook_variable_names_the_robot_and_the_variable(tmp_path: Path) -> None:
    env = {k: v for k, v in ENV.items() if k != "FINEWS_ROBOT_DING"}
    message = refusal(tmp_path, ROBOTS, env)
    assert "robots[1] (钉钉群)" in message and "FINEWS_ROBOT_DING is not set" in message


def test_a_missing_secret_variable_is_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in ENV.items() if k != "FINEWS_ROBOT_DING_SECRET"}
    assert "FINEWS_ROBOT_DING_SECRET is not set" in refusal(tmp_path, ROBOTS, env)


@pytest.mark.parametrize(
    ("variable", "url"),
    [
        ("FINEWS_ROBOT_JRB", DINGTALK),  # another platform's webhook
        ("FINEWS_ROBOT_JRB", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"),  # no key
        ("FINEWS_ROBOT_DING", "ftp://oapi.dingtalk.com/robot/send?access_token=f7e6d5c4b3a2"),
        ("FINEWS_ROBOT_FEISHU", "https://open.feishu.cn/open-apis/bot/v2/hook/"),
        ("FINEWS_ROBOT_FEISHU", "not a url at all 8a5f1e7c9b2d4f6a"),
    ],
)
def test_a_url_that_is_not_a_webhook_of_the_platform_is_refused_without_showing_it(
    tmp_path: Path, variable: str, url: str
) -> None:
    message = refusal(tmp_path, ROBOTS, {**ENV, variable: url})
    assert f"${variable} is not a" in message and "webhook URL (expected https://" in message
    assert "8a5f1e7c9b2d4f6a" not in message  # (the URLs without a key hold nothing secret)


def test_private_deployments_and_local_servers_are_webhooks_too() -> None:
    assert is_webhook(Platform.WECOM, "http://127.0.0.1:8080/cgi-bin/webhook/send?key=abc")
    assert is_webhook(Platform.DINGTALK, "https://im.example.gov.cn/proxy/robot/send?access_token=t")
    assert is_webhook(Platform.FEISHU, "https://lark.example.cn/open-apis/bot/v2/hook/xyz")
    assert webhook_key(Platform.WECOM, WECOM) == "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
    assert webhook_key(Platform.FEISHU, FEISHU) == "2f3e4d5c-6b7a-8988-7766-554433221100"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('platform = "wecom"', 'platform = "slack"'), "expected one of wecom, dingtalk, feishu"),
        (
            ('webhook_env = "FINEWS_ROBOT_JRB"', 'webhook_env = "not a name"'),
            "expected an environment variable",
        ),
        (
            ('webhook_env = "FINEWS_ROBOT_JRB"', 'webhook_env = "FINEWS_ROBOT_JRB"\nsecret_env = "S"'),
            "no signing",
        ),
        (('name = "飞书群"', 'name = "金融办工作群"'), "is used twice"),
        (('webhook_env = "FINEWS_ROBOT_JRB"', 'webhook = "https://x"'), "unknown key 'webhook'"),
        (('chat = "robot:金融办工作群"', 'chat = "robot:不存在"'), "unknown robot 'robot:不存在'"),
    ],
)
def test_mistakes_are_one_line_naming_the_robot(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    message = refusal(tmp_path, ROBOTS.replace(*change, 1), {**ENV, "S": "s3cr3t-value"})
    assert expected in message and "config.toml: " in message


def test_without_robots_nothing_is_asked_of_the_environment(tmp_path: Path) -> None:
    config = load_config(
        str(_write(tmp_path, '[topics."上市"]\nkeywords = ["上市"]\n')), environ={}, cwd=tmp_path
    )
    assert config.robots == ()
