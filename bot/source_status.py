"""Each configured source's health and items, as `finews-bot status`, /sources and /status show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import Config, SourceConfig
from bot.health import Health, classify
from bot.service import state_of
from bot.store import SourceState, Store


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One configured source: its recorded state, its health and what it has brought in."""

    source: SourceConfig
    state: SourceState | None
    health: Health
    items: int
    newest: datetime | None


@dataclass(frozen=True, slots=True)
class SourcesOverview:
    """Every configured source, and the items that came in some other way (manual imports)."""

    sources: list[SourceStatus]
    other_items: int


def sources_overview(config: Config, store: Store | None, now: datetime) -> SourcesOverview:
    """Each configured source's status (a missing database: every source never polled)."""
    counts = {c.via: c for c in store.counts_by_via()} if store is not None else {}
    states = store.source_states() if store is not None else {}
    sources = []
    for source in config.sources:
        state = state_of(source, states.get(source.name))
        count = counts.get(source.name)
        sources.append(
            SourceStatus(
                source,
                state,
                classify(state, now=now, every=source.every, stale_after=source.stale_after),
                count.items if count else 0,
                count.newest if count else None,
            )
        )
    configured = {s.name for s in config.sources}
    other = sum(c.items for via, c in counts.items() if via not in configured)
    return SourcesOverview(sources, other)
