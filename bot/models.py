"""The domain's plain values: what a source yields and what the store returns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum


class ItemKind(StrEnum):
    """Where an item came from, which decides how it was parsed."""

    POST = "post"  # a finews post (Jekyll front matter + HTML body)
    DOCUMENT = "document"  # a plain-text office document (speech, work report)
    FEED = "feed"  # an entry of a generic RSS/Atom feed (finews feed entries are posts)


@dataclass(frozen=True, slots=True)
class Item:
    """One news item or document, as parsed: the unit that is stored, searched and digested.

    ``text`` is the searchable body only: navigation footers and the source-URL line are not part
    of it. ``published`` is always timezone-aware.
    """

    id: str
    kind: ItemKind
    source: str  # slug, e.g. "zhuzhouribao"
    source_name: str  # the source's Chinese name, e.g. "株洲日报新闻"
    origin: str  # the original newspaper named in （文章来源：X）, or ""
    title: str
    published: datetime
    url: str
    text: str
    path: str = ""  # the file it was read from, if any

    def __reduce__(self) -> tuple[type[Item], tuple[object, ...]]:
        # Items cross process boundaries in large imports: the positional form pickles in half the
        # time of the generic dataclass state.
        return (
            Item,
            (
                self.id,
                self.kind,
                self.source,
                self.source_name,
                self.origin,
                self.title,
                self.published,
                self.url,
                self.text,
                self.path,
            ),
        )

    @property
    def content_hash(self) -> str:
        """A digest of what the item says, not of where it was read or who carried it.

        The same post found in ``_posts/`` and ``old_post/``, or the same entry in two feeds, hashes
        alike: storing it again is "unchanged", and two sources never flip one item back and forth.
        """
        parts = (
            self.kind,
            self.origin,
            self.title,
            self.published.isoformat(),
            self.url,
            self.text,
        )
        return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class SeenFile:
    """A file as a folder source last read it: unchanged size and mtime mean no re-read."""

    path: str
    size: int
    mtime_ns: int


class Channel(StrEnum):
    """Where a chat lives: the outbox keeps one queue per channel."""

    TELEGRAM = "telegram"
    CONSOLE = "console"


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
