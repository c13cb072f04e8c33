"""The ``finews-bot`` command line: import, fetch, run, latest, topic, topics, digest, status.

Exit codes: 0 done (also with skipped files or no results), 1 nothing to answer from (no database,
unknown topic), 2 a usage or configuration error. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import cli_digest, console, texts, topics_export
from bot.cli_output import (
    poll_report_json,
    print_import_report,
    print_news,
    print_poll_reports,
    print_status,
    print_topics,
    print_unknown_topic,
    reply_json,
)
from bot.config import Config, ConfigError, SourceConfig, format_duration, load_config
from bot.importer import count_files, discover, import_files
from bot.lock import AlreadyRunning, ServiceLock
from bot.runner import serve
from bot.service import Poller, PollReport, due_sources, utc_now
from bot.source_status import sources_overview
from bot.store import Store
from bot.topicset import effective_topics
from handlers import news

log = logging.getLogger(__name__)


class UsageError(Exception):
    """A mistake in how the command was called: one line for the user, exit code 2."""


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {news.MAX_LIMIT}") from None
    if not 1 <= value <= news.MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {news.MAX_LIMIT}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; its help texts are the CLI reference."""
    parser = argparse.ArgumentParser(
        prog="finews-bot",
        description="finews-bot：为金融办收集、检索财经新闻。Keeps finance offices informed.",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $FINEWS_CONFIG, ./config.toml, else the bundled config.example.toml)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    imp = commands.add_parser("import", help="import finews posts and office documents from files or folders")
    imp.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders (recursive); none: the configured folder sources",
    )

    latest = commands.add_parser("latest", help="newest items containing every keyword")
    latest.add_argument("keywords", nargs="+", metavar="KEYWORD")
    latest.add_argument("-n", type=_limit, default=10, metavar="N", help="how many items (1-100, default 10)")
    latest.add_argument("--json", action="store_true", help="print JSON")

    topic = commands.add_parser("topic", help="newest items matching any keyword of a configured topic")
    topic.add_argument("name", metavar="NAME")
    topic.add_argument("-n", type=_limit, default=10, metavar="N", help="how many items (1-100, default 10)")
    topic.add_argument("--json", action="store_true", help="print JSON")

    topics = commands.add_parser("topics", help="the configured topics and their keywords")
    topics.add_argument("--json", action="store_true", help="print JSON")
    topics.add_argument(
        "--export",
        nargs="?",
        const="-",
        metavar="PATH",
        help="write the effective topics (config file + chat edits) as TOML to PATH (default: stdout)",
    )

    fetch = commands.add_parser("fetch", help="poll the configured sources once and report per source")
    fetch.add_argument("names", nargs="*", metavar="NAME", help="only these sources (default: all enabled)")
    fetch.add_argument("--json", action="store_true", help="print JSON")

    cli_digest.add_parser(commands)

    console.add_parser(commands)

    commands.add_parser("run", help="the service: poll every source on its schedule until stopped")

    status = commands.add_parser("status", help="config, database, and each source's health and items")
    status.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _open_store(config: Config) -> Store | None:
    store = Store.open_existing(config.database)
    if store is None:
        print(texts.NOTHING_IMPORTED, file=sys.stderr)
    return store


def cmd_import(config: Config, args: argparse.Namespace) -> int:
    """Import the given paths, or every enabled folder source of the config."""
    if args.paths:
        paths = [Path(p) for p in args.paths]
        for path in paths:
            if not path.exists():
                raise UsageError(texts.IMPORT_MISSING_PATH.format(path=path))
        jobs = [("", paths)]
    else:
        folders = [s for s in config.sources if s.kind == "folder" and s.enabled]
        if not folders:
            raise UsageError(texts.IMPORT_NO_SOURCES)
        jobs = [(s.name, [s.path]) for s in folders if s.path is not None]
    from tqdm import tqdm  # only this command draws a progress bar

    with Store(config.database) as store:
        for via, paths in jobs:
            if via:
                print(texts.IMPORT_SOURCE.format(name=via, path=paths[0]), file=sys.stderr)
            on_terminal = sys.stderr.isatty()
            # The bar's total costs one more walk of the folders, only worth it when someone watches;
            # the import itself streams the files, never listing them all at once.
            total = count_files(paths) if on_terminal else None
            with tqdm(total=total, unit="file", disable=not on_terminal, leave=False) as bar:
                report = import_files(store, discover(paths), via=via, progress=bar.update)
            print_import_report(report)
    return 0


def cmd_latest(config: Config, args: argparse.Namespace) -> int:
    """Newest items containing every keyword."""
    store = _open_store(config)
    if store is None:
        return 1
    with store:
        try:
            reply = news.latest(store, args.keywords, args.n)
        except news.QueryError:
            raise UsageError(texts.EMPTY_QUERY) from None
    if args.json:
        _print_json(reply_json(reply))
    else:
        print_news(reply)
    return 0


def cmd_topic(config: Config, args: argparse.Namespace) -> int:
    """Newest items of a configured topic; an unknown name gets suggestions and keyword results."""
    store = _open_store(config)
    if store is None:
        return 1
    with store:
        topics = effective_topics(config.topics, store.topic_edits())
        reply = news.topic(store, topics, args.name, args.n)
    if isinstance(reply, news.UnknownTopic):
        if args.json:
            _print_json(
                {
                    "error": "unknown topic",
                    "topic": reply.name,
                    "suggestions": reply.suggestions,
                    "topics": reply.available,
                    "keyword_results": reply_json(reply.keyword_results) if reply.keyword_results else None,
                }
            )
        else:
            print_unknown_topic(reply)
        return 1
    if args.json:
        _print_json(reply_json(reply))
    else:
        print_news(reply)
    return 0


def cmd_topics(config: Config, args: argparse.Namespace) -> int:
    """The configured topics, with how many stored items match each; or --export them as TOML."""
    if args.export is not None:
        return topics_export.cmd_export(config, args.export)
    topics = dict(config.topics)
    counts: dict[str, tuple[int, bool]] = {}  # name → (items, whether counted exactly)
    store = Store.open_existing(config.database)
    if store is not None:
        with store:
            topics = effective_topics(config.topics, store.topic_edits())
            for name in topics:
                reply = news.topic(store, topics, name, limit=1)
                if isinstance(reply, news.NewsReply):
                    counts[name] = (reply.total, reply.exact)
    if args.json:
        _print_json(
            {
                "topics": [
                    {
                        "name": t.name,
                        "description": t.description,
                        "keywords": list(t.keywords),
                        "not_in": list(t.not_in),
                        "exclude": list(t.exclude),
                        "require": list(t.require),
                        "items": counts[t.name][0] if t.name in counts else None,
                        "items_exact": counts[t.name][1] if t.name in counts else None,
                    }
                    for t in topics.values()
                ]
            }
        )
    else:
        print_topics(topics, counts)
    return 0


def cmd_status(config: Config, args: argparse.Namespace) -> int:
    """Which config and database are in use, and each source's health."""
    store = Store.open_existing(config.database)
    total = 0
    if store is not None:
        with store:
            overview = sources_overview(config, store, utc_now())
            total = store.count()
    else:
        overview = sources_overview(config, None, utc_now())
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
                "failures": state.failures if state else 0,
                "last_attempt": _iso(state.last_attempt if state else None),
                "last_success": _iso(state.last_success if state else None),
                "last_new": _iso(state.last_new if state else None),
                "next_attempt": _iso(state.next_attempt if state else None),
                "items": status.items,
                "newest": _iso(status.newest),
            }
        )
    data = {
        "config": str(config.path),
        "config_origin": config.origin,
        "database": str(config.database),
        "database_exists": store is not None,
        "items": total,
        "sources": sources,
        "other_items": overview.other_items,
    }
    if args.json:
        _print_json(data)
    else:
        print_status(data, config.timezone)
    return 0


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _selected_sources(config: Config, names: Sequence[str]) -> list[SourceConfig]:
    if not names:
        return due_sources(config)
    by_name = {s.name: s for s in config.sources}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise UsageError(
            texts.FETCH_UNKNOWN_SOURCE.format(
                names="、".join(unknown), available="、".join(by_name) or texts.NONE_CONFIGURED
            )
        )
    return [by_name[n] for n in names]


def cmd_fetch(config: Config, args: argparse.Namespace) -> int:
    """Poll sources once, whatever their schedule, and print what each did."""
    sources = _selected_sources(config, args.names)
    if not sources:
        raise UsageError(texts.FETCH_NO_SOURCES)

    async def poll_once() -> list[PollReport]:
        poller = Poller(config)
        try:
            return await poller.poll_many(sources, force=True)
        finally:
            await poller.aclose()

    reports = asyncio.run(poll_once())
    if args.json:
        _print_json({"sources": [poll_report_json(r) for r in reports]})
    else:
        print_poll_reports(reports, config.timezone)
    return 0


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """The service: poll every enabled source on its schedule until SIGINT/SIGTERM."""
    # The service's own log lines are its output: one per poll that found something or failed.
    logging.getLogger().setLevel(min(logging.getLogger().level, logging.INFO))
    lock = ServiceLock(config.database)
    try:
        lock.acquire()
    except AlreadyRunning as running:
        print(
            texts.ERROR_PREFIX
            + texts.ALREADY_RUNNING.format(database=config.database, pid=running.pid or "?"),
            file=sys.stderr,
        )
        return 1
    try:
        if not due_sources(config):
            log.warning("no enabled sources in %s: the service has nothing to poll", config.path)
        asyncio.run(serve(config))
    finally:
        lock.release()
    return 0


def cmd_digest(config: Config, args: argparse.Namespace) -> int:
    """Build, write, print or send a day's digest (see :mod:`bot.cli_digest`)."""
    store = _open_store(config)
    if store is None:
        return 1
    with store:
        try:
            return cli_digest.cmd_digest(config, args, store)
        except cli_digest.DigestUsageError as error:
            raise UsageError(str(error)) from None


COMMANDS = {
    "import": cmd_import,
    "fetch": cmd_fetch,
    "run": cmd_run,
    "latest": cmd_latest,
    "topic": cmd_topic,
    "topics": cmd_topics,
    "status": cmd_status,
    "digest": cmd_digest,
    "chat": console.cmd_chat,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Request URLs can carry secrets (a bot token, a feed key): httpx logs them at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        config = load_config(args.config)
        log.debug("config: %s (%s)", config.path, config.origin)
        return COMMANDS[args.command](config, args)
    except (ConfigError, UsageError) as error:
        print(texts.ERROR_PREFIX + str(error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(texts.ERROR_PREFIX + "已中断 (interrupted)", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: nothing left to say to it.
        sys.stderr.close()
        return 0
