"""Chinese text cut into words, for the words a "不相关" proposal offers.

Chinese is written without spaces, so "the word beside a keyword" needs a segmenter: cutting at
fixed lengths offered fragments (研究机, 州市, 全链条推) that no admin would add to a rule. The
cut is rjieba's (jieba's dictionary and its HMM for unknown words, in Rust). Matching never uses
it: keywords stay exact substrings, and search stays character-based.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import NamedTuple

_CAPITALS = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


class Word(NamedTuple):
    """One word of a text, with its character offsets: text[start:end] == word."""

    text: str
    start: int
    end: int


def cut(text: str) -> list[Word]:
    """The words of ``text`` in order, covering it whole (punctuation and digits are words too)."""
    # jieba's dictionary writes Latin letters as capitals (A股, ETF, IPO) and folded text has them in
    # lower case: the segmenter reads them as capitals (the same length), the words keep the text's.
    shown = text.translate(_CAPITALS)
    # Imported on first use: importing rjieba loads jieba's dictionary (125 ms, 33 MiB measured),
    # which only an admin's "不相关" needs, not every process that imports the handlers.
    import rjieba

    return [Word(text[start:end], start, end) for _, start, end in rjieba.tokenize(shown)]


def covering(words: Sequence[Word], start: int, end: int) -> tuple[int, int]:
    """The span of the words that [start, end) touches: from the start of the first to the end of
    the last (the span itself when it falls on word boundaries)."""
    low, high = start, end
    for word in words:
        if word.end > start and word.start < end:
            low, high = min(low, word.start), max(high, word.end)
    return low, high
