"""finews posts (Jekyll Markdown with front matter, HTML or plain-text body) to items.

The format and its variants are described in ``shared/corpus/finews/MANIFEST.md``. The front matter
is parsed by hand, never with a YAML library: titles are double-quoted but never escaped, and YAML
would coerce values (dates, numbers, ``NO``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.domain.models import Item, ItemKind
from bot.sources.errors import FRONT_MATTER_NOT_CLOSED, NO_FRONT_MATTER, NO_TITLE_NO_TEXT, ParseError
from bot.sources.htmltext import first_sentence, html_to_text

SHANGHAI = ZoneInfo("Asia/Shanghai")

_KEY = re.compile(r"[A-Za-z_][\w-]*")
_DATE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\.\d+)?)?"
    r" ?(?:(Z)|([+-])(\d{2}):?(\d{2}))?",
    re.IGNORECASE,
)
# The source-URL line: "<http…>", "<//host/…>" or "<>" on a line of its own. A scheme or "//" is
# required so that a lone "<p>" line is not mistaken for it.
_URL_LINE = re.compile(r"<((?:[A-Za-z][A-Za-z0-9+.-]*:|//)[^<>\s]*)?>")
# Navigation back-links: "[返回东财滚动新闻](../emnews/)", "[返回首页](//finews.…/)", one per line or
# several on one line joined by "｜".
# Both are matched whole against lines of text a feed may write, so neither may backtrack over
# how to split a run of spaces (possessive runs): "(\s*[…](…)\s*)+" took seconds for 15 links
# and doubled with each more; "\s*(.*?)\s*[）)]" took seconds for a thousand spaces.
_FOOTER = re.compile(r"\s*+(?:\[(?:返回|回到)[^\]]*+\]\([^)]*+\)\s*+[｜|]?\s*+)++")
_ORIGIN = re.compile(r"[（(]\s*+文章来源\s*+[：:]\s*+(.*)[）)]")
_INFO_CODE = re.compile(r"infoCode=([A-Za-z0-9]+)")
_EASTMONEY_ID = re.compile(r"eastmoney\.com/(?:news/\d+,|a/)(\d+)\.html?")
_ID_DATE = re.compile(r"(?:NW)?(\d{4})(\d{2})(\d{2})\d{4,}", re.IGNORECASE)
_NAME_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:-|$)")


def parse_post(text: str, *, filename: str, mtime: datetime) -> Item:
    """Parse a decoded finews post into an :class:`Item` of kind ``POST``.

    ``filename`` is stored as the item's path and gives the id and date when the post does not;
    ``mtime`` (timezone-aware) is the date of last resort. Raises :class:`ParseError` when the front
    matter is missing or never closed, or when the post has neither title nor text.
    """
    meta, body = split_front_matter(text)
    parsed = parse_body(body)
    url, origin, body_text = parsed.url, parsed.origin, parsed.text
    title = _unquote(meta.get("title", "")) or first_sentence(body_text)
    if not title and not body_text:
        raise ParseError(NO_TITLE_NO_TEXT, filename)
    item_id = id_from_url(url) or _id_from_filename(filename)
    published = (
        parse_date(meta.get("date", ""))
        or date_from_id(item_id)
        or _date_from_filename(filename)
        or to_shanghai(mtime)
    )
    return Item(
        id=item_id,
        kind=ItemKind.POST,
        source=meta.get("categories", ""),
        source_name=meta.get("tags", ""),
        origin=origin,
        title=title,
        published=published,
        url=url,
        text=body_text,
        path=filename,
    )


@dataclass(frozen=True, slots=True)
class PostBody:
    """A post body taken apart: the source URL ("" when none), the searchable text without the
    source line and the navigation footer, and the original publication named in it ("" when none).
    """

    url: str
    text: str
    origin: str


def parse_body(body: str) -> PostBody:
    """Parse what follows a post's front matter (also a finews feed entry's content, which is the
    same Markdown-with-HTML body): the source line, the footer, the ``> digest`` lines, HTML to
    text and the ``（文章来源：X）`` line."""
    url, lines = _split_source_line(body.replace("\r\n", "\n").split("\n"))
    digest, lines = _split_digest(lines)
    text = _to_text(lines)
    if digest and not text.startswith(digest):
        text = f"{digest}\n{text}" if text else digest
    origin, text = extract_origin(text)
    return PostBody(url=url, text=text, origin=origin)


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split a post into its front matter (``key: value`` strings, values stripped, never coerced)
    and the body after the closing ``---``. Blank lines and a BOM may precede the opening ``---``.
    """
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start == len(lines) or lines[start].strip() != "---":
        raise ParseError(NO_FRONT_MATTER)
    meta: dict[str, str] = {}
    for end in range(start + 1, len(lines)):
        line = lines[end]
        if line.rstrip() == "---":
            return meta, "\n".join(lines[end + 1 :])
        key, colon, value = line.partition(":")
        key = key.strip()
        if colon and _KEY.fullmatch(key):
            meta[key.lower()] = value.strip()
    raise ParseError(FRONT_MATTER_NOT_CLOSED)


def _unquote(title: str) -> str:
    # One pair of surrounding double quotes only: finews never escapes quotes inside a title.
    if len(title) >= 2 and title[0] == '"' and title[-1] == '"':
        title = title[1:-1]
    return " ".join(title.split())


def _split_source_line(lines: list[str]) -> tuple[str, list[str]]:
    """Take out the source-URL line and the navigation footer lines.

    The source line is the last line that is not blank and not a footer line, if it has the form
    ``<url>``: an autolink inside the text, followed by more text, is left alone.
    """
    url = ""
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i].strip()
        if not line or _FOOTER.fullmatch(line):
            continue
        match = _URL_LINE.fullmatch(line)
        if match:
            url = match.group(1) or ""
            lines = lines[:i]
        break
    return url, [line for line in lines if not _FOOTER.fullmatch(line)]


def _split_digest(lines: list[str]) -> tuple[str, list[str]]:
    """Take out the ``> digest`` lines that may open the body (blank lines between them allowed)."""
    digest: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith(">"):
            digest.append(line[1:])
        elif line:
            break
        i += 1
    return _to_text(digest), lines[i:]


def _to_text(lines: list[str]) -> str:
    return html_to_text("\n".join(lines))  # plain text too: it keeps the lines, decodes entities


def extract_origin(text: str) -> tuple[str, str]:
    """Find the ``（文章来源：X）`` line naming the original publication; return X and the text
    without that line (or "" and the text unchanged)."""
    if "文章来源" not in text:
        return "", text  # the common case, kept cheap
    origins: list[str] = []
    kept: list[str] = []
    for line in text.split("\n"):
        match = _ORIGIN.fullmatch(line)
        if match:
            origins.append(match.group(1).rstrip())
        else:
            kept.append(line)
    return (origins[0] if origins else ""), "\n".join(kept)


def id_from_url(url: str) -> str:
    """The infoCode (``NW…``) or eastmoney article id in ``url``, or "" when it has neither."""
    match = _INFO_CODE.search(url) or _EASTMONEY_ID.search(url)
    return match.group(1) if match else ""


def file_stem(filename: str) -> str:
    """The file name without directories and without its last extension."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, _ = name.rpartition(".")
    return stem if dot and stem else name


def _id_from_filename(filename: str) -> str:
    # "2021-12-08-<id>.md" or "-<id>.md" (the source gave no time): the id is what follows.
    stem = file_stem(filename)
    match = _NAME_DATE.match(stem)
    rest = stem[match.end() :] if match else stem.lstrip("-")
    return rest or stem


def parse_date(value: str) -> datetime | None:
    """Parse a front-matter date (``YYYY-MM-DD HH:MM[:SS][ ±HHMM]``, extra spaces tolerated).

    No zone means Asia/Shanghai; the result is converted to Asia/Shanghai. Returns None when the
    value is empty or not such a date.
    """
    match = _DATE.fullmatch(" ".join(value.split()))
    if not match:
        return None
    year, month, day, hour, minute, second, utc, sign, zone_h, zone_m = match.groups()
    tz: timezone | ZoneInfo = SHANGHAI
    try:
        if utc:
            tz = UTC
        elif sign:
            offset = timedelta(hours=int(zone_h), minutes=int(zone_m))
            tz = timezone(-offset if sign == "-" else offset)  # ValueError beyond ±24 h
        parsed = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=tz
        )
    except ValueError:
        return None
    return parsed.astimezone(SHANGHAI)


def date_from_id(item_id: str) -> datetime | None:
    """Midnight (Asia/Shanghai) of the day an eastmoney id or infoCode starts with, or None."""
    match = _ID_DATE.fullmatch(item_id)
    return _midnight(*match.groups()) if match else None


def _date_from_filename(filename: str) -> datetime | None:
    match = _NAME_DATE.match(file_stem(filename))
    return _midnight(*match.groups()) if match else None


def _midnight(year: str, month: str, day: str) -> datetime | None:
    try:
        return datetime(int(year), int(month), int(day), tzinfo=SHANGHAI)
    except ValueError:
        return None


def to_shanghai(moment: datetime) -> datetime:
    """``moment`` in Asia/Shanghai; a naive value is taken as UTC (never as the host's local time,
    which would make parsing depend on the machine)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI)
