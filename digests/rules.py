"""Topic rules: which items are relevant to which topics, and why.

Every word any topic uses (keyword, ``not_in`` context, ``exclude`` and ``require`` word) goes into one
Aho-Corasick automaton, so each folded field of an item is scanned once whatever the number of
topics; the topics whose keywords occurred are then evaluated from the occurrences alone.

Entries are folded like search queries (:func:`bot.domain.textindex.split_query`): an entry with spaces
("银行 贷款") is several words that must all appear, in the title or the text, as search requires.
Only keyword occurrences can be negated by a context; ``exclude`` and ``require`` words count
wherever they occur.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import ahocorasick

from bot.domain.models import Item, Topic
from bot.domain.textindex import fold, split_query
from digests.values import Field, Hit, Match

# Relevance = Σ over hits of weight(keyword) × field factor × (1 + ln count): a keyword in the
# headline says what the item is about, one in the body may be a passing mention, so a title hit
# counts three times a body hit; repeats add only logarithmically (a work report saying 上市 forty
# times weighs 4.7, not 40), and digests.rank gives headline hits a further bonus of their own.
TITLE_FACTOR = 3.0
TEXT_FACTOR = 1.0
_FACTOR = {Field.TITLE: TITLE_FACTOR, Field.TEXT: TEXT_FACTOR}
_FIELD_NAME = {Field.TITLE: "标题", Field.TEXT: "正文"}

NOT_ALLOWED = "not_allowed"  # Explanation.source_refused: the topic lists sources, not this one
EXCLUDED_SOURCE = "excluded"  # Explanation.source_refused: the source is in exclude_sources

Occurrences = dict[str, list[int]]  # folded word → start offsets (in bytes, see _view), ascending


def _view(text: str) -> str:
    """The UTF-8 bytes of ``text`` as a str of code points 0-255: what the automaton scans.

    pyahocorasick looks a character up among a trie node's children one by one, and with hundreds
    of words the root has hundreds of distinct first characters: scanning Chinese text directly
    cost ~100 ns per character (measured, 400 words). Over UTF-8 bytes a node has at most 64
    children and the root a handful, which is 3-4 times faster even with three bytes per character.
    UTF-8 is self-synchronising, so a word's bytes match only at character boundaries: occurrences,
    and whether one lies inside another, are the same as over the characters.
    """
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


class _Scan(NamedTuple):
    """The occurrences found in one folded field."""

    occ: Occurrences
    folded: str

    def first(self, word: str, counted: list[int]) -> int:
        """The character offset in the folded field of the first counted occurrence of ``word``."""
        # Its rank among all occurrences, then str.find stepping one character at a time (so that
        # overlapping occurrences count, as for the automaton): usually rank 0, one find call, where
        # converting a byte offset would re-decode the whole prefix.
        rank = self.occ[word].index(counted[0])
        pos = -1
        for _ in range(rank + 1):
            pos = self.folded.find(word, pos + 1)
        return pos


@dataclass(frozen=True, slots=True)
class Negation:
    """Occurrences of a keyword word that lie inside occurrences of a ``not_in`` context."""

    keyword: str  # the keyword as configured
    word: str  # the folded word negated (the keyword itself unless it has several words)
    context: str  # the folded context
    field: Field
    count: int  # occurrences inside this context (one inside two contexts is counted for each)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why an item is or is not relevant to a topic."""

    topic: str
    item_id: str
    matched: bool
    hits: tuple[Hit, ...]  # counted hits, as in the Match
    negated: tuple[Negation, ...]
    excluded_by: tuple[str, ...]  # exclude entries found
    missing_required: tuple[str, ...]  # require entries not found
    source_refused: str  # "", NOT_ALLOWED or EXCLUDED_SOURCE
    source: str  # the item's source slug
    relevance: float  # what the counted hits weigh, whether or not the item matched
    usable: bool = True  # False: the topic has no non-empty keyword

    def lines(self) -> list[str]:
        """Short Chinese sentences for a reader, the verdict first."""
        lines = [f"「{self.topic}」：{'相关' if self.matched else '不相关'}"]
        if not self.usable:
            lines.append("该主题没有可用的关键词")
        for hit in self.hits:
            lines.append(f"{_FIELD_NAME[hit.field]}命中「{hit.keyword}」{hit.count} 次")
        for neg in self.negated:
            lines.append(f"{_FIELD_NAME[neg.field]}「{neg.word}」{neg.count} 处位于「{neg.context}」中，不计")
        if self.usable and not self.hits:
            lines.append("未命中任何关键词")
        lines.extend(f"含排除词「{word}」" for word in self.excluded_by)
        lines.extend(f"缺少必备词「{word}」" for word in self.missing_required)
        if self.source_refused == NOT_ALLOWED:
            lines.append(f"来源 {self.source} 不在允许列表")
        elif self.source_refused == EXCLUDED_SOURCE:
            lines.append(f"来源 {self.source} 在排除列表中")
        return lines


_Step = tuple[int, str, tuple[str, ...], str | None]  # see _Rule.steps


@dataclass(frozen=True, slots=True)
class _Rule:
    """A topic compiled: its entries folded and split into words."""

    topic: Topic
    keywords: tuple[tuple[str, tuple[str, ...]], ...]  # (keyword as configured, its folded words)
    # folded keyword word → (context, offsets of the word inside the context)
    contexts: dict[str, tuple[tuple[str, tuple[int, ...]], ...]]
    exclude: tuple[tuple[str, tuple[str, ...]], ...]
    require: tuple[tuple[str, tuple[str, ...]], ...]
    sources: frozenset[str]  # casefolded: TechWeb and Techweb are one outlet
    exclude_sources: frozenset[str]
    # For the matching loop, which runs for every candidate topic of every item (see _hits): each
    # keyword with its position, and its single folded word when no context can negate it (every
    # occurrence then counts), else None; and every keyword's weight, looked up once here.
    steps: tuple[_Step, ...]
    weight: dict[str, float]


def _entries(values: Iterable[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each non-empty entry with its folded words; entries that fold alike are kept once."""
    seen: dict[tuple[str, ...], str] = {}
    for value in values:
        words = tuple(split_query(value))
        if words and words not in seen:
            seen[words] = value.strip()
    return tuple((value, words) for words, value in seen.items())


def _offsets(word: str, context: str) -> tuple[int, ...]:
    word, context = _view(word), _view(context)
    return tuple(i for i in range(len(context) - len(word) + 1) if context.startswith(word, i))


def _compile(topic: Topic) -> _Rule:
    keywords = _entries(topic.keywords)
    words = {w for _, ws in keywords for w in ws}
    contexts = [c for _, cs in _entries(topic.not_in) for c in cs]
    # A context only matters to the keyword words it contains (上市 in 线上市场).
    by_word = {w: tuple((c, _offsets(w, c)) for c in contexts if w in c) for w in words}
    negatable = {w: cs for w, cs in by_word.items() if cs}
    return _Rule(
        topic=topic,
        keywords=keywords,
        contexts=negatable,
        exclude=_entries(topic.exclude),
        require=_entries(topic.require),
        sources=frozenset(s.strip().casefold() for s in topic.sources if s.strip()),
        exclude_sources=frozenset(s.strip().casefold() for s in topic.exclude_sources if s.strip()),
        steps=tuple(
            (k, keyword, ws, ws[0] if len(ws) == 1 and ws[0] not in negatable else None)
            for k, (keyword, ws) in enumerate(keywords)
        ),
        weight={keyword: topic.weight(keyword) for keyword, _ in keywords},
    )


def _counted(
    rule: _Rule, word: str, occ: Occurrences, field: Field, keyword: str, negations: list[Negation] | None
) -> list[int]:
    """The starts of ``word`` in one field that lie inside no occurrence of a context."""
    starts = occ.get(word)
    if not starts:
        return []
    contexts = rule.contexts.get(word)
    if not contexts:
        return starts
    negated: set[int] = set()
    for context, offsets in contexts:
        inside = {cs + o for cs in occ.get(context, ()) for o in offsets}
        if negations is not None and (count := len(inside.intersection(starts))):
            negations.append(Negation(keyword, word, context, field, count))
        negated |= inside
    return [s for s in starts if s not in negated]


def _hits(
    rule: _Rule,
    title: _Scan,
    text: _Scan,
    negations: list[Negation] | None,
    steps: Sequence[_Step] | None = None,
) -> list[Hit]:
    """Counted hits, title hits first, then by first position.

    ``steps``: the rule's keywords to look at, in configuration order, when the caller knows which
    ones have a word in the item (the others cannot hit); every keyword when None.
    """
    hits: list[Hit] = []
    for _, keyword, words, plain in rule.steps if steps is None else steps:
        if plain is not None:
            # The common case, kept lean: one word, every occurrence counted, so the first counted
            # one is the first one (what _Scan.first finds at rank 0).
            if in_title := title.occ.get(plain):
                hits.append(Hit(keyword, Field.TITLE, len(in_title), title.folded.find(plain)))
            if in_text := text.occ.get(plain):
                hits.append(Hit(keyword, Field.TEXT, len(in_text), text.folded.find(plain)))
            continue
        if len(words) == 1:
            word = words[0]
            if word not in title.occ and word not in text.occ:
                continue
            for field, scan in ((Field.TITLE, title), (Field.TEXT, text)):
                starts = _counted(rule, word, scan.occ, field, keyword, negations)
                if starts:
                    hits.append(Hit(keyword, field, len(starts), scan.first(word, starts)))
            continue
        per_field = [
            (scan, field, [(w, _counted(rule, w, scan.occ, field, keyword, negations)) for w in words])
            for field, scan in ((Field.TITLE, title), (Field.TEXT, text))
        ]
        # Several words: each must be counted somewhere in the item; a field then holds a hit
        # when any of them is there, counted by the rarest of those present.
        if any(not (t or x) for (_, t), (_, x) in zip(per_field[0][2], per_field[1][2], strict=True)):
            continue
        for scan, field, word_starts in per_field:
            present = [(w, s) for w, s in word_starts if s]
            if present:
                first = min(scan.first(w, s) for w, s in present)
                hits.append(Hit(keyword, field, min(len(s) for _, s in present), first))
    if len(hits) > 1:
        hits.sort(key=_hit_order)
    return hits


def _hit_order(hit: Hit) -> tuple[bool, int]:
    return hit.field is not Field.TITLE, hit.first


def _relevance(rule: _Rule, hits: Sequence[Hit]) -> float:
    weight = rule.weight
    return sum([weight[h.keyword] * _FACTOR[h.field] * (1.0 + math.log(h.count)) for h in hits])


def _present(words: tuple[str, ...], title: _Scan, text: _Scan) -> bool:
    if len(words) == 1:  # the usual entry, without a generator
        return words[0] in title.occ or words[0] in text.occ
    return all(w in title.occ or w in text.occ for w in words)


def _source_refused(rule: _Rule, item: Item) -> str:
    source = item.source.casefold()
    if rule.sources and source not in rule.sources:
        return NOT_ALLOWED
    return EXCLUDED_SOURCE if source in rule.exclude_sources else ""


class TopicMatcher:
    """Matches items against a fixed set of topics, with one automaton scan per field."""

    def __init__(self, topics: Sequence[Topic]) -> None:
        """Compile ``topics`` (names are expected to be distinct; the last one wins otherwise)."""
        self._rules = [_compile(t) for t in topics]
        self._index = {r.topic.name: i for i, r in enumerate(self._rules)}
        # keyword word → the keywords that use it, as (topic, keyword) positions: only those topics
        # are evaluated for an item, and only for those keywords (a topic has several, an item
        # holds few of them, and looking for the others was most of the matching time).
        self._steps_of: dict[str, list[tuple[int, _Step]]] = {}
        words: set[str] = set()
        for i, rule in enumerate(self._rules):
            for step in rule.steps:
                for w in dict.fromkeys(step[2]):
                    self._steps_of.setdefault(w, []).append((i, step))
            words.update(c for cs in rule.contexts.values() for c, _ in cs)
            words.update(w for _, ws in rule.exclude + rule.require for w in ws)
        words.update(self._steps_of)
        self._automaton: ahocorasick.Automaton | None = None
        if words:  # an automaton without words cannot be built
            self._automaton = ahocorasick.Automaton()
            for word in sorted(words):
                view = _view(word)
                self._automaton.add_word(view, (word, len(view) - 1))
            self._automaton.make_automaton()

    def _scan(self, text: str) -> _Scan:
        occ: Occurrences = {}
        view = _view(text)
        if self._automaton is not None and view:
            # iter() reports every occurrence, overlapping and nested ones included, by end.
            for end, (word, back) in self._automaton.iter(view):
                if word in occ:
                    occ[word].append(end - back)
                else:
                    occ[word] = [end - back]
        return _Scan(occ, text)

    def _occurrences(self, item: Item) -> tuple[_Scan, _Scan]:
        return self._scan(fold(item.title)), self._scan(fold(item.text))

    def _evaluate(
        self, rule: _Rule, item: Item, title: _Scan, text: _Scan, steps: Sequence[_Step]
    ) -> Match | None:
        if (rule.sources or rule.exclude_sources) and _source_refused(rule, item):
            return None
        hits = _hits(rule, title, text, None, steps)
        if not hits:
            return None
        for _, words in rule.exclude:
            if _present(words, title, text):
                return None
        for _, words in rule.require:
            if not _present(words, title, text):
                return None
        return Match(rule.topic.name, item, tuple(hits), _relevance(rule, hits))

    def match(self, item: Item) -> list[Match]:
        """One Match per topic the item is relevant to, in the order the topics were given."""
        title, text = self._occurrences(item)
        found: dict[int, list[_Step]] = {}  # topic → its keywords with a word in the item
        for word in title.occ.keys() | text.occ.keys():
            for i, step in self._steps_of.get(word, ()):
                steps = found.get(i)
                if steps is None:
                    found[i] = [step]
                elif step not in steps:  # a keyword of several words, more than one found
                    steps.append(step)
        matches = []
        for i in sorted(found):
            steps = found[i]
            if len(steps) > 1:
                # In configuration order (steps start with their position), as _hits would take
                # them: hits with equal sort keys keep that order.
                steps.sort()
            match = self._evaluate(self._rules[i], item, title, text, steps)
            if match is not None:
                matches.append(match)
        return matches

    def match_all(self, items: Iterable[Item]) -> dict[str, list[Match]]:
        """Every topic's matches among ``items``, in item order; every topic name is a key."""
        result: dict[str, list[Match]] = {r.topic.name: [] for r in self._rules}
        for item in items:
            for match in self.match(item):
                result[match.topic].append(match)
        return result

    def explain(self, item: Item, topic: str) -> Explanation:
        """Why ``item`` is or is not relevant to the topic named ``topic`` (KeyError if unknown)."""
        rule = self._rules[self._index[topic]]
        title, text = self._occurrences(item)
        negations: list[Negation] = []
        hits = _hits(rule, title, text, negations)
        refused = _source_refused(rule, item)
        excluded = tuple(e for e, ws in rule.exclude if _present(ws, title, text))
        missing = tuple(r for r, ws in rule.require if not _present(ws, title, text))
        matched = bool(hits) and not (refused or excluded or missing)
        return Explanation(
            topic=topic,
            item_id=item.id,
            matched=matched,
            hits=tuple(hits),
            negated=tuple(negations),
            excluded_by=excluded,
            missing_required=missing,
            source_refused=refused,
            source=item.source,
            relevance=_relevance(rule, hits),
            usable=bool(rule.keywords),
        )
