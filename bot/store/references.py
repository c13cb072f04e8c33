"""What a chat was last shown: the numbered entries that "/why 3" and "/notrelevant 上市 3" refer to.

One list per chat, replaced by each new /topic, /latest or /digest reply and by each digest the
service sends there, so that a number means what the chat's newest list showed. Kept in SQLite
rather than in memory: the morning digest is queued by the service and read in the chat later,
and a restart must not change what "3" means.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from bot.domain.models import Channel
from bot.domain.records import ItemRef, ReferenceList


class ReferencesMixin:
    """Each chat's last numbered list; part of :class:`bot.store.Store`."""

    _conn: sqlite3.Connection

    def save_references(self, channel: Channel, chat: str, refs: ReferenceList) -> None:
        """Make ``refs`` the chat's current list unless the chat was shown a newer one meanwhile.

        A reply's list is written behind the reply (:mod:`handlers.reference_writer`), so a digest
        queued in between may already be saved: the newer of the two stays what "3" means.
        """
        self._conn.execute(
            "INSERT INTO chat_references (channel, chat, kind, label, made, refs)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (channel, chat) DO UPDATE SET kind = excluded.kind,"
            " label = excluded.label, made = excluded.made, refs = excluded.refs"
            " WHERE excluded.made >= chat_references.made",
            (
                str(channel),
                chat,
                refs.kind,
                refs.label,
                refs.made.astimezone(UTC).isoformat(),
                json.dumps([[r.number, r.topic, r.item_id] for r in refs.refs], ensure_ascii=False),
            ),
        )

    def references(self, channel: Channel, chat: str) -> ReferenceList | None:
        """The chat's current list, or None if it was never shown one."""
        row = self._conn.execute(
            "SELECT kind, label, made, refs FROM chat_references WHERE channel = ? AND chat = ?",
            (str(channel), chat),
        ).fetchone()
        if row is None:
            return None
        kind, label, made, refs = row
        entries = tuple(ItemRef(int(n), str(topic), str(item)) for n, topic, item in json.loads(refs))
        return ReferenceList(kind, label, datetime.fromisoformat(made), entries)
