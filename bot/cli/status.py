"""``finews-bot status [--json]``: the config and database in use, and each source's health."""

from __future__ import annotations

import argparse
from datetime import tzinfo
from typing import Any

from bot.cli.base import ExitCode, iso, print_json
from bot.config import Config
from bot.delivery.robot_status import robot_json, robot_lines, robots_overview
from bot.domain.records import PlatformState
from bot.domain.when import Clock, format_duration
from bot.ingest.status import CLI_LAYOUT, SourcesOverview, other_items_line, source_lines, sources_overview
from bot.store import Store
from bot.texts import cli as texts
from bot.texts import robots as robot_texts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments."""
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(config: Config, args: argparse.Namespace) -> ExitCode:
    """Which config and database are in use, and each source's health."""
    store = Store.open_existing(config.database)
    total = 0
    now = Clock().now()
    platforms: dict[str, PlatformState] = {}
    if store is not None:
        with store:
            overview = sources_overview(config, store, now)
            robots = robots_overview(config, store)
            total = store.count()
            platforms = store.platform_states()
    else:
        overview = sources_overview(config, None, now)
        robots = robots_overview(config, None)
    configured = configured_platforms(config)
    if args.json:
        data = status_json(config, overview, total, database_exists=store is not None)
        data["robots"] = [robot_json(status) for status in robots]
        data["platforms"] = [platform_json(name, platforms.get(name)) for name in configured]
        print_json(data)
    else:
        print_status(config, overview, total, database_exists=store is not None)
        if robots:
            print(robot_texts.HEADER)
            for status in robots:
                for line in robot_lines(status, config.timezone):
                    print(line)
        if configured:
            print(texts.PLATFORMS_HEADER)
            for name in configured:
                for line in platform_lines(name, platforms.get(name), config.timezone):
                    print(line)
    return ExitCode.OK


def configured_platforms(config: Config) -> list[str]:
    """The chat platforms this configuration connects: Telegram with a token, each app whose
    credentials are set."""
    names = ["telegram"] if config.telegram.token else []
    return names + [app.platform for app in config.apps.enabled()]


def platform_json(name: str, state: PlatformState | None) -> dict[str, Any]:
    """One platform for ``--json`` (state "never": the service has not tried it yet)."""
    return {
        "platform": name,
        "state": state.state if state else "never",
        "detail": state.detail if state else "",
        "next_attempt": iso(state.next_attempt if state else None),
        "updated": iso(state.updated if state else None),
    }


def platform_lines(name: str, state: PlatformState | None, zone: tzinfo) -> list[str]:
    """A platform's connection in the terminal's words."""
    label = texts.PLATFORM_NAMES.get(name, name)
    if state is None:
        return [texts.PLATFORM_NEVER.format(name=label)]
    minute = "%Y-%m-%d %H:%M"
    when = state.updated.astimezone(zone).strftime(minute)
    next_attempt = state.next_attempt.astimezone(zone).strftime(minute) if state.next_attempt else "?"
    words = texts.PLATFORM_STATES.get(state.state, state.state).format(next=next_attempt)
    lines = [texts.PLATFORM_LINE.format(name=label, state=words, when=when)]
    if state.detail:
        lines.append(texts.PLATFORM_DETAIL.format(detail=state.detail))
    return lines


def status_json(
    config: Config, overview: SourcesOverview, total: int, *, database_exists: bool
) -> dict[str, Any]:
    """The ``--json`` shape."""
    sources = []
    for status in overview.sources:
        source, state = status.source, status.state
        sources.append(
            {
                "name": source.name,
                "kind": source.kind,
                "location": source.location,
                "every": format_duration(source.every),
                "enabled": source.enabled,
                "state": status.health,
                "last_error": state.last_error if state else "",
                "warning": state.warning if state else "",
                "failures": state.failures if state else 0,
                "last_attempt": iso(state.last_attempt if state else None),
                "last_success": iso(state.last_success if state else None),
                "last_new": iso(state.last_new if state else None),
                "next_attempt": iso(state.next_attempt if state else None),
                "items": status.items,
                "newest": iso(status.newest),
            }
        )
    return {
        "config": str(config.path),
        "config_origin": config.origin,
        "database": str(config.database),
        "database_exists": database_exists,
        "items": total,
        "sources": sources,
        "other_items": overview.other_items,
    }


def print_status(config: Config, overview: SourcesOverview, total: int, *, database_exists: bool) -> None:
    """The report for people; times in the configured time zone."""
    origin = texts.ORIGIN_EMBEDDED if config.embedded else texts.ORIGIN_FILE
    print(texts.STATUS_CONFIG.format(path=config.path, origin=origin))
    if database_exists:
        print(texts.STATUS_DATABASE.format(path=config.database))
        print(texts.STATUS_ITEMS.format(n=total))
    else:
        print(texts.STATUS_NO_DATABASE.format(path=config.database))
    if overview.sources:
        print(texts.STATUS_SOURCES)
    for status in overview.sources:
        for line in source_lines(status, config.timezone, CLI_LAYOUT):
            print(line)
    other = other_items_line(overview, CLI_LAYOUT)
    if other:
        print(other)
