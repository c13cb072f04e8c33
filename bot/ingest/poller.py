"""The engine: poll each source, store what is new, keep each source's health.

One poll of one source: read (a folder scan, or an HTTP fetch) → parse (pure) → store in one
transaction → update the source's state. Every failure is caught here, recorded in the source's
state and backed off; nothing a source does can stop the others or the service.

Database work runs in worker threads, each with its own connection (SQLite connections are tied
to a thread), so a large folder or a slow parse never blocks the event loop and the other sources.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from bot.config import Config, SourceConfig
from bot.domain.models import Item
from bot.domain.records import SourceState
from bot.domain.when import Clock
from bot.ingest import health
from bot.ingest.importer import ImportReport, import_files
from bot.sources.errors import FeedError
from bot.sources.feeds import Repair, parse_feed
from bot.sources.folder import folder_changes, scan_folder
from bot.sources.http import FetchError, FetchPolicy, fetch, make_client
from bot.store import Store
from bot.texts import sources as texts

log = logging.getLogger(__name__)


# HTTP fetches running at once. Hundreds at a time only queue inside the HTTP client's connection
# pool, whose bookkeeping grows with the square of the queue (measured with 500 local feeds: all at
# once 5.4 s to fetch, 10 at a time 0.9 s). Enough slots that a few slow sources, each holding one
# until its timeout, leave the rest moving; folder polls take none.
MAX_CONCURRENT_FETCHES = 24


class SourceError(Exception):
    """A source that cannot be polled for a reason of its own (e.g. its folder is missing)."""


@dataclass(slots=True, kw_only=True)
class PollReport(ImportReport):
    """What one poll of one source did: the import counts, and the poll's own outcome."""

    source: str
    kind: str
    rejected: int = 0  # feed entries without an id, or without title and text
    not_modified: bool = False  # HTTP 304
    error: str = ""
    warning: str = ""  # what had to be repaired to read the feed, in words (see describe_repairs)
    not_due: bool = False  # backing off after failures: not polled this time
    next_attempt: datetime | None = None

    @property
    def found(self) -> bool:
        """Whether the poll stored something new or changed."""
        return self.new + self.updated > 0


class StorePool:
    """One store connection per worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._opened: list[Store] = []
        self._lock = threading.Lock()

    def get(self) -> Store:
        """This thread's store, opened on first use."""
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = Store(self.path, check_same_thread=False)
            self._local.store = store
            with self._lock:
                self._opened.append(store)
        return store

    def close(self) -> None:
        """Close every connection (call when no poll is running)."""
        with self._lock:
            for store in self._opened:
                store.close()
            self._opened.clear()
        self._local = threading.local()


class Poller:
    """Polls the configured sources and keeps their state."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or Clock().now
        self.rng = rng or random.Random()
        self.stores = StorePool(config.database)
        # Create and migrate the database here, once, before any worker thread opens it.
        Store(config.database).close()
        fetch_config = config.fetch
        self.policy = FetchPolicy(
            connect_timeout=fetch_config.connect_timeout,
            read_timeout=fetch_config.timeout,
            max_bytes=fetch_config.max_bytes,
            max_redirects=fetch_config.max_redirects,
            **({"user_agent": fetch_config.user_agent} if fetch_config.user_agent else {}),
        )
        # One client (connection pool) per proxy setting: httpx binds a proxy to a client.
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._limit: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def _client(self, proxy: str) -> httpx.AsyncClient:
        client = self._clients.get(proxy)
        if client is None:
            client = make_client(self.policy, proxy or None)
            self._clients[proxy] = client
        return client

    async def aclose(self) -> None:
        """Close the HTTP clients and the database connections."""
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        self.stores.close()

    async def poll_many(self, sources: Sequence[SourceConfig], *, force: bool = True) -> list[PollReport]:
        """Poll several sources at once; each report in the order given."""
        return list(await asyncio.gather(*(self.poll(s, force=force) for s in sources)))

    def _semaphore(self) -> asyncio.Semaphore:
        # A semaphore belongs to one event loop; tests and `fetch` each run their own.
        loop = asyncio.get_running_loop()
        if self._limit is None or self._limit[0] is not loop:
            self._limit = (loop, asyncio.Semaphore(MAX_CONCURRENT_FETCHES))
        return self._limit[1]

    async def poll(self, source: SourceConfig, *, force: bool = False) -> PollReport:
        """Poll one source and record the outcome in its state. Never raises (but for cancellation).

        Without ``force``, a source backing off after failures is left alone until its next attempt.
        """
        state = await asyncio.to_thread(self._state, source)
        now = self.clock()
        report = PollReport(source=source.name, kind=source.kind)
        if not force and state.failures and state.next_attempt and state.next_attempt > now:
            report.not_due = True
            report.next_attempt = state.next_attempt
            return report
        retry_after: float | None = None
        etag = last_modified = None
        try:
            if source.kind == "folder":
                await asyncio.to_thread(self._poll_folder, source, report)
            else:
                etag, last_modified = await self._poll_feed(source, state, report, now)
        except FetchError as error:
            report.error = error.message
            retry_after = error.retry_after
        except (FeedError, SourceError) as error:
            report.error = str(error)
        except OSError as error:
            report.error = f"读取失败 (cannot read): {error.strerror or error}"
        except Exception as error:  # the service outlives any bug in one source's poll
            log.exception("poll of %s failed unexpectedly", source.name)
            report.error = f"内部错误 (internal error): {type(error).__name__}: {error}"
        done = self.clock()
        if report.error:
            state = health.after_failure(
                state, now=done, every=source.every, error=report.error, retry_after=retry_after, rng=self.rng
            )
        else:
            state = health.after_success(
                state,
                now=done,
                every=source.every,
                found=report.found,
                etag=etag,
                last_modified=last_modified,
                warning=None if report.not_modified else report.warning,
            )
        report.next_attempt = state.next_attempt
        await asyncio.to_thread(self._save_state, state)
        return report

    # --- the database side, in worker threads -------------------------------------------------

    def _state(self, source: SourceConfig) -> SourceState:
        return health.state_of(source.kind, self.stores.get().source_state(source.name)) or SourceState(
            source.name, source.kind
        )

    def _save_state(self, state: SourceState) -> None:
        store = self.stores.get()
        with store.transaction():
            store.save_source_state(state)

    def _poll_folder(self, source: SourceConfig, report: PollReport) -> None:
        assert source.path is not None
        if not source.path.is_dir():
            raise SourceError(f"文件夹不存在 (folder not found): {source.path}")
        store = self.stores.get()
        changes = folder_changes(scan_folder(source.path), store.seen_files(source.name))
        import_files(store, [Path(f.path) for f in changes.changed], via=source.name, report=report)
        with store.transaction():
            store.record_seen_files(source.name, changes.changed)
            store.forget_seen_files(source.name, changes.gone)

    def _store_items(self, source: SourceConfig, items: Sequence[Item], report: PollReport) -> None:
        store = self.stores.get()
        with store.transaction():  # all of a feed's items or none of them
            # In publication order, as the importer stores a batch (see publication_order).
            for item in sorted(items, key=lambda item: item.published):
                report.add(store.upsert(item, via=source.name))

    # --- feeds --------------------------------------------------------------------------------

    async def _poll_feed(
        self, source: SourceConfig, state: SourceState, report: PollReport, now: datetime
    ) -> tuple[str | None, str | None]:
        # The source's timeout bounds each read and the whole download: a server dripping a byte
        # now and then would otherwise hold the source (and a fetch slot) far longer.
        timeout = source.timeout if source.timeout is not None else self.config.fetch.timeout
        async with self._semaphore():
            result = await fetch(
                self._client(source.proxy or self.config.fetch.proxy),
                source.url,
                etag=state.etag,
                last_modified=state.last_modified,
                headers=source.headers,
                max_bytes=self.config.fetch.max_bytes,
                timeout=timeout,
                total_timeout=timeout,
            )
        if result.not_modified:
            report.not_modified = True
            return result.etag, result.last_modified
        feed = await asyncio.to_thread(
            parse_feed,
            result.body,
            url=result.url,
            content_type=result.content_type,
            source=source.name,
            source_name=source.name,
            now=now,
        )
        report.rejected = len(feed.rejected)
        report.warning = describe_repairs(feed.repairs)
        await asyncio.to_thread(self._store_items, source, feed.items, report)
        return result.etag, result.last_modified


def describe_repairs(repairs: Sequence[Repair]) -> str:
    """What was repaired to read a feed, in one line of the sources' words ("" for nothing)."""
    if not repairs:
        return ""
    parts = (
        texts.REPAIRS[r.kind].format(
            count=f"{r.count:,}",
            encoding=texts.ENCODINGS.get(r.encoding, r.encoding),
            detail=texts.ENCODINGS.get(r.detail, r.detail),
        )
        for r in repairs
    )
    return texts.REPAIRED.format(repairs=texts.REPAIR_SEPARATOR.join(parts))


def poll_summary(report: PollReport) -> str:
    """One log line for a poll: what it found, or why it failed."""
    if report.error:
        when = f"，下次尝试 {report.next_attempt:%Y-%m-%d %H:%M:%S %Z}" if report.next_attempt else ""
        return f"{report.source}: 失败 (failed): {report.error}{when}"
    parts = [f"新增 {report.new}", f"更新 {report.updated}"]
    if report.skipped:
        parts.append(f"跳过 {len(report.skipped)}")
    if report.rejected:
        parts.append(f"拒收 {report.rejected}")
    summary = f"{report.source}: " + "，".join(parts)
    return f"{summary}（{report.warning}）" if report.warning else summary


def due_sources(config: Config) -> list[SourceConfig]:
    """The sources the service polls."""
    return [s for s in config.sources if s.enabled]
