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
from bot.domain.topics import Overlay, overlay_from_dict, overlay_to_dict, topic_from_dict, topic_to_dict


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
            "INSERT INTO audit (at, user_id, user_name, chat, action, target, before, after, scope)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.at.astimezone(UTC).isoformat(),
                entry.user_id,
                entry.user_name,
                entry.chat,
                entry.action,
                entry.target,
                _json(entry.before),
                _json(entry.after),
                entry.scope,
            ),
        )

    def audit_entries(self, limit: int = 20, *, chat: str | None = None) -> list[AuditEntry]:
        """The most recent changes, newest first; with ``chat``, only those made in or for it."""
        where, params = ("WHERE chat = ? OR scope = ?", [chat, chat]) if chat is not None else ("", [])
        rows = self._conn.execute(
            "SELECT id, at, user_id, user_name, chat, action, target, before, after, scope FROM audit"
            f" {where} ORDER BY id DESC LIMIT ?",
            (*params, limit),
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
                scope=scope,
            )
            for id_, at, user_id, user_name, chat, action, target, before, after, scope in rows
        ]

    # --- each chat's own topics ------------------------------------------------------------

    def chat_overlays(self, chat: str) -> dict[str, Overlay]:
        """What ``chat`` changed of the topics, by topic name."""
        rows = self._conn.execute(
            "SELECT name, overlay FROM chat_topics WHERE chat = ? ORDER BY rowid", (chat,)
        ).fetchall()
        return {name: overlay_from_dict(json.loads(data)) for name, data in rows}

    def chats_with_overlays(self) -> list[str]:
        """The chats that changed the topics for themselves."""
        rows = self._conn.execute("SELECT DISTINCT chat FROM chat_topics ORDER BY chat").fetchall()
        return [chat for (chat,) in rows]

    def save_overlay(self, chat: str, name: str, overlay: Overlay, entry: AuditEntry) -> None:
        """Store a chat's change of one topic (an empty overlay: none left) with its audit row.

        Call inside :meth:`bot.store.Store.transaction`, after reading the topics it was computed
        from, like :meth:`save_topic_edit`.
        """
        if overlay.empty:
            self._conn.execute("DELETE FROM chat_topics WHERE chat = ? AND name = ?", (chat, name))
        else:
            self._conn.execute(
                "INSERT OR REPLACE INTO chat_topics (chat, name, overlay, updated, updated_by)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    chat,
                    name,
                    _json(overlay_to_dict(overlay)),
                    entry.at.astimezone(UTC).isoformat(),
                    entry.user_id,
                ),
            )
        self.record_audit(entry)
