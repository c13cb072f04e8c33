"""``finews-bot topic NAME [-n N] [--json]``: the newest items matching a topic by all its rules."""

from __future__ import annotations

import argparse

from bot import search
from bot.cli.base import ExitCode, open_store, print_json, stored_topics
from bot.cli.output import add_limit_arguments, print_news, print_unknown_topic, reply_json
from bot.config import Config
from bot.store.reading import ReadingStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments."""
    parser.add_argument("name", metavar="NAME")
    add_limit_arguments(parser)
    parser.add_argument(
        "--chat", metavar="ID", help="the topic as the chat ID sees it (with its own changes)"
    )


def run(config: Config, args: argparse.Namespace) -> ExitCode:
    """Newest items of a configured topic; an unknown name gets suggestions and keyword results."""
    store = open_store(config, ReadingStore)
    if store is None:
        return ExitCode.NOTHING
    with store:
        topics = stored_topics(config, store, args.chat)
        reply = search.topic(store, topics, args.name, args.n)
    if isinstance(reply, search.UnknownTopic):
        if args.json:
            print_json(
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
        return ExitCode.NOTHING
    if args.json:
        print_json(reply_json(reply))
    else:
        print_news(reply)
    return ExitCode.OK
