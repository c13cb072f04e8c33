"""``finews-bot digest``: build a day's digest, write its files, print it, or send it to subscribers."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date, timedelta
from typing import Any

from bot.cli.base import ExitCode, UsageError, open_store
from bot.config import Config
from bot.delivery.channels import ChannelSender, ConsoleSender
from bot.delivery.digester import Digester
from bot.delivery.outbox import Deliverer, FlushReport
from bot.delivery.robots import RobotChannel
from bot.domain.models import Channel
from bot.domain.records import DeliveryStatus, OutboxStatus, Subscription
from bot.domain.when import Clock, parse_day
from bot.store import Store
from bot.store.lock import AlreadyRunning, ServiceLock
from bot.texts import cli as texts
from digests.render import render_telegram, render_text
from digests.values import Digest

# How long `digest --send` waits in the foreground for a retry or a rate limit to pass; longer waits
# (DingTalk's ten-minute throttle) are left to `finews-bot run` or a later `digest --send`.
SEND_WAIT_CAP = timedelta(minutes=2)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments."""
    parser.add_argument(
        "--date",
        default="yesterday",
        metavar="YYYY-MM-DD",
        help="the day (default: yesterday; also today, latest = the newest stored day)",
    )
    parser.add_argument("--topic", nargs="+", default=[], metavar="NAME", help="only these topics")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--send", action="store_true", help="deliver it to every subscription through the outbox"
    )


def resolve_day(text: str, config: Config, store: Store, clock: Clock) -> date:
    """``latest`` (the newest stored day), or a day as ``/digest`` reads it: ``YYYY-MM-DD``,
    ``today``, ``yesterday``…"""
    today = clock.now().astimezone(config.timezone).date()
    if text.strip().lower() == "latest":
        newest = next(store.all_items(), None)
        return newest.item.published.astimezone(config.timezone).date() if newest else today
    day = parse_day(text, today)
    if day is None:
        raise UsageError(texts.DIGEST_BAD_DATE.format(value=text))
    return day


def digest_json(digest: Digest, messages: list[str], files: list[str]) -> dict[str, Any]:
    """The ``--json`` shape: topics with their entries, the Telegram messages, the files written."""
    return {
        "date": digest.day.isoformat(),
        "items_considered": digest.items_considered,
        "topics": [
            {
                "name": section.name,
                "total": section.total,
                "entries": [
                    {
                        "title": e.title,
                        "url": e.url,
                        "published": e.published.isoformat(),
                        "ids": list(e.ids),
                        "sources": list(e.sources),
                        "snippet": e.snippet_text,
                        "matched": list(e.matched),
                        "also": list(e.also),
                        "in_passing": e.passing,
                    }
                    for e in section.entries
                ],
            }
            for section in digest.sections
        ],
        "messages": messages,
        "files": files,
    }


def _send(config: Config, store: Store, digester: Digester, day: date, clock: Clock) -> ExitCode:
    digester.sync_config_subscriptions()
    lock = ServiceLock(config.database)
    try:
        lock.acquire()
    except AlreadyRunning as running:
        # The service sends the robots' messages; two senders at once could send a part twice.
        robots_here = False
        if config.robots:
            print(texts.DIGEST_ROBOTS_BY_SERVICE.format(pid=running.pid or "?"), file=sys.stderr)
    else:
        robots_here = bool(config.robots)
        if robots_here:
            # A robot paused for refused credentials gets another try: they may have been fixed.
            with store.transaction():
                store.resume_paused(Channel.ROBOT, clock.now())
    try:
        return _queue_and_deliver(config, store, digester, day, clock, robots_here)
    finally:
        lock.release()


def _queue_and_deliver(
    config: Config, store: Store, digester: Digester, day: date, clock: Clock, robots_here: bool
) -> ExitCode:
    subs = [s for s in store.subscriptions() if not s.paused]
    if not subs:
        print(texts.DIGEST_NO_SUBSCRIPTIONS, file=sys.stderr)
        return ExitCode.NOTHING
    full = digester.day_digest(day)
    now = clock.now()
    for sub in subs:
        parts = digester.queue(sub, day, now, full)
        if parts is None:
            done = store.delivery(sub.id, day)
            status = done.status if done else "?"
            print(texts.DIGEST_ALREADY.format(chat=sub.label, day=day, status=status), file=sys.stderr)
        else:
            print(texts.DIGEST_QUEUED.format(chat=sub.label, day=day, parts=parts), file=sys.stderr)
    # The console channel is always at hand, group robots need no connection; Telegram messages
    # are sent only inside `finews-bot run` with a token.
    senders: dict[Channel, ChannelSender] = {Channel.CONSOLE: ConsoleSender()}
    report = asyncio.run(_deliver(config, store, senders, clock, robots_here))
    waiting = len(store.pending_messages(Channel.TELEGRAM))
    print(
        texts.DIGEST_SENT.format(sent=report.sent, failed=report.failed, waiting=waiting + report.waiting),
        file=sys.stderr,
    )
    if waiting:
        print(texts.DIGEST_WAITING_TELEGRAM.format(n=waiting), file=sys.stderr)
    held = _report_robots(config, store, subs, day)
    failed = [d for d in store.deliveries() if d.day == day and d.status == DeliveryStatus.FAILED]
    return ExitCode.NOTHING if failed or held else ExitCode.OK


async def _deliver(
    config: Config, store: Store, senders: dict[Channel, ChannelSender], clock: Clock, robots_here: bool
) -> FlushReport:
    robots = RobotChannel.for_store(config.robots, store, clock.now()) if robots_here else None
    if robots is not None:
        senders[Channel.ROBOT] = robots

    def waiting(seconds: float) -> None:
        print(texts.DIGEST_WAITING.format(seconds=round(seconds)), file=sys.stderr)

    try:
        return await Deliverer(store, senders, clock.now).drain(wait_cap=SEND_WAIT_CAP, on_wait=waiting)
    finally:
        if robots is not None:
            await robots.aclose()


def _report_robots(config: Config, store: Store, subs: list[Subscription], day: date) -> bool:
    """Per robot subscription: what of the day's digest went out; True if any is held back."""
    held = False
    for sub in subs:
        if sub.channel is not Channel.ROBOT:
            continue
        delivery = store.delivery(sub.id, day)
        messages = store.outbox_messages(delivery.id) if delivery is not None else []
        sent = sum(1 for m in messages if m.status is OutboxStatus.SENT)
        pending = [m for m in messages if m.status is OutboxStatus.PENDING]
        line = texts.DIGEST_ROBOT_SENT.format(chat=sub.label, day=day, sent=sent, parts=len(messages))
        current = store.subscription(sub.channel, sub.chat)
        if current is not None and current.paused:
            held = True
            line += texts.DIGEST_ROBOT_PAUSED.format(reason=current.paused)
        elif pending:
            when = min((m.next_attempt for m in pending if m.next_attempt), default=None)
            later = f"{when.astimezone(config.timezone):%H:%M:%S}" if when else "?"
            line += texts.DIGEST_ROBOT_LATER.format(n=len(pending), when=later)
        print(line, file=sys.stderr)
    return held


def run(config: Config, args: argparse.Namespace) -> ExitCode:
    """Build the digest of a day from stored items; write, print, or send it."""
    store = open_store(config, Store)
    if store is None:
        return ExitCode.NOTHING
    with store:
        return _digest(config, args, store)


def _digest(config: Config, args: argparse.Namespace, store: Store) -> ExitCode:
    clock = Clock.from_environment()
    digester = Digester(config, store, clock.now)
    day = resolve_day(args.date, config, store, clock)
    topics = digester.topics()
    unknown = [n for n in args.topic if n not in topics]
    if unknown:
        raise UsageError(
            texts.DIGEST_UNKNOWN_TOPIC.format(names="、".join(unknown), available="、".join(topics))
        )
    if args.send:
        return _send(config, store, digester, day, clock)
    digest = digester.day_digest(day, args.topic)
    files = [str(p) for p in digester.write_files(digest)]
    if args.json:
        data = digest_json(digest, render_telegram(digest), files)
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(render_text(digest))
        for path in files:
            print(texts.DIGEST_FILE.format(path=path), file=sys.stderr)
    return ExitCode.OK
