"""An item's field as the topic automaton sees it: where each word occurs, and how far apart.

:class:`FieldScan` holds the occurrences the automaton found in one folded field, as byte offsets
into its UTF-8 view (:func:`view_of`: why bytes, see there), and turns them into characters when
a reader needs them. :func:`nearest` answers the question of ``near`` rules: which near word stands
closest to an occurrence, and how many characters lie between them.
"""

from __future__ import annotations

from typing import NamedTuple

# UTF-8 takes at most four bytes per character: occurrences further apart than this many bytes
# per character of the window cannot be near, without decoding anything.
_MAX_BYTES_PER_CHAR = 4

Occurrences = dict[str, list[int]]  # folded word → start offsets (in bytes, see view_of), ascending


def view_of(text: str) -> str:
    """The UTF-8 bytes of ``text`` as a str of code points 0-255: what the automaton scans.

    pyahocorasick looks a character up among a trie node's children one by one, and with hundreds
    of words the root has hundreds of distinct first characters: scanning Chinese text directly
    cost ~100 ns per character (measured, 400 words). Over UTF-8 bytes a node has at most 64
    children and the root a handful, which is 3-4 times faster even with three bytes per character.
    UTF-8 is self-synchronising, so a word's bytes match only at character boundaries: occurrences,
    and whether one lies inside another, are the same as over the characters.
    """
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


def chars_between(view: str, start: int, end: int) -> int:
    """How many characters the bytes ``view[start:end]`` hold (both at character boundaries)."""
    if end <= start:
        return 0
    return len(view[start:end].encode("latin-1").decode("utf-8", "surrogatepass"))


class FieldScan(NamedTuple):
    """The occurrences found in one folded field."""

    occ: Occurrences
    folded: str
    view: str  # the folded field as _view() gives it: what the offsets in occ count

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

    def char_offset(self, byte_offset: int) -> int:
        """The character offset of a byte offset (for explanations, not for matching)."""
        return chars_between(self.view, 0, byte_offset)


def nearest(
    scan: FieldScan, start: int, word: str, near: tuple[tuple[str, str], ...], window: int
) -> tuple[str, int] | None:
    """The near word closest to the occurrence of ``word`` at byte ``start``, within ``window``
    characters before or after it, and how many characters lie between them; None if none does.

    A near word overlapping the occurrence (企业上市 for 上市) is at distance 0. Near words are
    looked for in the occurrence's neighbourhood only, not by the automaton: they are often the
    commonest words of the news (企业, 金融, 贷款), and recording every occurrence of them in every
    item cost more than all the rest of matching. In the UTF-8 view a word's bytes can only be
    found where a character starts, so finding them there is finding them in the text.
    """
    end = start + len(word.encode("utf-8", "surrogatepass"))
    reach = window * _MAX_BYTES_PER_CHAR
    longest = max(len(v) for _, v in near)
    low = max(0, start - reach - longest)
    segment = scan.view[low : end + reach + longest]
    best: tuple[str, int] | None = None
    for candidate, view in near:
        at = segment.find(view)
        while at >= 0:
            other = low + at
            other_end = other + len(view)
            if other_end <= start:
                gap = chars_between(scan.view, other_end, start) if start - other_end <= reach else window + 1
            elif other >= end:
                gap = chars_between(scan.view, end, other) if other - end <= reach else window + 1
            else:
                gap = 0
            if gap <= window and (best is None or gap < best[1]):
                best = (candidate, gap)
                if gap == 0:
                    return best
            at = segment.find(view, at + 1)
    return best
