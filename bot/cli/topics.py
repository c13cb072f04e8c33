"""``finews-bot topics [--json] [--export [PATH]]``: the effective topics, or them as TOML.

The effective topics are the config file's ``[topics."…"]`` with the admins' chat edits laid over
them (:func:`bot.domain.topics.effective_topics`). The export holds one table per topic with every
rule that differs from its default, so it can replace the ``[topics]`` part of a config file:
loading it with :func:`bot.config.load_config` gives the same topics back.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

import tomli_w

from bot import search
from bot.cli.base import ExitCode, error_line, print_json, stored_topics
from bot.config import Config
from bot.domain.models import Topic
from bot.domain.topics import topic_to_dict
from bot.store.reading import ReadingStore
from bot.texts import cli as texts

# What `topics --json` shows of each topic, beside how many items match it.
JSON_RULES = (
    "name",
    "description",
    "keywords",
    "title_keywords",
    "not_in",
    "exclude",
    "require",
    "near",
    "not_near",
    "near_window",
    "min_score",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments."""
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--export",
        nargs="?",
        const="-",
        metavar="PATH",
        help="write the effective topics (config file + chat edits) as TOML to PATH (default: stdout)",
    )
    parser.add_argument(
        "--chat",
        metavar="ID",
        help="the topics as the chat ID sees them (the global ones with its own changes)",
    )


def run(config: Config, args: argparse.Namespace) -> ExitCode:
    """The effective topics, with how many stored items match each; or --export them as TOML."""
    if args.export is not None:
        return export(config, args.export, args.chat)
    topics = dict(config.topics)
    counts: dict[str, tuple[int, bool]] = {}  # name → (items, whether counted exactly)
    store = ReadingStore.open_existing(config.database)
    if store is not None:
        with store:
            topics = stored_topics(config, store, args.chat)
            for name in topics:
                reply = search.topic(store, topics, name, limit=1)
                if isinstance(reply, search.NewsReply):
                    counts[name] = (reply.total, reply.exact)
    if args.json:
        listed = []
        for topic in topics.values():
            data = topic_to_dict(topic)
            entry = {key: data[key] for key in JSON_RULES}
            entry["items"] = counts[topic.name][0] if topic.name in counts else None
            entry["items_exact"] = counts[topic.name][1] if topic.name in counts else None
            listed.append(entry)
        print_json({"topics": listed})
    else:
        print_topics(topics, counts)
    return ExitCode.OK


def print_topics(topics: Mapping[str, Topic], counts: Mapping[str, tuple[int, bool]]) -> None:
    """The effective topics, their rules and how many stored items match."""
    if not topics:
        print(texts.NO_TOPICS)
        return
    print(texts.TOPICS_HEADER.format(n=len(topics)))
    for topic in topics.values():
        print(texts.TOPIC_LINE.format(name=topic.name, description=topic.description).rstrip("："))
        print(texts.TOPIC_KEYWORDS.format(keywords="、".join(topic.keywords)))
        for label, words in (
            (texts.TOPIC_TITLE_KEYWORDS, topic.title_keywords),
            (texts.TOPIC_NOT_IN, topic.not_in),
            (texts.TOPIC_EXCLUDE, topic.exclude),
            (texts.TOPIC_REQUIRE, topic.require),
        ):
            if words:
                print(label.format(words="、".join(words)))
        for line, table in ((texts.TOPIC_NEAR, topic.near), (texts.TOPIC_NOT_NEAR, topic.not_near)):
            if table:
                entries = "；".join(
                    texts.TOPIC_NEAR_ENTRY.format(keyword=k, words="、".join(w)) for k, w in table.items()
                )
                print(line.format(n=topic.near_window, near=entries))
        if topic.min_score > 0:
            print(texts.TOPIC_MIN_SCORE.format(score=f"{topic.min_score:g}"))
        if topic.name in counts:
            total, exact = counts[topic.name]
            print(texts.TOPIC_MATCHES.format(n=total if exact else texts.AT_LEAST.format(n=total)))


def current_topics(config: Config, chat: str | None = None) -> dict[str, Topic]:
    """The effective topics (see :func:`stored_topics`); the config file's if nothing is stored."""
    store = ReadingStore.open_existing(config.database)
    if store is None:
        return dict(config.topics)
    with store:
        return stored_topics(config, store, chat)


def topics_toml(topics: Mapping[str, Topic]) -> str:
    """The topics as a TOML document of ``[topics."NAME"]`` tables, in order."""
    tables = {name: topic_to_dict(topic, sparse=True) for name, topic in topics.items()}
    return texts.EXPORT_HEADER + tomli_w.dumps({"topics": tables})


def export(config: Config, target: str, chat: str | None = None) -> ExitCode:
    """Write the export (of ``chat``'s topics, when given) to ``target`` ("-": standard output);
    never over the config file in use."""
    topics = current_topics(config, chat)
    document = topics_toml(topics)
    if target == "-":
        sys.stdout.write(document)
        return ExitCode.OK
    path = Path(target).expanduser()
    if path.resolve() == config.path.resolve():
        # The export holds topics only: written over the config, it would drop sources and the rest.
        error_line(texts.EXPORT_OVER_CONFIG.format(path=path))
        return ExitCode.USAGE
    try:
        path.write_text(document, encoding="utf-8")
    except OSError as error:
        error_line(texts.EXPORT_FAILED.format(path=path, error=error.strerror))
        return ExitCode.NOTHING
    print(texts.EXPORT_DONE.format(n=len(topics), path=path), file=sys.stderr)
    return ExitCode.OK
