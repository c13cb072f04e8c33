"""What the service keeps about its work, beside the news itself: subscriptions, the outbox and
its deliveries, the sources' polling state and the files a folder source has read, the chat
platforms' connections, the numbered lists chats were shown.

Frozen dataclasses, apart from :mod:`bot.domain.models` (the items and topics every query makes)
because a query never makes one of these, and each dataclass costs Python 3.11 0.6-1.5 ms to create
when its module is loaded: a command-line query pays for what it imports (issue #15).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from bot.domain.models import Channel


@dataclass(frozen=True, slots=True)
class SeenFile:
    """A file as a folder source last read it: unchanged size and mtime mean no re-read."""

    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Subscription:
    """A chat that receives the digest of the previous day at ``time`` (configured time zone)."""

    id: int
    channel: Channel
    chat: str
    topics: tuple[str, ...]  # empty: every topic
    time: time
    days: str  # "daily" or "weekdays"
    title: str = ""
    origin: str = "chat"  # "config" (declared in the config file) or "chat" (/subscribe)
    paused: str = ""  # why delivery is paused (the bot was removed from the group), or ""
    created: datetime | None = None  # UTC

    @property
    def label(self) -> str:
        """How the chat is named in logs and files: its title, else its id."""
        return self.title or self.chat


class OutboxStatus(StrEnum):
    """Where a message stands: waiting, delivered (with the platform's id), or given up."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One message to send, as kept in the outbox until the platform has it."""

    id: int
    delivery_id: int | None
    channel: Channel
    chat: str
    part: int
    parts: int
    body: str
    format: str  # "html" or "text"
    status: OutboxStatus
    attempts: int = 0
    error: str = ""
    next_attempt: datetime | None = None
    message_id: str = ""


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the service knows about one configured source between polls (times in UTC)."""

    name: str
    kind: str
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str = ""
    failures: int = 0  # consecutive failed polls
    next_attempt: datetime | None = None
    last_new: datetime | None = None  # the last poll that stored something new or updated
    rhythm: float | None = None  # seconds: the usual gap between polls that found something
    etag: str | None = None
    last_modified: str | None = None
    # What had to be repaired to read it at the last successful poll (a feed's sloppy XML, an
    # undeclared encoding…), in words; "" when it was read as it is.
    warning: str = ""


class DeliveryStatus:
    """Where a (subscription, day) stands."""

    SENDING = "sending"  # queued in the outbox, not every part sent yet
    SENT = "sent"
    SILENT = "silent"  # an empty day, configured to send nothing
    MISSED = "missed"  # fell due while the service was down, beyond the grace window
    FAILED = "failed"  # a part was given up (e.g. the bot was removed from the chat)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One subscription's digest of one day."""

    id: int
    subscription_id: int
    day: date
    due: datetime
    status: str
    stories: int
    created: datetime
    finished: datetime | None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message to queue: its body and whether it is Telegram HTML or plain text."""

    body: str
    format: str = "html"


@dataclass(frozen=True, slots=True)
class PlatformState:
    """How a chat platform's connection stands, as the service last saw it."""

    platform: str  # "telegram", "dingtalk", "feishu", "wecom"
    state: str  # connecting | connected | retrying | refused | stopped
    detail: str  # the last error, or ""
    next_attempt: datetime | None  # while retrying
    updated: datetime


@dataclass(frozen=True, slots=True)
class ItemRef:
    """A numbered entry of a list a chat was shown: what "/why 3" or "/why 上市 3" refers to."""

    number: int  # as shown: 1, 2, … (per section in a digest, across pages in a list)
    topic: str  # the topic it was listed under; "" in a keyword search (/latest)
    item_id: str


@dataclass(frozen=True, slots=True)
class ReferenceList:
    """The numbered entries of the last list or digest a chat was shown, and what that was."""

    kind: str  # "topic", "latest" or "digest"
    label: str  # what the chat saw, e.g. "/topic 上市" or "2022-04-03 日报"
    made: datetime  # UTC
    refs: tuple[ItemRef, ...]
