"""The configuration of what is read and sent: ``[topics.NAME]``, ``[digest]``, ``[[subscriptions]]``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

from bot.config.base import REQUIRED, ConfigError, Shape, ShapeError, explain
from bot.domain.models import CONSOLE_CHAT, DEFAULT_MIN_SCORE, DEFAULT_NEAR_WINDOW, ROBOT_PREFIX, Topic
from bot.domain.topics import RULE_LISTS, topic_from_dict
from bot.domain.when import DAYS, parse_clock, parse_duration

# A chat is a Telegram chat id (a group's is negative), the console, or "robot:NAME".
CONSOLE = CONSOLE_CHAT
# Beyond a few clauses a "context" says nothing about the sense of an occurrence any more.
MAX_NEAR_WINDOW = 100
# A threshold no real item reaches only hides the topic; this is far above any useful one.
MAX_MIN_SCORE = 100.0


_RAW_TOPIC = Shape(
    "topic",
    keywords=(list[str], REQUIRED),
    description=(str, ""),
    exclude=(list[str], []),
    not_in=(list[str], []),
    require=(list[str], []),
    sources=(list[str], []),
    exclude_sources=(list[str], []),
    weights=(dict[str, float], {}),
    title_keywords=(list[str], []),
    near=(dict[str, Any], {}),  # checked by _near, which can name the keyword of a wrong value
    not_near=(dict[str, Any], {}),
    near_window=(int, DEFAULT_NEAR_WINDOW),
    min_score=(float, DEFAULT_MIN_SCORE),
)
_RAW_DIGEST = Shape(
    "digest",
    top=(int, 5),
    send_empty=(bool, True),
    grace=(str, "6h"),
    check_every=(str, "30s"),
    priority=(dict[str, float], {}),
    repeat_stories=(bool, False),
)
_RAW_SUBSCRIPTION = Shape(
    "subscription",
    chat=(str | int, REQUIRED),
    topics=(list[str], []),
    time=(str, "08:30"),
    days=(str, "daily"),
    title=(str, ""),
)

TOPIC_KEYS = _RAW_TOPIC.keys
DIGEST_KEYS = _RAW_DIGEST.keys
SUBSCRIPTION_KEYS = _RAW_SUBSCRIPTION.keys


@dataclass(frozen=True, slots=True)
class DigestConfig:
    """``[digest]``: how digests are built and delivered."""

    top: int = 5  # entries shown per topic; the rest are counted ("另有 N 条")
    send_empty: bool = True  # send "今日无相关新闻" on a day without news, rather than nothing
    grace: timedelta = timedelta(hours=6)  # a digest missed while down is still sent this late
    check_every: timedelta = timedelta(seconds=30)  # how often the service looks for due digests
    priority: Mapping[str, float] = field(default_factory=dict)  # source slug or name → rank bonus
    # False: a story matching several topics is shown once, under its strongest, the others named;
    # True: under every topic it matched, as before placement existed.
    repeat_stories: bool = False


@dataclass(frozen=True, slots=True)
class SubscriptionConfig:
    """One ``[[subscriptions]]`` entry: a chat that receives the digest every (week)day."""

    chat: str
    topics: tuple[str, ...]  # empty: every topic
    time: time
    days: str
    title: str = ""


def _words(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))


def parse_topic(name: str, raw: Any, file: str) -> Topic:
    """Validate one ``[topics.NAME]`` table."""
    where = f"topics.{name}"
    try:
        topic = _RAW_TOPIC.convert(raw)
    except ShapeError as error:
        raise ConfigError(f"{file}: {explain(error, where, TOPIC_KEYS)}") from None
    keywords = _words(topic.keywords)
    if not name.strip():
        raise ConfigError(f"{file}: {where}: expected a non-empty topic name")
    if not keywords:
        raise ConfigError(f"{file}: {where}.keywords: expected at least one non-empty keyword")
    cleaned = {key: _words(getattr(topic, key)) for key in RULE_LISTS}
    both = [k for k in cleaned["title_keywords"] if k in keywords]
    if both:
        raise ConfigError(
            f"{file}: {where}.title_keywords: {both[0]!r} is also in keywords; a word is either counted"
            " everywhere (keywords) or only in the headline (title_keywords)"
        )
    every_keyword = (*keywords, *cleaned["title_keywords"])
    for keyword, weight in topic.weights.items():
        if keyword not in every_keyword:
            raise ConfigError(f"{file}: {where}.weights: {keyword!r} is not one of the topic's keywords")
        if weight <= 0:
            raise ConfigError(f"{file}: {where}.weights.{keyword}: expected a positive number")
    near = _near(topic.near, every_keyword, f"{file}: {where}.near", "the words that must stand close to it")
    not_near = _near(
        topic.not_near, every_keyword, f"{file}: {where}.not_near", "words that must not stand close to it"
    )
    if not 1 <= topic.near_window <= MAX_NEAR_WINDOW:
        raise ConfigError(
            f"{file}: {where}.near_window: expected 1 to {MAX_NEAR_WINDOW} characters,"
            f" got {topic.near_window}"
        )
    if not 0 <= topic.min_score <= MAX_MIN_SCORE:
        raise ConfigError(
            f"{file}: {where}.min_score: expected a number from 0 to {MAX_MIN_SCORE:g}"
            " (a body occurrence scores its keyword's weight, a headline one twice that),"
            f" got {topic.min_score:g}"
        )
    return topic_from_dict(
        {
            "keywords": keywords,
            "description": topic.description,
            "weights": topic.weights,
            "near": near,
            "not_near": not_near,
            "near_window": topic.near_window,
            "min_score": topic.min_score,
            **cleaned,
        },
        name=name,
    )


def _near(
    raw: dict[str, Any], keywords: tuple[str, ...], where: str, gives: str
) -> dict[str, tuple[str, ...]]:
    """``near`` or ``not_near``: each key one of the topic's keywords, each with at least one context
    word (``gives``: what the table gives a keyword, for the message naming a wrong key)."""
    near: dict[str, tuple[str, ...]] = {}
    table = where.rsplit(".", 1)[-1]
    for keyword, words in raw.items():
        key = keyword.strip()
        if key not in keywords:
            raise ConfigError(
                f"{where}: {keyword!r} is not one of the topic's keywords ({table} gives a keyword {gives})"
            )
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            got = "a string" if isinstance(words, str) else type(words).__name__
            raise ConfigError(f'{where}.{key}: expected an array of words like ["企业", "公司"], got {got}')
        cleaned = _words(words)
        if not cleaned:
            raise ConfigError(f"{where}.{key}: expected at least one non-empty word")
        near[key] = tuple(dict.fromkeys((*near.get(key, ()), *cleaned)))
    return near


def _duration(value: str, where: str, example: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError:
        raise ConfigError(f'{where}: expected a duration like "{example}", got {value!r}') from None


def parse_digest(raw: Any, file: str) -> DigestConfig:
    """Validate ``[digest]``."""
    try:
        digest = _RAW_DIGEST.convert(raw)
    except ShapeError as error:
        raise ConfigError(f"{file}: {explain(error, 'digest', DIGEST_KEYS)}") from None
    if not 1 <= digest.top <= 50:
        raise ConfigError(f"{file}: digest.top: expected 1 to 50 entries per topic, got {digest.top}")
    return DigestConfig(
        top=digest.top,
        send_empty=digest.send_empty,
        grace=_duration(digest.grace, f"{file}: digest.grace", "6h"),
        check_every=_duration(digest.check_every, f"{file}: digest.check_every", "30s"),
        priority=dict(digest.priority),
        repeat_stories=digest.repeat_stories,
    )


def parse_subscriptions(
    raw: Any, topics: Mapping[str, Topic], file: str, robots: Sequence[str] = ()
) -> tuple[SubscriptionConfig, ...]:
    """Validate ``[[subscriptions]]``; topics must name configured topics, a ``robot:NAME`` chat a
    configured robot (``robots``: their names)."""
    if not isinstance(raw, list):
        raise ConfigError(f"{file}: subscriptions: expected an array of tables ([[subscriptions]])")
    result = []
    chats: set[str] = set()
    for index, entry in enumerate(raw):
        where = f"subscriptions[{index}]"
        try:
            sub = _RAW_SUBSCRIPTION.convert(entry)
        except ShapeError as error:
            raise ConfigError(f"{file}: {explain(error, where, SUBSCRIPTION_KEYS)}") from None
        chat = str(sub.chat).strip()
        if not chat:
            raise ConfigError(f"{file}: {where}.chat: expected a Telegram chat id or {CONSOLE!r}")
        if chat.startswith(ROBOT_PREFIX):
            if chat.removeprefix(ROBOT_PREFIX) not in robots:
                known = ", ".join(ROBOT_PREFIX + r for r in robots) or "none configured in [[robots]]"
                raise ConfigError(f"{file}: {where}.chat: unknown robot {chat!r} (robots: {known})")
        elif chat != CONSOLE and not re.fullmatch(r"-?\d+", chat):
            raise ConfigError(
                f"{file}: {where}.chat: expected a Telegram chat id (a number), {CONSOLE!r} or"
                f' "{ROBOT_PREFIX}NAME" of a [[robots]] entry, got {chat!r}'
            )
        if chat in chats:
            raise ConfigError(f"{file}: {where}.chat: {chat} is subscribed twice; one entry per chat")
        chats.add(chat)
        try:
            clock = parse_clock(sub.time)
        except ValueError:
            raise ConfigError(
                f'{file}: {where}.time: expected HH:MM like "08:30", got {sub.time!r}'
            ) from None
        if sub.days not in DAYS:
            raise ConfigError(f"{file}: {where}.days: expected one of {', '.join(DAYS)}, got {sub.days!r}")
        names = _words(sub.topics)
        for name in names:
            if name not in topics:
                known = ", ".join(topics) or "none configured"
                raise ConfigError(f"{file}: {where}.topics: unknown topic {name!r} (topics: {known})")
        # A robot's digest is headed with the robot's name unless the entry gives another title.
        title = sub.title or (chat.removeprefix(ROBOT_PREFIX) if chat.startswith(ROBOT_PREFIX) else "")
        result.append(SubscriptionConfig(chat, names, clock, sub.days, title))
    return tuple(result)
