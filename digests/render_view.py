"""A digest made ready to show: cleaned text, local times, outlet summaries, safe links.

Every output format (:mod:`digests.render_telegram`, :mod:`digests.render`) starts from the same
:class:`DigestView`, so they agree on what a reader sees and differ only in markup. Nothing here
escapes: each format escapes for its own syntax.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import TypeVar, cast
from zoneinfo import ZoneInfo

from bot.domain.safetext import ELLIPSIS, cap, clean, flatten, safe_url
from bot.texts import digest as texts
from digests.values import Digest, Entry, SnippetPart, TopicSection

# Names from configuration (topics, outlets, the chat's title) are short in practice; the cap only
# keeps a pathological one from crowding an entry out of a 4096-unit Telegram message.
NAME_LIMIT = 200


_T = TypeVar("_T")
# (id of the object, what was made of it) → (the object, the value): see shared_rendering().
_Shared = dict[tuple[int, Hashable], tuple[object, object]]
_SHARED: ContextVar[_Shared | None] = ContextVar("digests_shared_rendering", default=None)


@contextmanager
def shared_rendering() -> Iterator[None]:
    """Within the block, a digest, a section or an entry is made ready to show (and, by each
    format, written out) once, however many digests it is rendered in.

    :class:`bot.delivery.digester.Digester` renders each subscription's selection of the day's sections:
    the same section objects, each in tens of chats' digests, three formats each. Everything
    rendered is a frozen value and every rendering a pure function of it, so a cached result is
    the result. Entries are keyed by object identity (hashing a section would cost a good part of
    rendering it); the cache keeps each object alive so that its id cannot pass to another one.
    The cache is per context (thread), and dropped at the end of the block.
    """
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def reuse(obj: object, what: Hashable, make: Callable[[], _T]) -> _T:
    """``make()``: what ``what`` makes of ``obj``, made once per :func:`shared_rendering` block."""
    shared = _SHARED.get()
    if shared is None:
        return make()
    key = (id(obj), what)
    cached = shared.get(key)
    if cached is not None and cached[0] is obj:
        return cast(_T, cached[1])
    value = make()
    shared[key] = (obj, value)
    return value


@dataclass(frozen=True, slots=True)
class EntryView:
    """One story as shown: numbered within its section, every string cleaned."""

    number: int
    title: str
    url: str | None  # an http(s) URL fit to link, or None
    outlets: str  # "株洲日报、湖南日报等 3 家"
    time: str  # "08:30", or with the date when the story is from another day
    published: datetime  # in the digest's time zone
    snippet: tuple[SnippetPart, ...]  # cleaned, adjacent parts of one kind merged, no empty parts
    also: tuple[str, ...] = ()  # the other topics the story matched (shown once, under this one)
    passing: bool = False  # names the topic once, in the body only

    @property
    def meta(self) -> str:
        """Outlets and time on one line, then "正文仅提及一次" for a passing mention."""
        passing = texts.IN_PASSING if self.passing else ""
        return texts.META_SEPARATOR.join(part for part in (self.outlets, self.time, passing) if part)

    @property
    def also_line(self) -> str:
        """ "也属于：普惠金融、绿色金融", or "" when the story matched no other topic."""
        if not self.also:
            return ""
        return texts.ALSO.format(names=texts.ALSO_SEPARATOR.join(self.also))


@dataclass(frozen=True, slots=True)
class SectionView:
    """A topic's part of the digest as shown."""

    name: str
    description: str
    total: int
    more: int
    entries: tuple[EntryView, ...]

    @property
    def heading(self) -> str:
        """The section's heading text with its story count: "【财政】12 条"."""
        return texts.SECTION_HEADING.format(name=self.name, n=self.total)


@dataclass(frozen=True, slots=True)
class DigestView:
    """The whole digest as shown."""

    title: str  # "金融要闻 2026-11-20", the page's <title>
    heading: str  # "金融要闻 2026-11-20 星期五", with the label when there is one
    summary: str  # the counts line, or the "今日无相关新闻" line
    sections: tuple[SectionView, ...]


def story_count(digest: Digest) -> int:
    """``digest.stories``: how many distinct stories the digest holds (the header shows it).

    That is a union of the sections' story sets, thousands of numbers each: for each of hundreds of
    chats' digests, most of what its header costs. Within a :func:`shared_rendering` block, each
    section's set becomes, once, an int with a bit per story number, and a digest's count is the
    number of bits set in the OR of its sections' ints, counted once per digest.
    """
    if _SHARED.get() is None:
        return digest.stories
    return reuse(digest, "stories", lambda: _story_count(digest))


def _story_count(digest: Digest) -> int:
    union = 0
    for section in digest.sections:
        mask = reuse(section, "stories", partial(_story_mask, section.story_keys))
        if mask is None:  # digest.stories' other rule (a sum of totals), or odd keys
            return digest.stories
        union |= mask
    return union.bit_count()


def _story_mask(keys: frozenset[int]) -> int | None:
    """The story numbers as the bits of an int; None unless they are ints from 0 to a million."""
    if not keys or min(keys) < 0 or max(keys) >= 1 << 20:
        return None
    bits = bytearray(max(keys) // 8 + 1)
    try:
        for key in keys:
            bits[key >> 3] |= 1 << (key & 7)
    except TypeError:  # not an int after all
        return None
    return int.from_bytes(bits, "little")


def clean_snippet(parts: tuple[SnippetPart, ...]) -> tuple[SnippetPart, ...]:
    """The snippet cleaned as one line; a highlight never starts or ends with a space.

    Spaces are moved out of highlights so that Markdown emphasis (``**word**``) stays valid.
    """
    pieces: list[SnippetPart] = []
    for part in parts:
        text = flatten(part.text)
        if part.hit:
            core = text.strip(" ")
            if core:
                lead = text[: len(text) - len(text.lstrip(" "))]
                trail = text[len(text.rstrip(" ")) :]
                pieces += [SnippetPart(lead), SnippetPart(core, True), SnippetPart(trail)]
                continue
        pieces.append(SnippetPart(text))
    merged: list[SnippetPart] = []
    for piece in pieces:
        text = piece.text
        if merged and merged[-1].text.endswith(" "):
            text = text.lstrip(" ")  # a space run split across parts collapses too
        if not text:
            continue
        if merged and merged[-1].hit == piece.hit:
            merged[-1] = SnippetPart(merged[-1].text + text, piece.hit)
        else:
            merged.append(SnippetPart(text, piece.hit))
    if merged and not merged[0].hit:
        merged[0] = SnippetPart(merged[0].text.lstrip(" "))
    if merged and not merged[-1].hit:
        merged[-1] = SnippetPart(merged[-1].text.rstrip(" "))
    return tuple(part for part in merged if part.text)


def shorten_snippet(parts: tuple[SnippetPart, ...], keep: int) -> tuple[SnippetPart, ...]:
    """The first ``keep`` characters of a snippet, highlights kept, "…" added when cut."""
    if sum(len(part.text) for part in parts) <= keep:
        return parts
    kept: list[SnippetPart] = []
    for part in parts:
        if keep <= 0:
            break
        kept.append(SnippetPart(part.text[:keep], part.hit))
        keep -= len(part.text)
    return (*kept, SnippetPart(ELLIPSIS))


def shorten_title(title: str, keep: int) -> str:
    """The first ``keep`` characters of a title, "…" added when cut."""
    if len(title) <= keep:
        return title
    return title[:keep].rstrip() + ELLIPSIS


def outlet_summary(entry: Entry) -> str:
    """The outlets of a story: every name when few, else "株洲日报、湖南日报等 3 家"."""
    names = list(dict.fromkeys(cap(clean(name), NAME_LIMIT) for name in entry.sources))
    names = [name for name in names if name]
    if len(names) <= texts.OUTLETS_SHOWN:
        return texts.OUTLET_SEPARATOR.join(names)
    shown = texts.OUTLET_SEPARATOR.join(names[: texts.OUTLETS_SHOWN])
    return texts.OUTLETS_MANY.format(names=shown, n=len(names))


def local_time(published: datetime, zone: ZoneInfo) -> datetime:
    """``published`` in the digest's zone; a naive time is taken to be in that zone already."""
    if published.tzinfo is None:
        return published.replace(tzinfo=zone)
    return published.astimezone(zone)


def time_label(local: datetime, day: date) -> str:
    """ "08:30" on the digest's day; "11月19日 23:50" for a story from another day."""
    clock = local.strftime("%H:%M")
    if local.date() == day:
        return clock
    return texts.OTHER_DAY_TIME.format(month=local.month, day=local.day, time=clock)


def entry_view(entry: Entry, number: int, zone: ZoneInfo, day: date) -> EntryView:
    """One entry made ready to show (once per :func:`shared_rendering` block: a story is shown by
    many chats' digests, in sections whose totals differ as each chat's topics place it)."""
    return reuse(entry, ("view", number, zone, day), lambda: _entry_view(entry, number, zone, day))


def _entry_view(entry: Entry, number: int, zone: ZoneInfo, day: date) -> EntryView:
    local = local_time(entry.published, zone)
    return EntryView(
        number=number,
        title=clean(entry.title) or texts.UNTITLED,
        url=safe_url(entry.url),
        outlets=outlet_summary(entry),
        time=time_label(local, day),
        published=local,
        snippet=clean_snippet(entry.snippet),
        also=tuple(name for name in (cap(clean(n), NAME_LIMIT) for n in entry.also) if name),
        passing=entry.passing,
    )


def section_view(section: TopicSection, zone: ZoneInfo, day: date) -> SectionView:
    """One topic's section made ready to show."""
    return reuse(section, ("view", zone, day), lambda: _section_view(section, zone, day))


def _section_view(section: TopicSection, zone: ZoneInfo, day: date) -> SectionView:
    return SectionView(
        name=cap(clean(section.name), NAME_LIMIT),
        description=clean(section.description),
        total=section.total,
        more=max(section.more, 0),
        entries=tuple(
            entry_view(entry, number, zone, day) for number, entry in enumerate(section.entries, 1)
        ),
    )


def digest_view(digest: Digest) -> DigestView:
    """The digest made ready to show, for every format alike.

    Raises :class:`zoneinfo.ZoneInfoNotFoundError` when ``digest.timezone`` is not an IANA name;
    configuration is validated before a digest is built, so this is a programming error.
    """
    return reuse(digest, "view", lambda: _digest_view(digest))


def _digest_view(digest: Digest) -> DigestView:
    zone = ZoneInfo(digest.timezone)
    iso = digest.day.isoformat()
    dated = texts.DATE_LINE.format(day=iso, weekday=texts.WEEKDAYS[digest.day.weekday()])
    if digest.first_day is not None:  # several days: "2022-04-01 至 2022-04-03"
        first = digest.first_day.isoformat()
        first_dated = texts.DATE_LINE.format(day=first, weekday=texts.WEEKDAYS[digest.first_day.weekday()])
        iso = texts.PERIOD.format(first=first, last=iso)
        dated = texts.PERIOD.format(first=first_dated, last=dated)
    label = cap(clean(digest.label), NAME_LIMIT)
    if label:
        title = texts.TITLE_LABEL.format(day=iso, label=label)
        heading = texts.TITLE_LABEL.format(day=dated, label=label)
    else:
        title = texts.TITLE.format(day=iso)
        heading = texts.TITLE.format(day=dated)
    if digest.empty:
        summary = texts.EMPTY.format(considered=digest.items_considered)
    else:
        summary = texts.COUNTS.format(
            stories=story_count(digest), topics=len(digest.sections), considered=digest.items_considered
        )
    sections = tuple(section_view(section, zone, digest.day) for section in digest.sections)
    return DigestView(title=title, heading=heading, summary=summary, sections=sections)
