"""A digest split into messages within a platform's size limit, whatever the platform's markup.

Every chat format builds a digest from blocks: its header, a topic heading, one entry, a topic's
"另有 N 条" line. Blocks are never cut, so every message is well-formed by construction and a
reader never sees half a story. They are packed greedily in order; when a topic continues into the
next message its heading is repeated with "（续）". An entry too large for a message of its own is
the only thing ever shortened: its title and snippet are cut with "…".

What a block is (an HTML or Markdown string, a list of rich-text paragraphs) and how its size is
counted (UTF-16 units for Telegram, UTF-8 bytes for WeCom, bytes of the JSON body for DingTalk and
Feishu) is the format's business: it hands in a ``measure`` that is additive over blocks, and the
cost of the gap between two blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Generic, TypeVar

from bot.texts import digest as texts
from digests.render_view import DigestView, EntryView, reuse, shorten_snippet, shorten_title
from digests.values import SnippetPart

Block = TypeVar("Block")
# How a format writes one entry: (entry, title, snippet, whether to link the title) → a block.
EntryWriter = Callable[[EntryView, str, tuple[SnippetPart, ...], bool], Block]


class Packer(Generic[Block]):
    """Fills messages with blocks in order, starting a new message when the next does not fit."""

    def __init__(self, limit: int, header: Block, measure: Callable[[Block], int], gap: int) -> None:
        """Messages of at most ``limit`` units as ``measure`` counts them, ``gap`` between blocks;
        the first message starts with ``header``."""
        self.limit = limit
        self.measure = measure
        self.gap = gap
        self.messages: list[list[Block]] = []
        self.blocks = [header]
        self.size = measure(header)

    def add(
        self,
        block: Block,
        lead: Block | None,
        fresh: Block | None,
        fit: Callable[[int], Block] | None = None,
    ) -> None:
        """Add ``block``, after ``lead`` if the current message has room for both.

        Otherwise a new message starts with ``fresh`` (the topic's heading, or its "（续）"
        heading, or nothing) and then ``block``. A block too large even for that new message is
        first shortened by ``fit(budget)``; the shortened block may then still fit where it is.
        """
        measure, gap = self.measure, self.gap
        fresh_size = measure(fresh) + gap if fresh is not None else 0
        size = measure(block)
        if fit is not None and size > self.limit - fresh_size:
            block = fit(self.limit - fresh_size)
            size = measure(block)
        # Each block measured once: measuring is the costly part (a UTF-16 or JSON encoding).
        if lead is None:
            group, grown = [block], size + gap
        else:
            group, grown = [lead, block], measure(lead) + gap + size + gap
        if self.size + grown <= self.limit:
            self.blocks += group
            self.size += grown
            return
        self.messages.append(self.blocks)
        # The first block of a message has no gap before it.
        self.blocks = [fresh, block] if fresh is not None else [block]
        self.size = fresh_size + size

    def finish(self) -> list[list[Block]]:
        """Every message's blocks, the last message included."""
        self.messages.append(self.blocks)
        return self.messages


class Format(Generic[Block]):
    """How one chat format writes a digest's blocks; :func:`pack` lays them into messages."""

    name = ""  # keys this format's cached blocks (see digests.render_view.reuse)

    def header(self, view: DigestView) -> Block:
        """The digest's heading and counts."""
        raise NotImplementedError

    def heading(self, text: str) -> Block:
        """A topic's heading, "【上市】3 条" or with "（续）"."""
        raise NotImplementedError

    def entry(self, entry: EntryView, title: str, snippet: tuple[SnippetPart, ...], link: bool) -> Block:
        """One story: numbered title (linked when ``link`` and the URL is safe), outlets and time,
        the snippet with its keywords emphasised."""
        raise NotImplementedError

    def more(self, text: str) -> Block:
        """A topic's "另有 N 条" line."""
        raise NotImplementedError

    def measure(self, block: Block) -> int:
        """A block's size as the platform's limit counts it."""
        raise NotImplementedError


def pack(view: DigestView, fmt: Format[Block], limit: int, gap: int) -> list[list[Block]]:
    """The digest's blocks laid into messages of at most ``limit`` (see the module docstring).

    The header is in the first message. Messages are split only between blocks; a topic continued
    in the next message repeats its heading with "（续）". An entry that alone would not fit gets
    its title and snippet shortened with "…"; nothing else is ever left out.
    """
    packer = Packer(limit, fmt.header(view), fmt.measure, gap)  # an empty day's header says so
    for section in view.sections:
        heading = fmt.heading(section.heading)
        continued = fmt.heading(section.heading + texts.CONTINUED)
        for index, entry in enumerate(section.entries):
            # The heading travels with the first entry so that no message ends on a bare heading.
            packer.add(
                reuse(entry, fmt.name, partial(fmt.entry, entry, entry.title, entry.snippet, True)),
                lead=None if index else heading,
                fresh=continued if index else heading,
                fit=partial(_fit, entry, fmt),
            )
        if section.more > 0:
            more = fmt.more(texts.MORE.format(n=section.more))
            lead = None if section.entries else heading
            packer.add(more, lead=lead, fresh=continued if section.entries else heading)
        elif not section.entries:  # the builder leaves such topics out; shown, not lost, if not
            packer.add(heading, lead=None, fresh=None)
    return packer.finish()


def _fit(entry: EntryView, fmt: Format[Block], budget: int) -> Block:
    return fit_entry(entry, budget, fmt.entry, fmt.measure)


def fit_entry(
    entry: EntryView, budget: int, write: EntryWriter[Block], measure: Callable[[Block], int]
) -> Block:
    """The entry shortened to at most ``budget`` units, keeping as much title and snippet as fit.

    Title and snippet first share one cap, so that a 5,000-character title does not push out a
    short snippet (or the reverse); then whatever room is left goes to the title, then the
    snippet. The link is dropped only when even "…" for both would not fit (a URL of thousands of
    escaped characters).
    """
    title_length = len(entry.title)
    snippet_length = sum(len(part.text) for part in entry.snippet)
    link = measure(write(entry, "", shorten_snippet(entry.snippet, 0), True)) <= budget

    def fits(title_keep: int, snippet_keep: int) -> bool:
        title = shorten_title(entry.title, title_keep)
        snippet = shorten_snippet(entry.snippet, snippet_keep)
        return measure(write(entry, title, snippet, link)) <= budget

    shared = largest(0, max(title_length, snippet_length), lambda k: fits(k, k))
    title_keep, snippet_keep = min(shared, title_length), min(shared, snippet_length)
    title_keep = largest(title_keep, title_length, lambda k: fits(k, snippet_keep))
    snippet_keep = largest(snippet_keep, snippet_length, lambda k: fits(title_keep, k))
    return write(
        entry,
        shorten_title(entry.title, title_keep),
        shorten_snippet(entry.snippet, snippet_keep),
        link,
    )


def largest(low: int, high: int, ok: Callable[[int], bool]) -> int:
    """The largest k in [low, high] with ``ok(k)``, for ``ok`` true up to a point (low if none)."""
    while low < high:
        middle = (low + high + 1) // 2
        if ok(middle):
            low = middle
        else:
            high = middle - 1
    return low
