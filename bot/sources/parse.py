"""One entry point from a file's bytes to an item, whatever kind of file it is.

Files considered (see :data:`SUPPORTED_SUFFIXES` and :func:`is_supported`): Markdown (``.md``,
``.markdown``) and plain text (``.txt``). A file whose first non-blank line is ``---`` is a finews
post; plain text without front matter is an office document. Markdown without front matter
(a README or MANIFEST beside the posts) is not news and is skipped with its reason.
``.html`` files are not considered: in a finews checkout they are the site's layouts and category
pages, not news. Hidden files and Office lock files (``~$…``) are skipped.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import Item
from bot.sources.decode import decode_text
from bot.sources.documents import parse_document
from bot.sources.errors import NO_FRONT_MATTER, ParseError
from bot.sources.finews import parse_post

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt")
_MARKDOWN_SUFFIXES = (".md", ".markdown")


def is_supported(path: str) -> bool:
    """Whether the importer should read ``path``: a supported suffix (any case), not hidden, not a
    lock file left by an office suite."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.lower().endswith(SUPPORTED_SUFFIXES) and not name.startswith((".", "~$"))


def parse_file(data: bytes, *, path: str, mtime: datetime) -> Item:
    """Decode ``data`` and parse it as a finews post or an office document.

    Pure: no I/O and no clock; ``path`` is only recorded (and gives the id and date when the content
    does not), ``mtime`` must be timezone-aware. Raises :class:`ParseError` with ``path`` set.
    """
    try:
        text = decode_text(data)
        if _first_line(text) == "---":
            return parse_post(text, filename=path, mtime=mtime)
        if path.lower().endswith(_MARKDOWN_SUFFIXES):
            raise ParseError(NO_FRONT_MATTER)
        return parse_document(text, filename=path, mtime=mtime)
    except ParseError as error:
        raise ParseError(error.reason, path) from None


def _first_line(text: str) -> str:
    return text.lstrip().split("\n", 1)[0].rstrip()
