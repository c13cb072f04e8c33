"""Topics edited from chat, and the audit trail of every administrative change.

The effective topic set is the config file's topics with these edits laid over them: an edited
topic replaces the file's definition whole, a deleted one hides it (see
:func:`bot.domain.topics.effective_topics`). Each change and its audit row are written in one
transaction, so there is never a change without its record.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from bot.domain.models import AuditEntry, Topic
from bot.domain.topics import topic_from_dict, topic_to_dict


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class TopicsMixin:
    """Topic edits and the audit log; part of :class:`bot.store.Store`."""

    _conn: sqlite3.Connection

    def topic_edits(self) -> dict[str, Topic | None]:
        """Every topic edited from chat, by name; None for a deleted topic."""
        rows = self._conn.execute("SELECT name, definition FROM topic_edits ORDER BY name").fetchall()
        return {name: topic_from_dict(json.loads(d)) if d else None for name, d in rows}

    def save_topic_edit(self, name: str, topic: Topic | None, entry: AuditEntry) -> None:
        """Store a topic's new definition (None: deleted) and its audit row, together.

        Call inside :meth:`bot.store.Store.transaction` when the change was computed from a read
        of the current topics, so that two admins editing at once do not lose one edit.
        """
        self._conn.execute(
            "INSERT OR REPLACE INTO topic_edits (name, definition, updated, updated_by) VALUES (?, ?, ?, ?)",
            (
                name,
                _json(topic_to_dict(topic)) if topic is not None else None,
                entry.at.astimezone(UTC).isoformat(),
                entry.user_id,
            ),
        )
        self.record_audit(entry)

    def record_audit(self, entry: AuditEntry) -> None:
        """Append one row to the audit log."""
        self._conn.execute(
            "INSERT INTO audit (at, user_id, user_name, chat, action, target, before, after)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.at.astimezone(UTC).isoformat(),
                entry.user_id,
                entry.user_name,
                entry.chat,
                entry.action,
                entry.target,
                _json(entry.before),
                _json(entry.after),
            ),
        )

    def audit_entries(self, limit: int = 20) -> list[AuditEntry]:
        """The most recent changes, newest first."""
        rows = self._conn.execute(
            "SELECT id, at, user_id, user_name, chat, action, target, before, after FROM audit"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            AuditEntry(
                at=datetime.fromisoformat(at),
                user_id=user_id,
                user_name=user_name,
                chat=chat,
                action=action,
                target=target,
                before=json.loads(before),
                after=json.loads(after),
                id=id_,
            )
            for id_, at, user_id, user_name, chat, action, target, before, after in rows
        ]
