"""handlers.reference_writer: a numbered list is saved behind the reply, never before it."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from bot.config import Config
from bot.domain.records import ItemRef, ReferenceList
from bot.store import Store
from handlers.reference_writer import ReferenceWriter
from handlers.request import Context
from tests.helpers.chat import NOW, ZHUZHOU_TITLE, ask, import_seeds, request, seeded_config, text

CHANNEL = request("/latest 株洲").channel  # the chat the helpers' requests come from: "-100200"


@contextmanager
def chat_with_writer(tmp_path: Path) -> Iterator[tuple[Config, Store, ReferenceWriter, Context]]:
    """A chat over the seeds whose numbered lists go through a ReferenceWriter."""
    config = seeded_config(tmp_path)
    with Store(config.database) as store:
        import_seeds(store)
        writer = ReferenceWriter(config.database)
        yield config, store, writer, Context(config, store, lambda: NOW, reference_writer=writer)


@contextmanager
def an_import_holds_the_write_lock(config: Config) -> Iterator[None]:
    """Another connection holds SQLite's write lock, as an import's batch does, for the block."""
    importer = sqlite3.connect(config.database, isolation_level=None)
    importer.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        importer.execute("COMMIT")
        importer.close()


def test_a_reply_does_not_wait_for_another_connection_s_write_lock(tmp_path: Path) -> None:
    with chat_with_writer(tmp_path) as (config, store, writer, ctx):
        with an_import_holds_the_write_lock(config):
            started = time.monotonic()
            listing = text(ask(ctx, "/topic 上市"))
            assert time.monotonic() - started < 5  # the busy timeout is 10 s: it did not wait
            number = next(line.split(".")[0] for line in listing.splitlines() if ZHUZHOU_TITLE in line)
            # Not written yet, but "/why 3" already refers to this list.
            assert store.references(CHANNEL, "-100200") is None
            assert text(ask(ctx, f"/why {number}")).startswith(
                f"第 {number} 条（/topic 上市）：{ZHUZHOU_TITLE}"
            )
        writer.close()  # writes what is pending
        saved = store.references(CHANNEL, "-100200")
        assert saved is not None and saved.label == "/topic 上市"
        assert writer.pending(CHANNEL, "-100200") is None


def test_lists_are_written_in_order_and_the_newest_wins(tmp_path: Path) -> None:
    with chat_with_writer(tmp_path) as (_, store, writer, ctx):
        ask(ctx, "/topic 上市")
        ask(ctx, "/latest 株洲")
        writer.close()
        saved = store.references(CHANNEL, "-100200")
        assert saved is not None and saved.label.startswith("/latest")


def test_a_digest_saved_after_a_pending_list_is_what_the_numbers_mean(tmp_path: Path) -> None:
    with chat_with_writer(tmp_path) as (config, store, writer, ctx):
        with an_import_holds_the_write_lock(config):  # the reply's list stays pending
            ask(ctx, "/latest 株洲")
            assert writer.pending(CHANNEL, "-100200") is not None
        # The service queues the morning digest (its own connection) before the writer has run.
        with Store(config.database) as service:
            item = next(service.all_items()).item.id
            refs = (ItemRef(1, "上市", item),)
            digest = ReferenceList("digest", "2022-04-04 日报", NOW + timedelta(minutes=1), refs)
            service.save_references(CHANNEL, "-100200", digest)
        assert text(ask(ctx, "/why 1")).startswith("第 1 条（2022-04-04 日报）")
        writer.close()
        assert store.references(CHANNEL, "-100200") == digest  # the late write kept the newer list
