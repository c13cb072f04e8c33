"""Rule changes that would drop an item an official marked "not relevant", the most local first.

Given a topic, the item that matched it wrongly and the topic's other matches of recent days,
:func:`propose` makes candidate changes of five kinds, each aimed at the occurrences that made the
item count (:meth:`digests.rules.TopicMatcher.explain`), from the most local to the widest:

- ``not_in``: a negative context around each such occurrence: the word it is part of (上市 in
  上市公司, 递表 in 快递表示), else it with the word after or before it (A股上市, IPO后), never
  across punctuation, digits or a space, and never a keyword of the topic;
- ``not_near``: a negative near word for the keyword: a word close to its occurrences here (质押
  beside 小额贷款 in a share-pledge notice), the one that drops the fewest other matches, among the
  words the stored news uses (as for ``exclude``), then the closest;
- ``near``: a positive context for the keyword: if it has none, the words that stand right beside
  it in many of the topic's other matches but not beside it here; if it has some, without the
  near words that let this occurrence count;
- ``exclude``: a word close to an occurrence that drops the fewest other matches, among those
  the stored news uses more than once but not in every twentieth item (the caller counts them,
  this module does no I/O);
- ``min_score``: a minimum just above what the item scored, for a passing mention.

Words are whole words as a segmenter cuts the item (:mod:`digests.words`): 研究机构's 机构, not
研究机. A candidate is kept only if, applied, the item no longer matches. Each comes with what else
it would drop among the other matches given; the caller shows that and lets an admin choose.
Nothing here is applied.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter

from bot.domain.models import Item, Topic
from bot.domain.textindex import fold, fold_with_origin, split_query
from digests.explain import Occurrence
from digests.rules import TopicMatcher
from digests.values import Field
from digests.words import Word, covering, cut

NOT_IN = "not_in"
NOT_NEAR = "not_near"
NEAR = "near"
EXCLUDE = "exclude"
MIN_SCORE = "min_score"
KINDS = (NOT_IN, NOT_NEAR, NEAR, EXCLUDE, MIN_SCORE)  # the most local change first

# A particle beside an occurrence (IPO后, 上市前) makes the shortest and most general context.
_PARTICLES = frozenset("后前时中内外的")
MAX_CONTEXTS = 3  # a proposal needing more contexts than this is no small change
MAX_EXTENSION = 4  # characters a context may add to its occurrence: a context, not a sentence
EXCLUDE_REACH = 6  # characters between an occurrence and the words proposed to exclude
WORD_LENGTHS = range(2, 7)  # the lengths of words proposed (one character is rarely a word)
_CUT_MARGIN = 6  # characters cut into words beyond a neighbourhood, for its edge words to be whole
MIN_WORD_COUNT = 2  # stored items a proposed exclude word must occur in: one item's word is no rule
COMMON_SHARE = 0.05  # of the stored items: a word in more of them is a word of all news
OTHER_CLAUSE = 100  # how much farther a word counts when punctuation stands between it and the keyword
NEAR_WORDS = 6  # near words proposed for a keyword that has none
NEAR_MINING_REACH = 3  # characters either side of the keyword where its usual neighbours are read
NEAR_SHARE = 0.2  # of the topic's other matches in which a neighbour must stand by the keyword
MAX_SCORE = 100.0  # as the config allows


@dataclass(frozen=True, slots=True)
class Proposal:
    """One rule change, as it would leave the topic, and what else it would drop."""

    kind: str  # one of KINDS
    topic: Topic  # the topic with the change applied
    words: tuple[str, ...] = ()  # contexts, (negative) near words or the exclude word added
    keyword: str = ""  # NEAR, NOT_NEAR: the keyword whose near words change
    removed: tuple[str, ...] = ()  # NEAR: near words taken away
    score: float = 0.0  # MIN_SCORE: the new minimum
    item_score: float = 0.0  # MIN_SCORE: what the item scored
    dropped: tuple[Item, ...] = field(default=(), compare=False)  # the other items it drops


@dataclass(frozen=True, slots=True)
class _Field:
    """One field of the item: folded, with the original text to show words as written."""

    folded: str
    text: str
    origin: Sequence[int]
    words: Sequence[Word]  # of the folded text

    def original(self, start: int, end: int) -> str:
        """The original text of the folded span [start, end)."""
        return self.text[self.origin[start] : self.origin[end - 1] + 1]


def _fields(item: Item) -> dict[Field, _Field]:
    result = {}
    for name, text in ((Field.TITLE, item.title), (Field.TEXT, item.text)):
        folded, origin = fold_with_origin(text)
        result[name] = _Field(folded, text, origin, cut(folded))
    return result


def _word_chars(text: str) -> bool:
    """Letters only, of one script: Chinese characters, or Latin letters (no digits: years and
    amounts vary from one item to the next, and a word mixing scripts is rarely a word)."""
    if not text or not all(ch.isalpha() for ch in text):
        return False
    return all(ch.isascii() for ch in text) or not any(ch.isascii() for ch in text)


def _proposable(word: str) -> bool:
    """Whether a word of the segmenter's may be proposed for a rule: two to six letters."""
    return len(word) in WORD_LENGTHS and _word_chars(word)


_START, _END = attrgetter("start"), attrgetter("end")


def _around(words: Sequence[Word], start: int, end: int, reach: int) -> Sequence[Word]:
    """The words (in order, non-overlapping) that reach within ``reach`` characters of [start, end)."""
    first = bisect_left(words, start - reach, key=_END)
    last = bisect_left(words, end + reach + 1, lo=first, key=_START)
    return words[first:last]


def _extends(text: str) -> bool:
    """Whether ``text`` may extend an occurrence into a context: nothing, or letters."""
    return not text or all(ch.isalpha() for ch in text)


class _Judge:
    """Matches the other items against changed topics, remembering their folded text."""

    def __init__(self, topic: Topic, item: Item, others: Sequence[Item]) -> None:
        self.topic = topic
        self.item = item
        matcher = TopicMatcher([topic])
        self.matched = [o for o in others if o.id != item.id and matcher.match(o)]
        self._folded = {o.id: fold(o.title) + "\n" + fold(o.text) for o in self.matched}

    def containing(self, word: str) -> list[Item]:
        """The other matches whose title or text holds the folded ``word``."""
        return [o for o in self.matched if word in self._folded[o.id]]

    def dropped(self, changed: Topic, among: Sequence[Item] | None = None) -> tuple[Item, ...]:
        """The other matches (or those of ``among``) that the changed topic no longer matches."""
        matcher = TopicMatcher([changed])
        return tuple(o for o in (self.matched if among is None else among) if not matcher.match(o))

    def drops_item(self, changed: Topic) -> bool:
        return not TopicMatcher([changed]).match(self.item)


def propose(
    topic: Topic,
    item: Item,
    others: Sequence[Item],
    *,
    word_counts: Mapping[str, int] | None = None,
    stored: int = 0,
    limit: int = 4,
) -> list[Proposal]:
    """Up to ``limit`` changes to ``topic`` that drop ``item``, one per kind, the most local first.

    ``others``: the items the change is measured against (the topic's recent matches; ``item``
    among them is ignored). ``word_counts``: for the words of :func:`exclude_candidates`, in how
    many of the ``stored`` items each occurs. Empty when the item does not match the topic.
    """
    matcher = TopicMatcher([topic])
    why = matcher.explain(item, topic.name)
    if not why.matched:
        return []
    judge = _Judge(topic, item, others)
    counted = why.counted()
    fields = _fields(item)
    grams = _words_near(judge.topic, counted, fields, word_counts or {}, stored)
    made = [
        _not_in(judge, counted, fields),
        _not_near(judge, counted, grams),
        _near(judge, counted, fields),
        _exclude(judge, grams),
        _min_score(judge, why.score),
    ]
    return [p for p in made if p is not None][:limit]


def _contexts_of(occ: Occurrence, source: _Field) -> list[tuple[str, str]]:
    """(folded, as written) contexts around one occurrence, in order of preference: the word it is
    part of (上市公司, 线上市场, 快递表示 for 递表), then it with the word after it, the word before
    it, both (a particle first: IPO后)."""
    beside = _around(source.words, occ.start, occ.end, 0)  # the words it touches or abuts
    spans = []
    low, high = covering(beside, occ.start, occ.end)
    if (low, high) != (occ.start, occ.end):
        spans.append((low, high))
    # A word of one character beside it is rarely a context (只科创板, 上市及交易), unless a particle.
    after = next((w for w in beside if w.start == occ.end and _context_word(w.text)), None)
    before = next((w for w in beside if w.end == occ.start and _context_word(w.text)), None)
    sides = []
    if after is not None:
        sides.append((occ.start, after.end))
    if before is not None:
        sides.append((before.start, occ.end))
        if before.text in _PARTICLES and (after is None or after.text not in _PARTICLES):
            sides.reverse()
        if after is not None:
            sides.append((before.start, after.end))
    spans += sides
    contexts = []
    for start, end in spans:
        if end - start - (occ.end - occ.start) > MAX_EXTENSION:
            continue
        if not (_extends(source.folded[start : occ.start]) and _extends(source.folded[occ.end : end])):
            continue  # a context never reaches across punctuation or a space
        contexts.append((source.folded[start:end], source.original(start, end)))
    return contexts


def _context_word(word: str) -> bool:
    """Whether a word beside an occurrence may extend it into a context."""
    return len(word) > 1 or word in _PARTICLES


def _not_in(judge: _Judge, counted: Sequence[Occurrence], fields: dict[Field, _Field]) -> Proposal | None:
    chosen: dict[str, str] = {}  # folded → as written
    # A context that is a keyword (普惠金融 around 普惠) would switch that keyword off everywhere.
    keywords = {fold(k) for k in judge.topic.all_keywords}
    for occ in counted:
        folded_field = fields[occ.field].folded
        if any(_covers(context, folded_field, occ) for context in chosen):
            continue  # a context chosen for another occurrence covers this one
        contexts = [c for c in _contexts_of(occ, fields[occ.field]) if c[0] not in keywords]
        if not contexts:
            return None  # an occurrence that no context can isolate (a keyword between punctuation)
        # The most word-like context, whatever else it drops: that is shown, and may be welcome
        # (other listed companies' news when 上市公司 is the context).
        folded, written = contexts[0]
        chosen.setdefault(folded, written)
    if not chosen or len(chosen) > MAX_CONTEXTS:
        return None
    changed = replace(judge.topic, not_in=(*judge.topic.not_in, *chosen.values()))
    if not judge.drops_item(changed):
        return None
    affected = {o.id: o for f in chosen for o in judge.containing(f)}
    dropped = judge.dropped(changed, list(affected.values()))
    return Proposal(NOT_IN, changed, tuple(chosen.values()), dropped=dropped)


def _covers(context: str, folded: str, occ: Occurrence) -> bool:
    """Whether an occurrence of ``context`` in ``folded`` spans the occurrence ``occ``."""
    return context in folded[max(0, occ.end - len(context)) : occ.start + len(context)]


def _neighbours(folded: str, start: int, end: int, window: int) -> set[str]:
    """The words that lie within ``window`` characters before or after [start, end)."""
    # Only the neighbourhood is cut into words (the topic's other matches may be long articles),
    # with a margin so that the words at its edges are cut as in the whole text.
    low, high = max(0, start - window - _CUT_MARGIN), min(len(folded), end + window + _CUT_MARGIN)
    found = set()
    for word in cut(folded[low:high]):
        at, stop = low + word.start, low + word.end
        if stop > start and at < end:
            continue  # the occurrence itself, or a word it is part of
        if start - window <= at and stop <= end + window and _proposable(word.text):
            found.add(word.text)
    return found


def _near(judge: _Judge, counted: Sequence[Occurrence], fields: dict[Field, _Field]) -> Proposal | None:
    keywords = list(dict.fromkeys(occ.keyword for occ in counted))
    if len(keywords) != 1:
        return None  # one keyword's near words cannot drop an item that other keywords keep
    keyword = keywords[0]
    topic = judge.topic
    current = topic.near.get(keyword, ())
    if current:
        # The near words found beside this item's occurrences are what let it count: without them.
        keep = {fold(occ.context) for occ in counted if occ.context}
        remaining = tuple(w for w in current if fold(w) not in keep)
        if not remaining or len(remaining) == len(current):
            return None  # taking them all away would drop the requirement, not narrow it
        near = {**topic.near, keyword: remaining}
        changed = replace(topic, near=near)
        removed = tuple(w for w in current if w not in remaining)
        if not judge.drops_item(changed):
            return None
        return Proposal(NEAR, changed, keyword=keyword, removed=removed, dropped=judge.dropped(changed))
    words = split_query(keyword)
    here: set[str] = set()
    for occ in counted:
        source = fields[occ.field].folded
        here |= _neighbours(source, occ.start, occ.end, topic.near_window)
    frequency: Counter[str] = Counter()
    for other in judge.matched:
        seen: set[str] = set()
        for text in (fold(other.title), fold(other.text)):
            for word in words:
                at = text.find(word)
                while at >= 0:
                    # Right beside the keyword: the words it forms a phrase with (企业上市, 上市辅导).
                    seen |= _neighbours(text, at, at + len(word), NEAR_MINING_REACH)
                    at = text.find(word, at + 1)
        frequency.update(seen - here - set(words))
    # A near word must be the company the keyword usually keeps, not a chance neighbour.
    needed = max(2, math.ceil(NEAR_SHARE * len(judge.matched)))
    common = [gram for gram, count in frequency.most_common() if count >= needed][:NEAR_WORDS]
    if not common:
        return None
    changed = replace(topic, near={**topic.near, keyword: tuple(common)})
    if not judge.drops_item(changed):
        return None
    return Proposal(NEAR, changed, tuple(common), keyword=keyword, dropped=judge.dropped(changed))


def _exclude_grams(
    topic: Topic, counted: Sequence[Occurrence], fields: dict[Field, _Field]
) -> dict[str, tuple[str, int]]:
    """Words near the counted occurrences: folded → (as written, characters from the occurrence)."""
    keyword_words = split_query(topic.all_keywords)
    grams: dict[str, tuple[str, int]] = {}
    for occ in counted:
        source = fields[occ.field]
        for word in _around(source.words, occ.start, occ.end, EXCLUDE_REACH):
            if word.end > occ.start and word.start < occ.end:
                continue  # the occurrence itself, or a word it is part of
            if word.end <= occ.start:
                between = source.folded[word.end : occ.start]
            else:
                between = source.folded[occ.end : word.start]
            if len(between) > EXCLUDE_REACH:
                continue
            gram = word.text
            if not _proposable(gram):
                continue
            if any(w in gram or gram in w for w in keyword_words):
                continue
            distance = len(between)
            if not all(ch.isalnum() for ch in between):
                distance += OTHER_CLAUSE  # a word of another clause says less about this occurrence
            if gram not in grams or distance < grams[gram][1]:
                grams[gram] = (source.original(word.start, word.end), distance)
    return grams


def exclude_candidates(topic: Topic, item: Item) -> list[str]:
    """The (folded) words :func:`propose` may propose to exclude: the caller counts each in the
    stored news and passes the counts back as ``word_counts``."""
    why = TopicMatcher([topic]).explain(item, topic.name)
    return list(_exclude_grams(topic, why.counted(), _fields(item))) if why.matched else []


def _words_near(
    topic: Topic,
    counted: Sequence[Occurrence],
    fields: dict[Field, _Field],
    word_counts: Mapping[str, int],
    stored: int,
) -> dict[str, tuple[str, int]]:
    """The words near the counted occurrences that an exclude word or a negative near word may be:
    folded → (as written, characters from the occurrence, more across punctuation)."""
    grams = _exclude_grams(topic, counted, fields)
    # A near word of the topic is what makes an occurrence count: excluding it would be perverse.
    near = {fold(w) for words in topic.near.values() for w in words}
    grams = {g: v for g, v in grams.items() if g not in near}
    # Two characters that happen to stand together (后财) occur in one item; a word (财务, 回购) in
    # several; a word of all news (公司, 记者) in a good part of them, and would drop anything. With
    # counts from the stored news, only the words in between are proposed (maybe none).
    if word_counts:
        common = max(MIN_WORD_COUNT, COMMON_SHARE * stored)
        grams = {g: v for g, v in grams.items() if MIN_WORD_COUNT <= word_counts.get(g, 0) <= common}
    return grams


def _fewest_dropped(judge: _Judge, grams: Mapping[str, tuple[str, int]]) -> list[tuple[str, str, int]]:
    """The words as (folded, as written, distance): fewest other matches containing them first,
    then the closest to the occurrence, then the shortest."""
    ranked = sorted(
        (len(judge.containing(folded)), distance, len(folded), folded, written)
        for folded, (written, distance) in grams.items()
    )
    return [(folded, written, distance) for _, distance, _, folded, written in ranked]


def _not_near(
    judge: _Judge, counted: Sequence[Occurrence], grams: Mapping[str, tuple[str, int]]
) -> Proposal | None:
    keywords = list(dict.fromkeys(occ.keyword for occ in counted))
    if len(keywords) != 1:
        return None  # one keyword's negative near words cannot drop an item that other keywords keep
    keyword = keywords[0]
    topic = judge.topic
    current = topic.not_near.get(keyword, ())
    # What else a word drops is what tells a word of the situation (质押, 合同, 签署) from a piece of
    # one firm's name (深圳, 中小): the place and the name also stand beside relevant news.
    for folded, written, distance in _fewest_dropped(judge, grams):
        # The characters between them (without the penalty for a clause boundary, which the
        # window does not know): beyond the window, the rule would not see the word.
        if distance % OTHER_CLAUSE > topic.near_window:
            continue
        changed = replace(topic, not_near={**topic.not_near, keyword: (*current, written)})
        if judge.drops_item(changed):
            dropped = judge.dropped(changed, judge.containing(folded))
            return Proposal(NOT_NEAR, changed, (written,), keyword=keyword, dropped=dropped)
    return None


def _exclude(judge: _Judge, grams: Mapping[str, tuple[str, int]]) -> Proposal | None:
    ranked = _fewest_dropped(judge, grams)
    if not ranked:
        return None
    folded, written, _ = ranked[0]
    changed = replace(judge.topic, exclude=(*judge.topic.exclude, written))
    if not judge.drops_item(changed):
        return None
    return Proposal(EXCLUDE, changed, (written,), dropped=tuple(judge.containing(folded)))


def _min_score(judge: _Judge, score: float) -> Proposal | None:
    minimum = float(math.floor(score) + 1)
    if minimum > MAX_SCORE or minimum <= judge.topic.min_score:
        return None
    changed = replace(judge.topic, min_score=minimum)
    if not judge.drops_item(changed):
        return None
    return Proposal(MIN_SCORE, changed, score=minimum, item_score=score, dropped=judge.dropped(changed))
