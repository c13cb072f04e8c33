"""Reprints of one story: items carrying the same text, merged whatever their titles and outlets.

The method, cheapest test first:

1. **Same text.** The text, with an outlet's trailer (（新华社）, （文章来源：X）, 责任编辑：X) and byline
   (新华社北京12月8日电（记者 X）, 本报讯) cut and all white space removed, is a dictionary key:
   verbatim reprints, however many, merge at the cost of one lookup each.
2. **Very short texts** (under :data:`SHORT_TEXT` characters: a flash that repeats its headline) say
   too little to compare: they merge on their normalised title instead, and only with each other.
3. **Near-identical text.** Each distinct longer text becomes the set of its sentences (split at
   。！？；and line ends, white space removed). A sentence is a shingle that costs one C-level split
   to make, where character k-grams cost a Python step per character (5,000 items of 1,500
   characters would take seconds). Two texts merge when the sentences they share make up at least
   :data:`CONTAINMENT` of the shorter one and :data:`JACCARD` of both together, measured in
   characters so that a long shared paragraph outweighs a short differing byline.

Day-level boilerplate (a disclaimer, a rolling-news template) must not merge different stories that
carry it. A sentence is boilerplate for a pair when more distinct texts carry it than
:data:`BOILERPLATE_RATIO` times as many as carry the pair's rare sentences (and more than
:data:`BOILERPLATE_MIN_DF`): a story reprinted by thirty outlets has all of its sentences in about
thirty texts, while a template sentence is in every item of its feed beside content found nowhere
else. Shared boilerplate is left out of both measures.

Everything is deterministic: strings are only compared and looked up, never ordered by hash.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import chain

from bot.domain.models import Item
from bot.domain.textindex import fold

SHORT_TEXT = 20  # characters (white space removed) below which the title decides
MIN_SENTENCE = 5  # shorter pieces (据悉, 她称, a heading number) are no evidence either way
# Thresholds, checked on variants of a real 2,000-character seed story (tests/test_cluster.py): a
# paragraph added or one or two long paragraphs cut score containment 1.0 and Jaccard 0.77-0.90,
# two words edited throughout 0.96 / 0.92, while other stories on the same subjects (株洲 vs 赣州,
# two 上市 stories) share no sentence at all (0 / 0). The first third of a story alone (1.0 / 0.28)
# stays apart: a teaser is not the article.
CONTAINMENT = 0.8  # shared characters / characters of the shorter text
JACCARD = 0.5  # shared characters / characters of both texts together
BOILERPLATE_MIN_DF = 5  # a sentence in at most this many distinct texts is never boilerplate
BOILERPLATE_RATIO = 3
RARE_SHARE = 0.1  # an item's "rare sentences": its least common ones making up this share of it
PROBES = 8  # candidate pairs come from each text's rarest shared sentences (bounds the work)
PROBE_CAP = 200  # a sentence in more distinct texts than this never proposes candidates

# An outlet's trailer at the end of the text: （新华社）, (央视新闻), （文章来源：株洲日报）, or a line
# 责任编辑：X / 来源：X / 原标题：X. Cut repeatedly from the tail only.
_TRAILER = re.compile(
    r"(?:[（(][^（()）\n]{1,24}[)）]|\n\s*(?:文章来源|来源|责任编辑|编辑|原标题|校对|审核)\s*[:：][^\n]{0,40})\s*$"
)
# A byline at the start: 新华社北京12月8日电（记者 张三 李四）, 本报讯（记者 X）, or a first line
# naming 记者 without a sentence in it (株洲日报·掌上株洲记者/廖喜张通讯员/余亘泰).
_BYLINE = re.compile(
    r"\s*(?:(?:本报讯|[^\s，。,]{0,24}?日电)\s*(?:[（(][^（()）]{0,40}[)）])?"
    r"|[^\n，。,]{0,60}记者[^\n，。,]{0,60}\n)"
)
_SENTENCE_ENDS = ("！", "？", "；", "!", "?", ";")
_TAIL = 80  # characters of the tail searched for trailers: a regex anchored at $ scans it all


def _body(text: str) -> str:
    """The text without an outlet's byline and trailers, sentences ending in 。, no white space."""
    head = _BYLINE.match(text)
    if head is not None:
        text = text[head.end() :]
    while True:
        tail = len(text) - _TAIL if len(text) > _TAIL else 0
        cut = _TRAILER.search(text, tail)
        if cut is None or cut.start() == 0:
            break
        text = text[: cut.start()]
    text = text.replace("\n", "。")
    for end in _SENTENCE_ENDS:
        text = text.replace(end, "。")
    return "".join(text.split())


def _title_key(title: str) -> str:
    return "".join(re.findall(r"[^\W_]+", fold(title)))


def _sentences(body: str) -> frozenset[str]:
    return frozenset(s for s in body.split("。") if len(s) >= MIN_SENTENCE)


class _Forest:
    """Union-find over item indices."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def _rare_df(sentences: frozenset[str], df: Counter[str]) -> int:
    """How many distinct texts carry this text's rare sentences (see :data:`RARE_SHARE`)."""
    ordered = sorted(sentences, key=df.__getitem__)
    budget = RARE_SHARE * sum(map(len, ordered))
    for sentence in ordered:
        budget -= len(sentence)
        if budget <= 0:
            return df[sentence]
    return df[ordered[-1]]


def similar(a: frozenset[str], b: frozenset[str], df: Counter[str], limit: int) -> tuple[float, float]:
    """Containment and Jaccard, in characters, of two sentence sets, sentences carried by more than
    ``limit`` distinct texts left out (the pair's boilerplate)."""
    shared = _size(a & b, df, limit)
    if not shared:
        return 0.0, 0.0
    size_a, size_b = _size(a, df, limit), _size(b, df, limit)
    return shared / min(size_a, size_b), shared / (size_a + size_b - shared)


def _size(sentences: frozenset[str], df: Counter[str], limit: int) -> int:
    return sum(len(s) for s in sentences if df[s] <= limit)


class _Kept:
    """Each text's sentences that are not boilerplate under a limit, and their size in characters.

    A text is compared with many candidates (hundreds when a day repeats sentences across posts,
    as the benchmark's dense case does). Filtering and summing its sentences once, instead of once
    per pair, leaves a pair's comparison to C: one set intersection and one sum of lengths. What a
    limit keeps of a text depends only on how many of its sentences have a count within it, so
    that number, not the limit (which varies with the other text), is the cache key.
    """

    def __init__(self, texts: list[frozenset[str]], df: Counter[str]) -> None:
        self.texts = texts
        self.df = df
        self.whole: dict[int, tuple[int, tuple[frozenset[str], int]]] = {}  # text → top count, all
        self.by_df: dict[int, tuple[list[str], list[int]]] = {}  # text → sentences by count, counts
        self.cache: dict[tuple[int, int], tuple[frozenset[str], int]] = {}

    def __call__(self, i: int, limit: int) -> tuple[frozenset[str], int]:
        whole = self.whole.get(i)
        if whole is None:
            sentences = self.texts[i]
            top = max(map(self.df.__getitem__, sentences), default=0)
            whole = self.whole[i] = (top, (sentences, sum(map(len, sentences))))
        if limit >= whole[0]:  # no sentence of the text is that common: all of it (the usual case)
            return whole[1]
        ordered = self.by_df.get(i)
        if ordered is None:
            by_count = sorted(self.texts[i], key=self.df.__getitem__)
            ordered = self.by_df[i] = (by_count, [self.df[s] for s in by_count])
        by_count, counts = ordered
        within = bisect_right(counts, limit)
        kept = self.cache.get((i, within))
        if kept is None:
            chosen = frozenset(by_count[:within])
            kept = self.cache[i, within] = (chosen, sum(map(len, chosen)))
        return kept


def _merges(kept_i: tuple[frozenset[str], int], kept_j: tuple[frozenset[str], int]) -> bool:
    """Whether two texts, boilerplate left out of both, pass both thresholds of :func:`similar`."""
    (a, size_a), (b, size_b) = kept_i, kept_j
    # The shared part is at most the smaller text, so Jaccard is at most smaller / larger: when
    # that is under one half (JACCARD), the pair cannot merge and the intersection is not worth
    # making. Integer arithmetic, so that no rounding can differ from similar()'s.
    if 2 * min(size_a, size_b) < max(size_a, size_b):
        return False
    shared = sum(map(len, a & b))
    if not shared:
        return False
    # similar()'s very expressions, so that a pair on a threshold falls the same way.
    containment = shared / min(size_a, size_b)
    jaccard = shared / (size_a + size_b - shared)
    return containment >= CONTAINMENT and jaccard >= JACCARD


def _near_duplicates(texts: list[frozenset[str]], forest: _Forest) -> None:
    """Merge (in ``forest``, over positions in ``texts``) the near-identical distinct texts."""
    assert 2 * JACCARD >= 1  # _merges' size test relies on it
    df: Counter[str] = Counter()
    for sentences in texts:
        df.update(sentences)
    shared = {s for s, count in df.items() if 1 < count <= PROBE_CAP}
    postings: dict[str, list[int]] = {}
    probes: list[tuple[int, list[str], int]] = []
    for i, sentences in enumerate(texts):
        common = sentences & shared
        if not common:
            continue  # nothing in common with any other text
        for sentence in common:
            postings.setdefault(sentence, []).append(i)
        limit = max(BOILERPLATE_MIN_DF, BOILERPLATE_RATIO * _rare_df(sentences, df))
        # The rarest shared sentences that are not boilerplate for this text; ties by the text
        # itself, so that the choice does not depend on set order.
        rarest = sorted([(df[s], -len(s), s) for s in common if df[s] <= limit])[:PROBES]
        probes.append((i, [s for _, _, s in rarest], limit))
    limits = {i: limit for i, _, limit in probes}
    kept = _Kept(texts, df)
    # The verdict on a pair is symmetric (one limit for both: the larger), so a pair proposed by
    # both of its texts is compared once. Which pairs are compared, and in what order, does not
    # change the groups: they are the connected components of the pairs that pass, and the forest
    # keeps each component's smallest position as its root.
    compared: set[int] = set()
    n = len(texts)
    find = forest.find
    for i, ranked, limit in probes:
        # A near-duplicate holds most of this text's rare shared sentences; a text sharing one or
        # two of them (a quote, a stock phrase) is not worth comparing in full.
        hits = Counter(chain.from_iterable(postings[sentence] for sentence in ranked))
        need = (len(ranked) + 1) // 2
        mine: dict[int, tuple[frozenset[str], int]] = {}  # this text under each pair limit
        for j in sorted(j for j, count in hits.items() if count >= need and j != i):
            pair = i * n + j if i < j else j * n + i
            if pair in compared:
                continue
            compared.add(pair)
            if find(i) == find(j):
                continue
            pair_limit = limits[j] if limits[j] > limit else limit
            kept_i = mine.get(pair_limit)
            if kept_i is None:
                kept_i = mine[pair_limit] = kept(i, pair_limit)
            if _merges(kept_i, kept(j, pair_limit)):
                forest.union(i, j)


def cluster_items(items: Sequence[Item]) -> list[list[int]]:
    """Group the indices of ``items`` that carry one story (see the module docstring).

    Each group is sorted earliest first (published, then id); groups are ordered by their earliest
    member; every index appears in exactly one group.
    """
    return ordered_groups(items, reprint_groups([(item.title, item.text) for item in items]))


def reprint_groups(documents: Sequence[tuple[str, str]]) -> list[list[int]]:
    """The groups of :func:`cluster_items` from each item's title and text alone, in no promised
    order: what a second process needs to be sent (:mod:`digests.reprints_aside`)."""
    forest = _Forest(len(documents))
    first_of: dict[tuple[str, str], int] = {}
    distinct: list[int] = []  # the first item of each distinct long text
    bodies: list[str] = []
    for i, (title, text) in enumerate(documents):
        body = _body(text)
        if len(body) >= SHORT_TEXT:
            key = ("text", body)
        else:
            short = _title_key(title) or body
            key = ("title", short) if short else ("item", str(i))
        seen = first_of.setdefault(key, i)
        if seen != i:
            forest.union(seen, i)
        elif key[0] == "text":
            distinct.append(i)
            bodies.append(body)
    near = _Forest(len(distinct))
    _near_duplicates([_sentences(b) for b in bodies], near)
    for position, i in enumerate(distinct):
        forest.union(i, distinct[near.find(position)])
    groups: dict[int, list[int]] = {}
    for i in range(len(documents)):
        groups.setdefault(forest.find(i), []).append(i)
    return list(groups.values())


def ordered_groups(items: Sequence[Item], groups: Iterable[list[int]]) -> list[list[int]]:
    """``groups`` of indices of ``items``, each earliest first (published, then id), ordered by
    their earliest member."""

    def order(i: int) -> tuple[datetime, str, int]:
        return (items[i].published, items[i].id, i)

    ordered = [sorted(group, key=order) for group in groups]
    ordered.sort(key=lambda group: order(group[0]))
    return ordered
