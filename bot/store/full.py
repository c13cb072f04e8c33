"""The whole store: every part of :mod:`bot.store` on one connection."""

from __future__ import annotations

from bot.store.outbox import OutboxMixin
from bot.store.platforms import PlatformsMixin
from bot.store.reading import ReadingStore
from bot.store.references import ReferencesMixin
from bot.store.sources import SourcesMixin
from bot.store.subscriptions import SubscriptionsMixin


class Store(ReadingStore, SourcesMixin, SubscriptionsMixin, OutboxMixin, PlatformsMixin, ReferencesMixin):
    """All reads and writes of the database. Open one per thread (SQLite connections are not shared)."""
