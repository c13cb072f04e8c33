"""How much of one feed entry is read and kept, and the marks left where something was cut.

A feed is written by someone else, and one hostile or broken entry must not cost minutes of CPU or
fill every reply: a 1.7-million-character title was once stored whole and made ``latest`` print
5 MB. The limits are far above real news (the longest post of the finews corpus has 17,779
characters; titles are under 100) and each cut leaves a visible mark, so that nobody takes a
shortened text for the whole.

The marks are stored as part of the title or text: they are what a reader sees wherever the item
is shown (chat, digest, CLI), so they are written once here.
"""

from __future__ import annotations

MAX_TITLE_CHARS = 500
MAX_TEXT_CHARS = 100_000
# An entry's raw title and HTML are read this far at most before they are turned into text: bounds
# the parser's work (cleaned text is never longer than its markup, and markup is rarely more than a
# few times its text).
MAX_TITLE_MARKUP_CHARS = 8 * MAX_TITLE_CHARS
MAX_CONTENT_MARKUP_CHARS = 10 * MAX_TEXT_CHARS

TITLE_CUT_MARK = "…"
TEXT_CUT_MARK = "…\n（正文过长，以下内容未保存）"


def cap_title(title: str, *, cut: bool = False) -> tuple[str, bool]:
    """``title`` within :data:`MAX_TITLE_CHARS` (mark included), and whether it was cut; ``cut``
    says its markup was already cut short, so that the mark is added even if the text fits."""
    if len(title) <= MAX_TITLE_CHARS and not cut:
        return title, False
    keep = MAX_TITLE_CHARS - len(TITLE_CUT_MARK)
    return title[:keep].rstrip() + TITLE_CUT_MARK, True


def cap_text(text: str, *, cut: bool = False) -> tuple[str, bool]:
    """``text`` within :data:`MAX_TEXT_CHARS` (mark included), and whether it was cut; ``cut``
    as for :func:`cap_title`."""
    if len(text) <= MAX_TEXT_CHARS and not cut:
        return text, False
    keep = MAX_TEXT_CHARS - len(TEXT_CUT_MARK)
    return text[:keep].rstrip() + TEXT_CUT_MARK, True
