"""Where every chat adapter runs its handlers: one worker thread with its own store.

Handlers are synchronous and use SQLite, whose connections belong to one thread: an adapter hands
each request to this worker, so that its event loop (polling a platform, a WebSocket, the
scheduler beside it) never waits on the database. Requests run one at a time, in arrival order.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TypeVar

from bot.config import Config
from bot.domain.records import PlatformState
from bot.store import Store
from handlers.commands import dispatch
from handlers.pager import Pager
from handlers.reference_writer import ReferenceWriter
from handlers.request import Context, Reply, Request

_T = TypeVar("_T")

log = logging.getLogger(__name__)


class HandlerWorker:
    """One thread that runs handlers with its own store."""

    def __init__(self, config: Config, now: Callable[[], datetime], name: str = "handlers") -> None:
        self._local = threading.local()
        self._config = config
        self._now = now
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._stores: list[Store] = []
        self.pager = Pager()  # one per adapter: a page button or 下一页 finds its list
        # Numbered lists are saved behind the replies: a reply never waits for an import's batch.
        self.references = ReferenceWriter(config.database)

    def context(self) -> Context:
        """The worker thread's context (call only from that thread)."""
        ctx: Context | None = getattr(self._local, "context", None)
        if ctx is None:
            store = Store(self._config.database)
            self._stores.append(store)
            ctx = Context(self._config, store, self._now, self.pager, reference_writer=self.references)
            self._local.context = ctx
        return ctx

    async def handle(self, request: Request) -> Reply:
        """Answer one request (dispatch never raises) in the worker thread."""
        return await self.call(lambda ctx: dispatch(ctx, request))

    async def call(self, work: Callable[[Context], _T]) -> _T:
        """Run ``work`` with the worker's context in its thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: work(self.context()))

    async def record_state(
        self, platform: str, state: str, detail: str = "", next_attempt: datetime | None = None
    ) -> None:
        """Save a platform's connection state for ``finews-bot status`` (the service records the
        start and the stop; an adapter what happens to its connection in between). A failure is
        logged, never raised: a status line is not worth the connection."""
        record = PlatformState(platform, state, detail[:300], next_attempt, self._now())

        def save(ctx: Context) -> None:
            with ctx.store.transaction():
                ctx.store.save_platform_state(record)

        try:
            await self.call(save)
        except Exception:
            log.exception("could not record %s's state", platform)

    def _close_stores(self) -> None:
        for store in self._stores:
            store.close()

    def close(self) -> None:
        """Stop the thread and close its store (in the thread that opened it)."""
        self._executor.submit(self._close_stores).result()
        self._executor.shutdown(wait=True)
        self.references.close()


class RecentIds:
    """The ids of the events lately handled: a platform re-delivers an event whose ack came late
    (DingTalk after about 60 s, Feishu after 3 s), and it must be answered once."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        """True the first time ``event_id`` is seen (it is then remembered), False after."""
        with self._lock:
            if event_id in self._ids:
                self._ids.move_to_end(event_id)
                return False
            self._ids[event_id] = None
            while len(self._ids) > self.capacity:
                self._ids.popitem(last=False)
            return True
