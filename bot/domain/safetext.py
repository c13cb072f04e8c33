"""Text from outside made safe to show: one line, capped, links only where they are http(s).

Titles, snippets, outlet names and URLs come from feeds and posts nobody here wrote. Every reader
(the chat, the digest in every format, the console) shows them through these functions, so that a
control character, a lone surrogate or a ``javascript:`` link never reaches a user. Nothing here
escapes markup: each format escapes for its own syntax.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

ELLIPSIS = "…"
# Longer "URLs" are tracking junk or attacks; they are shown without a link, like a bad scheme.
URL_LIMIT = 2048

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 and C1 controls: terminal escapes in console output, rejected or invisible in Telegram.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]+>")


def utf16_len(text: str) -> int:
    """The length of ``text`` as Telegram counts it: UTF-16 code units (an emoji may count 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def flatten(text: str) -> str:
    """Controls and line breaks as spaces, runs of space collapsed (not stripped: a piece of a line).

    Lone surrogates (possible in a Python str, invalid in UTF-8 and UTF-16) become U+FFFD so that
    every format can be encoded.
    """
    return _SPACES.sub(" ", _CONTROL.sub(" ", _LONE_SURROGATE.sub("\ufffd", text)))


def clean(text: str) -> str:
    """One line of readable text: :func:`flatten`, stripped."""
    return flatten(text).strip()


def cap(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with "…" when it is longer."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def safe_url(url: str) -> str | None:
    """``url`` when it is an absolute http(s) URL fit to link; None for anything else.

    Only the scheme decides safety (javascript:, data: and relative URLs are refused); whitespace
    and controls are refused because Telegram and Markdown would cut the link at them.
    """
    if not url or len(url) > URL_LIMIT or _SPACES.search(url) or _CONTROL.search(url):
        return None
    if _LONE_SURROGATE.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def html_to_text(body: str) -> str:
    """Telegram HTML as plain text: tags dropped, entities decoded (the markup fallback)."""
    import html  # here: `finews-bot status` cleans text but never decodes HTML

    return html.unescape(_TAG.sub("", body))
