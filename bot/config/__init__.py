"""Configuration: TOML in, frozen values out; every mistake named by file, key and expectation.

:mod:`bot.config.loading` finds and reads the file and assembles :class:`Config`; each section is
validated by its own module: :mod:`bot.config.sources` (``[fetch]``, ``[[sources]]``),
:mod:`bot.config.digest` (``[topics."…"]``, ``[digest]``, ``[[subscriptions]]``),
:mod:`bot.config.telegram` (``[telegram]``), :mod:`bot.config.robots` (``[[robots]]``),
:mod:`bot.config.apps` (``[dingtalk]``, ``[feishu]``, ``[wecom]``).
:mod:`bot.config.base` holds what they share.
"""

from bot.config.apps import AppConfig, AppsConfig
from bot.config.base import ConfigError
from bot.config.digest import CONSOLE, DigestConfig, SubscriptionConfig
from bot.config.loading import Config, load_config, parse_config
from bot.config.robots import RobotConfig
from bot.config.sources import FetchConfig, SourceConfig
from bot.config.telegram import TelegramConfig

__all__ = [
    "CONSOLE",
    "AppConfig",
    "AppsConfig",
    "Config",
    "ConfigError",
    "DigestConfig",
    "FetchConfig",
    "RobotConfig",
    "SourceConfig",
    "SubscriptionConfig",
    "TelegramConfig",
    "load_config",
    "parse_config",
]
