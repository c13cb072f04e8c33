"""An item's field as the topic automaton sees it: where each word occurs, and how far apart.

:class:`FieldScan` holds the occurrences the automaton found in one folded field, as character
offsets into it. :func:`nearest` answers the question of ``near`` rules: which near word stands
closest to an occurrence, and how many characters lie between them.
"""

from __future__ import annotations

from typing import NamedTuple

Occurrences = dict[str, list[int]]  # folded word → start offsets (in characters), ascending


class FieldScan(NamedTuple):
    """The occurrences found in one folded field."""

    occ: Occurrences
    folded: str


def nearest(
    scan: FieldScan, start: int, word: str, near: tuple[str, ...], longest: int, window: int
) -> tuple[str, int] | None:
    """The near word closest to the occurrence of ``word`` at ``start``, within ``window``
    characters before or after it, and how many characters lie between them; None if none does.

    ``longest`` is the length of the longest near word. A near word overlapping the occurrence
    (企业上市 for 上市) is at distance 0. Near words are looked for in the occurrence's
    neighbourhood only, not by the automaton: they are often the commonest words of the news (企业,
    金融, 贷款), and recording every occurrence of them in every item cost more than all the rest
    of matching.
    """
    end = start + len(word)
    low = max(0, start - window - longest)
    segment = scan.folded[low : end + window + longest]
    best: tuple[str, int] | None = None
    for candidate in near:
        at = segment.find(candidate)
        while at >= 0:
            other = low + at
            other_end = other + len(candidate)
            if other_end <= start:
                gap = start - other_end
            elif other >= end:
                gap = other - end
            else:
                gap = 0
            if gap <= window and (best is None or gap < best[1]):
                best = (candidate, gap)
                if gap == 0:
                    return best
            at = segment.find(candidate, at + 1)
    return best
