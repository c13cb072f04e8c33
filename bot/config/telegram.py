"""``[telegram]``: the bot adapter's settings. The token itself only ever comes from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.config.base import ConfigError, Shape, ShapeError, explain

DEFAULT_TOKEN_ENV = "FINEWS_TELEGRAM_TOKEN"
API_URL_ENV = "FINEWS_TELEGRAM_API_URL"
DEFAULT_API_URL = "https://api.telegram.org/bot"


_RAW_TELEGRAM = Shape(
    "telegram",
    token_env=(str, DEFAULT_TOKEN_ENV),
    api_url=(str, ""),
    poll_interval=(float, 1.0),
    poll_timeout=(int, 10),
    admins=(list[int], []),
    allowed_chats=(list[int], []),
    operator_chat=(int | None, None),
)

TELEGRAM_KEYS = _RAW_TELEGRAM.keys


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """How the bot reaches Telegram and who may do what; ``token`` is None without one."""

    token: str | None = None
    token_env: str = DEFAULT_TOKEN_ENV
    api_url: str = DEFAULT_API_URL  # python-telegram-bot's base_url: ends in /bot
    poll_interval: float = 1.0
    poll_timeout: int = 10
    admins: frozenset[str] = frozenset()  # user ids, as strings
    allowed_chats: frozenset[str] = frozenset()  # empty: every chat
    operator_chat: str | None = None

    @property
    def file_url(self) -> str:
        """The file download base that goes with ``api_url`` (…/bot → …/file/bot)."""
        base = self.api_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"

    def __repr__(self) -> str:
        # Never show the token, whatever prints this object.
        token = "set" if self.token else "none"
        return f"TelegramConfig(token={token}, api_url={self.api_url!r}, admins={sorted(self.admins)})"


def parse_telegram(raw: Any, file: str, environ: Mapping[str, str] | None = None) -> TelegramConfig:
    """Validate ``[telegram]`` and read the token and API URL overrides from the environment."""
    env = os.environ if environ is None else environ
    try:
        tg = _RAW_TELEGRAM.convert(raw)
    except ShapeError as error:
        raise ConfigError(f"{file}: {explain(error, 'telegram', TELEGRAM_KEYS)}") from None
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", tg.token_env):
        raise ConfigError(
            f"{file}: telegram.token_env: expected an environment variable name, got {tg.token_env!r}"
        )
    api_url = (env.get(API_URL_ENV) or tg.api_url or DEFAULT_API_URL).strip()
    if not re.match(r"https?://[^/\s]+", api_url):
        where = API_URL_ENV if env.get(API_URL_ENV) else f"{file}: telegram.api_url"
        raise ConfigError(f"{where}: expected an http(s) URL like {DEFAULT_API_URL}, got {api_url!r}")
    if tg.poll_interval < 0 or tg.poll_timeout < 0:
        raise ConfigError(f"{file}: telegram.poll_interval/poll_timeout: expected 0 or more seconds")
    token = env.get(tg.token_env, "").strip() or None
    return TelegramConfig(
        token=token,
        token_env=tg.token_env,
        api_url=api_url,
        poll_interval=tg.poll_interval,
        poll_timeout=tg.poll_timeout,
        admins=frozenset(str(a) for a in tg.admins),
        allowed_chats=frozenset(str(c) for c in tg.allowed_chats),
        operator_chat=str(tg.operator_chat) if tg.operator_chat is not None else None,
    )
