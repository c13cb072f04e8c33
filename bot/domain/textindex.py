"""Exact Chinese keyword search over an FTS5 index of character bigrams.

Chinese text has no spaces between words, and users search for two-character words (株洲, 上市)
that the trigram tokenizer cannot answer. So the index holds, for every run of word characters
(letters and digits of any script), its overlapping bigrams followed by its last character alone:

    株洲市场 → 株洲 洲市 市场 场

A word of n ≥ 2 characters is the phrase of its n-1 bigrams, which can only match inside one run
(runs are separated by their trailing unigram): an exact substring match over the normalised text,
with no false hits and no misses. A one-character word is answered by a second, small index of the
distinct characters of each item (:attr:`IndexEntry.chars`), which is exact too and much cheaper to
keep than FTS5's prefix index. The trailing unigram makes every character of a run the first
character of some token, so a word ending in one character after punctuation (``6.3``) is still the
phrase ``"6 3"*``.

A query word that contains punctuation (``A+H``, ``6.35``) is answered by the index as a superset
(the punctuation itself is not indexed) and then verified against the normalised text; a word with
no letters or digits at all (``“``) can only be found by a scan. :class:`CompiledQuery` says which.

Everything a user types becomes quoted index tokens made of letters and digits only, so FTS5 syntax
(``"``, ``*``, ``(``, AND, OR, NEAR) in a query is literal text and can never change its meaning.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
import re
import sys
import unicodedata
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, overload

# A run of letters or digits, in any script: Python's \w without the underscore.
_WORD_RUN = re.compile(r"[^\W_]+")
# Full-width ASCII (U+FF01–U+FF5E: ，（）；Ａ１…) and the ideographic space: their NFKC form is the
# plain character, so replacing them first gives the same result as NFKC would.
_FULL_WIDTH = {chr(0xFF01 + i): chr(0x21 + i) for i in range(94)} | {"\u3000": " "}
_FULL_WIDTH_CHAR = re.compile("[\uff01-\uff5e\u3000]")


def fold(text: str) -> str:
    """Normalise text for matching: NFKC (full-width ＩＰＯ → IPO), then case folding (IPO → ipo)."""
    # Chinese text is full of full-width punctuation, which NFKC changes: replace the few kinds
    # present (found by a regex: iterating a Chinese string in Python allocates a string per
    # character), after which most text passes NFKC's quick check and skips the normalisation.
    for char in set(_FULL_WIDTH_CHAR.findall(text)):
        text = text.replace(char, _FULL_WIDTH[char])
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def _bigrams(run: str) -> list[str]:
    # map over the run and its tail: the pairs are built at C level, several times faster than
    # slicing in a Python loop (this runs on every character of every imported item).
    return list(map(operator.add, run, run[1:]))


def _run_tokens(run: str) -> list[str]:
    """The index tokens of one run: its overlapping bigrams, then its last character."""
    tokens = _bigrams(run)
    tokens.append(run[-1])
    return tokens


class IndexEntry(NamedTuple):
    """What the index keeps of one item: its token stream and its distinct characters."""

    tokens: str  # bigrams and trailing unigrams in text order, separated by one or more spaces
    chars: str  # each distinct letter or digit once, space-separated


# Everything that is not a letter or digit: what separates runs.
_NON_WORD = re.compile(r"[\W_]+")
# A run's first character, except the first run's: it follows the single space separating runs.
_RUN_START = re.compile(r"(?<= )[^ ]")
# Code points as machine integers: an array of 4-byte items viewed through the native-order UTF-32.
_CODE_POINT = next(code for code in "IL" if array(code).itemsize == 4)
_UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"
_SPACE = ord(" ")


def _code_points(text: str) -> array[int]:
    return array(_CODE_POINT, text.encode(_UTF32))


def _field_tokens(folded: str) -> tuple[str, array[int]]:
    """The token stream of one folded field, and its letters and digits as code points.

    Building a token per character in Python costs a string object each; this builds the stream
    as three interleaved columns of code points instead, at C speed. With ``runs`` the field's runs
    separated by single spaces, position i holds runs[i], then runs[i+1] unless runs[i] is a space,
    then a space:

        runs = "株洲市 a股" → "株洲 洲市 市  " + "   " + "a股 股  " → tokens 株洲 洲市 市 a股 股

    which is each run's bigrams and last character, the same tokens :func:`_run_tokens` gives.
    """
    runs = _NON_WORD.sub(" ", folded)
    if not runs:
        return "", array(_CODE_POINT)
    # The second column is the next character, blanked where it starts a run (so that no token
    # spans two runs); the last character's is a space (the trailing unigram).
    following = _RUN_START.sub(" ", runs)[1:] + " "
    characters = _code_points(runs)
    stream = array(_CODE_POINT, [_SPACE]) * (3 * len(runs))
    stream[0::3] = characters
    stream[1::3] = _code_points(following)
    return stream.tobytes().decode(_UTF32), characters


def index_entry(*fields: str) -> IndexEntry:
    """The index entry of an item's fields (title, text, …), folded separately so that no token
    spans two fields."""
    streams: list[str] = []
    chars: set[int] = set()
    for field in fields:
        stream, characters = _field_tokens(fold(field))
        streams.append(stream)
        chars.update(characters)  # a set of integers costs half as much as one of 1-character strings
    chars.discard(_SPACE)
    return IndexEntry(" ".join(streams), " ".join(map(chr, chars)))


def split_query(query: str | Iterable[str]) -> list[str]:
    """The folded words of a query: separated by white space, empty ones dropped, duplicates once."""
    parts = query.split() if isinstance(query, str) else [p for q in query for p in q.split()]
    words: list[str] = []
    for part in parts:
        word = fold(part).strip()
        # fold() can turn a character into white space (NFKC of U+3000 is a space): split again.
        for piece in word.split():
            if piece not in words:
                words.append(piece)
    return words


@dataclass(frozen=True, slots=True)
class WordMatch:
    """How the index answers one folded query word."""

    word: str
    fts: str | None  # an FTS5 phrase for the token index, or None
    exact: bool  # True when the index alone is the exact answer
    char: str | None = None  # a one-character word: answered by the character index

    @property
    def needs_scan(self) -> bool:
        """Whether only a scan of the text can answer this word."""
        return self.fts is None and self.char is None


def _quoted(tokens: Sequence[str]) -> str:
    # Tokens are letters and digits only, so they never contain a double quote.
    return '"' + " ".join(tokens) + '"'


def compile_word(word: str) -> WordMatch:
    """Turn one folded query word into an FTS5 phrase (see the module docstring)."""
    runs = list(_WORD_RUN.finditer(word))
    if not runs:
        return WordMatch(word, None, exact=False)
    if len(word) == 1:
        return WordMatch(word, None, exact=True, char=word)
    tokens: list[str] = []
    prefix = False
    for index, match in enumerate(runs):
        run = match.group()
        if match.end() < len(word):
            # Punctuation follows: in the text this run must end here, and a run's end is the
            # trailing unigram token, so the run's tokens are exactly its index tokens.
            tokens.extend(_run_tokens(run))
        elif len(run) == 1:
            # The word's last character may be followed by more text: any token starting with it.
            assert index == len(runs) - 1
            tokens.append(run)
            prefix = True
        else:
            tokens.extend(_bigrams(run))
    phrase = _quoted(tokens) + ("*" if prefix else "")
    single_run = len(runs) == 1 and runs[0].start() == 0 and runs[0].end() == len(word)
    return WordMatch(word, phrase, exact=single_run)


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """A search, ready for the store: every word must appear (AND)."""

    words: tuple[WordMatch, ...]

    @property
    def fts(self) -> str | None:
        """The MATCH expression for the token index (words of 2+ characters), or None."""
        phrases = [w.fts for w in self.words if w.fts is not None]
        return " AND ".join(phrases) if phrases else None

    @property
    def chars(self) -> str | None:
        """The MATCH expression for the character index (one-character words), or None."""
        chars = [f'"{w.char}"' for w in self.words if w.char is not None]
        return " AND ".join(chars) if chars else None

    @property
    def needs_scan(self) -> bool:
        """Whether no word of the query is indexed: only a scan can find candidates."""
        return self.fts is None and self.chars is None

    @property
    def exact(self) -> bool:
        """Whether the index alone answers the query exactly (no verification pass needed)."""
        return all(w.exact for w in self.words)

    def matches(self, *fields: str) -> bool:
        """The reference semantics: every word is a substring of one of the folded fields."""
        folded = [fold(f) for f in fields]
        return all(any(w.word in f for f in folded) for w in self.words)


def compile_query(query: str | Iterable[str]) -> CompiledQuery:
    """Compile what a user typed. Raises ValueError when it holds no word at all."""
    words = split_query(query)
    if not words:
        raise ValueError("empty query")
    return CompiledQuery(tuple(compile_word(w) for w in words))


def compile_any(keywords: Iterable[str]) -> list[CompiledQuery]:
    """Compile a topic's keywords, each a query of its own (a keyword may hold several words)."""
    compiled = []
    for keyword in keywords:
        try:
            compiled.append(compile_query(keyword))
        except ValueError:
            continue
    return compiled


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    return fold(char)


def fold_with_origin(text: str) -> tuple[str, Sequence[int]]:
    """The folded text and, for each folded character, the index of the character it came from.

    Lets a match found in the folded text be shown in the text as written.
    """
    folded = fold(text)
    if len(folded) == len(text):
        return folded, range(len(text))
    # Folding changed the length (ß → ss, a composed accent, and the ellipsis … of Chinese news,
    # three characters once folded): fold character by character to know where each folded
    # character came from, and find that out only for the positions asked for.
    pieces = list(map(_fold_char, text))
    return "".join(pieces), _Origins(pieces)


class _Origins(Sequence[int]):
    """For each folded character, the index of the character it came from: a search in the running
    total of folded lengths, rather than a list as long as the text (a snippet asks for two)."""

    __slots__ = ("_ends",)

    def __init__(self, pieces: Iterable[str]) -> None:
        self._ends = list(itertools.accumulate(map(len, pieces)))  # folded length up to each char

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...

    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return bisect.bisect_right(self._ends, index)


def snippet(text: str, words: Sequence[str], width: int = 60) -> str:
    """A short excerpt of ``text`` around the first occurrence of any of the folded ``words``.

    Positions are found in the folded text and mapped back to the original, so the excerpt shows
    the text as written. Without an occurrence, the start of the text.
    """
    folded, origin = fold_with_origin(text)
    hits = [(pos, len(w)) for w in words if w and (pos := folded.find(w)) >= 0]
    flat = " ".join(text.split())
    if not hits:
        return flat[:width] + ("…" if len(flat) > width else "")
    pos, length = min(hits)
    start_char = origin[pos]
    end_char = origin[min(pos + length, len(origin)) - 1] + 1
    context = max(0, (width - (end_char - start_char)) // 2)
    lo = max(0, start_char - context)
    hi = min(len(text), end_char + context)
    excerpt = " ".join(text[lo:hi].split())
    return ("…" if lo > 0 else "") + excerpt + ("…" if hi < len(text) else "")
