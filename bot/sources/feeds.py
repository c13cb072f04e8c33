"""RSS 2.0 and Atom feeds, already fetched, to items. Pure: no I/O, no clock (``now`` is passed in).

Two kinds of entries:

- finews entries (the finews site's own Atom feed, written by jekyll-feed, or any entry whose content
  is a finews post body) become ``POST`` items exactly as the same post imported from a file: the
  content goes through :func:`bot.sources.finews.parse_body`, the source slug and name come from the
  entry's categories.
- every other entry becomes a ``FEED`` item of the configured source.

Ids: an infoCode or eastmoney article id found in the source URL, the entry link or the guid is used
bare, so that a post seen in a feed and in a folder is stored once; a finews permalink
(``…/2021/12/08/<id>.html``) gives the post's file id, for the same reason. Otherwise the guid (else
the link) is used as given when it is an absolute URI (URLs, ``tag:`` and ``urn:`` ids are globally
unique by construction); a bare guid such as ``12345`` is prefixed with ``<source>:`` so that two
feeds counting from 1 do not collide.

feedparser gets the bytes in :class:`io.BytesIO` (raw bytes would first be tried as a file path) with
the response's content type and final URL, so that it decodes the charset from the header or the
XML declaration (GBK, GB2312 and GB18030 included). Its HTML sanitiser is off: the content is only
ever turned into text by :func:`~bot.sources.htmltext.html_to_text`, never rendered, and the
sanitiser would drop a finews body's ``<http://…>`` source line as an unknown tag.
"""

from __future__ import annotations

import html as htmllib
import io
import re
import time
import xml.sax
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pyexpat import errors as expat_errors
from typing import Any
from urllib.parse import urlsplit

import feedparser

from bot.domain.models import Item, ItemKind
from bot.sources.errors import (
    EMPTY_FEED,
    MALFORMED_FEED,
    NO_ID,
    NO_TITLE_NO_TEXT,
    NOT_A_FEED,
    UNDECODABLE_FEED,
    FeedError,
)
from bot.sources.finews import (
    date_from_id,
    extract_origin,
    file_stem,
    id_from_url,
    parse_body,
    parse_date,
    to_shanghai,
)
from bot.sources.htmltext import HTML_TAG, first_sentence, html_to_text

DUPLICATE_ENTRY = "重复条目 (duplicate id in this feed)"

# The hosts the finews site has been published at: a feed or entry link there is finews.
FINEWS_HOSTS = frozenset({"finews.withounder.com", "finews.zning.me", "finews.zning.xyz"})

# Well-formedness errors after which the document is still whole and feedparser's lenient parser
# reads it right: common in the wild (an undeclared ``media:`` prefix, ``&nbsp;`` in RSS). Expat stops
# at the first error, so it could hide a truncation: such a document must also end with its root tag.
_RECOVERABLE = frozenset({expat_errors.XML_ERROR_UNBOUND_PREFIX, expat_errors.XML_ERROR_UNDEFINED_ENTITY})
_CLOSED_ROOT = re.compile(r"</(?:[\w.-]+:)?(?:rss|feed|RDF)\s*>\s*(?:<!--.*?-->\s*)*\Z", re.DOTALL)
_HTML_START = re.compile(rb"<(?:!doctype\s+html|html)[\s>]", re.IGNORECASE)
_FEED_START = re.compile(rb"<(?:\?xml|rss|feed|(?:[\w.-]+:)?RDF)[\s>]", re.IGNORECASE)

# A finews body, raw (Markdown with HTML) or rendered by Jekyll (kramdown) as jekyll-feed writes it.
_FINEWS_MARKS = re.compile(
    r"^[^\S\n]*<(?:https?:)?//[^<>\s]*(?:infoCode=|eastmoney\.com/)[^<>\s]*>[^\S\n]*$"  # source line
    r"|\[(?:返回|回到)[^\]\n]*\]\("  # Markdown footer
    r"|<a\b[^>]*\bhref=\"[^\"]*(?:infoCode=|//finews\.)",  # rendered source link or footer
    re.MULTILINE | re.IGNORECASE,
)
_RENDERED_FOOTER = re.compile(r"<a\b[^>]*>\s*(?:返回|回到)[^<]*</a>\s*[｜|]?", re.IGNORECASE)
# kramdown renders the source line <U> as an autolink <a href="U">U</a>, the last thing in the body.
_RENDERED_SOURCE = re.compile(
    r"<a\b[^>]*\bhref=\"([^\"]+)\"[^>]*>\s*([^<]*?)\s*</a>((?:\s|</?p>|<br\s*/?>)*)\Z", re.IGNORECASE
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S")
_PERMALINK_DATE = re.compile(r"/\d{4}/\d{2}/\d{2}/[^/]+$")


@dataclass(frozen=True, slots=True)
class RejectedEntry:
    """An entry left out of a feed's items, and why (a Chinese-first reason)."""

    title: str
    link: str
    reason: str


@dataclass(frozen=True, slots=True)
class FeedResult:
    """A parsed feed: its items, the entries rejected, and the feed's own title."""

    items: list[Item]
    rejected: list[RejectedEntry]
    title: str


class _Rejected(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Context:
    source: str
    source_name: str
    finews_site: bool
    now: datetime


def parse_feed(
    body: bytes, *, url: str, content_type: str | None, source: str, source_name: str, now: datetime
) -> FeedResult:
    """Parse a fetched RSS 2.0 or Atom document into items.

    ``url`` is the final URL it was fetched from, ``content_type`` the response's header (charset
    included), ``source``/``source_name`` the configured source's slug and Chinese name (the name
    falls back to the feed's title), ``now`` (aware) the date of entries that carry none.
    Raises :class:`FeedError` for an empty body, a document that is not a feed (an HTML page) and
    truncated or malformed XML; entries without an id, without title and text, or repeating an
    earlier id are returned in ``rejected``.
    """
    if not body.strip():
        raise FeedError(EMPTY_FEED)
    parsed = _feedparse(body, url, content_type)
    if _misdecoded(parsed) and _is_gb18030(body):
        # Undeclared, not UTF-8 and feedparser fell back to windows-1252: for a Chinese feed,
        # GB18030 (a superset of GBK and GB2312) is by far the likelier charset.
        media_type = (content_type or "application/xml").split(";", 1)[0]
        parsed = _feedparse(body, url, f"{media_type}; charset=gb18030")
    _check(parsed, body)
    feed = parsed.feed
    title = _clean_title(feed.get("title", ""))
    context = _Context(
        source=source,
        source_name=source_name or title,
        finews_site=any(_host(link) in FINEWS_HOSTS for link in (url, *_feed_links(feed))),
        now=now,
    )
    items: list[Item] = []
    rejected: list[RejectedEntry] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        try:
            item = _entry_item(entry, context)
            if item.id in seen:
                raise _Rejected(DUPLICATE_ENTRY)
        except _Rejected as error:
            rejected.append(
                RejectedEntry(_clean_title(entry.get("title", "")), entry.get("link", ""), str(error))
            )
            continue
        seen.add(item.id)
        items.append(item)
    return FeedResult(items=items, rejected=rejected, title=title)


def _feedparse(body: bytes, url: str, content_type: str | None) -> Any:
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    return feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )


def _misdecoded(parsed: Any) -> bool:
    error = parsed.get("bozo_exception")
    return isinstance(error, feedparser.CharacterEncodingOverride) and parsed.get("encoding") in (
        "windows-1252",
        "iso-8859-2",
    )


def _is_gb18030(body: bytes) -> bool:
    try:
        body.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return True


def _check(parsed: Any, body: bytes) -> None:
    """Raise :class:`FeedError` unless ``parsed`` is a whole feed.

    Tolerated: feedparser's charset notes (``CharacterEncodingOverride``: declared one charset,
    decoded with another; ``NonXMLContentType``: served as text/html or without a type) and an
    undeclared namespace, none of which loses content; and the recoverable well-formedness errors
    of ``_RECOVERABLE`` in a document that ends with its root element.
    """
    error = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if isinstance(error, feedparser.CharacterEncodingUnknown):
        raise FeedError(UNDECODABLE_FEED)
    if isinstance(error, xml.sax.SAXException):
        head = body[:2048]
        if not parsed.get("version") and (_HTML_START.search(head) or not _FEED_START.search(head)):
            raise FeedError(NOT_A_FEED)
        if not (_recoverable(error) and _ends_with_root(body, parsed.get("encoding") or "utf-8")):
            raise FeedError(MALFORMED_FEED, _sax_detail(error))
    if not parsed.get("version"):
        raise FeedError(NOT_A_FEED)


def _recoverable(error: xml.sax.SAXException) -> bool:
    return error.getMessage() in _RECOVERABLE


def _ends_with_root(body: bytes, encoding: str) -> bool:
    try:
        tail = body[-1024:].decode(encoding, errors="ignore")
    except LookupError:
        return False
    return _CLOSED_ROOT.search(tail) is not None


def _sax_detail(error: xml.sax.SAXException) -> str:
    if isinstance(error, xml.sax.SAXParseException):
        return f"line {error.getLineNumber()}, column {error.getColumnNumber()}: {error.getMessage()}"
    return str(error.getMessage())


def _entry_item(entry: Mapping[str, Any], context: _Context) -> Item:
    link = str(entry.get("link", "") or "").strip()
    guid = str(entry.get("id", "") or "").strip()
    title = _clean_title(entry.get("title", ""))
    content = _content(entry)
    finews = context.finews_site or _host(link) in FINEWS_HOSTS or bool(_FINEWS_MARKS.search(content))
    if finews:
        post = parse_body(_unrender(content))
        text, origin, url = post.text, post.origin, post.url
        # A finews post without a source keeps url "" as when imported from its file; a finews-like
        # entry from elsewhere points at the entry itself.
        if not url and _host(link) not in FINEWS_HOSTS:
            url = link
        item_id = id_from_url(url) or id_from_url(link) or id_from_url(guid) or _permalink_id(link, guid)
        slug, name = _categories(entry)
        source, source_name = slug or context.source, name or context.source_name
    else:
        origin, text = extract_origin(html_to_text(content))
        url = link
        item_id = id_from_url(link) or id_from_url(guid)
        source, source_name = context.source, context.source_name
    item_id = item_id or _given_id(guid or link, context.source)
    if not item_id:
        raise _Rejected(NO_ID)
    title = title or first_sentence(text)
    if not title and not text:
        raise _Rejected(NO_TITLE_NO_TEXT)
    published = _published(entry) or (date_from_id(item_id) if finews else None) or to_shanghai(context.now)
    return Item(
        id=item_id,
        kind=ItemKind.POST if finews else ItemKind.FEED,
        source=source,
        source_name=source_name,
        origin=origin,
        title=title,
        published=published,
        url=url,
        text=text,
    )


def _content(entry: Mapping[str, Any]) -> str:
    """The entry's fullest text: its content (RSS ``content:encoded``, Atom ``content``), else its
    summary (RSS ``description``, Atom ``summary``)."""
    for part in entry.get("content") or ():
        value = str(part.get("value") or "")
        if value.strip():
            return value
    return str(entry.get("summary", "") or "")


def _unrender(content: str) -> str:
    """Turn a finews body rendered by Jekyll back into the form :func:`parse_body` reads: footer
    links removed, the trailing autolink made a ``<url>`` source line again. A raw body (Markdown
    with HTML, as in the post files) passes unchanged."""
    if "<a" not in content and "<A" not in content:
        return content
    content = _RENDERED_FOOTER.sub("", content)
    match = _RENDERED_SOURCE.search(content)
    if match:
        href, label = htmllib.unescape(match.group(1)), htmllib.unescape(match.group(2))
        if label == href and _URI.match(href):
            content = f"{content[: match.start()]}{match.group(3)}\n\n<{href}>\n"
    return content


def _categories(entry: Mapping[str, Any]) -> tuple[str, str]:
    """The source slug and Chinese name from the entry's categories: jekyll-feed writes a post's
    ``categories`` and ``tags`` alike as ``<category term>``; a term with Chinese characters is the
    name (the tag), the others make the slug. Several of either are joined by a space, as Jekyll
    split them from one front-matter string."""
    slugs: list[str] = []
    names: list[str] = []
    for tag in entry.get("tags") or ():
        term = " ".join(str(tag.get("term") or tag.get("label") or "").split())
        if term:
            kept = names if _CJK.search(term) else slugs
            if term not in kept:
                kept.append(term)
    return " ".join(slugs), " ".join(names)


def _permalink_id(link: str, guid: str) -> str:
    """The post id in a finews permalink (``/emnews/2021/12/08/<id>.html``): the file's id."""
    for candidate in (link, guid):
        if _host(candidate) in FINEWS_HOSTS:
            path = urlsplit(candidate).path
            if _PERMALINK_DATE.search(path):
                return file_stem(path)
    return ""


def _given_id(value: str, source: str) -> str:
    if not value:
        return ""
    return value if _URI.match(value) else f"{source}:{value}"


def _published(entry: Mapping[str, Any]) -> datetime | None:
    """The entry's published (else updated) date in Asia/Shanghai.

    ISO-like dates are read by :func:`parse_date`, which takes a date without zone as Shanghai time
    (Chinese sites often omit it; feedparser would take UTC); others (RFC 822) through feedparser.
    """
    for key in ("published", "updated"):
        raw = str(entry.get(key) or "")
        moment = parse_date(raw) if raw else None
        if moment:
            return moment
        struct = entry.get(f"{key}_parsed")
        if isinstance(struct, time.struct_time):
            return to_shanghai(datetime(*struct[:6], tzinfo=UTC))
    return None


def _feed_links(feed: Mapping[str, Any]) -> list[str]:
    links = [str(link.get("href") or "") for link in feed.get("links") or ()]
    return [str(feed.get("link") or ""), *links]


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _clean_title(title: object) -> str:
    text = str(title or "")
    if HTML_TAG.search(text):
        text = html_to_text(text)
    return " ".join(text.split())
