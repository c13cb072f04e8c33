"""Each chat's newest numbered list, saved to the database behind the reply rather than before it.

A /latest or /topic reply records its numbered entries for "/why 3" (:mod:`handlers.references`).
That is a write, and a write waits for SQLite's write lock, which an import holds for a whole
batch (a second or so while the service imports a large folder): the reply would wait with it.
Where handlers run in a worker of the service (:class:`bot.adapters.worker.HandlerWorker`), the
list is kept in memory at once and written by a thread of its own with its own connection; until
it is written, the memory copy is what "/why 3" reads. The console and the tests, which have no
writer, save the list directly.
"""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.domain.models import Channel
from bot.domain.records import ReferenceList
from bot.store import Store


class ReferenceWriter:
    """Saves chats' lists in order, in a thread of its own; knows those not yet saved."""

    def __init__(self, database: Path) -> None:
        self._database = database
        self._pending: dict[tuple[str, str], ReferenceList] = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="references")
        self._store: Store | None = None  # opened and used in the writer thread only

    def save(self, channel: Channel, chat: str, refs: ReferenceList) -> None:
        """Make ``refs`` the chat's list now (for :meth:`pending`) and in the database soon."""
        with self._lock:
            self._pending[(str(channel), chat)] = refs
        self._executor.submit(self._write, channel, chat, refs)

    def pending(self, channel: Channel, chat: str) -> ReferenceList | None:
        """The chat's list if it is still on its way to the database."""
        with self._lock:
            return self._pending.get((str(channel), chat))

    def _write(self, channel: Channel, chat: str, refs: ReferenceList) -> None:
        if self._store is None:
            self._store = Store(self._database)
        try:
            self._store.save_references(channel, chat, refs)
        except sqlite3.Error:
            return  # kept in memory: "/why 3" still finds it in this process
        with self._lock:
            if self._pending.get((str(channel), chat)) is refs:  # not replaced by a newer list
                del self._pending[(str(channel), chat)]

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def close(self) -> None:
        """Write what is pending, then stop the thread and close its connection."""
        self._executor.submit(self._close_store)
        self._executor.shutdown(wait=True)
