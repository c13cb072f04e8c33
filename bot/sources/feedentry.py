"""One parsed feed entry (feedparser's mapping) to an item. Pure: no I/O, no clock.

Two kinds of entries:

- finews entries (the finews site's own Atom feed, written by jekyll-feed, or any entry whose content
  is a finews post body) become ``POST`` items exactly as the same post imported from a file: the
  content goes through :func:`bot.sources.finews.parse_body`, the source slug and name come from the
  entry's categories.
- every other entry becomes a ``FEED`` item of the configured source.

Ids. An infoCode or eastmoney article id found in the source URL, the entry link or the guid is used
bare, so that a post seen in a feed and in a folder is stored once; a finews permalink
(``…/2021/12/08/<id>.html``) gives the post's file id, for the same reason. Otherwise the guid (else
the link) is used as given only when it is globally unique by construction — an http(s) URL, a
``tag:`` or ``urn:`` URI — and is otherwise scoped by the feed: ``<source>:<guid>``. A guid shaped
like a URI without being one of these (``article:3``) is a feed's private counter, like a bare
``12345``: taken as global, a second feed using it overwrote the first feed's item.
(feedparser resolves a guid that claims to be a permalink, ``<guid>12345</guid>``, against the
feed's URL, as RSS defines it: that is a URL of the feed's own site.)

Sizes. A title is read up to :data:`~bot.sources.limits.MAX_TITLE_MARKUP_CHARS` and kept up to
:data:`~bot.sources.limits.MAX_TITLE_CHARS`, the content read up to
:data:`~bot.sources.limits.MAX_CONTENT_MARKUP_CHARS` and its text kept up to
:data:`~bot.sources.limits.MAX_TEXT_CHARS`, each cut marked.
"""

from __future__ import annotations

import html as htmllib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from bot.domain.models import Item, ItemKind
from bot.sources.errors import NO_ID, NO_TITLE_NO_TEXT
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
from bot.sources.limits import MAX_CONTENT_MARKUP_CHARS, MAX_TITLE_MARKUP_CHARS, cap_text, cap_title

# The hosts the finews site has been published at: a feed or entry link there is finews.
FINEWS_HOSTS = frozenset({"finews.withounder.com", "finews.zning.me", "finews.zning.xyz"})

# A finews body, raw (Markdown with HTML) or rendered by Jekyll (kramdown) as jekyll-feed writes it.
# Runs stop where the next candidate could start ("<", "["): a run that could cross into the next
# unclosed "<a" or "[返回" made the work grow with the square of their number (a minute for
# 100,000 characters).
_FINEWS_MARKS = re.compile(
    r"^[^\S\n]*<(?:https?:)?//[^<>\s]*(?:infoCode=|eastmoney\.com/)[^<>\s]*>[^\S\n]*$"  # source line
    r"|\[(?:返回|回到)[^\[\]\n]*+\]\("  # Markdown footer
    r"|<a\b[^<>]*\bhref=\"[^\"<>]*(?:infoCode=|//finews\.)",  # rendered source link or footer
    re.MULTILINE | re.IGNORECASE,
)
_RENDERED_FOOTER = re.compile(r"<a\b[^<>]*+>\s*+(?:返回|回到)[^<]*+</a>\s*+[｜|]?", re.IGNORECASE)
# kramdown renders the source line <U> as an autolink <a href="U">U</a>, the last thing in the body
# (only whitespace, paragraph ends and line breaks after it). Matched from the last "<a" on, with
# possessive runs: one pattern searched over the body backtracked quadratically on long whitespace.
_LAST_LINK = re.compile(r"<a\b[^>]*?\bhref=\"([^\"]++)\"[^>]*+>([^<]*+)</a>", re.IGNORECASE)
_TRAILER = re.compile(r"(?:\s++|</?p>|<br\s*+/?>)*+\Z", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S")
# Ids unique by construction: a web URL with a host, a tag: URI (RFC 4151), a URN (RFC 8141).
_GLOBAL_ID = re.compile(r"https?://[^/?#\s]+|tag:\S|urn:\S", re.IGNORECASE)
_WEB_URL = re.compile(r"https?://[^/?#\s]+", re.IGNORECASE)
_PERMALINK_DATE = re.compile(r"/\d{4}/\d{2}/\d{2}/[^/]+$")
# A publication date further ahead than this is the publisher's mistake (a wrong year, a zone off by
# more than a day); kept, it would stay at the top of every "newest first" list. Now is used instead.
_FUTURE_TOLERANCE = timedelta(days=1)


class EntryRejected(Exception):
    """An entry that cannot become an item; its message is the Chinese-first reason."""


@dataclass(frozen=True, slots=True)
class FeedContext:
    """What every entry of one feed shares: the configured source, whether the feed is the finews
    site's, and "now" for entries without a date."""

    source: str
    source_name: str
    finews_site: bool
    now: datetime


@dataclass(frozen=True, slots=True)
class EntryItem:
    """An entry's item, and whether its title or text had to be cut."""

    item: Item
    cut: bool


def entry_item(entry: Mapping[str, Any], context: FeedContext) -> EntryItem:
    """The item of one entry; raises :class:`EntryRejected` for an entry without an id, or without
    title and text."""
    link = str(entry.get("link", "") or "").strip()
    guid = str(entry.get("id", "") or "").strip()
    title, title_cut = clean_title(entry.get("title", ""))
    content, content_cut = _content(entry)
    finews = context.finews_site or host(link) in FINEWS_HOSTS or bool(_FINEWS_MARKS.search(content))
    if finews:
        post = parse_body(_unrender(content))
        text, origin, url = post.text, post.origin, post.url
        # A finews post without a source keeps url "" as when imported from its file; a finews-like
        # entry from elsewhere points at the entry itself.
        if not url and host(link) not in FINEWS_HOSTS:
            url = _web_url(link)
        item_id = id_from_url(url) or id_from_url(link) or id_from_url(guid) or _permalink_id(link, guid)
        slug, name = _categories(entry)
        source, source_name = slug or context.source, name or context.source_name
    else:
        origin, text = extract_origin(html_to_text(content))
        url = _web_url(link)
        item_id = id_from_url(link) or id_from_url(guid)
        source, source_name = context.source, context.source_name
    item_id = item_id or given_id(guid or link, context.source)
    if not item_id:
        raise EntryRejected(NO_ID)
    text, text_cut = cap_text(text, cut=content_cut)
    title = title or first_sentence(text)
    if not title and not text:
        raise EntryRejected(NO_TITLE_NO_TEXT)
    published = _published(entry, context.now)
    published = published or (date_from_id(item_id) if finews else None) or to_shanghai(context.now)
    item = Item(
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
    return EntryItem(item, title_cut or text_cut)


def given_id(value: str, source: str) -> str:
    """The id of an entry from its guid (else link) ``value``: as given when it is globally unique by
    construction (an http(s) URL, a ``tag:`` or ``urn:`` URI), else scoped by ``source``."""
    if not value:
        return ""
    return value if _GLOBAL_ID.match(value) else f"{source}:{value}"


def clean_title(title: object) -> tuple[str, bool]:
    """A title as one line of text within the title limit, and whether it was cut."""
    raw = str(title or "")
    cut = len(raw) > MAX_TITLE_MARKUP_CHARS
    if cut:
        raw = raw[:MAX_TITLE_MARKUP_CHARS]
    if HTML_TAG.search(raw):
        raw = html_to_text(raw)
    return cap_title(" ".join(raw.split()), cut=cut)


def host(url: str) -> str:
    """The lower-case host of ``url``, "" when it has none or is not a URL."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _web_url(link: str) -> str:
    """``link`` when it is a web address: an item's url is shown as a link to click (a
    ``javascript:`` or ``article:3`` "link" is not one)."""
    return link if _WEB_URL.match(link) else ""


def _content(entry: Mapping[str, Any]) -> tuple[str, bool]:
    """The entry's fullest text — its content (RSS ``content:encoded``, Atom ``content``), else its
    summary (RSS ``description``, Atom ``summary``) — within the markup limit, and whether it was
    cut."""
    value = ""
    for part in entry.get("content") or ():
        value = str(part.get("value") or "")
        if value.strip():
            break
    else:
        value = str(entry.get("summary", "") or "")
    if len(value) > MAX_CONTENT_MARKUP_CHARS:
        return value[:MAX_CONTENT_MARKUP_CHARS], True
    return value, False


def _unrender(content: str) -> str:
    """Turn a finews body rendered by Jekyll back into the form :func:`parse_body` reads: footer
    links removed, the trailing autolink made a ``<url>`` source line again. A raw body (Markdown
    with HTML, as in the post files) passes unchanged."""
    if "<a" not in content and "<A" not in content:
        return content
    content = _RENDERED_FOOTER.sub("", content)
    start = content.lower().rfind("<a")
    match = _LAST_LINK.match(content, start) if start >= 0 else None
    if match and _TRAILER.match(content, match.end()):
        href, label = htmllib.unescape(match.group(1)), htmllib.unescape(match.group(2).strip())
        if label == href and _URI.match(href):
            content = f"{content[: match.start()]}{content[match.end() :]}\n\n<{href}>\n"
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
        if host(candidate) in FINEWS_HOSTS:
            path = urlsplit(candidate).path
            if _PERMALINK_DATE.search(path):
                return file_stem(path)
    return ""


def _published(entry: Mapping[str, Any], now: datetime) -> datetime | None:
    """The entry's published (else updated) date in Asia/Shanghai, None when it has none that is
    readable and not in the future.

    ISO-like dates are read by :func:`parse_date`, which takes a date without zone as Shanghai time
    (Chinese sites often omit it; feedparser would take UTC); others (RFC 822) through feedparser.
    """
    for key in ("published", "updated"):
        # "in" first: feedparser answers a missing "updated" with "published", and warns about it.
        raw = str(entry.get(key) or "") if key in entry else ""
        try:
            moment = parse_date(raw) if raw else None
            struct = entry.get(f"{key}_parsed") if f"{key}_parsed" in entry else None
            if moment is None and isinstance(struct, time.struct_time):
                moment = to_shanghai(datetime(*struct[:6], tzinfo=UTC))
        except (ValueError, OverflowError):  # year 0, or 9999-12-31 moved to UTC+8
            moment = None
        if moment is not None and moment - now <= _FUTURE_TOLERANCE:
            return moment
    return None
