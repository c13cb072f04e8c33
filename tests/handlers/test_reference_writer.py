"""handlers.reference_writer: a numbered list is saved behind the reply, never before it."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta
from pathlib import Path

from bot.domain.models import ItemRef, ReferenceList
from bot.store import Store
from handlers.reference_writer import ReferenceWriter
from handlers.request import Context
from tests.helpers.chat import NOW, ZHUZHOU_TITLE, ask, import_seeds, request, seeded_config, text

CHANNEL = request("/latest 株洲").channel  # the chat the helpers' requests come from: "-100200"


def test_a_reply_does_not_wait_for_another_connection_s_write_lock(tmp_path: Path) -> None:
    config = seeded_config(tmp_path)
    with Store(config.database) as store:
        import_seeds(store)
        writer = ReferenceWriter(config.database)
        ctx = Context(config, store, lambda: NOW, reference_writer=writer)
        # An import's batch: another connection holds the write lock.
        importer = sqlite3.connect(config.database, isolation_level=None)
        importer.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            listing = text(ask(ctx, "/topic 上市"))
            assert time.monotonic() - started < 5  # the busy timeout is 10 s: it did not wait
            number = next(line.split(".")[0] for line in listing.splitlines() if ZHUZHOU_TITLE in line)
            # Not written yet, but "/why 3" already refers to this list.
            assert store.references(CHANNEL, "-100200") is None
            assert text(ask(ctx, f"/why {number}")).startswith(
                f"第 {number} 条（/topic 上市）：{ZHUZHOU_TITLE}"
            )
        finally:
            importer.execute("COMMIT")
            importer.close()
        writer.close()  # writes what is pending
        saved = store.references(CHANNEL, "-100200")
        assert saved is not None and saved.label == "/topic 上市"
        assert writer.pending(CHANNEL, "-100200") is None


def test_lists_are_written_in_order_and_the_newest_wins(tmp_path: Path) -> None:
    config = seeded_config(tmp_path)
    with Store(config.database) as store:
        import_seeds(store)
        writer = ReferenceWriter(config.database)
        ctx = Context(config, store, lambda: NOW, reference_writer=writer)
        ask(ctx, "/topic 上市")
        ask(ctx, "/latest 株洲")
        writer.close()
        saved = store.references(CHANNEL, "-100200")
        assert saved is not None and saved.label.startswith("/latest")


def test_a_digest_saved_after_a_pending_list_is_what_the_numbers_mean(tmp_path: Path) -> None:
    config = seeded_config(tmp_path)
    with Store(config.database) as store:
        import_seeds(store)
        writer = ReferenceWriter(config.database)
        ctx = Context(config, store, lambda: NOW, reference_writer=writer)
        importer = sqlite3.connect(config.database, isolation_level=None)
        importer.execute("BEGIN IMMEDIATE")  # the reply's list stays pending
        try:
            ask(ctx, "/latest 株洲")
            assert writer.pending(CHANNEL, "-100200") is not None
        finally:
            importer.execute("COMMIT")
            importer.close()
        # The service queues the morning digest (its own connection) before the writer has run.
        with Store(config.database) as service:
            item = next(service.all_items()).item.id
            refs = (ItemRef(1, "上市", item),)
            digest = ReferenceList("digest", "2022-04-04 日报", NOW + timedelta(minutes=1), refs)
            service.save_references(CHANNEL, "-100200", digest)
        assert text(ask(ctx, "/why 1")).startswith("第 1 条（2022-04-04 日报）")
        writer.close()
        assert store.references(CHANNEL, "-100200") == digest  # the late write kept the newer list
