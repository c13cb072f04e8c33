"""The store's plumbing, whatever parts it is made of: the connection (WAL, busy timeout, page
cache), the schema brought up to date, transactions and savepoints, opening and closing."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from bot.store.schema import SCHEMA_VERSION


class StoreBase:
    """A connection to the database; :class:`bot.store.full.Store` and
    :class:`bot.store.reading.ReadingStore` add the methods of their parts. Open one per thread
    (SQLite connections are not shared)."""

    def __init__(self, path: Path | str, *, check_same_thread: bool = True) -> None:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date.

        ``check_same_thread=False`` only for a pool that uses each store from one thread but closes
        them all from another.
        """
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are explicit (BEGIN / SAVEPOINT), never implicit.
        self._conn = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=check_same_thread
        )
        self._savepoints = 0
        # Wait for other connections (the service's workers, a CLI command) instead of failing.
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._use_wal()
        # In WAL mode NORMAL is safe against a crash of the process; a power cut may lose the last
        # transactions but never corrupts the database.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        # 16 MiB of page cache (a ceiling, not an allocation): index merges during imports re-read
        # recent pages, and the default 2 MiB makes them go to disk; 64 MiB was no faster.
        self._conn.execute("PRAGMA cache_size=-16384")
        self._migrate()

    def _use_wal(self) -> None:
        # Switching a new database to WAL needs a moment alone with it and, unlike other
        # statements, does not wait for the busy timeout: retry while another connection (a
        # second process or thread opening the same new file) holds it.
        deadline = time.monotonic() + 10
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _migrate(self) -> None:
        # The schema's version is kept in the database header: a database already up to date is
        # opened without loading the migrations (and sqlite-utils, which applies them: a tenth
        # of a second of a command-line query's start-up).
        if self._conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return
        import sqlite_utils

        from bot.store.migrations import migrations

        db = sqlite_utils.Database(self._conn)
        # Under the write lock, so that two connections opening a new database at once do not
        # both apply the same migration: the second finds nothing pending.
        with self.transaction():  # each migration runs in a savepoint inside it
            migrations.apply(db)
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @classmethod
    def open_existing(cls, path: Path | str) -> Self | None:
        """The store at ``path`` if a database exists there, else None (nothing imported yet)."""
        return cls(path) if Path(path).is_file() else None

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all; nested, a savepoint.

        ``BEGIN IMMEDIATE`` takes the write lock at the start: two deferred transactions that both
        read and then write would fail one of them at once ("database is locked") instead of
        waiting for the busy timeout.
        """
        if self._conn.in_transaction:
            with self._savepoint():
                yield
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        """A savepoint inside the open transaction: undone alone if its block fails."""
        self._savepoints += 1
        name = f"sp{self._savepoints}"
        self._conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._conn.execute(f"ROLLBACK TO {name}")
            self._conn.execute(f"RELEASE {name}")
            raise
        finally:
            self._savepoints -= 1
        self._conn.execute(f"RELEASE {name}")
