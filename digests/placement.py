"""Each story once per digest: under the topic it belongs to most strongly, the others named on it.

One article matching eight topics used to be printed eight times (the seeds' 2022-04-03 digest was
one story under every heading). Now a story is placed under its *home*: of the digest's topics that
it matched, the one where it is strongest (:func:`digests.rank.topic_strength`: a headline hit,
then relevance; ties go to the topic configured first). Its entry names the other topics it
matched ("也属于：普惠金融、绿色金融"), and every count follows the placement: a section's total is
the stories placed there, the header's story count their sum. ``[digest] repeat_stories = true``
restores the repetition (every topic lists all of its stories, nothing is named).

The names are every other topic of the day the story matched, whether or not a chat follows it:
they say what else the story is about, and a story reads the same in every chat's digest (which
also lets each entry be made and rendered once for all of them).

The home depends on which topics a digest has: a chat that follows only 普惠金融 still gets the
story that is stronger on 上市. So the day's stories are ranked once per topic (a :class:`StoryPool`,
built by :func:`digests.build.build_digest`), and each digest's sections are composed from it. Entries and
sections are made once and shared by every digest that shows them alike, so that rendering them
(:func:`digests.render_view.reuse`) is shared too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from digests.rank import RankedStory
from digests.values import Entry, TopicSection

# Makes a story's entry in a topic, naming the other topics it matched.
EntryMaker = Callable[[RankedStory, tuple[str, ...]], Entry]


@dataclass(frozen=True, slots=True)
class TopicStories:
    """One topic's stories of the day, best first, with what placing them needs."""

    name: str
    description: str
    ranked: tuple[RankedStory, ...]  # every story of the topic, best first
    keys: tuple[int, ...]  # the story key of each, in the same order
    strength: dict[int, float]  # story key → how strongly the story belongs to this topic


class StoryPool:
    """The day's ranked stories of every topic, from which each digest's sections are composed.

    Holds caches (entries and sections made so far), so it is not a frozen value; what it returns
    depends only on what it was built from and on the topics asked for.

    Placement is made cheap for hundreds of chats' selections of topics. For each topic, and for
    each other topic, the stories that prefer the other one are kept as a bit mask over the
    topic's ranking (bit i: its i-th best story), made the first time the topic is composed; the
    stories placed under a topic for a selection are then its stories minus the OR of the masks of
    the selected topics, and the section's total is a count of bits.
    """

    def __init__(
        self, topics: Sequence[TopicStories], top: int, repeat: bool, make_entry: EntryMaker
    ) -> None:
        """``topics`` in configuration order (only those with stories); ``top`` entries per section."""
        self.topics = tuple(topics)
        self.top = top
        self.repeat = repeat
        self._make_entry = make_entry
        self._names = tuple(topic.name for topic in self.topics)
        # story key → (−strength, position) of every topic it matched: sorted, the strongest first,
        # ties to the topic configured first.
        matched_by: dict[int, list[tuple[float, int]]] = {}
        for position, topic in enumerate(self.topics):
            for key in topic.keys:
                matched_by.setdefault(key, []).append((-topic.strength[key], position))
        self._order: dict[int, tuple[int, ...]] = {}  # story key → its topics, the preferred first
        self._matched: dict[int, int] = {}  # story key → mask of the topics it matched
        for key, pairs in matched_by.items():
            pairs.sort()
            self._order[key] = tuple(position for _, position in pairs)
            self._matched[key] = sum(1 << position for _, position in pairs)
        self._beaten: dict[int, dict[int, int]] = {}  # topic → other topic → mask of its stories
        self._entries: dict[tuple[int, int, bool], Entry] = {}
        self._sections: dict[tuple[object, ...], TopicSection] = {}

    def _beaten_by(self, position: int) -> dict[int, int]:
        """For each other topic, the mask of this topic's stories (by rank) that prefer it."""
        beaten = self._beaten.get(position)
        if beaten is not None:
            return beaten
        bits: dict[int, bytearray] = {}
        topic = self.topics[position]
        size = (len(topic.keys) + 7) // 8
        for rank, key in enumerate(topic.keys):
            for other in self._order[key]:
                if other == position:
                    break  # the topics after this one in the story's order do not beat it
                row = bits.get(other)
                if row is None:
                    row = bits[other] = bytearray(size)
                row[rank >> 3] |= 1 << (rank & 7)
        beaten = self._beaten[position] = {
            other: int.from_bytes(row, "little") for other, row in bits.items()
        }
        return beaten

    def sections(self, names: Sequence[str] = ()) -> tuple[TopicSection, ...]:
        """The sections of a digest of the topics ``names`` (every topic when empty), in topic order.

        Topics without a story placed under them are left out.
        """
        wanted = set(names)
        chosen = [p for p, topic in enumerate(self.topics) if not wanted or topic.name in wanted]
        if self.repeat:
            return tuple(self._repeated(position) for position in chosen)
        sections = []
        for position in chosen:
            topic = self.topics[position]
            beaten = self._beaten_by(position)
            lost = 0
            for other in chosen:
                lost |= beaten.get(other, 0)
            placed = ((1 << len(topic.keys)) - 1) & ~lost
            if not placed:
                continue
            shown: list[Entry] = []
            rest = placed
            while rest and len(shown) < self.top:  # the best placed stories: the lowest bits
                lowest = rest & -rest
                rank = lowest.bit_length() - 1
                rest ^= lowest
                key = topic.keys[rank]
                shown.append(self._entry(position, key, topic.ranked[rank], named=True))
            # Sections never share a story here, so the digest's story count is the sum of their
            # totals: no set of story keys is needed (TopicSection.story_keys stays empty).
            sections.append(self._section(position, placed.bit_count(), tuple(shown), frozenset()))
        return tuple(sections)

    def _also(self, key: int, position: int) -> tuple[str, ...]:
        """The other topics the story matched, in topic order."""
        others = self._matched[key] & ~(1 << position)
        names = []
        while others:
            lowest = others & -others
            names.append(self._names[lowest.bit_length() - 1])
            others ^= lowest
        return tuple(names)

    def _entry(self, position: int, key: int, story: RankedStory, *, named: bool) -> Entry:
        """The story's entry under a topic (made once), naming its other topics when ``named``."""
        cache_key = (position, key, named)
        entry = self._entries.get(cache_key)
        if entry is None:
            also = self._also(key, position) if named else ()
            entry = self._entries[cache_key] = self._make_entry(story, also)
        return entry

    def _section(
        self, position: int, total: int, shown: tuple[Entry, ...], keys: frozenset[int]
    ) -> TopicSection:
        # The same section object for every digest that shows it alike, so that it is rendered once.
        cache_key = (position, total, tuple(map(id, shown)), keys)
        section = self._sections.get(cache_key)
        if section is None:
            topic = self.topics[position]
            section = TopicSection(topic.name, topic.description, total, shown, keys)
            self._sections[cache_key] = section
        return section

    def _repeated(self, position: int) -> TopicSection:
        """The topic's section as before placement existed: all its stories, nothing named.

        Its story keys let the header count a story shown under several topics once.
        """
        topic = self.topics[position]
        shown = tuple(
            self._entry(position, key, story, named=False)
            for key, story in zip(topic.keys[: self.top], topic.ranked[: self.top], strict=True)
        )
        return self._section(position, len(topic.keys), shown, frozenset(topic.keys))
