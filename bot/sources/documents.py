"""Plain-text office documents (speeches, work reports) to items.

Such a document has no metadata: its title is its first meaningful line and its date, if any, is a
signature date line such as ``2023年1月5日`` (or ``二〇二三年一月五日``) near the end.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.domain.models import Item, ItemKind
from bot.sources.errors import NO_TITLE_NO_TEXT, ParseError
from bot.sources.finews import SHANGHAI, file_stem, to_shanghai
from bot.sources.htmltext import TITLE_MAX, clean_text, first_sentence

_SALUTATION_MAX = 40
_CN_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0, "Ｏ": 0}
_YEAR = r"[\d〇零○Ｏ一二三四五六七八九]{4}"
_MONTH_DAY = r"[\d一二三四五六七八九十]{1,3}"
_DATE = re.compile(
    rf"(?<!\d)(?:({_YEAR})\s*年\s*({_MONTH_DAY})\s*月\s*({_MONTH_DAY})\s*[日号]"
    r"|(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?!\d))"
)


def parse_document(
    text: str,
    *,
    filename: str,
    mtime: datetime,
    source: str = "documents",
    source_name: str = "办公文档",
) -> Item:
    """Parse a decoded plain-text office document into an :class:`Item` of kind ``DOCUMENT``.

    Title: the first line that is not blank and not a salutation (a short line ending in a colon,
    like 同志们：). A title line that is really a paragraph (longer than 60 characters, or holding
    a full stop) gives its first sentence as the title and stays in the text; otherwise it is taken
    out of the text. Date: the last line that is only a date, else a full date in the first three
    lines, at 00:00 Asia/Shanghai; else ``mtime``. The id is the file stem.
    """
    lines = [line for line in clean_text(text).split("\n") if line]
    if not lines:
        raise ParseError(NO_TITLE_NO_TEXT, filename)
    index = next((i for i, line in enumerate(lines) if not _is_salutation(line)), 0)
    first = lines[index]
    if len(first) > TITLE_MAX or "。" in first:
        title, body = first_sentence(first), lines
    else:
        title, body = first.lstrip("#").strip(), lines[:index] + lines[index + 1 :]
    return Item(
        id=file_stem(filename),
        kind=ItemKind.DOCUMENT,
        source=source,
        source_name=source_name,
        origin="",
        title=title,
        published=_document_date(lines) or to_shanghai(mtime),
        url="",
        text="\n".join(body),
        path=filename,
    )


def _is_salutation(line: str) -> bool:
    return len(line) <= _SALUTATION_MAX and line.endswith(("：", ":"))


def _document_date(lines: list[str]) -> datetime | None:
    """The last line that is nothing but a date (a signature), else a date in the first three lines."""
    for line in reversed(lines):
        match = _DATE.fullmatch(line)
        if match:
            found = _to_datetime(match)
            if found:
                return found
    for line in lines[:3]:
        for match in _DATE.finditer(line):
            found = _to_datetime(match)
            if found:
                return found
    return None


def _to_datetime(match: re.Match[str]) -> datetime | None:
    groups = [g for g in match.groups() if g is not None]
    year, month, day = (_number(g) for g in groups)
    try:
        return datetime(year, month, day, tzinfo=SHANGHAI)
    except ValueError:
        return None  # 2023年2月30日: not a date after all


def _number(text: str) -> int:
    """Arabic or Chinese numerals as written in dates: ``2023``, ``二〇二三``, ``十二``, ``二十五``."""
    if text.isdigit():
        return int(text)  # also full-width digits
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_number(tens) if tens else 1) * 10 + (_number(ones) if ones else 0)
    return int("".join(str(int(c)) if c.isdigit() else str(_CN_DIGIT[c]) for c in text))
