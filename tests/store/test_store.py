"""The store: upsert by id, index kept in step with the items, crash safety."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.models import Item, ItemKind
from bot.domain.textindex import compile_query
from bot.ingest.importer import BATCH_SIZE, discover, import_files
from bot.store import Store, UpsertOutcome
from tests.helpers.paths import REPO, SEEDS
from tests.helpers.processes import descendants, still_alive_after

SHANGHAI = ZoneInfo("Asia/Shanghai")


def make_item(item_id: str = "1", title: str = "株洲新闻", text: str = "株洲市金融办", hour: int = 8) -> Item:
    return Item(
        item_id,
        ItemKind.POST,
        "zhuzhouribao",
        "株洲日报新闻",
        "株洲日报",
        title,
        datetime(2021, 12, 29, hour, 0, tzinfo=SHANGHAI),
        "http://example.test/1",
        text,
    )


def ids(store: Store, query: str) -> list[str]:
    return [s.item.id for s in store.search([compile_query(query)], limit=100).items]


def test_upsert_new_unchanged_updated(store: Store) -> None:
    item = make_item()
    assert store.upsert(item) == UpsertOutcome.NEW
    assert store.upsert(item) == UpsertOutcome.UNCHANGED
    assert store.upsert(replace(item, path="/elsewhere/same.md")) == UpsertOutcome.UNCHANGED
    changed = replace(item, text="赣州市金融工作")
    assert store.upsert(changed) == UpsertOutcome.UPDATED
    assert store.count() == 1
    # The index entry follows the change: the old words are gone, the new ones found.
    assert ids(store, "株洲市") == []
    assert ids(store, "赣州") == ["1"]
    assert ids(store, "株洲") == ["1"]  # still in the title
    assert store.integrity_problems() == []


def test_update_that_moves_the_publication_time_reorders(store: Store) -> None:
    store.upsert(make_item("a", hour=8))
    store.upsert(make_item("b", hour=9))
    assert ids(store, "株洲") == ["b", "a"]
    store.upsert(make_item("a", hour=10, text="株洲市金融办 更正"))
    assert ids(store, "株洲") == ["a", "b"]
    stored = store.get("a")
    assert stored is not None and stored.item.published.hour == 10
    assert store.integrity_problems() == []


def test_items_published_in_one_second_are_all_kept(store: Store) -> None:
    with store.transaction():
        for n in range(50):
            store.upsert(make_item(str(n)))
    result = store.search([compile_query("株洲")], limit=100)
    assert result.total == 50 and len({s.item.id for s in result.items}) == 50


def test_round_trip_keeps_every_field(store: Store) -> None:
    item = make_item()
    store.upsert(item, via="seeds")
    stored = store.get("1")
    assert stored is not None
    assert stored.item == item
    assert stored.via == "seeds"
    assert stored.item.published.utcoffset() is not None


def test_reimporting_the_seeds_gives_nothing_new(store: Store) -> None:
    first = import_files(store, discover([SEEDS]))
    assert (first.new, first.updated, first.skipped) == (5, 0, [])
    again = import_files(store, discover([SEEDS]))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 5)


def test_a_changed_file_updates_its_item_and_index(store: Store, tmp_path: Path) -> None:
    post = tmp_path / "2021-12-29-NW1.md"
    body = (
        '---\ntitle: "株洲金融"\ndate: 2021-12-29 07:52:46 +0800\n'
        "categories: zz\ntags: 株洲日报新闻\n---\n<p>{}</p>\n"
    )
    post.write_text(body.format("上市公司增加"), encoding="utf-8")
    assert import_files(store, [post]).new == 1
    post.write_text(body.format("普惠金融推进"), encoding="utf-8")
    report = import_files(store, [post])
    assert (report.new, report.updated) == (0, 1)
    assert ids(store, "上市") == []
    assert len(ids(store, "普惠")) == 1


def test_the_database_uses_wal(store: Store) -> None:
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def _write_posts(folder: Path, count: int) -> None:
    folder.mkdir()
    for n in range(count):
        (folder / f"2022-01-01-{100000 + n}.md").write_text(
            f'---\ntitle: "第{n}号 株洲金融"\ndate: 2022-01-01 08:{n % 60:02d}:00 +0800\n'
            f"categories: emnews\ntags: 东财滚动新闻\n---\n<p>株洲第{n}条 上市 普惠金融 {'金融' * 200}</p>\n",
            encoding="utf-8",
        )


@pytest.mark.slow
def test_kill_9_during_import_leaves_a_consistent_database(tmp_path: Path) -> None:
    folder = tmp_path / "posts"
    total = 8000
    _write_posts(folder, total)
    database = tmp_path / "finews.db"
    env = {**os.environ, "FINEWS_DB": str(database), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "bot", "import", str(folder)]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Kill it once some batches are committed and before the last one is.
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and process.poll() is None:
        if database.exists():
            try:
                conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1)
                stored = conn.execute("SELECT count(*) FROM items").fetchone()[0]
                conn.close()
            except sqlite3.OperationalError:
                stored = 0
            if stored >= 500:
                break
        time.sleep(0.01)
    workers = descendants(process.pid)  # its parsing workers and multiprocessing's tracker
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 0 < stored < total, "the import should have been killed part-way"
    assert workers, "the import should have parsed in worker processes"
    assert still_alive_after(workers, 10) == [], "a killed import leaves no process behind"

    with Store(database) as store:
        assert store.integrity_problems() == []
        partial = store.count()
        assert partial % BATCH_SIZE == 0, "only whole batches are committed"
        # The index and the items agree after the crash.
        assert store.search([compile_query("株洲")], limit=1).total == partial

    finished = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "新增" in finished.stdout
    with Store(database) as store:
        assert store.count() == total
        assert store.search([compile_query("株洲")], limit=1).total == total
        assert store.integrity_problems() == []


def test_parsing_in_worker_processes_stores_the_same(tmp_path: Path) -> None:
    folder = tmp_path / "posts"
    _write_posts(folder, 300)
    (folder / "broken.md").write_bytes(b"\x00\x01binary")
    files = list(discover([folder, SEEDS]))
    results = {}
    for workers in (0, 1):
        with Store(tmp_path / f"w{workers}.db") as store:
            report = import_files(store, files, workers=workers, batch_size=64)
            items = [(s.item, s.via) for s in store.all_items()]
            results[workers] = (report.new, [s.path for s in report.skipped], items)
            assert store.search([compile_query("株")], limit=1).total == 301
    assert results[0] == results[1]
    assert results[0][0] == 305 and results[0][1] == [str(folder / "broken.md")]


def test_concurrent_writers_wait_instead_of_failing(tmp_path: Path) -> None:
    import threading

    path = tmp_path / "shared.db"
    errors: list[BaseException] = []

    def write(prefix: str) -> None:
        try:
            with Store(path) as store:
                for n in range(40):
                    with store.transaction():
                        store.upsert(make_item(f"{prefix}{n}", text=f"株洲{prefix}{n}"))
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(p,)) for p in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Store(path) as store:
        assert store.count() == 160 and store.integrity_problems() == []


def test_the_schema_version_counts_the_migrations(tmp_path: Path) -> None:
    import sqlite3

    from bot.store.migrations import migrations
    from bot.store.schema import SCHEMA_VERSION

    assert len(migrations._migrations) == SCHEMA_VERSION, "add one to SCHEMA_VERSION with a migration"
    path = tmp_path / "finews.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        # A database migrated before the version was kept (version 0) is checked, not migrated again.
        conn.execute("PRAGMA user_version = 0")
    Store(path).close()
    with sqlite3.connect(path) as conn:
        applied = conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
        assert (
            applied == SCHEMA_VERSION and conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        )


def test_a_failed_nested_block_is_undone_alone(store: Store) -> None:
    store._conn.execute("CREATE TABLE t (x INTEGER)")
    with store.transaction():
        store._conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(RuntimeError), store.transaction():
            store._conn.execute("INSERT INTO t VALUES (2)")
            raise RuntimeError("undo me")
        with store.transaction():
            store._conn.execute("INSERT INTO t VALUES (3)")
    assert [x for (x,) in store._conn.execute("SELECT x FROM t ORDER BY x")] == [1, 3]
