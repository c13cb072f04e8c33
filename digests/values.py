"""The digest's plain values: topics and their rules, what matched, and the digest itself.

Everything here is pure data. :mod:`digests.rules` turns items and topics into matches,
:mod:`digests.cluster` merges reprints into stories, :mod:`digests.rank` orders them,
:mod:`digests.placement` shows each story once, under its strongest topic, :mod:`digests.build`
assembles a :class:`Digest`, and :mod:`digests.render` writes it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.domain.records import ItemRef
from digests.hits import Field, Hit, Match

__all__ = ["Digest", "Entry", "Field", "Hit", "Match", "Outlet", "SnippetPart", "TopicSection"]

if TYPE_CHECKING:  # placement builds on these values; the digest only carries its pool
    from digests.placement import StoryPool


@dataclass(frozen=True, slots=True)
class SnippetPart:
    """A piece of a snippet; ``hit`` pieces are a keyword occurrence, shown highlighted."""

    text: str
    hit: bool = False


@dataclass(frozen=True, slots=True)
class Outlet:
    """One outlet's copy of a story."""

    name: str  # the newspaper or source shown to readers
    item_id: str
    published: datetime
    url: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One story in a topic: an item and its reprints, merged, earliest outlet first."""

    title: str
    url: str
    published: datetime  # the earliest copy's time
    outlets: tuple[Outlet, ...]  # every copy, earliest first
    snippet: tuple[SnippetPart, ...]
    matched: tuple[str, ...]  # the keywords that matched, title hits first
    score: float
    # The digest's other topics the story matched; it is shown once, under this one ("也属于：…").
    also: tuple[str, ...] = ()
    # Every copy names this topic once, in the body only: shown last and marked ("正文仅提及一次").
    passing: bool = False

    @property
    def ids(self) -> tuple[str, ...]:
        """The ids of every copy, earliest first."""
        return tuple(o.item_id for o in self.outlets)

    @property
    def sources(self) -> tuple[str, ...]:
        """The distinct outlet names, in order of first appearance."""
        return tuple(dict.fromkeys(o.name for o in self.outlets))

    @property
    def snippet_text(self) -> str:
        """The snippet as plain text."""
        return "".join(p.text for p in self.snippet)


@dataclass(frozen=True, slots=True)
class TopicSection:
    """A topic's part of a digest: its top entries and how many stories there were in all."""

    name: str
    description: str
    total: int  # distinct stories after merging reprints
    entries: tuple[Entry, ...]  # the top N, best first
    # Identifies every story of the section (shown or not), so that a story in several topics
    # counts once in the digest's header (with repeat_stories; otherwise sections never share a
    # story). Empty when unknown: then totals are summed.
    story_keys: frozenset[int] = frozenset()

    @property
    def more(self) -> int:
        """How many stories are left out of this section ("另有 N 条")."""
        return self.total - len(self.entries)


@dataclass(frozen=True, slots=True)
class Digest:
    """The relevant news of one calendar day, by topic."""

    day: date
    timezone: str  # IANA name; entry times are shown in it
    sections: tuple[TopicSection, ...]  # topics without entries are left out
    items_considered: int  # items published that day
    label: str = ""  # whose digest this is (a chat's title), or "" for all topics
    # A digest covering several days (a weekday subscription's Monday digest covers Friday to
    # Sunday) starts on ``first_day`` and ends on ``day``; None: it covers ``day`` alone.
    first_day: date | None = None
    # The day's ranked stories, from which a subscription's selection of topics is composed
    # (digests.build.for_subscription); None for a digest made by hand.
    pool: StoryPool | None = field(default=None, compare=False, repr=False)

    @property
    def stories(self) -> int:
        """Distinct stories across all sections (a story in two topics counts once)."""
        if all(s.story_keys for s in self.sections):
            return len(frozenset().union(*(s.story_keys for s in self.sections)))
        return sum(s.total for s in self.sections)

    @property
    def empty(self) -> bool:
        """Whether no topic had anything that day."""
        return not self.sections

    def item_refs(self) -> tuple[ItemRef, ...]:
        """Each shown entry as a reader refers to it ("/why 上市 3"): its number within its section,
        the section's topic, and its earliest copy."""
        return tuple(
            ItemRef(number, section.name, entry.ids[0])
            for section in self.sections
            for number, entry in enumerate(section.entries, 1)
        )
