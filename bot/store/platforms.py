"""How each chat platform's connection stands, as the running service last recorded it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from bot.domain.records import PlatformState


class PlatformsMixin:
    """The platforms' connection states; part of :class:`bot.store.Store`."""

    _conn: sqlite3.Connection

    def save_platform_state(self, state: PlatformState) -> None:
        """Record a platform's state (one row per platform)."""
        self._conn.execute(
            "INSERT OR REPLACE INTO platform_state (platform, state, detail, next_attempt, updated)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                state.platform,
                state.state,
                state.detail,
                state.next_attempt.astimezone(UTC).isoformat() if state.next_attempt else None,
                state.updated.astimezone(UTC).isoformat(),
            ),
        )

    def platform_states(self) -> dict[str, PlatformState]:
        """Every platform's last recorded state, by platform."""
        rows = self._conn.execute(
            "SELECT platform, state, detail, next_attempt, updated FROM platform_state ORDER BY platform"
        ).fetchall()
        return {
            platform: PlatformState(
                platform,
                state,
                detail,
                datetime.fromisoformat(next_attempt) if next_attempt else None,
                datetime.fromisoformat(updated),
            )
            for platform, state, detail, next_attempt, updated in rows
        }
