"""``finews-bot run``: the service, with the chat adapters whose credentials are set.

This is the wiring: it decides which chat platforms to start (Telegram when a token is set, each
of DingTalk, Feishu and WeCom when its credentials are) and hands their adapters to the service,
which imports no platform itself.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from bot.cli.apps import app_adapter_factory
from bot.cli.base import ExitCode, error_line
from bot.config import Config
from bot.delivery.channels import ChatAdapter
from bot.domain.when import Clock
from bot.ingest.poller import due_sources
from bot.service import AdapterFactory, serve
from bot.store.lock import AlreadyRunning, ServiceLock
from bot.texts import cli as texts

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command takes no arguments of its own."""


def chat_adapters(config: Config, clock: Clock) -> list[AdapterFactory]:
    """The chat adapters to start: each platform whose credentials are in the environment."""
    factories: list[AdapterFactory] = []
    if config.telegram.token:

        def telegram() -> ChatAdapter:
            # Imported only here: without a token, python-telegram-bot is never loaded.
            from bot.adapters.telegram import TelegramAdapter

            return TelegramAdapter(config, clock.now)

        factories.append(telegram)
    else:
        log.info(texts.TELEGRAM_NO_TOKEN.format(env=config.telegram.token_env))
    for app in config.apps.enabled():
        factories.append(app_adapter_factory(config, app, clock.now))
    return factories


def run(config: Config, args: argparse.Namespace) -> ExitCode:
    """The service: poll every enabled source on its schedule until SIGINT/SIGTERM."""
    # The service's own log lines are its output: one per poll that found something or failed.
    logging.getLogger().setLevel(min(logging.getLogger().level, logging.INFO))
    lock = ServiceLock(config.database)
    try:
        lock.acquire()
    except AlreadyRunning as running:
        error_line(texts.ALREADY_RUNNING.format(database=config.database, pid=running.pid or "?"))
        return ExitCode.NOTHING
    try:
        if not due_sources(config):
            log.warning("no enabled sources in %s: the service has nothing to poll", config.path)
        clock = Clock.from_environment()
        asyncio.run(serve(config, clock, chat_adapters(config, clock)))
    finally:
        lock.release()
    return ExitCode.OK
