"""Replies built and rendered: small builders for handlers, Telegram HTML and plain text for adapters.

Handlers build :class:`~handlers.request.Reply` values out of styled spans; they never write markup.
:func:`to_html` escapes every piece of text for Telegram's HTML parse mode, so a title holding
``<b>`` or ``&`` can never become markup, and links are only made for http(s) URLs. Both renderings
fit one Telegram message (4096 UTF-16 code units): the plain text is also the adapter's fallback
when Telegram refuses the HTML. Buttons are not rendered here: each adapter shows them its own way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from html import escape

from bot.domain.safetext import ELLIPSIS, safe_url, utf16_len
from digests.render_robots import markdown_text, markdown_url
from handlers.request import Button, Line, Reply, Span, Style

# Telegram's limit for one message, in UTF-16 code units (measured on the HTML source, which is
# never shorter than the text Telegram counts after parsing).
MESSAGE_LIMIT = 4096

# Lone surrogates cannot be encoded (UTF-8 for the console, JSON for Telegram); C0/C1 controls
# other than tab are terminal escapes or invisible junk. Both come from text we did not write.
_UNSAFE = re.compile("[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TAGS = {Style.BOLD: "b", Style.ITALIC: "i", Style.CODE: "code"}


def text_line(text: str, style: Style = Style.PLAIN) -> Line:
    """A line of one span."""
    return (Span(text, style),)


def text_reply(*lines: str, buttons: Iterable[Button] = (), edit: bool = False) -> Reply:
    """A reply of plain lines; a string holding line breaks becomes several lines."""
    built = tuple(text_line(part) for line in lines for part in line.split("\n"))
    return Reply(built, tuple(buttons), edit)


def prepend(reply: Reply, *lines: Line) -> Reply:
    """``reply`` with ``lines`` added at the top (e.g. a note that an argument was cut)."""
    return Reply((*lines, *reply.lines), reply.buttons, reply.edit, reply.digest)


def _safe(text: str) -> str:
    return _UNSAFE.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else " ", text)


def _span_html(span: Span) -> str:
    text = escape(_safe(span.text))
    if span.style is Style.LINK:
        url = safe_url(span.url)
        return f'<a href="{escape(url)}">{text}</a>' if url else text
    tag = _TAGS.get(span.style)
    return f"<{tag}>{text}</{tag}>" if tag and text else text


def _span_text(span: Span) -> str:
    text = _safe(span.text)
    if span.style is Style.LINK and (url := safe_url(span.url)):
        return f"{text} <{url}>"
    return text


def _cut(line: Line, keep: int) -> Line:
    """The first ``keep`` characters of a line's text, spans kept, "…" at the end."""
    spans: list[Span] = []
    for span in line:
        if keep <= 0:
            break
        spans.append(Span(span.text[:keep], span.style, span.url))
        keep -= len(span.text)
    return (*spans, Span(ELLIPSIS))


def _fit(
    lines: tuple[Line, ...],
    render: Callable[[Line], str],
    limit: int,
    measure: Callable[[str], int] = utf16_len,
    joiner: str = "\n",
) -> str:
    """Render and join the lines; past ``limit`` (as ``measure`` counts), whole trailing lines go
    and "…" ends the text."""
    rendered = [render(line) for line in lines]
    text = joiner.join(rendered)
    if measure(text) <= limit:
        return text
    budget = limit - measure(joiner + ELLIPSIS)
    kept: list[str] = []
    used = 0
    for piece in rendered:
        cost = measure(piece) + (measure(joiner) if kept else 0)
        if used + cost > budget:
            break
        kept.append(piece)
        used += cost
    if kept:
        return joiner.join([*kept, ELLIPSIS])
    # Not even the first line fits: cut its text (never its markup), longest prefix that fits.
    first = lines[0]
    low, high = 0, sum(len(s.text) for s in first)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(render(_cut(first, middle))) <= limit:
            low = middle
        else:
            high = middle - 1
    return render(_cut(first, low))


def _html_line(line: Line) -> str:
    return "".join(_span_html(span) for span in line)


def _text_line(line: Line) -> str:
    return "".join(_span_text(span) for span in line)


def to_html(reply: Reply, limit: int = MESSAGE_LIMIT) -> str:
    """The reply's lines as Telegram HTML (parse mode HTML), at most ``limit`` UTF-16 units."""
    return _fit(reply.lines, _html_line, limit)


def to_text(reply: Reply, limit: int = MESSAGE_LIMIT) -> str:
    """The reply's lines as plain text, links as "标题 <url>", at most ``limit`` UTF-16 units."""
    return _fit(reply.lines, _text_line, limit)


def _span_markdown(span: Span) -> str:
    text = markdown_text(_safe(span.text))
    if span.style is Style.LINK and (url := safe_url(span.url)):
        return f"[{text}]({markdown_url(url)})"
    if span.style is Style.BOLD and text.strip():
        return f"**{text}**"
    return text


def _markdown_line(line: Line) -> str:
    return "".join(_span_markdown(span) for span in line)


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def to_markdown(reply: Reply, limit: int = 4096, line_break: str = "\n") -> str:
    """The reply's lines as the chat platforms' Markdown (DingTalk, WeCom, a Feishu card's
    lark_md), at most ``limit`` UTF-8 bytes; text escaped as in the digests
    (:func:`digests.render_robots.markdown_text`). DingTalk breaks a line only at "  \\n  "."""
    return _fit(reply.lines, _markdown_line, limit, _utf8_len, line_break)
