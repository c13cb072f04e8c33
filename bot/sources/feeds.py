"""RSS 2.0 and Atom feeds, already fetched, to items. Pure: no I/O, no clock (``now`` is passed in).

Feeds as publishers really write them. A feed comes from the same template every time, so sloppy
XML is permanent: refusing it means never seeing that source's news. The body is therefore

1. decoded by :mod:`bot.sources.feedcharset` (byte-order mark, then the HTTP charset and the XML
   declaration, then a detector for undeclared bytes, which refuses rather than guesses);
2. cleaned by :mod:`bot.sources.xmlclean` of what XML forbids (debris before the document, C0
   control characters);
3. parsed by feedparser, whose strict XML parser falls back to its lenient one on a
   well-formedness error (a bare ``&``, a mismatched tag, ``</feed>>``…);
4. checked: it is refused only when it is truly broken — empty, not a feed (an HTML page, JSON), or
   cut short (the document does not end with its root element: a lenient parser would store the
   half-read last entry as if it were whole). Everything repaired on the way is reported in
   :attr:`FeedResult.repairs`, so that ``status`` can say so while the source stays ``ok``;
5. each entry made an item by :mod:`bot.sources.feedentry` (ids, finews posts, size limits).

feedparser gets bytes in :class:`io.BytesIO` (raw bytes would first be tried as a file path) with
the feed's final URL, against which it resolves relative links. External entities stay off: it
drops every DOCTYPE but for simple internal entities, in the strict and the lenient parser alike.
Its HTML sanitiser is off: the content is only ever turned into text by
:func:`~bot.sources.htmltext.html_to_text`, never rendered, and the sanitiser would drop a finews
body's ``<http://…>`` source line as an unknown tag.
"""

from __future__ import annotations

import io
import re
import xml.sax
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import feedparser

from bot.domain.models import Item
from bot.sources.errors import EMPTY_FEED, MALFORMED_FEED, NOT_A_FEED, UNDECODABLE_FEED, FeedError
from bot.sources.feedcharset import DecodedFeed, decode_feed
from bot.sources.feedentry import FINEWS_HOSTS, EntryRejected, FeedContext, clean_title, entry_item, host
from bot.sources.xmlclean import CleanXml, clean_xml

DUPLICATE_ENTRY = "重复条目 (duplicate id in this feed)"

# A document whose root element is closed near its end was not cut short: what follows the end tag
# is a publisher's or a host's junk (the ">" of "</feed>>", an analytics <script>), never news.
_ROOT_END = re.compile(r"</(?:[\w.-]+:)?(?:rss|feed|RDF)\s*>", re.IGNORECASE)
_ROOT_END_WINDOW = 4096
_HTML_START = re.compile(r"<(?:!doctype\s+html|html)[\s>]", re.IGNORECASE)
_FEED_START = re.compile(r"<(?:\?xml|rss|feed|(?:[\w.-]+:)?RDF)[\s>]", re.IGNORECASE)
_DETAIL_LIMIT = 200

RepairKind = Literal[
    "debris",
    "controls",
    "invalid_bytes",
    "encoding_detected",
    "encoding_overridden",
    "lenient_xml",
    "entries_cut",
]


@dataclass(frozen=True, slots=True)
class Repair:
    """One thing repaired to read a feed: what (``kind``), how many, the encoding read (a codec name)
    and a detail (the encoding declared, or the XML parser's first complaint). Words for it are the
    reader's (:mod:`bot.texts.sources`)."""

    kind: RepairKind
    count: int = 0
    encoding: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RejectedEntry:
    """An entry left out of a feed's items, and why (a Chinese-first reason)."""

    title: str
    link: str
    reason: str


@dataclass(frozen=True, slots=True)
class FeedResult:
    """A parsed feed: its items, the entries rejected, the feed's own title, and what was repaired
    to read it (empty for a clean feed)."""

    items: list[Item]
    rejected: list[RejectedEntry]
    title: str
    repairs: tuple[Repair, ...] = ()


def parse_feed(
    body: bytes, *, url: str, content_type: str | None, source: str, source_name: str, now: datetime
) -> FeedResult:
    """Parse a fetched RSS 2.0 or Atom document into items.

    ``url`` is the final URL it was fetched from, ``content_type`` the response's header (charset
    included), ``source``/``source_name`` the configured source's slug and Chinese name (the name
    falls back to the feed's title), ``now`` (aware) the date of entries that carry none.
    Raises :class:`FeedError` (one line) for an empty body, bytes no encoding reads (or that read as
    more than one), a document that is not a feed (an HTML page) and a document cut short; entries
    without an id, without title and text, or repeating an earlier id are returned in ``rejected``.
    """
    if not body.strip():
        raise FeedError(EMPTY_FEED)
    decoded = decode_feed(body, content_type)
    clean = clean_xml(decoded.text)
    if not clean.text.strip():
        raise FeedError(EMPTY_FEED)
    parsed = _feedparse(clean.data, url)
    lenient = _check(parsed, clean.text)
    feed = parsed.feed
    title, _ = clean_title(feed.get("title", ""))
    context = FeedContext(
        source=source,
        source_name=source_name or title,
        finews_site=any(host(link) in FINEWS_HOSTS for link in (url, *_feed_links(feed))),
        now=now,
    )
    items: list[Item] = []
    rejected: list[RejectedEntry] = []
    seen: set[str] = set()
    cut = 0
    for entry in parsed.entries:
        try:
            made = entry_item(entry, context)
            if made.item.id in seen:
                raise EntryRejected(DUPLICATE_ENTRY)
        except EntryRejected as error:
            rejected.append(RejectedEntry(clean_title(entry.get("title", ""))[0], _link(entry), str(error)))
            continue
        seen.add(made.item.id)
        items.append(made.item)
        cut += made.cut
    repairs = _repairs(decoded, clean, lenient, cut)
    return FeedResult(items=items, rejected=rejected, title=title, repairs=repairs)


def _feedparse(data: bytes, url: str) -> Any:
    headers = {"content-location": url, "content-type": "application/xml; charset=utf-8"}
    try:
        return feedparser.parse(
            io.BytesIO(data), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
    except RecursionError:  # defensive: feedparser's parsers iterate, but it is a third party's code
        raise FeedError(MALFORMED_FEED, "nested too deeply") from None


def _check(parsed: Any, text: str) -> str:
    """Raise :class:`FeedError` unless ``parsed`` is a whole feed; return the XML parser's complaint
    when the lenient parser had to read it ("" when the document was well-formed).

    ``NonXMLContentType`` and ``CharacterEncodingOverride`` cannot occur (the text was decoded here
    and is handed on as UTF-8 XML); an undeclared namespace prefix is a complaint like any other.
    """
    error = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if isinstance(error, feedparser.CharacterEncodingUnknown):
        raise FeedError(UNDECODABLE_FEED)
    complaint = ""
    if isinstance(error, xml.sax.SAXException):
        head = text[:2048]
        if not parsed.get("version") and (_HTML_START.search(head) or not _FEED_START.search(head)):
            raise FeedError(NOT_A_FEED)
        complaint = _sax_detail(error)
        if not _ROOT_END.search(text, max(0, len(text) - _ROOT_END_WINDOW)):
            raise FeedError(MALFORMED_FEED, complaint)
    if not parsed.get("version"):
        raise FeedError(NOT_A_FEED)
    return complaint


def _sax_detail(error: xml.sax.SAXException) -> str:
    if isinstance(error, xml.sax.SAXParseException):
        detail = f"line {error.getLineNumber()}, column {error.getColumnNumber()}: {error.getMessage()}"
    else:
        detail = str(error.getMessage())
    return " ".join(detail.split())[:_DETAIL_LIMIT]


def _repairs(decoded: DecodedFeed, clean: CleanXml, lenient: str, cut: int) -> tuple[Repair, ...]:
    repairs: list[Repair] = []
    if decoded.skipped + clean.junk:
        repairs.append(Repair("debris", decoded.skipped + clean.junk))
    if decoded.overridden:
        repairs.append(Repair("encoding_overridden", encoding=decoded.encoding, detail=decoded.overridden))
    elif decoded.origin == "detected":
        repairs.append(Repair("encoding_detected", encoding=decoded.encoding))
    if decoded.invalid:
        repairs.append(Repair("invalid_bytes", decoded.invalid, encoding=decoded.encoding))
    if clean.controls:
        repairs.append(Repair("controls", clean.controls))
    if lenient:
        repairs.append(Repair("lenient_xml", detail=lenient))
    if cut:
        repairs.append(Repair("entries_cut", cut))
    return tuple(repairs)


def _link(entry: Any) -> str:
    return str(entry.get("link", "") or "")[:2048]


def _feed_links(feed: Any) -> list[str]:
    links = [str(link.get("href") or "") for link in feed.get("links") or ()]
    return [str(feed.get("link") or ""), *links]
