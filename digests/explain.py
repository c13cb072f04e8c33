"""Why an item is or is not relevant to a topic: every keyword occurrence and what became of it.

:meth:`digests.rules.TopicMatcher.explain` fills these values; :meth:`Explanation.lines` tells them
in short Chinese sentences (``finews-bot`` and the chat's /why show them). Pure data, no matching
here, so that readers of an explanation need not know how the automaton works.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Why a source was refused: defined beside the matching values, which need them; named here too.
from digests.hits import EXCLUDED_SOURCE as EXCLUDED_SOURCE
from digests.hits import NOT_ALLOWED as NOT_ALLOWED
from digests.hits import Field, Hit, named_in_passing

FIELD_NAME = {Field.TITLE: "标题", Field.TEXT: "正文"}
# Near words named in one line of an explanation; the rest are counted ("等 N 个").
_NEAR_SHOWN = 5


class Verdict(StrEnum):
    """What became of one occurrence of a keyword."""

    COUNTED = "counted"
    NEGATED = "negated"  # inside an occurrence of a not_in context
    NOT_NEAR = "not_near"  # no near word within the window
    NEAR_NEGATIVE = "near_negative"  # a not_near word within the window
    TITLE_ONLY = "title_only"  # a title keyword found in the body


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence of a keyword's word in an item, where it is and whether it counted."""

    keyword: str  # as configured
    word: str  # the folded word found (the keyword itself unless it has several words)
    field: Field
    start: int  # character offsets in the folded field
    end: int
    verdict: Verdict
    # NEGATED: the not_in context; COUNTED with a near rule: the near word found; NEAR_NEGATIVE: the
    # not_near word found
    context: str = ""
    distance: int = 0  # COUNTED with a near rule, NEAR_NEGATIVE: characters to that word


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
    occurrences: tuple[Occurrence, ...] = ()  # every occurrence, by field then position
    score: float = 0.0  # the counted occurrences' score (see digests.rules)
    min_score: float = 0.0  # the topic's minimum; 0: none
    near_window: int = 0  # the topic's window for near words
    near: tuple[tuple[str, tuple[str, ...]], ...] = ()  # keyword → its near words, as configured

    @property
    def in_passing(self) -> bool:
        """Whether the item matched and names the topic once, in its body only (listed last)."""
        return self.matched and named_in_passing(self.hits)

    @property
    def below_min_score(self) -> bool:
        """Whether the counted occurrences fall short of the topic's minimum score."""
        return bool(self.hits) and self.score < self.min_score

    def counted(self) -> tuple[Occurrence, ...]:
        """The occurrences that counted, title first."""
        return tuple(o for o in self.occurrences if o.verdict is Verdict.COUNTED)

    def lines(self) -> list[str]:
        """Short Chinese sentences for a reader, the verdict first."""
        lines = [f"「{self.topic}」：{'相关' if self.matched else '不相关'}"]
        if not self.usable:
            lines.append("该主题没有可用的关键词")
        for hit in self.hits:
            lines.append(f"{FIELD_NAME[hit.field]}命中「{hit.keyword}」{hit.count} 次")
        for neg in self.negated:
            lines.append(f"{FIELD_NAME[neg.field]}「{neg.word}」{neg.count} 处位于「{neg.context}」中，不计")
        lines += self._not_near_lines()
        lines += self._near_negative_lines()
        lines += self._title_only_lines()
        if self.usable and not self.hits:
            lines.append("未命中任何关键词")
        if self.min_score > 0 and self.hits:
            verdict = "低于" if self.below_min_score else "达到"
            lines.append(f"得分 {self.score:g}，{verdict}最低分 {self.min_score:g}（标题每处计两倍）")
        lines.extend(f"含排除词「{word}」" for word in self.excluded_by)
        lines.extend(f"缺少必备词「{word}」" for word in self.missing_required)
        if self.source_refused == NOT_ALLOWED:
            lines.append(f"来源 {self.source} 不在允许列表")
        elif self.source_refused == EXCLUDED_SOURCE:
            lines.append(f"来源 {self.source} 在排除列表中")
        return lines

    def _grouped(self, verdict: Verdict) -> dict[tuple[Field, str, str], int]:
        groups: dict[tuple[Field, str, str], int] = {}
        for occ in self.occurrences:
            if occ.verdict is verdict:
                key = (occ.field, occ.keyword, occ.word)
                groups[key] = groups.get(key, 0) + 1
        return groups

    def _not_near_lines(self) -> list[str]:
        near = dict(self.near)
        lines = []
        for (field, keyword, word), count in self._grouped(Verdict.NOT_NEAR).items():
            words = near.get(keyword, ())
            shown = "、".join(words[:_NEAR_SHOWN])
            if len(words) > _NEAR_SHOWN:
                shown += f"等 {len(words)} 个"
            lines.append(
                f"{FIELD_NAME[field]}「{word}」{count} 处前后 {self.near_window} 字内没有「{shown}」，不计"
            )
        return lines

    def _near_negative_lines(self) -> list[str]:
        # field, keyword, word → how many occurrences, and the not_near words found beside them
        groups: dict[tuple[Field, str, str], tuple[list[int], list[str]]] = {}
        for occ in self.occurrences:
            if occ.verdict is Verdict.NEAR_NEGATIVE:
                count, found = groups.setdefault((occ.field, occ.keyword, occ.word), ([0], []))
                count[0] += 1
                if occ.context not in found:
                    found.append(occ.context)
        window = self.near_window
        return [
            f"{FIELD_NAME[field]}「{word}」{count[0]} 处前后 {window} 字内有「{'」「'.join(found)}」，不计"
            for (field, _, word), (count, found) in groups.items()
        ]

    def _title_only_lines(self) -> list[str]:
        return [
            f"「{keyword}」只在标题中计，{FIELD_NAME[field]} {count} 处不计"
            for (field, keyword, _), count in self._grouped(Verdict.TITLE_ONLY).items()
        ]
