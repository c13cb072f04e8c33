"""Real sentences to build synthetic posts from: the seeds, plus the finews corpus when present.

Files are parsed with the product's own parser (:func:`bot.sources.parse.parse_file`), so the
sentences are clean text: no markup, no footer, no source line. A document keeps its sentences in
order, so a synthetic paragraph can be a run of consecutive sentences (coherent text, and word
frequencies that depend on which documents a post draws from, as in real news).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.sources.errors import ParseError
from bot.sources.parse import is_supported, parse_file

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
# Test data beside the checkout, read in place: it must never be copied into the repository.
CORPUS = REPO.parent / "shared" / "corpus" / "finews"

# A sentence ends at a Chinese full stop, exclamation or question mark (kept with the sentence).
_SENTENCE = re.compile(r"[^。！？]+[。！？]?")
# Shorter pieces are list markers and fragments ("一是", "1."), not sentences.
MIN_SENTENCE_CHARS = 4
# Any fixed time will do: the mtime only matters for files without a date, and no id depends on it.
_MTIME = datetime(2022, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Document:
    """One source file's title and its sentences, in reading order."""

    name: str
    title: str
    sentences: tuple[str, ...]


def split_sentences(text: str) -> list[str]:
    """The sentences of a text: split on 。！？ and on line breaks, stripped, fragments dropped."""
    sentences = []
    for line in text.split("\n"):
        for match in _SENTENCE.finditer(line):
            sentence = match.group().strip()
            if len(sentence) >= MIN_SENTENCE_CHARS:
                sentences.append(sentence)
    return sentences


def source_files(corpus: Path | None = CORPUS) -> list[Path]:
    """The seed files, then the corpus' posts (``_posts/``, ``old_post/``) if the corpus exists."""
    files = sorted(p for p in SEEDS.iterdir() if p.is_file() and is_supported(p.name))
    if corpus is not None:
        for folder in ("_posts", "old_post"):
            if (corpus / folder).is_dir():
                files.extend(sorted((corpus / folder).glob("*.md")))
    return files


def load_documents(files: list[Path], *, exclude: str = "") -> list[Document]:
    """Parse each file into a :class:`Document`; files without sentences (or that fail) are left out.

    Sentences containing ``exclude`` (the made-up rare word) are dropped, so that the word occurs
    only where the synthesiser puts it. A document seen before (a seed is also in the corpus, a post
    in both ``_posts/`` and ``old_post/``) is kept once, so that it is not drawn twice as often.
    """
    documents = []
    seen: set[tuple[str, ...]] = set()
    for path in files:
        try:
            item = parse_file(path.read_bytes(), path=str(path), mtime=_MTIME)
        except (OSError, ParseError):
            continue
        sentences = tuple(s for s in split_sentences(item.text) if not (exclude and exclude in s))
        if sentences and sentences not in seen:
            seen.add(sentences)
            documents.append(Document(path.name, item.title, sentences))
    return documents
