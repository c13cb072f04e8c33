"""The SQLite store: the one package that holds SQL, split by entity. It returns dataclasses.

``Store`` opens the database (WAL, migrations applied) and offers the methods of each part:
:mod:`bot.store.items` (items and their search index), :mod:`bot.store.sources` (per-source
polling state and seen files). The schema lives in :mod:`bot.store.migrations`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.models import SeenFile
from bot.store.items import ItemsMixin, SearchResult, SourceCount, StoredItem, UpsertOutcome
from bot.store.migrations import migrations
from bot.store.sources import SourcesMixin, SourceState

__all__ = [
    "SearchResult",
    "SeenFile",
    "SourceCount",
    "SourceState",
    "Store",
    "StoredItem",
    "UpsertOutcome",
]


class Store(ItemsMixin, SourcesMixin):
    """All reads and writes of the database. Open one per thread (SQLite connections are not shared)."""

    def __init__(self, path: Path | str, *, check_same_thread: bool = True) -> None:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date.

        ``check_same_thread=False`` only for a pool that uses each store from one thread but closes
        them all from another.
        """
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are explicit (db.atomic / BEGIN), never implicit.
        self._conn = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=check_same_thread
        )
        self.db = sqlite_utils.Database(self._conn)
        # Wait for other connections (the service's workers, a CLI command) instead of failing.
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._conn.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL is safe against a crash of the process; a power cut may lose the last
        # transactions but never corrupts the database.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        # Under the write lock, so that two connections opening a new database at once do not
        # both apply the same migration: the second finds nothing pending.
        if not migrations.pending(self.db):
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            migrations.apply(self.db)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    @classmethod
    def open_existing(cls, path: Path | str) -> Store | None:
        """The store at ``path`` if a database exists there, else None (nothing imported yet)."""
        return cls(path) if Path(path).is_file() else None

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> Any:
        """A context manager: everything inside commits together or not at all."""
        return self.db.atomic()
