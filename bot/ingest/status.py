"""Each configured source's health and items, as `finews-bot status`, /sources and /status show it.

:func:`sources_overview` computes it once for every reader; :func:`source_lines` says it in the
one wording of :mod:`bot.texts.sources`, laid out for the terminal or for a chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import Config, SourceConfig
from bot.domain.records import SourceState
from bot.domain.safetext import cap, clean
from bot.domain.when import format_duration
from bot.ingest.health import Health, health_of, state_of
from bot.store import Store
from bot.texts import sources as T


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
        state = state_of(source.kind, states.get(source.name))
        count = counts.get(source.name)
        sources.append(
            SourceStatus(
                source,
                state,
                health_of(state, now=now, every=source.every, stale_after=source.stale_after),
                count.items if count else 0,
                count.newest if count else None,
            )
        )
    configured = {s.name for s in config.sources}
    other = sum(c.items for via, c in counts.items() if via not in configured)
    return SourcesOverview(sources, other)


@dataclass(frozen=True, slots=True)
class Layout:
    """How a reader lays the lines out: the terminal shows a source's kind as its config keyword
    and every detail; a chat shows the kind in Chinese and caps a long error."""

    bullet: str
    indent: str
    chinese_kinds: bool
    error_limit: int | None = None


CLI_LAYOUT = Layout(bullet="  ", indent="    ", chinese_kinds=False)
CHAT_LAYOUT = Layout(bullet="· ", indent="  ", chinese_kinds=True, error_limit=120)


def _minute(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def source_lines(status: SourceStatus, zone: ZoneInfo, layout: Layout) -> list[str]:
    """One source: its health line, then its last error and next attempt, or what had to be
    repaired to read it (a source read all the same is ``ok``), or when a stale source last
    answered."""
    source, state = status.source, status.state
    newest = T.NEWEST.format(when=_minute(status.newest, zone)) if status.newest is not None else ""
    lines = [
        T.LINE.format(
            bullet=layout.bullet,
            name=source.name,
            kind=T.KINDS.get(source.kind, source.kind) if layout.chinese_kinds else source.kind,
            every=format_duration(source.every),
            disabled="" if source.enabled else T.DISABLED,
            health=T.HEALTH[status.health],
            items=status.items,
            newest=newest,
        )
    ]
    if state is not None and state.last_error:
        error = clean(state.last_error)
        if layout.error_limit is not None:
            error = cap(error, layout.error_limit)
        lines.append(T.ERROR.format(indent=layout.indent, error=error, failures=state.failures))
        if state.next_attempt is not None:
            lines.append(T.NEXT_ATTEMPT.format(indent=layout.indent, when=_minute(state.next_attempt, zone)))
    else:
        if state is not None and state.warning:
            warning = clean(state.warning)
            if layout.error_limit is not None:
                warning = cap(warning, layout.error_limit)
            lines.append(T.WARNING.format(indent=layout.indent, warning=warning))
        if status.health is Health.STALE and state is not None and state.last_success is not None:
            lines.append(T.LAST_SUCCESS.format(indent=layout.indent, when=_minute(state.last_success, zone)))
    return lines


def other_items_line(overview: SourcesOverview, layout: Layout) -> str | None:
    """Items that came in some other way (manual imports), when there are any."""
    if not overview.other_items:
        return None
    return T.OTHER_ITEMS.format(bullet=layout.bullet, n=overview.other_items)
