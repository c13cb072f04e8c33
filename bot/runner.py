"""``finews-bot run``: one asyncio process, one APScheduler scheduler, every source on its interval.

Each source is its own job: jittered, never two runs of one source at a time, runs missed while
the process was busy or asleep coalesced into one. A source backing off after failures skips its
turns until its next attempt (see :mod:`bot.health`). SIGINT and SIGTERM stop the service cleanly:
no new polls, running ones given a moment to finish, connections closed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Config, SourceConfig, format_duration
from bot.service import Poller, describe, due_sources, utc_now

log = logging.getLogger(__name__)

# Polls still running at shutdown get this long to finish before they are cancelled.
SHUTDOWN_GRACE = 10.0
# The first poll after start-up is spread over this much (or a tenth of the interval, if shorter).
START_SPREAD = timedelta(seconds=5)


class Service:
    """The long-running service: the scheduler and the poller it drives."""

    def __init__(self, config: Config, poller: Poller | None = None) -> None:
        self.config = config
        self.poller = poller or Poller(config)
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._running: set[asyncio.Task[None]] = set()

    async def _scheduled_poll(self, source: SourceConfig) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            report = await self.poller.poll(source)
            if report.error:
                log.warning("%s", describe(report))
            elif report.found:
                log.info("%s", describe(report))
        finally:
            if task is not None:
                self._running.discard(task)

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
        self.scheduler.start()
        names = (
            ", ".join(
                f"{s.name} ({s.kind}, every {format_duration(s.every)})" for s in due_sources(self.config)
            )
            or "none"
        )
        log.info("finews-bot service started: database %s; sources: %s", self.config.database, names)

    async def stop(self) -> None:
        """Stop scheduling, let running polls finish (or cancel them after a grace period), clean up."""
        self.scheduler.shutdown(wait=False)
        running = list(self._running)
        if running:
            _done, pending = await asyncio.wait(running, timeout=SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.poller.aclose()
        log.info("finews-bot service stopped")


async def serve(config: Config, stop: asyncio.Event | None = None) -> None:
    """Run the service until SIGINT/SIGTERM (or until ``stop`` is set)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    service = Service(config)
    await service.start()
    try:
        await stop.wait()
    finally:
        await service.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
