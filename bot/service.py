"""The service behind ``finews-bot run``: one asyncio process, one APScheduler scheduler.

It polls every source on its interval, queues each subscription's digest when it falls due and
empties the outbox into the channels it has. It is handed its chat adapters (Telegram, …) as
factories and knows them only as :class:`~bot.delivery.channels.ChatAdapter`: it imports no chat
platform, and runs the same without any.

Each source is its own job: jittered, never two runs of one source at a time, runs missed while
the process was busy or asleep coalesced into one. A source backing off after failures skips its
turns until its next attempt (see :mod:`bot.ingest.health`). SIGINT and SIGTERM stop the service cleanly:
no new polls, running ones given a moment to finish, connections closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Config, SourceConfig
from bot.delivery.channels import ChannelSender, ChatAdapter, ConnectError, ConsoleSender
from bot.delivery.digester import Digester
from bot.delivery.outbox import Deliverer
from bot.delivery.robots import RobotChannel
from bot.domain.models import Channel
from bot.domain.records import PlatformState
from bot.domain.when import Clock, format_duration
from bot.ingest.poller import Poller, due_sources, poll_summary
from bot.store import Store

log = logging.getLogger(__name__)

# Polls still running at shutdown get this long to finish before they are cancelled.
SHUTDOWN_GRACE = 10.0
# The first poll after start-up is spread over this much (or a tenth of the interval, if shorter).
START_SPREAD = timedelta(seconds=5)
# While a chat platform cannot be reached at start-up, try again after 5 s, doubling up to 5 minutes.
CONNECT_RETRY_START = 5
CONNECT_RETRY_CAP = 300

AdapterFactory = Callable[[], ChatAdapter]


class Service:
    """The long-running service: the scheduler, the poller it drives, the chat adapters it runs.

    ``clock`` is the business clock (which digests are due); the scheduler itself always runs on
    real time, whatever ``FINEWS_FAKE_NOW`` says.
    """

    def __init__(
        self,
        config: Config,
        poller: Poller | None = None,
        clock: Clock | None = None,
        senders: dict[Channel, ChannelSender] | None = None,
        adapters: Sequence[AdapterFactory] = (),
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
        # Group robots are webhooks: no connection to open, so they are a channel from the start.
        self.robots: RobotChannel | None = None
        if config.robots and Channel.ROBOT not in self.senders:
            self.robots = RobotChannel.for_store(config.robots, self.store, self.clock.now())
            self.senders[Channel.ROBOT] = self.robots
        self.deliverer = Deliverer(self.store, self.senders, self.clock.now)
        self.adapter_factories = tuple(adapters)
        self.adapters: list[ChatAdapter] = []  # connected
        self._connecting: list[asyncio.Task[None]] = []
        self._stopping = False

    async def _connect(self, factory: AdapterFactory) -> None:
        """Start one chat adapter; while its platform is unreachable, keep trying in the background.

        Refused credentials end the attempts: the service runs on without that platform. Each
        step is recorded for ``finews-bot status``.
        """
        delay = CONNECT_RETRY_START
        while True:
            adapter = factory()
            await self._record(adapter.platform, "connecting")
            try:
                await adapter.start()
            except ConnectError as error:
                await adapter.stop()
                if error.permanent:
                    log.error("%s; running without %s", error, adapter.name)
                    await self._record(adapter.platform, "refused", str(error))
                    return
                log.warning("%s unreachable (%s); trying again in %ds", adapter.name, error, delay)
                retry = self.clock.now() + timedelta(seconds=delay)
                await self._record(adapter.platform, "retrying", str(error), retry)
                await asyncio.sleep(delay)
                delay = min(delay * 2, CONNECT_RETRY_CAP)
                continue
            self.adapters.append(adapter)
            self.senders[adapter.channel] = adapter
            await self._record(adapter.platform, "connected")
            return

    async def _record(
        self, platform: str, state: str, detail: str = "", next_attempt: datetime | None = None
    ) -> None:
        """Save a platform's connection state (in a worker thread, with its own connection)."""
        record = PlatformState(platform, state, detail[:300], next_attempt, self.clock.now())

        def save() -> None:
            store = self.poller.stores.get()
            with store.transaction():
                store.save_platform_state(record)

        try:
            await asyncio.to_thread(save)
        except Exception:  # a status line is not worth a platform: log and go on
            log.exception("could not record %s's state", platform)

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
                log.warning("%s", poll_summary(report))
            elif report.found:
                log.info("%s", poll_summary(report))

    async def _first_runs(self) -> dict[str, datetime]:
        states = await asyncio.to_thread(lambda: self.poller.stores.get().source_states())
        now = Clock().now()  # the scheduler's time: real time
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
        await asyncio.to_thread(self._resume_robots)
        self.scheduler.add_job(
            self._digest_check,
            IntervalTrigger(seconds=self.config.digest.check_every.total_seconds()),
            id="digests",
            name="digests due and outbox",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=Clock().now(),  # at start-up: catch up on digests missed while down
        )
        self.scheduler.start()
        self._connecting = [asyncio.create_task(self._connect(f)) for f in self.adapter_factories]
        names = (
            ", ".join(
                f"{s.name} ({s.kind}, every {format_duration(s.every)})" for s in due_sources(self.config)
            )
            or "none"
        )
        log.info("finews-bot service started: database %s; sources: %s", self.config.database, names)

    def _resume_robots(self) -> None:
        """Give robots paused for refused credentials another try: a restart is how a fixed key or
        secret (they come from the environment) takes effect."""
        with self.store.transaction():
            resumed = self.store.resume_paused(Channel.ROBOT, self.clock.now())
        for chat in resumed:
            log.info("%s: resumed after a restart; its held messages are tried again", chat)

    async def stop(self) -> None:
        """Stop scheduling, let running jobs finish (or cancel them after a grace period), clean up.

        Jobs are waited for before the adapters are stopped: a digest check may be in the middle
        of a send, and a send cut off after the platform got the message would leave it pending in
        the outbox, to be sent again at the next start.
        """
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.pause()  # no new runs; APScheduler's shutdown would cancel running ones
        await asyncio.sleep(0)  # a job task created just now starts, and registers in _running
        for connecting in self._connecting:
            connecting.cancel()
        await asyncio.gather(*self._connecting, return_exceptions=True)
        running = list(self._running)
        if running:
            _done, pending = await asyncio.wait(running, timeout=SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for adapter in self.adapters:
            self.senders.pop(adapter.channel, None)
            await adapter.stop()
            await self._record(adapter.platform, "stopped")
        if self.robots is not None:
            await self.robots.aclose()
        await self.poller.aclose()
        self.store.close()
        log.info("finews-bot service stopped")


async def serve(
    config: Config,
    clock: Clock,
    adapters: Sequence[AdapterFactory] = (),
    stop: asyncio.Event | None = None,
) -> None:
    """Run the service with these chat adapters until SIGINT/SIGTERM (or until ``stop`` is set)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    service = Service(config, clock=clock, adapters=adapters)
    await service.start()
    try:
        await stop.wait()
    finally:
        await service.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
