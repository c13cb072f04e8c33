"""The outbox, emptied into channels: in order per chat, retried with backoff, never sent twice.

A channel (:mod:`bot.delivery.channels`) only knows how to send one message and how it failed.
This module decides what a failure means: wait and retry (flood control, network, server errors), send
again as plain text (markup the platform rejects), or give the chat up and pause its
subscription (the bot was removed). A chat's messages go out in order: a part that must wait
holds back the parts after it, so a digest never arrives shuffled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.delivery.channels import ChannelSender, Failure, SendError
from bot.domain.models import Channel
from bot.domain.records import OutboxMessage
from bot.domain.safetext import html_to_text
from bot.store import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BACKOFF_START = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)


@dataclass(slots=True)
class FlushReport:
    """What one pass over the outbox did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    waiting: int = 0  # pending messages not yet due, or held behind an earlier part
    held: int = 0  # pending messages of a paused chat (its credentials refused), kept for later
    errors: list[str] = field(default_factory=list)


def retry_delay(attempts: int) -> timedelta:
    """The wait before the next attempt after ``attempts`` failures: 30 s doubling, at most 1 h."""
    factor: int = 2 ** max(0, min(attempts - 1, 16))
    return min(BACKOFF_CAP, BACKOFF_START * factor)


class _Outcome(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"  # given up; the chat's next message may go
    WAIT = "wait"  # retry later; the chat's next messages wait behind it
    GONE = "gone"  # the chat is unreachable
    MOVED = "moved"  # the chat has a new id: its messages go there


class Deliverer:
    """Empties the outbox into the channels it has (messages for others wait for them)."""

    def __init__(
        self,
        store: Store,
        senders: Mapping[Channel, ChannelSender],
        now: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.senders = senders
        self.now = now

    async def flush(self) -> FlushReport:
        """Send every due message of every available channel, chat by chat, in order."""
        report = FlushReport()
        for channel, sender in self.senders.items():
            by_chat: dict[str, list[OutboxMessage]] = {}
            paused = self.store.paused_chats(channel)  # held until their chat is fixed
            for message in self.store.pending_messages(channel):
                if message.chat in paused:
                    report.held += 1
                    continue
                by_chat.setdefault(message.chat, []).append(message)
            for chat, messages in by_chat.items():
                await self._flush_chat(sender, chat, messages, report)
        return report

    async def drain(
        self, *, wait_cap: timedelta, on_wait: Callable[[float], None] | None = None
    ) -> FlushReport:
        """Flush, then wait for messages that fall due within ``wait_cap`` (a retry after a timeout,
        a rate limit of a minute) and flush again, until none do. For a one-off command: the
        service flushes on its own schedule. Waits longer than ``wait_cap`` are left to later."""
        total = FlushReport()
        while True:
            report = await self.flush()
            total.sent += report.sent
            total.retried += report.retried
            total.failed += report.failed
            total.errors += report.errors
            total.waiting, total.held = report.waiting, report.held
            due = self.store.next_attempt(list(self.senders))
            if due is None or due - self.now() > wait_cap:
                return total
            seconds = max((due - self.now()).total_seconds(), 0.0)
            if on_wait is not None:
                on_wait(seconds)
            await asyncio.sleep(seconds)

    async def _flush_chat(
        self, sender: ChannelSender, chat: str, messages: list[OutboxMessage], report: FlushReport
    ) -> None:
        for index, message in enumerate(messages):
            if message.next_attempt is not None and message.next_attempt > self.now():
                report.waiting += len(messages) - index
                return
            outcome = await self._send_one(sender, message, report)
            if outcome is _Outcome.MOVED:
                # The chat lives on under a new id, its messages moved with it: send them there.
                moved = self.store.pending_messages(message.channel)
                new_chat = next((m.chat for m in moved if m.id == message.id), None)
                if new_chat is not None and new_chat != chat:
                    await self._flush_chat(sender, new_chat, [m for m in moved if m.chat == new_chat], report)
                return
            if outcome is _Outcome.WAIT:
                report.waiting += len(messages) - index - 1
                return
            if outcome is _Outcome.GONE:
                # Nothing more can reach this chat: the rest of its queue is given up with it.
                for rest in messages[index + 1 :]:
                    self.store.mark_failed(rest, "the chat is unreachable", self.now())
                    report.failed += 1
                return

    async def _send_one(self, sender: ChannelSender, message: OutboxMessage, report: FlushReport) -> _Outcome:
        """Try one message and record what happened."""
        body, format_ = message.body, message.format
        while True:
            try:
                platform_id = await sender.send(message.chat, body, format_)
            except SendError as error:
                if error.failure is Failure.BAD_MARKUP and format_ == "html":
                    log.warning(
                        "%s %s: markup rejected (%s); sending as plain text",
                        message.channel,
                        message.chat,
                        error.detail,
                    )
                    body, format_ = html_to_text(body), "text"
                    continue
                return self._handle_failure(message, error, report)
            self.store.mark_sent(message, platform_id, self.now())
            report.sent += 1
            return _Outcome.SENT

    def _handle_failure(self, message: OutboxMessage, error: SendError, report: FlushReport) -> _Outcome:
        where = f"{message.channel} {message.chat} (part {message.part}/{message.parts})"
        report.errors.append(f"{where}: {error.detail}")
        if error.failure is Failure.GONE:
            log.warning("%s: %s; pausing the chat's subscription", where, error.detail)
            self.store.mark_failed(message, error.detail, self.now())
            self.store.pause_subscription(message.channel, message.chat, error.detail, self.now())
            report.failed += 1
            return _Outcome.GONE
        if error.failure is Failure.MOVED and error.moved_to:
            log.warning(
                "%s: %s; the chat is now %s: its subscription moves there",
                where,
                error.detail,
                error.moved_to,
            )
            self.store.move_chat(message.channel, message.chat, error.moved_to, self.now())
            return _Outcome.MOVED
        if error.failure is Failure.BLOCKED:
            # Our credentials are refused: nothing of this chat can go until they are fixed, and
            # nothing is lost meanwhile. A restart (with a fixed configuration) tries again.
            log.warning("%s: %s; holding its messages and pausing it", where, error.detail)
            self.store.mark_retry(message, error.detail, None, count=False)
            self.store.pause_subscription(message.channel, message.chat, error.detail, self.now())
            report.held += 1
            return _Outcome.WAIT
        # A platform's "too many messages, wait N s" is not a failure of the message: it waits as
        # long as it takes, never given up.
        rate_limited = error.retry_after is not None
        gave_up = not rate_limited and message.attempts + 1 >= MAX_ATTEMPTS
        if error.failure in (Failure.REJECTED, Failure.BAD_MARKUP) or gave_up:
            # Lost for good whatever we do; the parts after it are still worth sending.
            log.error("%s: giving up after %d attempts: %s", where, message.attempts + 1, error.detail)
            self.store.mark_failed(message, error.detail, self.now())
            report.failed += 1
            return _Outcome.SKIPPED
        wait = (
            timedelta(seconds=error.retry_after)
            if error.retry_after is not None
            else retry_delay(message.attempts + 1)
        )
        log.warning("%s: %s; retrying in %s", where, error.detail, wait)
        self.store.mark_retry(message, error.detail, self.now() + wait)
        report.retried += 1
        return _Outcome.WAIT
