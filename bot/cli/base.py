"""What every command of the CLI shares: exit codes, the usage error, JSON output, the store."""

from __future__ import annotations

import json
import sys
from datetime import datetime, tzinfo
from enum import IntEnum
from typing import Any, TypeVar

from bot.config import Config
from bot.domain.models import Topic
from bot.domain.topics import chat_topics, effective_topics
from bot.store.base import StoreBase
from bot.store.reading import ReadingStore
from bot.texts import cli as texts

S = TypeVar("S", bound=StoreBase)


class ExitCode(IntEnum):
    """What a command's exit status tells a script."""

    OK = 0  # done (also with skipped files or no results)
    NOTHING = 1  # nothing to answer from: no database yet, an unknown topic, a failed delivery
    USAGE = 2  # a usage or configuration error, said in one line on stderr
    INTERRUPTED = 130  # Ctrl-C


class UsageError(Exception):
    """A mistake in how the command was called: one line for the user, exit code 2."""


def print_json(data: Any) -> None:
    """``--json`` output: indented, Chinese kept as it is."""
    print(json.dumps(data, ensure_ascii=False, indent=2))


def open_store(config: Config, kind: type[S]) -> S | None:
    """The database as a ``kind`` (the whole :class:`bot.store.Store`, or a query's
    :class:`ReadingStore`), or None after saying that nothing has been imported yet."""
    store = kind.open_existing(config.database)
    if store is None:
        print(texts.NOTHING_IMPORTED, file=sys.stderr)
    return store


def iso(moment: datetime | None) -> str | None:
    """A time for ``--json``: ISO 8601 with its offset, or null."""
    return moment.isoformat() if moment else None


def error_line(message: str) -> None:
    """Say what went wrong in one line on stderr, as every command does."""
    print(texts.ERROR_PREFIX + message, file=sys.stderr)


def local_minute(moment: str | None, zone: tzinfo) -> str:
    """An ISO time (as ``--json`` gives it) to the minute in the configured zone; "—" for none."""
    if not moment:
        return "—"
    return f"{datetime.fromisoformat(moment).astimezone(zone):%Y-%m-%d %H:%M}"


def stored_topics(config: Config, store: ReadingStore, chat: str | None = None) -> dict[str, Topic]:
    """The effective topics (the config file's with the admins' chat edits); for ``chat``, with
    that chat's own changes laid over them."""
    topics = effective_topics(config.topics, store.topic_edits())
    return topics if chat is None else chat_topics(topics, store.chat_overlays(chat))
