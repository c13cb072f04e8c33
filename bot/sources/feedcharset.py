"""A fetched feed's bytes to text: which encoding, decided in the order that is right for the
feeds a Chinese finance office follows. Pure: no I/O.

1. A byte-order mark (UTF-8, UTF-16, UTF-32) settles it.
2. What the publisher declared: the HTTP ``charset`` and the XML declaration's ``encoding``. The
   first that decodes every byte wins; when they disagree, a multi-byte declaration is tried before a
   single-byte one (servers add ``charset=ISO-8859-1`` by default; the generator that wrote the bytes
   wrote the declaration). Declared names are read as browsers read them: GB2312 and GBK labels as
   GB18030 (their superset: GB2312-labelled feeds routinely use GBK characters), Big5 as CP950,
   Latin-1 and ASCII as windows-1252.
3. Undeclared bytes that are UTF-8 are UTF-8 (plain ASCII included): multi-byte UTF-8 is almost never
   an accident of another encoding.
4. Other undeclared bytes go to a detector (charset-normalizer), limited to the encodings this
   product's sources use — GB18030 (GBK, GB2312), Big5 (CP950) and windows-1252 (Latin-1) — and
   only readings that decode every byte count. A tie between GB18030 and Big5 goes to GB18030 (the
   offices follow mainland sources); any other close call, or a reading that still looks like a
   mess, is refused (:data:`~bot.sources.errors.UNCERTAIN_ENCODING`) rather than stored as mojibake.

A declared (or, undeclared, the XML default) UTF-8 feed with a few invalid byte sequences among much
good text (a title cut inside a character by a CMS) is read with those sequences dropped and their
number reported; many invalid sequences mean the declaration is wrong, and detection decides.
Leading blank lines and stray UTF-8 byte-order marks before the document (debris of server-side
includes) are skipped first, so that the mark or declaration behind them is seen.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Literal

from charset_normalizer import from_bytes

from bot.sources.errors import UNCERTAIN_ENCODING, UNDECODABLE_FEED, FeedError

Origin = Literal["bom", "http", "declared", "utf-8", "detected"]

_BOMS = (  # UTF-32 before UTF-16: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DEBRIS = re.compile(rb"(?:[ \t\r\n]++(?:\xef\xbb\xbf)*+)*+")
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""<\?xml\s[^>]*?\bencoding\s*=\s*["']([\w.:-]+)["']""")

# Labels read as their superset (browsers do the same; see the WHATWG Encoding Standard), and labels
# Python does not know under that name.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "cp950",
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
}
_ALIASES = {
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "gb_2312": "gb18030",
    "csgb2312": "gb18030",
    "x-euc-cn": "gb18030",
    "windows-936": "gb18030",
    "x-x-big5": "cp950",
    "cn-big5": "cp950",
    "csbig5": "cp950",
    "ms950": "cp950",
    "utf8mb4": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
}
# Codecs that decode (nearly) any byte: a declaration naming one of them is weak evidence.
_SINGLE_BYTE = frozenset({"cp1252", "iso8859-1", "ascii"})

# Detection: the candidates, the worst "mess" (charset-normalizer's chaos, 0–1) a reading may show,
# and how close two readings must be to count as a tie (charset-normalizer's own margins).
_DETECTABLE = ("gb18030", "cp950", "cp1252")
_MAX_CHAOS = 0.1
_TIE_CHAOS = 0.005
_TIE_COHERENCE = 0.02
# The detector sees at most this much of the body: the runs of text holding non-ASCII bytes.
_SAMPLE_BYTES = 64 * 1024
# Runs of text between markup, and a non-ASCII byte: two simple scans, linear (one pattern for
# "a run holding a non-ASCII byte" backtracks quadratically over long runs without one).
_TEXT_RUN = re.compile(rb"[^<>]+")
_NON_ASCII = re.compile(rb"[\x80-\xff]")

# Invalid sequences tolerated in a declared (or default UTF-8) reading: one per this many non-ASCII
# bytes, and a couple in any case. A wrong declaration fails on nearly every non-ASCII character.
_BYTES_PER_INVALID = 300
_MIN_INVALID = 2
_HIGH_BYTES = bytes(range(0x80, 0x100))


@dataclass(frozen=True, slots=True)
class DecodedFeed:
    """A feed's text and how it was read.

    ``encoding`` is the codec used; ``origin`` what decided it; ``skipped`` the bytes of debris
    dropped before the document; ``invalid`` the invalid byte sequences dropped; ``overridden`` the
    declared encoding that the bytes proved wrong ("" when none was).
    """

    text: str
    encoding: str
    origin: Origin
    skipped: int = 0
    invalid: int = 0
    overridden: str = ""


def decode_feed(body: bytes, content_type: str | None) -> DecodedFeed:
    """Decode a fetched feed body (see the module's docstring for the order).

    Raises :class:`FeedError` with :data:`UNDECODABLE_FEED` when no encoding reads the bytes, and
    with :data:`UNCERTAIN_ENCODING` when undeclared bytes could be more than one thing.
    """
    skipped = _debris_length(body)
    data = body[skipped:]
    for mark, codec in _BOMS:
        if data.startswith(mark):
            name = codec.removesuffix("-sig")
            text = _strict(data, codec)
            if text is not None:
                return DecodedFeed(text.lstrip("\ufeff"), name, "bom", skipped)
            lenient = _lenient(data, codec)
            if lenient is None:
                raise FeedError(UNDECODABLE_FEED, f"invalid {name} after its byte-order mark")
            return DecodedFeed(lenient[0].lstrip("\ufeff"), name, "bom", skipped, invalid=lenient[1])
    if data.startswith((b"<\x00", b"\x00<")):  # UTF-16 without a mark: "<" is its first character
        codec = "utf-16-le" if data[0] == 0x3C else "utf-16-be"
        text = _strict(data, codec)
        if text is not None:
            return DecodedFeed(text, codec, "bom", skipped)
    declared = _declared(data, content_type)
    for origin, codec in declared:
        text = _strict(data, codec)
        if text is not None:
            return DecodedFeed(text, codec, origin, skipped)
    for origin, codec in declared:
        lenient = _lenient(data, codec)
        if lenient is not None:
            return DecodedFeed(lenient[0], codec, origin, skipped, invalid=lenient[1])
    overridden = declared[0][1] if declared else ""
    text = _strict(data, "utf-8")
    if text is not None:
        return DecodedFeed(text, "utf-8", "utf-8", skipped, overridden=overridden)
    readings = _readings(data)
    if readings:
        codec, text = _decide(readings)
        if text is not None:
            return DecodedFeed(text, codec, "detected", skipped, overridden=overridden)
        raise FeedError(UNCERTAIN_ENCODING, codec)
    lenient = _lenient(data, "utf-8") if not declared else None  # XML's default, undeclared
    if lenient is not None:
        return DecodedFeed(lenient[0], "utf-8", "utf-8", skipped, invalid=lenient[1])
    raise FeedError(UNDECODABLE_FEED, "no encoding reads every byte")


def _debris_length(body: bytes) -> int:
    """Bytes of whitespace, and of UTF-8 byte-order marks behind it, before the document (a mark
    at the very start is the document's own)."""
    match = _DEBRIS.match(body)
    end = match.end() if match else 0
    if body[end : end + 1] == b"\x00":
        return 0  # UTF-16 without a mark: its whitespace is not ASCII debris
    return end


def _declared(data: bytes, content_type: str | None) -> list[tuple[Origin, str]]:
    """The declared encodings that Python knows, HTTP first unless it is the weaker one."""
    found: list[tuple[Origin, str]] = []
    match = _HTTP_CHARSET.search(content_type or "")
    if match and (codec := _codec(match.group(1))):
        found.append(("http", codec))
    declaration = _XML_ENCODING.search(data[:512])
    if declaration and (codec := _codec(declaration.group(1).decode("ascii"))):
        if not found:
            found.append(("declared", codec))
        elif found[0][1] != codec:
            weaker = found[0][1] in _SINGLE_BYTE and codec not in _SINGLE_BYTE
            found.insert(0 if weaker else 1, ("declared", codec))
    return found


def _codec(label: str) -> str:
    """The codec for an encoding label ("" when unknown, or UTF-16/32: bytes in those have been
    recognised by their mark or their zero bytes before any label is read, so such a label on other
    bytes is wrong, and decoding by it would succeed as nonsense). Supersets preferred."""
    label = label.strip().lower()
    if label in _ALIASES:
        return _ALIASES[label]
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return ""
    if name.startswith(("utf-16", "utf-32")):
        return ""
    return _SUPERSETS.get(name, name)


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _lenient(data: bytes, codec: str) -> tuple[str, int] | None:
    """The text with invalid sequences dropped, and their number, when they are few."""
    try:
        text = data.decode(codec, errors="replace")
    except LookupError:
        return None
    # U+FFFD that the bytes themselves carried are not decoding errors.
    try:
        carried = data.count("\ufffd".encode(codec))
    except UnicodeEncodeError:
        carried = 0
    invalid = text.count("\ufffd") - carried
    non_ascii = len(data) - len(data.translate(None, _HIGH_BYTES))
    if invalid > max(_MIN_INVALID, non_ascii // _BYTES_PER_INVALID):
        return None
    return text.replace("\ufffd", ""), invalid


def _sample(data: bytes) -> bytes:
    """The runs of text that hold non-ASCII bytes, joined, up to :data:`_SAMPLE_BYTES`: the markup
    around them says nothing of the encoding. Splitting at ``<`` and ``>`` never cuts a character:
    those bytes are never part of a multi-byte character in the candidate encodings."""
    parts: list[bytes] = []
    size = 0
    for match in _TEXT_RUN.finditer(data):
        if _NON_ASCII.search(data, match.start(), match.end()) is None:
            continue
        parts.append(match.group())
        size += len(parts[-1]) + 1
        if size >= _SAMPLE_BYTES:
            break
    return b"\n".join(parts)


@dataclass(frozen=True, slots=True)
class _Reading:
    codec: str
    chaos: float
    coherence: float
    text: str


def _readings(data: bytes) -> list[_Reading]:
    """The detector's readings that decode every byte, best first (its order), one per codec."""
    readings: list[_Reading] = []
    for match in from_bytes(_sample(data), cp_isolation=list(_DETECTABLE)):
        codec = _codec(match.encoding)
        text = _strict(data, codec)
        if text is not None and all(codec != seen.codec for seen in readings):
            readings.append(_Reading(codec, match.chaos, match.coherence, text))
    return readings


def _decide(readings: list[_Reading]) -> tuple[str, str | None]:
    """The codec and text of the reading to trust, or a one-line reason and None when unsure."""
    best = readings[0]
    if best.chaos > _MAX_CHAOS:
        return f"{best.codec}?", None
    for other in readings[1:]:
        close = abs(other.chaos - best.chaos) < _TIE_CHAOS
        if not close or abs(other.coherence - best.coherence) > _TIE_COHERENCE:
            continue
        if {best.codec, other.codec} == {"gb18030", "cp950"}:
            best = best if best.codec == "gb18030" else other
        else:
            return f"{best.codec} or {other.codec}?", None
    return best.codec, best.text
