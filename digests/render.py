"""A digest written out: Telegram messages, a Markdown file, an HTML page, console text.

Pure functions of a :class:`~digests.values.Digest`: no I/O, no clock, the same digest always gives
the same output. Every format starts from the same :class:`~digests.render_view.DigestView`
(cleaned text, local times, outlet summaries, links only for http(s) URLs) and escapes for its own
syntax, so a title can never become markup. Telegram's splitting lives in
:mod:`digests.render_telegram`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date
from functools import partial
from html import escape
from urllib.parse import quote

from bot.texts import digest as texts
from digests.render_telegram import MESSAGE_LIMIT, render_telegram
from digests.render_view import EntryView, SectionView, digest_view, reuse
from digests.values import Digest, SnippetPart

__all__ = [
    "MESSAGE_LIMIT",
    "digest_file_stem",
    "render_html_page",
    "render_markdown",
    "render_telegram",
    "render_text",
]

# CommonMark lets a backslash escape any ASCII punctuation; escaping all of it is simpler to get
# right than choosing the characters that matter in each position (#, 1., -, [, ], <, |, &, …).
_MARKDOWN_SPECIAL = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")
# Characters kept as they are in a Markdown link destination; everything else is percent-encoded,
# so <, >, backslash, quotes and spaces cannot end the destination early.
_URL_SAFE = "!#$%&'()*+,-./:;=?@[]~_"
_STEM_FRAGMENT_LIMIT = 64

_PAGE_STYLE = """\
body{margin:0;background:#f6f6f3;color:#222;font:16px/1.7 system-ui,-apple-system,"PingFang SC",\
"Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC",sans-serif}
main{max-width:42rem;margin:0 auto;padding:1.5rem 1rem 3rem;background:#fff}
h1{font-size:1.5rem;margin:0 0 .25rem}
h2{font-size:1.2rem;margin:2rem 0 .5rem;padding-bottom:.25rem;border-bottom:2px solid #b22}
.summary,.description,.more,.also{color:#555}
.also{margin:.1rem 0 0;font-size:.875rem}
ol{padding-left:1.6rem}
li{margin:0 0 1rem}
a{color:#1a4fa0;text-decoration:none}
a:hover{text-decoration:underline}
.meta{color:#777;font-size:.875rem}
.snippet{margin:.2rem 0 0}
.snippet strong{color:#b22}
"""


def render_markdown(digest: Digest) -> str:
    """The digest as a CommonMark file; titles and snippets are escaped, titles link to the URL."""
    view = digest_view(digest)
    lines = [f"# {_md(view.heading)}", "", _md(view.summary), ""]
    for section in view.sections:
        lines += reuse(section, "markdown", partial(_markdown_section, section))
    return "\n".join(lines).rstrip("\n") + "\n"


def _markdown_section(section: SectionView) -> list[str]:
    lines = [f"## {_md(section.heading)}", ""]
    if section.description:
        lines += [f"*{_md(section.description)}*", ""]
    for entry in section.entries:
        lines += [*reuse(entry, "markdown", partial(_markdown_entry, entry)), ""]
    if section.more > 0:
        lines += [_md(texts.MORE.format(n=section.more)), ""]
    return lines


def _markdown_entry(entry: EntryView) -> list[str]:
    # A list item; lines end with a backslash (a hard line break) so that meta and snippet show
    # under the title, indented to stay inside the item.
    title = _md(entry.title)
    if entry.url is not None:
        title = f"[{title}](<{quote(entry.url, safe=_URL_SAFE)}>)"
    lines = [f"{entry.number}. {title}"]
    indent = " " * (len(str(entry.number)) + 2)
    if entry.meta:
        lines.append(indent + _md(entry.meta))
    if entry.snippet:
        lines.append(indent + "".join(_markdown_part(part) for part in entry.snippet))
    if entry.also_line:
        lines.append(indent + f"*{_md(entry.also_line)}*")
    return [line + "\\" for line in lines[:-1]] + lines[-1:]


def _markdown_part(part: SnippetPart) -> str:
    text = _md(part.text)
    # "**" only opens and closes next to a letter or digit (CommonMark's flanking rules); a
    # keyword starting or ending with punctuation stays plain rather than showing stray asterisks.
    if part.hit and part.text[0].isalnum() and part.text[-1].isalnum():
        return f"**{text}**"
    return text


def _md(text: str) -> str:
    """Markdown-escape text: every ASCII punctuation character gets a backslash."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def render_html_page(digest: Digest) -> str:
    """The digest as a standalone HTML5 page (inline CSS, no scripts), everything escaped."""
    view = digest_view(digest)
    body = [
        "<header>",
        f"<h1>{_h(view.heading)}</h1>",
        f'<p class="summary">{_h(view.summary)}</p>',
        "</header>",
    ]
    for section in view.sections:
        body += reuse(section, "html", partial(_html_section, section))
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="zh-CN">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_h(view.title)}</title>",
            f"<style>\n{_PAGE_STYLE}</style>",
            "</head>",
            "<body>",
            "<main>",
            *body,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _html_section(section: SectionView) -> list[str]:
    lines = ["<section>", f"<h2>{_h(section.heading)}</h2>"]
    if section.description:
        lines.append(f'<p class="description">{_h(section.description)}</p>')
    if section.entries:
        lines.append("<ol>")
        lines += [reuse(entry, "html", partial(_html_entry, entry)) for entry in section.entries]
        lines.append("</ol>")
    if section.more > 0:
        lines.append(f'<p class="more">{_h(texts.MORE.format(n=section.more))}</p>')
    lines.append("</section>")
    return lines


def _html_entry(entry: EntryView) -> str:
    title = _h(entry.title)
    if entry.url is not None:
        # noreferrer: the outlet need not learn the page's path on disk or on a share.
        title = f'<a href="{_h(entry.url)}" rel="noopener noreferrer">{title}</a>'
    parts = [f'<li value="{entry.number}">{title}']
    meta = []
    if entry.outlets:
        meta.append(_h(entry.outlets))
    stamp = entry.published.isoformat(timespec="minutes")
    meta.append(f'<time datetime="{_h(stamp)}">{_h(entry.time)}</time>')
    if entry.passing:
        meta.append(_h(texts.IN_PASSING))
    parts.append(f'<div class="meta">{_h(texts.META_SEPARATOR).join(meta)}</div>')
    if entry.snippet:
        snippet = "".join(
            f"<strong>{_h(part.text)}</strong>" if part.hit else _h(part.text) for part in entry.snippet
        )
        parts.append(f'<p class="snippet">{snippet}</p>')
    if entry.also_line:
        parts.append(f'<p class="also">{_h(entry.also_line)}</p>')
    return "".join(parts) + "</li>"


def _h(text: str) -> str:
    return escape(text, quote=True)


def render_text(digest: Digest) -> str:
    """The digest as plain console text: no markup, each URL on a line of its own."""
    view = digest_view(digest)
    lines = [view.heading, view.summary]
    for section in view.sections:
        lines += ["", section.heading]
        if section.description:
            lines.append(section.description)
        for entry in section.entries:
            indent = " " * (len(str(entry.number)) + 4)
            lines += ["", f"  {entry.number}. {entry.title}"]
            if entry.meta:
                lines.append(indent + entry.meta)
            if entry.snippet:
                lines.append(indent + "".join(part.text for part in entry.snippet))
            if entry.also_line:
                lines.append(indent + entry.also_line)
            if entry.url is not None:
                lines.append(indent + entry.url)
        if section.more > 0:
            lines += ["", "  " + texts.MORE.format(n=section.more)]
    return "\n".join(lines) + "\n"


def digest_file_stem(day: date, chat: str | None) -> str:
    """A digest file's name without extension: "2026-11-20", or "2026-11-20-<chat>".

    The chat becomes a safe fragment of letters, digits, "-" and "_" ("-1001234" stays as it is),
    so "../x" or "a/b" cannot leave the digests folder. When anything had to be changed, a short
    hash of the original is added, so that two chats whose names clean alike ("a/b", "a:b") still
    get different files.
    """
    stem = day.isoformat()
    if not chat:
        return stem
    normal = unicodedata.normalize("NFKC", chat)
    fragment = re.sub(r"[^\w-]+", "_", normal)  # \w: Unicode letters and digits (株洲), and "_"
    fragment = fragment.strip("_")[:_STEM_FRAGMENT_LIMIT].strip("_")
    if fragment != chat:
        digest = hashlib.blake2s(chat.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
        fragment = f"{fragment}_{digest}" if fragment else digest
    return f"{stem}-{fragment}"
