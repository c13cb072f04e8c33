"""Digest deliveries and the outbox: what makes every digest go out once.

A delivery row per (subscription, day) is created together with all of its outbox messages in
one transaction: either the digest is queued whole or not at all, and it can never be queued
twice. Each message is then marked sent, with the platform's message id, the moment the platform
accepts it; a process killed between two parts resumes with the first part not marked sent.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from bot.domain.models import Channel
from bot.domain.records import (
    Delivery,
    DeliveryStatus,
    OutboxMessage,
    OutboxStatus,
    OutgoingMessage,
    Subscription,
)
from bot.domain.when import Clock


@dataclass(frozen=True, slots=True)
class ChatOutbox:
    """One chat's part of the outbox, as ``status`` shows it."""

    pending: int
    last_sent: datetime | None
    last_error: str


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


_OUTBOX_COLUMNS = (
    "id, delivery_id, channel, chat, part, parts, body, format, status, attempts, error, next_attempt,"
    " message_id"
)
_DELIVERY_COLUMNS = "id, subscription_id, day, due, status, stories, created, finished"


def _message(row: Sequence[Any]) -> OutboxMessage:
    id_, delivery, channel, chat, part, parts, body, format_, status, attempts, error, next_, msg = row
    return OutboxMessage(
        id=id_,
        delivery_id=delivery,
        channel=Channel(channel),
        chat=chat,
        part=part,
        parts=parts,
        body=body,
        format=format_,
        status=OutboxStatus(status),
        attempts=attempts,
        error=error,
        next_attempt=_time(next_),
        message_id=msg,
    )


def _delivery(row: Sequence[Any]) -> Delivery:
    id_, sub, day, due, status, stories, created, finished = row
    return Delivery(
        id_,
        sub,
        date.fromisoformat(day),
        datetime.fromisoformat(due),
        status,
        stories,
        datetime.fromisoformat(created),
        _time(finished),
    )


class OutboxMixin:
    """Deliveries and the outbox; part of :class:`bot.store.Store`."""

    _conn: sqlite3.Connection

    # --- deliveries ------------------------------------------------------------------------

    def delivery(self, subscription_id: int, day: date) -> Delivery | None:
        """The delivery of a subscription's digest of ``day``, or None if there was none yet."""
        row = self._conn.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = ? AND day = ?",
            (subscription_id, day.isoformat()),
        ).fetchone()
        return _delivery(row) if row else None

    def deliveries(self, limit: int = 50) -> list[Delivery]:
        """The most recent deliveries, newest first."""
        rows = self._conn.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_delivery(r) for r in rows]

    def queue_delivery(
        self,
        subscription: Subscription,
        day: date,
        due: datetime,
        messages: Sequence[OutgoingMessage],
        *,
        stories: int = 0,
        status: str = DeliveryStatus.SENDING,
        now: datetime | None = None,
    ) -> int | None:
        """Record a subscription's digest of ``day`` and queue its messages, all or nothing.

        Returns the delivery id, or None if this (subscription, day) was already recorded: that
        is the exactly-once guarantee, enforced by the table's unique key. With no messages
        (``status`` silent or missed) only the record is kept.
        """
        stamp = (now or Clock().now()).isoformat()
        if not messages and status == DeliveryStatus.SENDING:
            status = DeliveryStatus.SENT
        try:
            cursor = self._conn.execute(
                "INSERT INTO deliveries (subscription_id, day, due, status, stories, created, finished)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    subscription.id,
                    day.isoformat(),
                    due.astimezone(UTC).isoformat(),
                    status,
                    stories,
                    stamp,
                    None if status == DeliveryStatus.SENDING else stamp,
                ),
            )
        except sqlite3.IntegrityError:
            return None
        delivery_id = cursor.lastrowid
        parts = len(messages)
        self._conn.executemany(
            "INSERT INTO outbox (delivery_id, channel, chat, part, parts, body, format, status, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
            [
                (delivery_id, subscription.channel, subscription.chat, part, parts, m.body, m.format, stamp)
                for part, m in enumerate(messages, 1)
            ],
        )
        return delivery_id

    # --- the outbox ------------------------------------------------------------------------

    def pending_messages(self, channel: Channel) -> list[OutboxMessage]:
        """Every message of ``channel`` still to send, in sending order (due or not)."""
        rows = self._conn.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE status = 'pending' AND channel = ? ORDER BY id",
            (channel,),
        ).fetchall()
        return [_message(r) for r in rows]

    def outbox_messages(self, delivery_id: int) -> list[OutboxMessage]:
        """The messages of one delivery, in order, whatever their status."""
        rows = self._conn.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE delivery_id = ? ORDER BY part", (delivery_id,)
        ).fetchall()
        return [_message(r) for r in rows]

    def mark_sent(self, message: OutboxMessage, platform_id: str, now: datetime | None = None) -> None:
        """The platform has the message: never send it again. Finishes its delivery if it was the last."""
        stamp = (now or Clock().now()).isoformat()
        self._conn.execute(
            "UPDATE outbox SET status = 'sent', message_id = ?, sent = ?, attempts = attempts + 1,"
            " error = '' WHERE id = ?",
            (platform_id, stamp, message.id),
        )
        self._finish_delivery(message.delivery_id, stamp)

    def mark_retry(
        self, message: OutboxMessage, error: str, next_attempt: datetime | None, *, count: bool = True
    ) -> None:
        """A failure worth trying again at ``next_attempt`` (None: when the chat is resumed);
        ``count``: whether it counts towards giving the message up (a rate limit does not)."""
        self._conn.execute(
            "UPDATE outbox SET attempts = attempts + ?, error = ?, next_attempt = ? WHERE id = ?",
            (
                1 if count else 0,
                error,
                next_attempt.astimezone(UTC).isoformat() if next_attempt else None,
                message.id,
            ),
        )

    def mark_failed(self, message: OutboxMessage, error: str, now: datetime | None = None) -> None:
        """Give a message up (the chat is gone); its delivery is recorded as failed."""
        stamp = (now or Clock().now()).isoformat()
        self._conn.execute(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, error = ?, sent = ? WHERE id = ?",
            (error, stamp, message.id),
        )
        if message.delivery_id is not None:
            self._conn.execute(
                "UPDATE deliveries SET status = 'failed', finished = ? WHERE id = ?",
                (stamp, message.delivery_id),
            )

    def _finish_delivery(self, delivery_id: int | None, stamp: str) -> None:
        if delivery_id is None:
            return
        self._conn.execute(
            "UPDATE deliveries SET status = 'sent', finished = ? WHERE id = ? AND status = 'sending'"
            " AND NOT EXISTS (SELECT 1 FROM outbox WHERE delivery_id = ? AND status != 'sent')",
            (stamp, delivery_id, delivery_id),
        )

    def sent_times(self, channel: Channel, since: datetime) -> dict[str, list[datetime]]:
        """When each chat of ``channel`` was last sent messages (those sent after ``since``)."""
        rows = self._conn.execute(
            "SELECT chat, sent FROM outbox WHERE channel = ? AND status = 'sent' AND sent > ? ORDER BY sent",
            (channel, since.astimezone(UTC).isoformat()),
        ).fetchall()
        times: dict[str, list[datetime]] = {}
        for chat, sent in rows:
            times.setdefault(chat, []).append(datetime.fromisoformat(sent))
        return times

    def resume_paused(self, channel: Channel, now: datetime, *, reason: str = "") -> list[str]:
        """Resume the paused subscriptions of ``channel`` (only those whose pause reason starts
        with ``reason``, when given: a refusal of credentials, not a removal from the chat);
        returns the chats resumed."""
        rows = self._conn.execute(
            "SELECT chat, paused FROM subscriptions WHERE channel = ? AND paused != ''", (channel,)
        ).fetchall()
        chats = sorted(chat for chat, why in rows if why.startswith(reason))
        self._conn.executemany(
            "UPDATE subscriptions SET paused = '', updated = ? WHERE channel = ? AND chat = ?",
            [(now.astimezone(UTC).isoformat(), channel, chat) for chat in chats],
        )
        return chats

    def next_attempt(self, channels: Sequence[Channel]) -> datetime | None:
        """The earliest time a pending message of these channels waits for (paused chats' held
        messages aside); None when none waits."""
        marks = ", ".join("?" for _ in channels)
        row = self._conn.execute(
            f"SELECT min(next_attempt) FROM outbox WHERE status = 'pending' AND channel IN ({marks})"
            " AND next_attempt IS NOT NULL AND chat NOT IN"
            " (SELECT chat FROM subscriptions WHERE channel = outbox.channel AND paused != '')",
            list(channels),
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def chat_outboxes(self, channel: Channel) -> dict[str, ChatOutbox]:
        """Per chat of ``channel``: messages waiting, the last one sent, the last error."""
        rows = self._conn.execute(
            "SELECT chat, sum(status = 'pending'), max(CASE WHEN status = 'sent' THEN sent END),"
            " (SELECT error FROM outbox AS o WHERE o.channel = outbox.channel AND o.chat = outbox.chat"
            "  AND o.error != '' ORDER BY o.id DESC LIMIT 1)"
            " FROM outbox WHERE channel = ? GROUP BY chat",
            (channel,),
        ).fetchall()
        return {
            chat: ChatOutbox(pending or 0, datetime.fromisoformat(sent) if sent else None, error or "")
            for chat, pending, sent, error in rows
        }

    def paused_chats(self, channel: Channel) -> set[str]:
        """The chats of ``channel`` whose subscription is paused: their messages are held."""
        rows = self._conn.execute(
            "SELECT chat FROM subscriptions WHERE channel = ? AND paused != ''", (channel,)
        ).fetchall()
        return {chat for (chat,) in rows}

    def outbox_counts(self) -> dict[str, int]:
        """How many messages are pending, sent and failed."""
        rows = self._conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
        return {status: n for status, n in rows}
