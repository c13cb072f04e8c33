"""The domain's plain values that a search makes: items, topics, the audit log, and the channels
and platforms chats live on. What the service keeps about its own work (subscriptions, the outbox,
sources' state…) is :mod:`bot.domain.records`.

Frozen dataclasses and enums, importing nothing of the project: every floor above (digests, the
store, the engine, handlers, adapters) speaks in these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


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
        import hashlib  # here: loading OpenSSL costs a command-line query 3 ms it does not need

        parts = (
            self.kind,
            self.origin,
            self.title,
            self.published.isoformat(),
            self.url,
            self.text,
        )
        return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


class Channel(StrEnum):
    """Where a chat lives: the outbox keeps one queue per channel."""

    TELEGRAM = "telegram"
    CONSOLE = "console"
    ROBOT = "robot"  # a WeCom, DingTalk or Feishu group robot (a webhook), chat "robot:NAME"
    # The platforms' app-level bots, two-way; their chats are namespaced "dingtalk:<id>", …
    DINGTALK = "dingtalk"
    FEISHU = "feishu"
    WECOM = "wecom"


# The app-level bots' channels, each the prefix of its chats' ids ("feishu:oc_…").
APP_CHANNELS = (Channel.DINGTALK, Channel.FEISHU, Channel.WECOM)


class Platform(StrEnum):
    """A chat platform with custom group robots (webhooks)."""

    WECOM = "wecom"  # 企业微信 群机器人
    DINGTALK = "dingtalk"  # 钉钉 自定义机器人
    FEISHU = "feishu"  # 飞书 自定义机器人


# The console's chat, and the prefix of a group robot's chat ("robot:金融办工作群").
CONSOLE_CHAT = "console"
ROBOT_PREFIX = "robot:"


def channel_of(chat: str) -> Channel:
    """The channel a chat lives on: "console", "robot:NAME", "dingtalk:…", "feishu:…",
    "wecom:…", else a Telegram chat id (a number)."""
    if chat == CONSOLE_CHAT:
        return Channel.CONSOLE
    if chat.startswith(ROBOT_PREFIX):
        return Channel.ROBOT
    prefix, colon, _ = chat.partition(":")
    if colon and prefix in APP_CHANNELS:
        return Channel(prefix)
    return Channel.TELEGRAM


def app_chat(channel: Channel, conversation: str) -> str:
    """The namespaced chat id of a platform's conversation: ``dingtalk:cidXXX``."""
    return f"{channel.value}:{conversation}"


def app_conversation(chat: str) -> str:
    """The platform's own conversation id in a namespaced chat id."""
    return chat.partition(":")[2]


def robot_chat(name: str) -> str:
    """The chat of the group robot called ``name``."""
    return ROBOT_PREFIX + name


def robot_name(chat: str) -> str:
    """The robot's name in a ``robot:NAME`` chat."""
    return chat.removeprefix(ROBOT_PREFIX)


# A keyword's positive context must stand at most this many characters from it, unless the topic
# says otherwise: about a clause of Chinese (企业…上市, 上市…辅导), measured on the relevance set.
DEFAULT_NEAR_WINDOW = 10
# No minimum: one counted occurrence is enough, whatever its weight (as before scores existed).
DEFAULT_MIN_SCORE = 0.0


@dataclass(frozen=True, slots=True)
class Topic:
    """One ``[topics.NAME]`` table: which items are relevant to a subject.

    An item is relevant when its counted keyword occurrences reach ``min_score``, it holds every
    ``require`` word and no ``exclude`` word, and comes from an allowed source. An occurrence
    counts unless it lies inside an occurrence of a ``not_in`` context (上市 inside 线上市场); a
    keyword listed in ``near`` counts only where one of its words stands within ``near_window``
    characters (上市 near 企业), and one listed in ``not_near`` only where none of its words does
    (小额贷款 not beside 质押: a share pledge names the lender); a ``title_keywords`` word counts only
    in the headline. Each counted occurrence scores its keyword's weight, twice over in the headline.
    """

    name: str
    keywords: tuple[str, ...]
    description: str = ""
    exclude: tuple[str, ...] = ()
    not_in: tuple[str, ...] = ()
    require: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # allowed source slugs; empty: every source
    exclude_sources: tuple[str, ...] = ()  # source slugs never taken
    weights: Mapping[str, float] = field(default_factory=dict)  # keyword → weight (default 1)
    title_keywords: tuple[str, ...] = ()  # keywords that count only in the headline
    near: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # keyword → positive contexts
    not_near: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # keyword → negative ones
    near_window: int = DEFAULT_NEAR_WINDOW  # characters between a keyword and its context, at most
    min_score: float = DEFAULT_MIN_SCORE  # what the counted occurrences must score together

    def weight(self, keyword: str) -> float:
        """How much one keyword counts, in the score and in ranking (1 unless configured)."""
        return self.weights.get(keyword, 1.0)

    @property
    def all_keywords(self) -> tuple[str, ...]:
        """Every word that can make an item relevant: keywords, then headline-only keywords."""
        return (*self.keywords, *self.title_keywords)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who changed what, where and when, with the value before and after."""

    at: datetime  # UTC
    user_id: str
    user_name: str
    chat: str
    action: str  # e.g. add_keyword, delete_topic, subscribe
    target: str  # the topic or chat changed
    before: Any  # JSON-able; None when the thing did not exist
    after: Any
    id: int = 0
    scope: str = ""  # a change of one chat's own topics: that chat; "" for the global topics
