"""``finews-bot latest KEYWORD… [-n N] [--json]``: the newest items containing every keyword."""

from __future__ import annotations

import argparse

from bot import search
from bot.cli.base import ExitCode, UsageError, open_store, print_json
from bot.cli.output import add_limit_arguments, print_news, reply_json
from bot.config import Config
from bot.store.reading import ReadingStore
from bot.texts import cli as texts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments."""
    parser.add_argument("keywords", nargs="+", metavar="KEYWORD")
    add_limit_arguments(parser)


def run(config: Config, args: argparse.Namespace) -> ExitCode:
    """Newest items containing every keyword."""
    store = open_store(config, ReadingStore)
    if store is None:
        return ExitCode.NOTHING
    with store:
        try:
            reply = search.latest(store, args.keywords, args.n)
        except search.QueryError:
            raise UsageError(texts.EMPTY_QUERY) from None
    if args.json:
        print_json(reply_json(reply))
    else:
        print_news(reply)
    return ExitCode.OK
