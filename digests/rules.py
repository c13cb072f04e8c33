"""Topic rules: which items are relevant to which topics, and why.

Every word any topic uses (keyword, ``not_in`` context, ``exclude`` and ``require`` word) goes
into one Aho-Corasick automaton, so each folded field of an item is scanned once whatever the
number of topics; the topics whose keywords occurred are then evaluated from the occurrences
alone. ``near`` words are the exception: they are looked for only around a keyword's occurrences
(see :func:`digests.scan.nearest`).

Entries are folded like search queries (:func:`bot.domain.textindex.split_query`): an entry with spaces
("银行 贷款") is several words that must all appear, in the title or the text, as search requires.

Each occurrence of a keyword is judged on its own, which is what lets a rule see the sense of a
word rather than its mere presence:

- inside an occurrence of a ``not_in`` context (上市 inside 线上市场) it does not count;
- a keyword listed in ``near`` counts only where one of its near words stands at most
  ``near_window`` characters before or after it (上市 near 企业: 企业上市 and 推动企业在科创板上市
  count, 新药获批上市 does not);
- a ``title_keywords`` word counts only in the headline.

The occurrences that count make the item's score: each scores its keyword's weight, twice over in
the headline (``TITLE_POINTS``). A topic with ``min_score`` needs at least that much, so a passing
mention in the body of a long article does not qualify while one headline hit does. ``exclude``
and ``require`` words count wherever they occur.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ahocorasick_rs

from bot.domain.models import Item, Topic
from bot.domain.textindex import fold, split_query
from digests.hits import EXCLUDED_SOURCE, NOT_ALLOWED, Field, Hit, Match
from digests.scan import FieldScan, Occurrences, nearest

if TYPE_CHECKING:  # loaded by explain() only: matching (a /topic query, a digest) needs none of it
    from digests.explain import Explanation, Negation, Occurrence

__all__ = [
    "EXCLUDED_SOURCE",
    "NOT_ALLOWED",
    "TEXT_FACTOR",
    "TEXT_POINTS",
    "TITLE_FACTOR",
    "TITLE_POINTS",
    "TopicMatcher",
]

# Relevance = Σ over hits of weight(keyword) × field factor × (1 + ln count): a keyword in the
# headline says what the item is about, one in the body may be a passing mention, so a title hit
# counts three times a body hit; repeats add only logarithmically (a work report saying 上市 forty
# times weighs 4.7, not 40), and digests.rank gives headline hits a further bonus of their own.
TITLE_FACTOR = 3.0
TEXT_FACTOR = 1.0
_FACTOR = {Field.TITLE: TITLE_FACTOR, Field.TEXT: TEXT_FACTOR}

# Score = Σ over counted occurrences of weight(keyword) × points of its field, compared with the
# topic's min_score. Unlike relevance it is linear in the count, so that a threshold reads simply:
# min_score = 2 is "one headline occurrence or two in the body".
TITLE_POINTS = 2.0
TEXT_POINTS = 1.0
_POINTS = {Field.TITLE: TITLE_POINTS, Field.TEXT: TEXT_POINTS}


class _Keyword:
    """One keyword of a topic, compiled. Compared by identity: the matcher collects them in lists."""

    __slots__ = (
        "far",
        "keyword",
        "longest",
        "longest_far",
        "near",
        "plain",
        "position",
        "title_only",
        "weight",
        "words",
    )

    def __init__(
        self,
        position: int,
        keyword: str,
        words: tuple[str, ...],
        *,
        title_only: bool,
        near: tuple[str, ...],
        far: tuple[str, ...],
        weight: float,
        negatable: bool,
    ) -> None:
        self.position = position  # in configuration order: keywords, then title keywords
        self.keyword = keyword  # as configured
        self.words = words  # folded
        self.title_only = title_only
        self.near = near  # folded near words; empty: every occurrence may count
        self.longest = max(map(len, near), default=0)  # for nearest()
        self.far = far  # folded not_near words; empty: no word keeps an occurrence from counting
        self.longest_far = max(map(len, far), default=0)
        self.weight = weight
        # For the matching loop, which runs for every candidate topic of every item: the single
        # folded word when every occurrence of it counts wherever it is, else None.
        simple = len(words) == 1 and not negatable and not near and not far and not title_only
        self.plain: str | None = words[0] if simple else None


@dataclass(frozen=True, slots=True)
class _Rule:
    """A topic compiled: its entries folded and split into words."""

    topic: Topic
    keywords: tuple[_Keyword, ...]
    # folded keyword word → (context, offsets of the word inside the context)
    contexts: dict[str, tuple[tuple[str, tuple[int, ...]], ...]]
    exclude: tuple[tuple[str, tuple[str, ...]], ...]
    require: tuple[tuple[str, tuple[str, ...]], ...]
    sources: frozenset[str]  # casefolded: TechWeb and Techweb are one outlet
    exclude_sources: frozenset[str]
    window: int  # near_window
    min_score: float
    weight: dict[str, float]  # every keyword's weight, looked up once here


def _entries(values: Iterable[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each non-empty entry with its folded words; entries that fold alike are kept once."""
    seen: dict[tuple[str, ...], str] = {}
    for value in values:
        words = tuple(split_query(value))
        if words and words not in seen:
            seen[words] = value.strip()
    return tuple((value, words) for words, value in seen.items())


def _offsets(word: str, context: str) -> tuple[int, ...]:
    return tuple(i for i in range(len(context) - len(word) + 1) if context.startswith(word, i))


def _near_words(near: Mapping[str, Sequence[str]]) -> dict[tuple[str, ...], tuple[str, ...]]:
    """``near`` by the folded words of its keys (ＩＰＯ and IPO name one keyword), words folded."""
    folded: dict[tuple[str, ...], tuple[str, ...]] = {}
    for keyword, words in near.items():
        key = tuple(split_query(keyword))
        if key:
            folded[key] = tuple(dict.fromkeys((*folded.get(key, ()), *split_query(words))))
    return folded


def _compile(topic: Topic) -> _Rule:
    everywhere = _entries(topic.keywords)
    seen = {words for _, words in everywhere}
    # A word in both lists counts everywhere: the wider rule wins (the config file refuses this).
    title_only = tuple(e for e in _entries(topic.title_keywords) if e[1] not in seen)
    words = {w for _, ws in everywhere + title_only for w in ws}
    contexts = [c for _, cs in _entries(topic.not_in) for c in cs]
    # A context only matters to the keyword words it contains (上市 in 线上市场).
    by_word = {w: tuple((c, _offsets(w, c)) for c in contexts if w in c) for w in words}
    negatable = {w: cs for w, cs in by_word.items() if cs}
    near = _near_words(topic.near)
    far = _near_words(topic.not_near)
    keywords = tuple(
        _Keyword(
            position,
            keyword,
            ws,
            title_only=position >= len(everywhere),
            near=near.get(ws, ()),
            far=far.get(ws, ()),
            weight=topic.weight(keyword),
            negatable=any(w in negatable for w in ws),
        )
        for position, (keyword, ws) in enumerate(everywhere + title_only)
    )
    return _Rule(
        topic=topic,
        keywords=keywords,
        contexts=negatable,
        exclude=_entries(topic.exclude),
        require=_entries(topic.require),
        sources=frozenset(s.strip().casefold() for s in topic.sources if s.strip()),
        exclude_sources=frozenset(s.strip().casefold() for s in topic.exclude_sources if s.strip()),
        window=topic.near_window,
        min_score=topic.min_score,
        weight={k.keyword: k.weight for k in keywords},
    )


def _counted(
    rule: _Rule,
    keyword: _Keyword,
    word: str,
    scan: FieldScan,
    field: Field,
    negations: list[Negation] | None,
) -> list[int]:
    """The starts of ``word`` in one field that count: not negated, near a near word if the keyword
    needs one, near none of its not_near words, and in the title if it is a title keyword."""
    if keyword.title_only and field is Field.TEXT:
        return []
    starts = scan.occ.get(word)
    if not starts:
        return []
    contexts = rule.contexts.get(word)
    if contexts:
        negated: set[int] = set()
        for context, offsets in contexts:
            inside = {cs + o for cs in scan.occ.get(context, ()) for o in offsets}
            if negations is not None and (count := len(inside.intersection(starts))):
                from digests.explain import Negation  # explaining: loaded by then

                negations.append(Negation(keyword.keyword, word, context, field, count))
            negated |= inside
        starts = [s for s in starts if s not in negated]
    if keyword.near and starts:
        starts = [
            s
            for s in starts
            if nearest(scan, s, word, keyword.near, keyword.longest, rule.window) is not None
        ]
    if keyword.far and starts:
        starts = [
            s for s in starts if nearest(scan, s, word, keyword.far, keyword.longest_far, rule.window) is None
        ]
    return starts


def _hits(
    rule: _Rule,
    title: FieldScan,
    text: FieldScan,
    negations: list[Negation] | None,
    keywords: Sequence[_Keyword] | None = None,
) -> list[Hit]:
    """Counted hits, title hits first, then by first position.

    ``keywords``: the rule's keywords to look at, in configuration order, when the caller knows
    which ones have a word in the item (the others cannot hit); every keyword when None.
    """
    hits: list[Hit] = []
    for keyword in rule.keywords if keywords is None else keywords:
        plain = keyword.plain
        if plain is not None:
            # The common case, kept lean: one word, every occurrence counted.
            if in_title := title.occ.get(plain):
                hits.append(Hit(keyword.keyword, Field.TITLE, len(in_title), in_title[0]))
            if in_text := text.occ.get(plain):
                hits.append(Hit(keyword.keyword, Field.TEXT, len(in_text), in_text[0]))
            continue
        words = keyword.words
        if len(words) == 1:
            word = words[0]
            if word not in title.occ and word not in text.occ:
                continue
            for field, scan in ((Field.TITLE, title), (Field.TEXT, text)):
                starts = _counted(rule, keyword, word, scan, field, negations)
                if starts:
                    hits.append(Hit(keyword.keyword, field, len(starts), starts[0]))
            continue
        per_field = [
            (field, [_counted(rule, keyword, w, scan, field, negations) for w in words])
            for field, scan in ((Field.TITLE, title), (Field.TEXT, text))
        ]
        # Several words: each must be counted somewhere in the item; a field then holds a hit
        # when any of them is there, counted by the rarest of those present.
        if any(not (t or x) for t, x in zip(per_field[0][1], per_field[1][1], strict=True)):
            continue
        for field, word_starts in per_field:
            present = [s for s in word_starts if s]
            if present:
                first = min(s[0] for s in present)
                hits.append(Hit(keyword.keyword, field, min(map(len, present)), first))
    if len(hits) > 1:
        hits.sort(key=_hit_order)
    return hits


def _hit_order(hit: Hit) -> tuple[bool, int]:
    return hit.field is not Field.TITLE, hit.first


def _relevance(rule: _Rule, hits: Sequence[Hit]) -> float:
    weight = rule.weight
    if len(hits) == 1:  # most matches: the same terms without a list
        hit = hits[0]
        return weight[hit.keyword] * _FACTOR[hit.field] * (1.0 + math.log(hit.count))
    return sum([weight[h.keyword] * _FACTOR[h.field] * (1.0 + math.log(h.count)) for h in hits])


def _score(rule: _Rule, hits: Sequence[Hit]) -> float:
    weight = rule.weight
    return sum([weight[h.keyword] * _POINTS[h.field] * h.count for h in hits])


def _present(words: tuple[str, ...], title: FieldScan, text: FieldScan) -> bool:
    if len(words) == 1:  # the usual entry, without a generator
        return words[0] in title.occ or words[0] in text.occ
    return all(w in title.occ or w in text.occ for w in words)


def _source_refused(rule: _Rule, item: Item) -> str:
    source = item.source.casefold()
    if rule.sources and source not in rule.sources:
        return NOT_ALLOWED
    return EXCLUDED_SOURCE if source in rule.exclude_sources else ""


def _occurrences_of(rule: _Rule, keyword: _Keyword, field: Field, scan: FieldScan) -> list[Occurrence]:
    """Every occurrence of the keyword's words in one field, each with its verdict (for explain)."""
    from digests.explain import Occurrence, Verdict

    notes: list[Occurrence] = []
    for word in keyword.words:
        starts = scan.occ.get(word, [])
        negated_by: dict[int, str] = {}
        for context, offsets in rule.contexts.get(word, ()):
            for cs in scan.occ.get(context, ()):
                for o in offsets:
                    negated_by.setdefault(cs + o, context)
        for start in starts:
            begin, end = start, start + len(word)
            if keyword.title_only and field is Field.TEXT:
                notes.append(Occurrence(keyword.keyword, word, field, begin, end, Verdict.TITLE_ONLY))
            elif start in negated_by:
                context = negated_by[start]
                notes.append(Occurrence(keyword.keyword, word, field, begin, end, Verdict.NEGATED, context))
            elif keyword.far and (
                away := nearest(scan, start, word, keyword.far, keyword.longest_far, rule.window)
            ):
                far_word, gap = away
                notes.append(
                    Occurrence(keyword.keyword, word, field, begin, end, Verdict.NEAR_NEGATIVE, far_word, gap)
                )
            elif keyword.near:
                found = nearest(scan, start, word, keyword.near, keyword.longest, rule.window)
                if found is None:
                    notes.append(Occurrence(keyword.keyword, word, field, begin, end, Verdict.NOT_NEAR))
                else:
                    near, gap = found
                    notes.append(
                        Occurrence(keyword.keyword, word, field, begin, end, Verdict.COUNTED, near, gap)
                    )
            else:
                notes.append(Occurrence(keyword.keyword, word, field, begin, end, Verdict.COUNTED))
    return notes


class TopicMatcher:
    """Matches items against a fixed set of topics, with one automaton scan per field."""

    def __init__(self, topics: Sequence[Topic]) -> None:
        """Compile ``topics`` (names are expected to be distinct; the last one wins otherwise)."""
        self._rules = [_compile(t) for t in topics]
        self._index = {r.topic.name: i for i, r in enumerate(self._rules)}
        # keyword word → the keywords that use it, as (topic, keyword) positions: only those topics
        # are evaluated for an item, and only for those keywords (a topic has several, an item
        # holds few of them, and looking for the others was most of the matching time).
        self._keywords_of: dict[str, list[tuple[int, _Keyword]]] = {}
        words: set[str] = set()
        for i, rule in enumerate(self._rules):
            for keyword in rule.keywords:
                for w in dict.fromkeys(keyword.words):
                    self._keywords_of.setdefault(w, []).append((i, keyword))
            words.update(c for cs in rule.contexts.values() for c, _ in cs)
            words.update(w for _, ws in rule.exclude + rule.require for w in ws)
        words.update(self._keywords_of)
        self._words = sorted(words)  # the automaton reports a word by its position here
        self._automaton: ahocorasick_rs.AhoCorasick | None = None
        if words:  # an automaton without words cannot be built
            # ahocorasick_rs's DFA, not pyahocorasick: over 5,000 items of 1,300 characters and 500
            # words it found every occurrence in 0.11 s where pyahocorasick took 0.24 s (over the
            # UTF-8 bytes, its fastest way) plus 0.02 s of re-encoding, and it reports character
            # offsets, which spares converting byte offsets for positions and near words.
            self._automaton = ahocorasick_rs.AhoCorasick(
                self._words, implementation=ahocorasick_rs.Implementation.DFA
            )

    def _scan(self, text: str) -> FieldScan:
        occ: Occurrences = {}
        if self._automaton is not None and text:
            words = self._words
            # Every occurrence, overlapping and nested ones included (上市 inside 企业上市), by end:
            # a word's starts come out ascending.
            for index, start, _ in self._find(text):
                word = words[index]
                if word in occ:
                    occ[word].append(start)
                else:
                    occ[word] = [start]
        return FieldScan(occ, text)

    def _find(self, text: str) -> list[tuple[int, int, int]]:
        assert self._automaton is not None
        try:
            return self._automaton.find_matches_as_indexes(text, overlapping=True)
        except UnicodeEncodeError:
            # A lone surrogate (a broken feed's \ud800) cannot cross into the automaton's UTF-8;
            # one replacement character each keeps every offset where it was.
            return self._automaton.find_matches_as_indexes(
                _LONE_SURROGATE.sub("\ufffd", text), overlapping=True
            )

    def _occurrences(self, item: Item) -> tuple[FieldScan, FieldScan]:
        return self._scan(fold(item.title)), self._scan(fold(item.text))

    def _evaluate(
        self, rule: _Rule, item: Item, title: FieldScan, text: FieldScan, keywords: Sequence[_Keyword]
    ) -> Match | None:
        if (rule.sources or rule.exclude_sources) and _source_refused(rule, item):
            return None
        hits = _hits(rule, title, text, None, keywords)
        if not hits:
            return None
        if rule.min_score > 0 and _score(rule, hits) < rule.min_score:
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
        found: dict[int, list[_Keyword]] = {}  # topic → its keywords with a word in the item
        for word in title.occ.keys() | text.occ.keys():
            for i, keyword in self._keywords_of.get(word, ()):
                keywords = found.get(i)
                if keywords is None:
                    found[i] = [keyword]
                elif keyword not in keywords:  # a keyword of several words, more than one found
                    keywords.append(keyword)
        matches = []
        for i in sorted(found):
            keywords = found[i]
            if len(keywords) > 1:
                # In configuration order, as _hits would take them: hits with equal sort keys
                # keep that order.
                keywords.sort(key=_POSITION)
            match = self._evaluate(self._rules[i], item, title, text, keywords)
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
        from digests.explain import Explanation

        rule = self._rules[self._index[topic]]
        title, text = self._occurrences(item)
        negations: list[Negation] = []
        hits = _hits(rule, title, text, negations)
        refused = _source_refused(rule, item)
        excluded = tuple(e for e, ws in rule.exclude if _present(ws, title, text))
        missing = tuple(r for r, ws in rule.require if not _present(ws, title, text))
        score = _score(rule, hits)
        matched = bool(hits) and score >= rule.min_score and not (refused or excluded or missing)
        occurrences = [
            note
            for field, scan in ((Field.TITLE, title), (Field.TEXT, text))
            for keyword in rule.keywords
            for note in _occurrences_of(rule, keyword, field, scan)
        ]
        occurrences.sort(key=lambda o: (o.field is not Field.TITLE, o.start, o.keyword))
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
            occurrences=tuple(occurrences),
            score=score,
            min_score=rule.min_score,
            near_window=rule.window,
            near=tuple((k.keyword, rule.topic.near.get(k.keyword, k.near)) for k in rule.keywords if k.near),
        )


_POSITION = operator.attrgetter("position")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
