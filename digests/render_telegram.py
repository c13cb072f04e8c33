"""A digest as Telegram messages in HTML parse mode, each within Telegram's 4096-unit limit.

A message is built from blocks joined by a blank line (the digest's header, a topic heading, one
entry, a topic's "另有 N 条" line) and packed by :func:`digests.packing.pack`: never cut, so every
message is well-formed HTML by construction.
"""

from __future__ import annotations

from html import escape

from bot.domain.safetext import utf16_len
from digests.packing import Format, pack
from digests.render_view import DigestView, EntryView, digest_view
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
    messages = pack(digest_view(digest), TELEGRAM, limit, gap=len(_GAP))
    return [_GAP.join(blocks) for blocks in messages]


class TelegramHTML(Format[str]):
    """Telegram's HTML parse mode: every piece of text escaped, links only for safe URLs."""

    name = "telegram"

    def header(self, view: DigestView) -> str:
        """The digest's heading in bold and its counts."""
        return f"<b>{escape(view.heading, quote=False)}</b>\n{escape(view.summary, quote=False)}"

    def heading(self, text: str) -> str:
        """A topic's heading in bold."""
        return f"<b>{escape(text, quote=False)}</b>"

    def entry(self, entry: EntryView, title: str, snippet: tuple[SnippetPart, ...], link: bool) -> str:
        """One entry: numbered title (a link when the URL is safe), outlets and time, snippet, and
        the other topics the story matched."""
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

    def more(self, text: str) -> str:
        """ "另有 N 条" in italics."""
        return f"<i>{escape(text, quote=False)}</i>"

    def measure(self, block: str) -> int:
        """UTF-16 code units, as Telegram counts a message."""
        return utf16_len(block)


TELEGRAM = TelegramHTML()
