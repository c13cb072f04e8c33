"""Per-source polling state and the files a folder source has already read."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.domain.records import SeenFile, SourceState

_STATE_COLUMNS = (
    "name, kind, last_attempt, last_success, last_error, failures, next_attempt, last_new, rhythm,"
    " etag, last_modified, warning"
)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _state(row: tuple[Any, ...]) -> SourceState:
    name, kind, attempt, success, error, failures, next_, new, rhythm, etag, modified, warning = row
    return SourceState(
        name,
        kind,
        _time(attempt),
        _time(success),
        error,
        failures,
        _time(next_),
        _time(new),
        rhythm,
        etag,
        modified,
        warning,
    )


class SourcesMixin:
    """Reading and writing source state and seen files; part of :class:`bot.store.Store`."""

    _conn: sqlite3.Connection

    def source_states(self) -> dict[str, SourceState]:
        """Every source's state, by name."""
        rows = self._conn.execute(f"SELECT {_STATE_COLUMNS} FROM source_state").fetchall()
        return {row[0]: _state(row) for row in rows}

    def source_state(self, name: str) -> SourceState | None:
        """One source's state, or None before its first poll."""
        row = self._conn.execute(
            f"SELECT {_STATE_COLUMNS} FROM source_state WHERE name = ?", (name,)
        ).fetchone()
        return _state(row) if row else None

    def save_source_state(self, state: SourceState) -> None:
        """Write a source's state (insert or replace)."""
        self._conn.execute(
            f"INSERT OR REPLACE INTO source_state ({_STATE_COLUMNS}) VALUES ({', '.join('?' * 12)})",
            (
                state.name,
                state.kind,
                _iso(state.last_attempt),
                _iso(state.last_success),
                state.last_error,
                state.failures,
                _iso(state.next_attempt),
                _iso(state.last_new),
                state.rhythm,
                state.etag,
                state.last_modified,
                state.warning,
            ),
        )

    def seen_files(self, source: str) -> dict[str, SeenFile]:
        """The files ``source`` has read, by path."""
        rows = self._conn.execute(
            "SELECT path, size, mtime_ns FROM seen_files WHERE source = ?", (source,)
        ).fetchall()
        return {path: SeenFile(path, size, mtime) for path, size, mtime in rows}

    def record_seen_files(self, source: str, files: Iterable[SeenFile]) -> None:
        """Remember that ``source`` has read these files as they are now."""
        self._conn.executemany(
            "INSERT OR REPLACE INTO seen_files (source, path, size, mtime_ns) VALUES (?, ?, ?, ?)",
            [(source, f.path, f.size, f.mtime_ns) for f in files],
        )

    def forget_seen_files(self, source: str, paths: Iterable[str]) -> None:
        """Forget files that are gone (their items stay: the news happened)."""
        self._conn.executemany(
            "DELETE FROM seen_files WHERE source = ? AND path = ?", [(source, p) for p in paths]
        )
