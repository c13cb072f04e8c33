"""``finews-bot run``: one asyncio process, one APScheduler scheduler, every source on its interval.

Each source is its own job: jittered, never two runs of one source at a time, runs missed while
the process was busy or asleep coalesced into one. A source backing off after failures skips its
turns until its next attempt (see :mod:`bot.health`). SIGINT and SIGTERM stop the service cleanly:
no new polls, running ones given a moment to finish, connections closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from telegram.error import InvalidToken, TelegramError

from bot import texts
from bot.clock import Clock
from bot.config import Config, SourceConfig, format_duration
from bot.delivery import ChannelSender, ConsoleSender, Deliverer
from bot.digesting import Digester
from bot.models import Channel
from bot.service import Poller, describe, due_sources, utc_now
from bot.store import Store
from bot.telegram import TelegramAdapter

log = logging.getLogger(__name__)

# Polls still running at shutdown get this long to finish before they are cancelled.
SHUTDOWN_GRACE = 10.0
# The first poll after start-up is spread over this much (or a tenth of the interval, if shorter).
START_SPREAD = timedelta(seconds=5)
# While Telegram cannot be reached at start-up, try again after 5 s, doubling up to 5 minutes.
TELEGRAM_RETRY_START = 5
TELEGRAM_RETRY_CAP = 300


class Service:
    """The long-running service: the scheduler and the poller it drives."""

    def __init__(
        self,
        config: Config,
        poller: Poller | None = None,
        clock: Clock | None = None,
        senders: dict[Channel, ChannelSender] | None = None,
    ) -> None:
        self.config = config
        self.poller = poller or Poller(config)
        self.clock = clock or Clock()
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._running: set[asyncio.Task[None]] = set()
        # The digest job's own connection: used by one job at a time (max_instances=1), from the
        # worker thread that builds digests and from the loop that sends them, never at once.
        self.store = Store(config.database, check_same_thread=False)
        self.digester = Digester(config, self.store, self.clock.now)
        self.senders: dict[Channel, ChannelSender] = senders or {Channel.CONSOLE: ConsoleSender()}
        self.deliverer = Deliverer(self.store, self.senders, self.clock.now)
        self.telegram: TelegramAdapter | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._stopping = False

    async def _connect_telegram(self) -> None:
        """Start the Telegram adapter; while Telegram is unreachable, keep trying in the background."""
        delay = TELEGRAM_RETRY_START
        while True:
            adapter = TelegramAdapter(self.config, self.clock.now)
            try:
                await adapter.start()
            except InvalidToken:
                log.error(
                    "Telegram refused the bot token ($%s); running without Telegram",
                    self.config.telegram.token_env,
                )
                await adapter.stop()
                return
            except TelegramError as error:
                log.warning("Telegram unreachable (%s); trying again in %ds", error, delay)
                await adapter.stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, TELEGRAM_RETRY_CAP)
                continue
            self.telegram = adapter
            self.senders[Channel.TELEGRAM] = adapter
            return

    @contextlib.contextmanager
    def _tracked(self, what: str) -> Iterator[None]:
        """Run a scheduled job's body as one of the jobs :meth:`stop` lets finish.

        APScheduler's shutdown cancels running coroutine jobs at once, so :meth:`stop` pauses
        the scheduler and waits for these tasks itself. A job still running when the grace period
        is over is cancelled: that is said in one line, not as a crash with a traceback.
        """
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            yield
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            log.warning("%s cancelled at shutdown", what)
        finally:
            if task is not None:
                self._running.discard(task)

    async def _digest_check(self) -> None:
        """Queue the digests that are due (building them off the loop), then empty the outbox."""
        with self._tracked("the digest check"):
            await self._check_digests()

    async def _check_digests(self) -> None:
        try:
            report = await asyncio.to_thread(self.digester.queue_due)
            for line in report.queued:
                log.info("digest queued: %s", line)
            flushed = await self.deliverer.flush()
            if flushed.sent or flushed.failed or flushed.retried:
                log.info(
                    "outbox: %d sent, %d retrying, %d failed, %d waiting",
                    flushed.sent,
                    flushed.retried,
                    flushed.failed,
                    flushed.waiting,
                )
        except Exception:
            # One bad check must not stop the next: log it whole and carry on.
            log.exception("digest check failed")

    async def _scheduled_poll(self, source: SourceConfig) -> None:
        with self._tracked(f"the poll of {source.name}"):
            report = await self.poller.poll(source)
            if report.error:
                log.warning("%s", describe(report))
            elif report.found:
                log.info("%s", describe(report))

    async def _first_runs(self) -> dict[str, datetime]:
        states = await asyncio.to_thread(lambda: self.poller.stores.get().source_states())
        now = utc_now()
        first = {}
        for source in due_sources(self.config):
            state = states.get(source.name)
            spread = min(START_SPREAD, source.every / 10) * self.poller.rng.random()
            due = now + spread
            if state is not None and state.failures and state.next_attempt and state.next_attempt > due:
                due = state.next_attempt  # still backing off from before the restart
            first[source.name] = due
        return first

    async def start(self) -> None:
        """Schedule every enabled source and start the scheduler."""
        first = await self._first_runs()
        for source in due_sources(self.config):
            seconds = source.every.total_seconds()
            self.scheduler.add_job(
                self._scheduled_poll,
                IntervalTrigger(seconds=seconds, jitter=min(seconds / 10, 60)),
                args=[source],
                id=f"source:{source.name}",
                name=f"poll {source.name}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, int(seconds)),
                next_run_time=first[source.name],
            )
        await asyncio.to_thread(self.digester.sync_config_subscriptions)
        self.scheduler.add_job(
            self._digest_check,
            IntervalTrigger(seconds=self.config.digest.check_every.total_seconds()),
            id="digests",
            name="digests due and outbox",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=utc_now(),  # at start-up: catch up on digests missed while down
        )
        self.scheduler.start()
        if self.config.telegram.token:
            self._connecting = asyncio.create_task(self._connect_telegram())
        else:
            log.info(texts.TELEGRAM_NO_TOKEN.format(env=self.config.telegram.token_env))
        names = (
            ", ".join(
                f"{s.name} ({s.kind}, every {format_duration(s.every)})" for s in due_sources(self.config)
            )
            or "none"
        )
        log.info("finews-bot service started: database %s; sources: %s", self.config.database, names)

    async def stop(self) -> None:
        """Stop scheduling, let running jobs finish (or cancel them after a grace period), clean up.

        Jobs are waited for before Telegram is stopped: a digest check may be in the middle of a
        send, and a send cut off after Telegram got the message would leave it pending in the
        outbox, to be sent again at the next start.
        """
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.pause()  # no new runs; APScheduler's shutdown would cancel running ones
        await asyncio.sleep(0)  # a job task created just now starts, and registers in _running
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
        running = list(self._running)
        if running:
            _done, pending = await asyncio.wait(running, timeout=SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.telegram is not None:
            self.senders.pop(Channel.TELEGRAM, None)
            await self.telegram.stop()
        await self.poller.aclose()
        self.store.close()
        log.info("finews-bot service stopped")


async def serve(config: Config, stop: asyncio.Event | None = None) -> None:
    """Run the service until SIGINT/SIGTERM (or until ``stop`` is set)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    service = Service(config, clock=Clock.from_environment())
    await service.start()
    try:
        await stop.wait()
    finally:
        await service.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
