"""A digest as Telegram messages in HTML parse mode, each within Telegram's 4096-unit limit.

A message is built from blocks joined by a blank line: the digest's header, a topic heading, one
entry, or a topic's "另有 N 条" line. Blocks are never cut, so every message is well-formed HTML by
construction and a reader never sees half a story. Blocks are packed greedily in order; when a
topic continues into the next message its heading is repeated with "（续）". An entry too large for
a message of its own is the only thing ever shortened: its title and snippet are cut with "…".
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from html import escape

from bot.domain.safetext import utf16_len
from bot.texts import digest as texts
from digests.render_view import (
    DigestView,
    EntryView,
    SectionView,
    digest_view,
    reuse,
    shorten_snippet,
    shorten_title,
)
from digests.values import Digest, SnippetPart

# Telegram's limit for one message, in UTF-16 code units. It is measured here on the HTML source,
# which is never shorter than the text Telegram counts after parsing, so the check is safe.
MESSAGE_LIMIT = 4096
_GAP = "\n\n"  # between blocks: a blank line reads well on a phone


def render_telegram(digest: Digest, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The digest as Telegram HTML messages, in order, each at most ``limit`` UTF-16 units.

    The header is in the first message. Messages are split only between blocks (header, topic
    heading, entry, "另有 N 条"); a topic continued in the next message repeats its heading with
    "（续）". An entry that alone would not fit gets its title and snippet shortened with "…";
    nothing else is ever left out. ``limit`` is for tests; Telegram's is the default (a limit far
    below it may not hold an entry's fixed parts: number, outlets, time and link).
    """
    view = digest_view(digest)
    packer = _Packer(limit, _header(view))  # an empty day's header already says so
    for section in view.sections:
        heading = _heading(section, continued=False)
        continued = _heading(section, continued=True)
        for index, entry in enumerate(section.entries):
            # The heading travels with the first entry so that no message ends on a bare heading.
            packer.add(
                reuse(entry, "telegram", partial(_entry, entry, entry.title, entry.snippet, link=True)),
                lead="" if index else heading,
                fresh=continued if index else heading,
                fit=_fitter(entry),
            )
        if section.more > 0:
            more = f"<i>{escape(texts.MORE.format(n=section.more), quote=False)}</i>"
            lead = "" if section.entries else heading
            packer.add(more, lead=lead, fresh=continued if section.entries else heading)
        elif not section.entries:  # the builder leaves such topics out; shown, not lost, if not
            packer.add(heading, lead="", fresh="")
    return packer.finish()


class _Packer:
    """Fills messages with blocks in order, starting a new message when the next does not fit."""

    def __init__(self, limit: int, header: str) -> None:
        self.limit = limit
        self.messages: list[str] = []
        self.blocks = [header]
        self.size = utf16_len(header)

    def add(self, block: str, lead: str, fresh: str, fit: Callable[[int], str] | None = None) -> None:
        """Add ``block``, after ``lead`` if the current message has room for both.

        Otherwise a new message starts with ``fresh`` (the topic's heading, or its "（续）"
        heading, or nothing) and then ``block``. A block too large even for that new message is
        first shortened by ``fit(budget)``; the shortened block may then still fit where it is.
        """
        fresh_budget = self.limit - (utf16_len(fresh) + len(_GAP) if fresh else 0)
        if fit is not None and utf16_len(block) > fresh_budget:
            block = fit(fresh_budget)
        group = [lead, block] if lead else [block]
        if self.size + sum(utf16_len(part) + len(_GAP) for part in group) <= self.limit:
            self._append(group)
            return
        self.messages.append(_GAP.join(self.blocks))
        self.blocks, self.size = [], -len(_GAP)  # the first block of a message has no gap before it
        self._append([fresh, block] if fresh else [block])

    def _append(self, group: list[str]) -> None:
        self.blocks += group
        self.size += sum(utf16_len(part) + len(_GAP) for part in group)

    def finish(self) -> list[str]:
        """Every message, the last one included."""
        self.messages.append(_GAP.join(self.blocks))
        return self.messages


def _header(view: DigestView) -> str:
    return f"<b>{escape(view.heading, quote=False)}</b>\n{escape(view.summary, quote=False)}"


def _heading(section: SectionView, continued: bool) -> str:
    text = section.heading + (texts.CONTINUED if continued else "")
    return f"<b>{escape(text, quote=False)}</b>"


def _entry(entry: EntryView, title: str, snippet: tuple[SnippetPart, ...], link: bool) -> str:
    """One entry: numbered title (a link when the URL is safe), outlets and time, snippet, and the
    other topics the story matched."""
    shown = escape(title, quote=False)
    if link and entry.url is not None:
        first = f'{entry.number}. <a href="{escape(entry.url, quote=True)}">{shown}</a>'
    else:
        first = f"{entry.number}. <b>{shown}</b>"  # bold stands in for the link's colour
    lines = [first]
    if entry.meta:
        lines.append(f"<i>{escape(entry.meta, quote=False)}</i>")
    if snippet:
        lines.append(
            "".join(
                f"<b>{escape(part.text, quote=False)}</b>" if part.hit else escape(part.text, quote=False)
                for part in snippet
            )
        )
    if entry.also_line:
        lines.append(f"<i>{escape(entry.also_line, quote=False)}</i>")
    return "\n".join(lines)


def _fitter(entry: EntryView) -> Callable[[int], str]:
    return lambda budget: _fit_entry(entry, budget)


def _fit_entry(entry: EntryView, budget: int) -> str:
    """The entry shortened to at most ``budget`` units, keeping as much title and snippet as fit.

    Title and snippet first share one cap, so that a 5,000-character title does not push out a
    short snippet (or the reverse); then whatever room is left goes to the title, then the
    snippet. The link is dropped only when even "…" for both would not fit (a URL of thousands of
    escaped characters).
    """
    title_length = len(entry.title)
    snippet_length = sum(len(part.text) for part in entry.snippet)
    link = utf16_len(_entry(entry, "", shorten_snippet(entry.snippet, 0), link=True)) <= budget

    def fits(title_keep: int, snippet_keep: int) -> bool:
        title = shorten_title(entry.title, title_keep)
        snippet = shorten_snippet(entry.snippet, snippet_keep)
        return utf16_len(_entry(entry, title, snippet, link)) <= budget

    shared = _largest(0, max(title_length, snippet_length), lambda k: fits(k, k))
    title_keep, snippet_keep = min(shared, title_length), min(shared, snippet_length)
    title_keep = _largest(title_keep, title_length, lambda k: fits(k, snippet_keep))
    snippet_keep = _largest(snippet_keep, snippet_length, lambda k: fits(title_keep, k))
    return _entry(
        entry,
        shorten_title(entry.title, title_keep),
        shorten_snippet(entry.snippet, snippet_keep),
        link,
    )


def _largest(low: int, high: int, ok: Callable[[int], bool]) -> int:
    """The largest k in [low, high] with ``ok(k)``, for ``ok`` true up to a point (low if none)."""
    while low < high:
        middle = (low + high + 1) // 2
        if ok(middle):
            low = middle
        else:
            high = middle - 1
    return low
