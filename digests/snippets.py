"""One sentence of an item, around its first keyword hit, with every keyword occurrence marked."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.domain.textindex import fold_with_origin
from digests.values import SnippetPart

SNIPPET_CHARS = 90
# Sentence ends in Chinese and Western text; a line break ends a sentence too.
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
_SPACES = re.compile(r"\s+")
_CLOSERS = "”’」』）)】 \t"


def _sentence_around(text: str, pos: int) -> tuple[int, int]:
    start = 0
    for match in _SENTENCE_END.finditer(text, 0, pos):
        start = match.end()
    end_match = _SENTENCE_END.search(text, pos)
    end = end_match.end() if end_match else len(text)
    return start, end


def keyword_spans(text: str, keywords: Sequence[str]) -> list[tuple[int, int]]:
    """Non-overlapping spans of ``text`` (as written) holding a folded keyword, in text order."""
    return _occurrences(*fold_with_origin(text), keywords)


def _occurrences(folded: str, origin: Sequence[int], keywords: Sequence[str]) -> list[tuple[int, int]]:
    """Non-overlapping spans (in the original text) of every keyword occurrence, longest first wins."""
    spans: list[tuple[int, int]] = []
    # Longest first; among equally long ones, in the order given (a set's order would vary with
    # the hash seed, and with it which of two overlapping keywords is highlighted).
    for word in sorted(dict.fromkeys(k for k in keywords if k), key=len, reverse=True):
        at = folded.find(word)
        while at >= 0:
            start, end = origin[at], origin[at + len(word) - 1] + 1
            if all(end <= s or start >= e for s, e in spans):
                spans.append((start, end))
            at = folded.find(word, at + 1)
    return sorted(spans)


def highlight(text: str, keywords: Sequence[str], width: int = SNIPPET_CHARS) -> tuple[SnippetPart, ...]:
    """The sentence of ``text`` holding the first occurrence of a (folded) keyword, cut to ``width``.

    Without an occurrence, the first sentence. Every occurrence inside the excerpt is a hit part.
    """
    text = text.strip()
    if not text:
        return ()
    folded, origin = fold_with_origin(text)
    spans = _occurrences(folded, origin, keywords)
    first = spans[0] if spans else (0, 0)
    start, end = _sentence_around(text, first[0])
    # A quotation closed after the previous sentence's stop (。”) belongs to that sentence.
    while start < end and text[start] in _CLOSERS:
        start += 1
    sentence_start, sentence_end = start, end
    if end - start > width:
        # Centre a long sentence's window on the hit, keeping the hit whole.
        half = max(0, (width - (first[1] - first[0])) // 2)
        start = max(start, first[0] - half)
        end = min(end, start + width)
    excerpt_spans = [(s, e) for s, e in spans if s >= start and e <= end]
    parts: list[SnippetPart] = []
    at = start
    lead = "…" if start > sentence_start else ""
    for s, e in excerpt_spans:
        if s > at:
            parts.append(SnippetPart(text[at:s]))
        parts.append(SnippetPart(text[s:e], hit=True))
        at = e
    if end > at:
        parts.append(SnippetPart(text[at:end]))
    tail = "…" if end < sentence_end else ""
    # Collapse runs of white space (line breaks inside a sentence) to one space, keeping edges.
    cleaned = [SnippetPart(_SPACES.sub(" ", p.text), p.hit) for p in parts]
    if lead:
        cleaned.insert(0, SnippetPart(lead))
    if tail:
        cleaned.append(SnippetPart(tail))
    return tuple(p for p in cleaned if p.text)
