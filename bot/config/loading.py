"""Configuration: TOML in, frozen values out; every mistake named by file, key and expectation.

Found in this order: ``--config PATH``, ``$FINEWS_CONFIG``, ``./config.toml``, else the bundled
``config.example.toml`` (the embedded default). ``$FINEWS_DB`` and ``$FINEWS_DIGEST_DIR`` override
the database path and the digest folder. Relative paths are resolved against the folder of the
config file that names them; for the embedded default, the database and digests go below the
current directory (the bundled file may sit in a read-only install) and its folder source is the
bundled ``seeds/``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.apps import AppsConfig, parse_apps
from bot.config.base import ConfigError
from bot.config.bundled import bundled_path
from bot.config.digest import (
    DigestConfig,
    SubscriptionConfig,
    parse_digest,
    parse_subscriptions,
    parse_topic,
)
from bot.config.robots import RobotConfig, parse_robots
from bot.config.sources import FetchConfig, SourceConfig, parse_fetch, parse_source, resolve_path
from bot.config.telegram import TelegramConfig, parse_telegram
from bot.domain.models import Channel, Topic, channel_of

DEFAULT_DATABASE = "data/finews.db"
DEFAULT_DIGEST_DIR = "data/digests"
DEFAULT_TIMEZONE = "Asia/Shanghai"

# --- the raw shapes, as written in TOML (each section's Shape, see bot.config.base) ------------


_TOP_LEVEL = (
    "database",
    "digest_dir",
    "timezone",
    "fetch",
    "sources",
    "topics",
    "digest",
    "subscriptions",
    "telegram",
    "robots",
    "dingtalk",
    "feishu",
    "wecom",
)

# --- the values the program uses ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration, with paths resolved and overrides applied."""

    path: Path  # the file it was read from
    embedded: bool  # True when no config was given and the bundled default is in use
    database: Path
    digest_dir: Path
    timezone: ZoneInfo
    fetch: FetchConfig = field(default_factory=FetchConfig)
    sources: tuple[SourceConfig, ...] = ()
    topics: Mapping[str, Topic] = field(default_factory=dict)
    digest: DigestConfig = field(default_factory=DigestConfig)
    subscriptions: tuple[SubscriptionConfig, ...] = ()
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    robots: tuple[RobotConfig, ...] = ()
    apps: AppsConfig = field(default_factory=AppsConfig)

    def robot(self, name: str) -> RobotConfig | None:
        """The configured robot called ``name``, or None."""
        return next((r for r in self.robots if r.name == name), None)

    @property
    def origin(self) -> str:
        """How this config was chosen, for ``status`` and debug logs."""
        return "embedded default" if self.embedded else "file"


# --- loading ------------------------------------------------------------------------------------


def _string(data: Mapping[str, Any], key: str, default: str, file: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{file}: {key}: expected a non-empty string, got {value!r}")
    return value


def parse_config(
    data: Mapping[str, Any],
    *,
    path: Path,
    embedded: bool = False,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Config:
    """Validate a decoded TOML document. Raises ConfigError naming the file and the key."""
    env = os.environ if environ is None else environ
    file = str(path)
    for key in data:
        if key not in _TOP_LEVEL:
            raise ConfigError(f"{file}: unknown key {key!r} (expected one of: {', '.join(_TOP_LEVEL)})")
    folder = path.parent.resolve()
    # The bundled default may live in a read-only install: its data goes below the current folder.
    data_base = (cwd or Path.cwd()) if embedded else folder

    database = resolve_path(data_base, _string(data, "database", DEFAULT_DATABASE, file))
    if env.get("FINEWS_DB"):
        database = Path(env["FINEWS_DB"]).expanduser().resolve()
    digest_dir = resolve_path(data_base, _string(data, "digest_dir", DEFAULT_DIGEST_DIR, file))
    if env.get("FINEWS_DIGEST_DIR"):
        digest_dir = Path(env["FINEWS_DIGEST_DIR"]).expanduser().resolve()

    zone_name = _string(data, "timezone", DEFAULT_TIMEZONE, file)
    try:
        timezone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f'{file}: timezone: expected an IANA time zone such as "Asia/Shanghai", got {zone_name!r}'
        ) from None

    fetch = parse_fetch(data.get("fetch", {}), file)

    raw_sources = data.get("sources", [])
    if not isinstance(raw_sources, list):
        raise ConfigError(f"{file}: sources: expected an array of tables ([[sources]])")
    sources = tuple(parse_source(raw, i, folder, file) for i, raw in enumerate(raw_sources))
    names = [s.name for s in sources]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{file}: sources: the name {name!r} is used twice; names must be unique")

    raw_topics = data.get("topics", {})
    if not isinstance(raw_topics, dict):
        raise ConfigError(f"{file}: topics: expected tables like [topics.上市]")
    topics = {name: parse_topic(name, raw, file) for name, raw in raw_topics.items()}
    digest = parse_digest(data.get("digest", {}), file)
    robots = parse_robots(data.get("robots", []), file, env)
    subscriptions = parse_subscriptions(
        data.get("subscriptions", []), topics, file, robots=[r.name for r in robots]
    )
    telegram = parse_telegram(data.get("telegram", {}), file, env)
    apps = parse_apps(data, file, env)
    for index, sub in enumerate(subscriptions):
        if channel_of(sub.chat) is Channel.TELEGRAM and not telegram.token:
            # Refused now rather than queued for ever: without a token nothing reaches Telegram.
            raise ConfigError(
                f"{file}: subscriptions[{index}].chat: {sub.chat} is a Telegram chat, but no bot token is"
                f' set (${telegram.token_env}): set it, or subscribe a robot ("robot:NAME") or "console"'
            )

    return Config(
        path.resolve(),
        embedded,
        database,
        digest_dir,
        timezone,
        fetch,
        sources,
        topics,
        digest,
        subscriptions,
        telegram,
        robots,
        apps,
    )


def find_config_file(explicit: str | None, environ: Mapping[str, str], cwd: Path) -> tuple[Path, bool]:
    """Which file to read, and whether it is the embedded default. Raises ConfigError if missing."""
    for given, what in ((explicit, "--config"), (environ.get("FINEWS_CONFIG"), "$FINEWS_CONFIG")):
        if given:
            path = Path(given).expanduser()
            if not path.is_file():
                raise ConfigError(f"{path}: config file not found (given by {what})")
            return path, False
    local = cwd / "config.toml"
    if local.is_file():
        return local, False
    return bundled_path("config.example.toml"), True


def _toml_hint(path: Path, error: tomllib.TOMLDecodeError) -> str:
    """A hint for the commonest mistake: a Chinese table or key name written without quotes."""
    found = re.search(r"at line (\d+)", str(error))
    if not found:
        return ""
    try:
        line = path.read_text(encoding="utf-8").splitlines()[int(found.group(1)) - 1]
    except (OSError, UnicodeDecodeError, IndexError):
        return ""
    if line.isascii():
        return ""
    return ' (a Chinese name must be quoted in TOML, e.g. [topics."上市"])'


def load_config(
    explicit: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Config:
    """Find, read and validate the configuration (see the module docstring for the order)."""
    env = os.environ if environ is None else environ
    here = cwd or Path.cwd()
    path, embedded = find_config_file(explicit, env, here)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}{_toml_hint(path, error)}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: invalid TOML: the file is not UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the config file: {error.strerror}") from None
    return parse_config(data, path=path, embedded=embedded, environ=env, cwd=here)
