"""The store a query opens (``finews-bot latest``, ``topic``, ``topics``): items and topics only.

A command-line query pays for every module it loads, and each dataclass of the other parts
(subscriptions, the outbox, sources' state, platforms, references) costs 0.6-1.5 ms to create in
Python 3.11: this store loads none of them. :class:`bot.store.full.Store` is this and the rest.
"""

from __future__ import annotations

from bot.store.base import StoreBase
from bot.store.items import ItemsMixin
from bot.store.topics import TopicsMixin


class ReadingStore(ItemsMixin, TopicsMixin, StoreBase):
    """Items (with their search index) and topics, on a connection of its own."""
