"""Decoded feed text made fit for an XML parser: what XML forbids is removed, and counted. Pure.

Publishers' XML is sloppy in ways that never change (a feed is written by the same template every
time), so refusing it means never seeing that source's news. What is removed carries no news:

- anything before the document: blank lines, byte-order marks, and — when an XML declaration or a
  feed's root element follows within the first few kilobytes — the warnings a server-side script
  printed before it;
- C0 control characters (all but tab, line feed and carriage return) and DEL, raw or written as
  character references (``&#x8;``), surrogates and the non-characters U+FFFE/U+FFFF: XML 1.0 forbids
  them, and RSSHub- and WeChat-derived feeds are full of them;

and the XML declaration is rewritten to say UTF-8, the encoding of the bytes handed on (the text
was decoded by :mod:`bot.sources.feedcharset`). Everything else — bare ``&``, mismatched tags, junk
after the root element — is left to feedparser's lenient parser, which reads the document as a
browser would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Where a document may start after junk: its declaration, or a feed's root element.
_START = re.compile(r"<\?xml[\s?]|<(?:rss|feed|(?:[\w.-]+:)?RDF)[\s>/]", re.IGNORECASE)
_JUNK_WINDOW = 4096
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")
_DECLARATION = re.compile(r"""\A<\?xml\s[^>]*?\?>""")
_ENCODING = re.compile(r"""\bencoding\s*=\s*(["'])[^"']*\1""")


@dataclass(frozen=True, slots=True)
class CleanXml:
    """The document as UTF-8 bytes for the parser, its text (for checks), and what was removed."""

    data: bytes
    text: str
    junk: int  # characters before the document
    controls: int  # forbidden characters and references to them


def clean_xml(text: str) -> CleanXml:
    """Remove what XML forbids from a decoded feed (see the module's docstring)."""
    start = len(text) - len(text.lstrip(" \t\r\n\ufeff"))
    if not text.startswith("<", start) or not _starts_well(text, start):
        found = _START.search(text, start, start + _JUNK_WINDOW)
        if found:
            start = found.start()
    body = text[start:]
    body, controls = _FORBIDDEN.subn("", body)
    if "&#" in body:
        removed = [0]
        body = _CHAR_REF.sub(lambda match: _keep_reference(match, removed), body)
        controls += removed[0]
    body = _DECLARATION.sub(_utf8_declaration, body, count=1)
    return CleanXml(body.encode("utf-8"), body, start, controls)


def _starts_well(text: str, start: int) -> bool:
    """Whether the document at ``start`` is not preceded by junk inside it: an XML declaration, if
    there is one further on, must come first."""
    declaration = text.find("<?xml", start, start + _JUNK_WINDOW)
    return declaration in (-1, start)


def _keep_reference(match: re.Match[str], removed: list[int]) -> str:
    hexadecimal, decimal = match.group(1), match.group(2)
    digits = (hexadecimal or decimal).lstrip("0")
    # More than 8 digits is beyond Unicode either way (and int() refuses thousands of them).
    value = -1 if len(digits) > 8 else int(hexadecimal, 16) if hexadecimal else int(decimal)
    if _allowed(value):
        return match.group()
    removed[0] += 1
    return ""


def _allowed(code: int) -> bool:
    """Whether XML 1.0 allows the character (DEL excepted: it carries nothing in text)."""
    if code in (0x9, 0xA, 0xD):
        return True
    if code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
        return False
    return code <= 0x10FFFF


def _utf8_declaration(match: re.Match[str]) -> str:
    declaration = match.group()
    if _ENCODING.search(declaration):
        return _ENCODING.sub('encoding="utf-8"', declaration, count=1)
    return declaration
