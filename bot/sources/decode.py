"""Bytes to text: the encodings found in finance offices' files, and refusing what is not text."""

from __future__ import annotations

import codecs
import re

from bot.sources.errors import BINARY, EMPTY, UNDECODABLE, ParseError

# Files that decode "successfully" as GB18030 although they are not text: office documents saved
# in their native format (.docx is a zip, .doc an OLE container), PDFs and images. GB18030 accepts
# most byte pairs, so these need recognising by their signatures before decoding is attempted.
_BINARY_MAGIC = (
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"%PDF-",
    b"PK\x03\x04",  # zip: docx, xlsx, pptx
    b"\xd0\xcf\x11\xe0",  # OLE: doc, xls
    b"\x1f\x8b",  # gzip
    b"Rar!",
    b"7z\xbc\xaf",
)

# C0 control characters that have no business in text (tab, newlines, vertical tab and form feed,
# which word processors emit for line and page breaks, are allowed).
_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1f\x7f]")


def decode_text(data: bytes) -> str:
    """Decode a text file's bytes to a ``str`` with LF line ends and no byte-order mark.

    Accepts UTF-8 (with or without BOM), UTF-16 with BOM, and otherwise GBK/GB2312/GB18030, which
    is decoded as GB18030 (its superset). Raises :class:`ParseError` for an empty or
    whitespace-only file, for binary data (NUL bytes, known binary signatures, many control
    characters) and for bytes that fit none of these encodings.
    """
    if not data.strip():
        raise ParseError(EMPTY)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode(data, "utf-16")  # the codec reads the BOM and drops it
    elif data.startswith(codecs.BOM_UTF8):
        text = _decode(data[len(codecs.BOM_UTF8) :], "utf-8")
    else:
        if b"\x00" in data or data.startswith(_BINARY_MAGIC):
            raise ParseError(BINARY)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            # UTF-8 first: Chinese UTF-8 text is almost never also GB18030 text that means the same,
            # while GBK files from older office software are common.
            text = _truncated_utf8(data, error) or _decode(data, "gb18030")
    return _normalise(text)


def _truncated_utf8(data: bytes, error: UnicodeDecodeError) -> str:
    """The text of a UTF-8 file cut inside its last character (an interrupted copy or download),
    or "" when the data is not that. Non-ASCII text before the cut is what proves it UTF-8;
    decoding it as GB18030 instead would turn the whole file into nonsense."""
    if error.reason != "unexpected end of data" or error.start < len(data) - 3:
        return ""
    head = data[: error.start]
    return head.decode("utf-8") if not head.isascii() else ""


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise ParseError(UNDECODABLE) from None


def _normalise(text: str) -> str:
    """Unify line ends, drop stray BOMs and DOS end-of-file marks, and refuse binary-looking text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").rstrip("\x1a")
    if "\x00" in text:
        raise ParseError(BINARY)  # UTF-16 data that was binary all the same
    controls = len(_CONTROL.findall(text))
    if controls:
        # A few stray control characters happen in exported documents; many mean binary data.
        if controls * 100 > len(text):
            raise ParseError(BINARY)
        text = _CONTROL.sub("", text)
    if not text.strip():
        raise ParseError(EMPTY)
    return text
