"""Subscriptions: which chat receives which topics' digest, when (one subscription per chat)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

from bot.domain.models import Channel
from bot.domain.records import Subscription
from bot.domain.when import Clock

_SUB_COLUMNS = "id, channel, chat, topics, time, days, title, origin, paused, created"


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _subscription(row: Sequence[Any]) -> Subscription:
    id_, channel, chat, topics, clock, days, title, origin, paused, created = row
    hour, minute = clock.split(":")
    return Subscription(
        id=id_,
        channel=Channel(channel),
        chat=chat,
        topics=tuple(json.loads(topics)),
        time=time(int(hour), int(minute)),
        days=days,
        title=title,
        origin=origin,
        paused=paused,
        created=_time(created),
    )


class SubscriptionsMixin:
    """Subscriptions; part of :class:`bot.store.Store`."""

    _conn: sqlite3.Connection

    def subscriptions(self) -> list[Subscription]:
        """Every subscription, in the order they were made."""
        rows = self._conn.execute(f"SELECT {_SUB_COLUMNS} FROM subscriptions ORDER BY id").fetchall()
        return [_subscription(r) for r in rows]

    def subscription(self, channel: Channel, chat: str) -> Subscription | None:
        """A chat's subscription, or None."""
        row = self._conn.execute(
            f"SELECT {_SUB_COLUMNS} FROM subscriptions WHERE channel = ? AND chat = ?", (channel, chat)
        ).fetchone()
        return _subscription(row) if row else None

    def save_subscription(
        self,
        channel: Channel,
        chat: str,
        *,
        topics: Sequence[str],
        clock: time,
        days: str,
        title: str = "",
        origin: str = "chat",
        now: datetime | None = None,
    ) -> Subscription:
        """Create or change a chat's subscription (one per chat); a paused one is resumed."""
        stamp = (now or Clock().now()).isoformat()
        self._conn.execute(
            "INSERT INTO subscriptions (channel, chat, title, topics, time, days, origin, paused, created,"
            " updated) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?) ON CONFLICT (channel, chat) DO UPDATE SET"
            " title = excluded.title, topics = excluded.topics, time = excluded.time,"
            " days = excluded.days, origin = excluded.origin, paused = '', updated = excluded.updated",
            (
                channel,
                chat,
                title,
                json.dumps(list(topics), ensure_ascii=False),
                f"{clock.hour:02d}:{clock.minute:02d}",
                days,
                origin,
                stamp,
                stamp,
            ),
        )
        saved = self.subscription(channel, chat)
        assert saved is not None
        return saved

    def remove_subscription(self, channel: Channel, chat: str) -> bool:
        """Unsubscribe a chat; False if it had no subscription."""
        cursor = self._conn.execute(
            "DELETE FROM subscriptions WHERE channel = ? AND chat = ?", (channel, chat)
        )
        return cursor.rowcount > 0

    def remove_config_subscriptions_except(self, keep: Sequence[tuple[Channel, str]]) -> int:
        """Drop subscriptions the config declared before but no longer does; chat-made ones stay."""
        removed = 0
        for sub in self.subscriptions():
            if sub.origin == "config" and (sub.channel, sub.chat) not in keep:
                removed += self.remove_subscription(sub.channel, sub.chat)
        return removed

    def pause_subscription(
        self, channel: Channel, chat: str, reason: str, now: datetime | None = None
    ) -> None:
        """Stop delivering to a chat (the bot was removed or blocked), keeping its settings."""
        self._conn.execute(
            "UPDATE subscriptions SET paused = ?, updated = ? WHERE channel = ? AND chat = ?",
            (reason or "paused", (now or Clock().now()).isoformat(), channel, chat),
        )

    def move_chat(self, channel: Channel, old: str, new: str, now: datetime | None = None) -> bool:
        """A chat now lives under another id (a Telegram group upgraded to a supergroup): its
        subscription, its waiting messages, its own topics and its last numbered list move there.

        Returns False (and moves nothing) when ``new`` already has a subscription of its own: then
        the old one is paused, saying where the chat went.
        """
        stamp = (now or Clock().now()).isoformat()
        if self.subscription(channel, new) is not None:
            self.pause_subscription(
                channel, old, f"the chat moved to {new}, which has its own subscription", now
            )
            return False
        self._conn.execute(
            "UPDATE subscriptions SET chat = ?, updated = ? WHERE channel = ? AND chat = ?",
            (new, stamp, channel, old),
        )
        self._conn.execute(
            "UPDATE outbox SET chat = ? WHERE channel = ? AND chat = ? AND status = 'pending'",
            (new, channel, old),
        )
        self._conn.execute("UPDATE OR IGNORE chat_topics SET chat = ? WHERE chat = ?", (new, old))
        # So that "/why 3" in the new chat still means the entry of the list shown before the move.
        self._conn.execute(
            "UPDATE OR IGNORE chat_references SET chat = ? WHERE channel = ? AND chat = ?",
            (new, channel, old),
        )
        return True
