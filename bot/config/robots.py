"""``[[robots]]``: the WeCom, DingTalk and Feishu group robots digests are sent to.

A custom group robot is a webhook: its URL carries the key, and DingTalk and Feishu may add a
signing secret. Both only ever come from the environment (the table names the variables), and
neither is ever shown: not in errors, logs, ``status`` or the database. A missing variable or a
URL that is not a webhook of the robot's platform stops the program with one line naming the
robot and the variable. Any host works (private deployments, local test servers); the path and
the key are what make a URL a webhook.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.config.base import REQUIRED, ConfigError, Shape, ShapeError, explain
from bot.domain.models import Platform, robot_chat

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


_RAW_ROBOT = Shape(
    "robot",
    name=(str, REQUIRED),
    platform=(str, REQUIRED),
    webhook_env=(str, REQUIRED),
    secret_env=(str, ""),
)

ROBOT_KEYS = _RAW_ROBOT.keys

# How each platform is named in messages, and what it calls the signing secret.
PLATFORM_NAMES = {
    Platform.WECOM: "WeCom (企业微信)",
    Platform.DINGTALK: "DingTalk (钉钉)",
    Platform.FEISHU: "Feishu (飞书)",
}
SECRET_NAMES = {Platform.DINGTALK: "DingTalk 加签, SEC…", Platform.FEISHU: "Feishu 签名校验"}

# What a webhook URL of each platform looks like, as the platform shows it to whoever adds the robot.
EXAMPLE_URLS = {
    Platform.WECOM: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
    Platform.DINGTALK: "https://oapi.dingtalk.com/robot/send?access_token=…",
    Platform.FEISHU: "https://open.feishu.cn/open-apis/bot/v2/hook/…",
}


@dataclass(frozen=True, slots=True)
class RobotConfig:
    """One group robot. ``webhook`` and ``secret`` are read from the environment and never shown."""

    name: str
    platform: Platform
    webhook_env: str
    secret_env: str = ""
    webhook: str = field(default="", repr=False)
    secret: str | None = field(default=None, repr=False)

    @property
    def chat(self) -> str:
        """The chat a subscription names to send here: ``robot:NAME``."""
        return robot_chat(self.name)

    @property
    def signed(self) -> bool:
        """Whether requests are signed (DingTalk 加签, Feishu 签名校验)."""
        return bool(self.secret)

    def secrets(self) -> tuple[str, ...]:
        """Every string that must never be shown: the webhook URL, its key, the secret."""
        return tuple(s for s in (self.webhook, webhook_key(self.platform, self.webhook), self.secret) if s)


def webhook_key(platform: Platform, url: str) -> str:
    """The key or token in a webhook URL ("" when it has none): the secret part of the URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if platform is Platform.FEISHU:
        prefix, _, token = parts.path.rpartition("/open-apis/bot/v2/hook/")
        return token.strip("/") if prefix or parts.path.startswith("/open-apis/") else ""
    name = "key" if platform is Platform.WECOM else "access_token"
    values = parse_qs(parts.query).get(name, [""])
    return values[0].strip()


def is_webhook(platform: Platform, url: str) -> bool:
    """Whether ``url`` is a webhook of ``platform``: http(s), the platform's path, a key."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    paths = {
        Platform.WECOM: r"(?:/.*)?/cgi-bin/webhook/send/?",
        Platform.DINGTALK: r"(?:/.*)?/robot/send/?",
        Platform.FEISHU: r"(?:/.*)?/open-apis/bot/v2/hook/[^/]+/?",
    }
    return re.fullmatch(paths[platform], parts.path) is not None and bool(webhook_key(platform, url))


def parse_robots(raw: Any, file: str, environ: Mapping[str, str] | None = None) -> tuple[RobotConfig, ...]:
    """Validate ``[[robots]]`` and read each robot's webhook URL and secret from the environment."""
    env = os.environ if environ is None else environ
    if not isinstance(raw, list):
        raise ConfigError(f"{file}: robots: expected an array of tables ([[robots]])")
    robots: list[RobotConfig] = []
    for index, entry in enumerate(raw):
        robot = _robot(entry, f"{file}: robots[{index}]", env)
        if any(r.name == robot.name for r in robots):
            raise ConfigError(
                f"{file}: robots[{index}].name: {robot.name!r} is used twice; names must be unique"
            )
        robots.append(robot)
    return tuple(robots)


def _robot(entry: Any, where: str, env: Mapping[str, str]) -> RobotConfig:
    try:
        raw = _RAW_ROBOT.convert(entry)
    except ShapeError as error:
        file, _, place = where.rpartition(": ")
        raise ConfigError(f"{file}: {explain(error, place, ROBOT_KEYS)}") from None
    name = raw.name.strip()
    if not name or any(c.isspace() for c in name) or len(name) > 40:
        raise ConfigError(f"{where}.name: expected a name of up to 40 characters without spaces")
    try:
        platform = Platform(raw.platform.strip().lower())
    except ValueError:
        choices = ", ".join(p.value for p in Platform)
        raise ConfigError(
            f"{where}.platform ({name}): expected one of {choices}, got {raw.platform!r}"
        ) from None
    named = f"{where} ({name})"
    for key in ("webhook_env", "secret_env"):
        value = getattr(raw, key)
        if (key == "webhook_env" or value) and not _ENV_NAME.fullmatch(value):
            raise ConfigError(f"{named}.{key}: expected an environment variable name, got {value!r}")
    webhook = env.get(raw.webhook_env, "").strip()
    if not webhook:
        raise ConfigError(
            f"{named}: the environment variable {raw.webhook_env} is not set; it must hold the robot's"
            f" webhook URL ({EXAMPLE_URLS[platform]})"
        )
    if not is_webhook(platform, webhook):
        # Never the URL itself: it carries the robot's key.
        raise ConfigError(
            f"{named}: ${raw.webhook_env} is not a {PLATFORM_NAMES[platform]} webhook URL"
            f" (expected {EXAMPLE_URLS[platform]})"
        )
    secret: str | None = None
    if raw.secret_env:
        if platform is Platform.WECOM:
            raise ConfigError(
                f"{named}.secret_env: a WeCom robot has no signing secret (its key is the secret)"
            )
        secret = env.get(raw.secret_env, "").strip() or None
        if secret is None:
            raise ConfigError(
                f"{named}: the environment variable {raw.secret_env} is not set; it must hold the"
                f" robot's signing secret ({SECRET_NAMES[platform]})"
            )
    return RobotConfig(name, platform, raw.webhook_env, raw.secret_env, webhook, secret)
