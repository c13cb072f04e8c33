"""``[dingtalk]``, ``[feishu]``, ``[wecom]``: the platforms' app-level bots, which answer commands.

Each connects over a connection the bot opens itself (DingTalk Stream mode, Feishu's long
connection, WeCom's 智能机器人 long connection), so no public address is needed. Credentials come
only from the environment (the tables name the variables) and are never shown. A platform whose
credentials are not set is simply not started; one whose credentials are half set is a mistake,
said in one line. ``api_url`` (or its environment override) points a platform at a private
deployment or a local test server.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.config.base import ConfigError, Shape, ShapeError, explain

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


_RAW_DINGTALK = Shape(
    "dingtalk",
    client_id_env=(str, "FINEWS_DINGTALK_CLIENT_ID"),  # AppKey
    client_secret_env=(str, "FINEWS_DINGTALK_CLIENT_SECRET"),  # AppSecret
    api_url=(str, ""),
    admins=(list[str | int], []),
)
_RAW_FEISHU = Shape(
    "feishu",
    app_id_env=(str, "FINEWS_FEISHU_APP_ID"),
    app_secret_env=(str, "FINEWS_FEISHU_APP_SECRET"),
    api_url=(str, ""),
    admins=(list[str], []),
)
_RAW_WECOM = Shape(
    "wecom",
    bot_id_env=(str, "FINEWS_WECOM_BOT_ID"),
    secret_env=(str, "FINEWS_WECOM_BOT_SECRET"),
    api_url=(str, ""),
    admins=(list[str], []),
)

DINGTALK_KEYS = _RAW_DINGTALK.keys
FEISHU_KEYS = _RAW_FEISHU.keys
WECOM_KEYS = _RAW_WECOM.keys

# Where each platform is when api_url is empty, and the variable that overrides it.
DEFAULT_API_URLS = {
    "dingtalk": "https://api.dingtalk.com",
    "feishu": "https://open.feishu.cn",
    "wecom": "wss://openws.work.weixin.qq.com",
}
API_URL_ENVS = {
    "dingtalk": "FINEWS_DINGTALK_API_URL",
    "feishu": "FINEWS_FEISHU_API_URL",
    "wecom": "FINEWS_WECOM_API_URL",
}


@dataclass(frozen=True, slots=True)
class AppConfig:
    """One platform's app-level bot. ``key`` and ``secret`` come from the environment (None when
    the platform is not configured) and are never shown."""

    platform: str  # "dingtalk", "feishu" or "wecom"
    key_env: str  # the variable of the AppKey / App ID / Bot ID
    secret_env: str
    api_url: str
    admins: frozenset[str] = frozenset()  # the platform's user ids allowed to edit the global topics
    key: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)

    @property
    def enabled(self) -> bool:
        """Whether its credentials are set: the service then connects it."""
        return bool(self.key and self.secret)


@dataclass(frozen=True, slots=True)
class AppsConfig:
    """The three platforms' app-level bots."""

    dingtalk: AppConfig = field(default_factory=lambda: _unset("dingtalk"))
    feishu: AppConfig = field(default_factory=lambda: _unset("feishu"))
    wecom: AppConfig = field(default_factory=lambda: _unset("wecom"))

    def enabled(self) -> list[AppConfig]:
        """The platforms whose credentials are set."""
        return [app for app in (self.dingtalk, self.feishu, self.wecom) if app.enabled]


def _unset(platform: str) -> AppConfig:
    shape = {"dingtalk": _RAW_DINGTALK, "feishu": _RAW_FEISHU, "wecom": _RAW_WECOM}[platform]
    key_env, secret_env = _env_names(platform, shape.convert({}))
    return AppConfig(platform, key_env, secret_env, DEFAULT_API_URLS[platform])


def _env_names(platform: str, raw: Any) -> tuple[str, str]:
    if platform == "dingtalk":
        return raw.client_id_env, raw.client_secret_env
    if platform == "feishu":
        return raw.app_id_env, raw.app_secret_env
    return raw.bot_id_env, raw.secret_env


def parse_app(platform: str, raw: Any, file: str, environ: Mapping[str, str] | None = None) -> AppConfig:
    """Validate one platform's table and read its credentials from the environment."""
    env = os.environ if environ is None else environ
    shape = {"dingtalk": _RAW_DINGTALK, "feishu": _RAW_FEISHU, "wecom": _RAW_WECOM}[platform]
    try:
        table = shape.convert(raw)
    except ShapeError as error:
        raise ConfigError(f"{file}: {explain(error, platform, shape.keys)}") from None
    key_env, secret_env = _env_names(platform, table)
    for name in (key_env, secret_env):
        if not _ENV_NAME.fullmatch(name):
            raise ConfigError(f"{file}: {platform}: expected an environment variable name, got {name!r}")
    key, secret = env.get(key_env, "").strip() or None, env.get(secret_env, "").strip() or None
    if bool(key) != bool(secret):
        missing = secret_env if key else key_env
        raise ConfigError(
            f"{file}: {platform}: ${missing} is not set, but the other credential is: set both, or neither"
        )
    override = API_URL_ENVS[platform]
    api_url = (env.get(override) or table.api_url or DEFAULT_API_URLS[platform]).strip().rstrip("/")
    schemes = ("ws://", "wss://") if platform == "wecom" else ("http://", "https://")
    if not api_url.startswith(schemes) or not re.match(r"\w+://[^/\s]+", api_url):
        where = override if env.get(override) else f"{file}: {platform}.api_url"
        raise ConfigError(f"{where}: expected a {schemes[1].rstrip(':/')} URL, got {api_url!r}")
    admins = frozenset(str(a).strip() for a in table.admins if str(a).strip())
    return AppConfig(platform, key_env, secret_env, api_url, admins, key, secret)


def parse_apps(data: Mapping[str, Any], file: str, environ: Mapping[str, str] | None = None) -> AppsConfig:
    """The three platforms' tables (each optional)."""
    return AppsConfig(
        *(
            parse_app(platform, data.get(platform, {}), file, environ)
            for platform in ("dingtalk", "feishu", "wecom")
        )
    )
