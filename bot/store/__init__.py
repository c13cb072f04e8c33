"""The SQLite store: the one package that holds SQL, split by entity. It returns dataclasses.

``Store`` opens the database (WAL, migrations applied) and offers the methods of each part:
:mod:`bot.store.items` (items and their search index), :mod:`bot.store.sources` (per-source
polling state and seen files), :mod:`bot.store.subscriptions` (who receives which digest, when),
:mod:`bot.store.outbox` (deliveries and the outbox), :mod:`bot.store.topics` (topics edited from
chat, the audit log), :mod:`bot.store.platforms` (the chat platforms' connections),
:mod:`bot.store.references` (what each chat was last shown, for /why 3). The schema lives in
:mod:`bot.store.migrations`; the values it stores and returns are :mod:`bot.domain.models` and
:mod:`bot.domain.records`, and :mod:`bot.store.lock` keeps one service per database.

The names below are loaded on first use, each from the module that defines it: a query opens a
:class:`bot.store.reading.ReadingStore` and never loads the other parts (see there why).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.store.full import Store
    from bot.store.items import SearchResult, SourceCount, StoredItem, UpsertOutcome
    from bot.store.outbox import ChatOutbox

__all__ = ["ChatOutbox", "SearchResult", "SourceCount", "Store", "StoredItem", "UpsertOutcome"]

_DEFINED_IN = {
    "Store": "bot.store.full",
    "ChatOutbox": "bot.store.outbox",
    "SearchResult": "bot.store.items",
    "SourceCount": "bot.store.items",
    "StoredItem": "bot.store.items",
    "UpsertOutcome": "bot.store.items",
}

if not TYPE_CHECKING:  # for the type checker, the names are those imported above

    def __getattr__(name: str) -> object:
        module = _DEFINED_IN.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)
