"""A digest in the dialects of the WeCom, DingTalk and Feishu group robots, within each one's budget.

Each entry keeps what the Telegram message shows: the title (linked), the outlets and time, a
one-sentence snippet with the keyword in bold, and "另有 N 条" for the rest of a topic. Messages
are split only between entries (:func:`digests.packing.pack`), and each platform's limit is
counted as the platform counts it — in UTF-8 **bytes**, not characters or UTF-16 units:

- WeCom 群机器人 ``markdown``: the content ≤ 4,096 bytes.
- DingTalk 自定义机器人 ``markdown`` {title, text}: the whole request body ≤ 20,000 bytes.
- Feishu 自定义机器人 ``post`` (rich text): the whole request body ≤ 20 KB.

Neither Markdown dialect documents an escape syntax, so text from outside (titles, outlets,
snippets) shows the characters that could start markup — ``* _ [ ] # < > & ` | ~ \\`` — as their
full-width look-alikes (＊ ＿ ［ ］ …), which read the same in Chinese text and can never be
markup; a URL has the characters that could end or break a link percent-encoded. Feishu's rich
text is structured JSON, where nothing needs escaping.

The functions return the platform's message objects (what goes in the request body, without the
signature, which is made at sending time): pure data, as everything in :mod:`digests`.
"""

from __future__ import annotations

import json
from typing import Any

from bot.texts import digest as texts
from digests.packing import Format, pack
from digests.render_view import DigestView, EntryView, digest_view
from digests.values import Digest, SnippetPart

# The platforms' limits, in bytes (see the module docstring for what each counts).
WECOM_CONTENT_LIMIT = 4096
DINGTALK_BODY_LIMIT = 20_000
FEISHU_BODY_LIMIT = 20 * 1024
# Room left in a body for what is added at sending time: a signature and its timestamp (Feishu:
# about 80 bytes in the body; DingTalk signs in the query) and the envelope's own keys.
BODY_MARGIN = 512

_LOOKALIKES = str.maketrans(
    {
        "*": "＊",
        "_": "＿",
        "[": "［",
        "]": "］",
        "#": "＃",
        "<": "＜",
        ">": "＞",
        "&": "＆",
        "`": "｀",
        "|": "｜",
        "~": "～",
        "\\": "＼",
    }
)
# At the start of a line these make a list, a rule or a heading underline.
_LINE_START = str.maketrans({"-": "－", "+": "＋", "=": "＝"})
# What could end a Markdown link's target or break its syntax, percent-encoded (safe_url has
# already refused spaces and controls).
_URL_QUOTE = {c: f"%{ord(c):02X}" for c in "()[]<>\"'`\\*"}


def markdown_text(text: str) -> str:
    """Text from outside, safe inside either robot's Markdown: markup characters as look-alikes."""
    return text.translate(_LOOKALIKES)


def markdown_url(url: str) -> str:
    """A safe http(s) URL fit to stand in ``[title](…)``."""
    return "".join(_URL_QUOTE.get(c, c) for c in url)


def _line(text: str) -> str:
    """A line of our own making that starts with outside text: no list or rule by accident."""
    return text[:1].translate(_LINE_START) + text[1:]


def _snippet_markdown(snippet: tuple[SnippetPart, ...]) -> str:
    return "".join(f"**{markdown_text(p.text)}**" if p.hit else markdown_text(p.text) for p in snippet)


def _title_markdown(entry: EntryView, title: str, link: bool) -> str:
    shown = markdown_text(title)
    if link and entry.url is not None:
        return f"{entry.number}. [{shown}]({markdown_url(entry.url)})"
    return f"{entry.number}. **{shown}**"  # bold stands in for the link's colour


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _json_bytes(value: Any) -> int:
    """Bytes of ``value`` in a request body (UTF-8 JSON, non-ASCII kept as it is)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def test_message(platform: str, text: str) -> dict[str, Any]:
    """A one-line plain-text message in ``platform``'s format ("wecom", "dingtalk" or "feishu")."""
    if platform == "feishu":
        return {"msg_type": "text", "content": {"text": text}}
    return {"msgtype": "text", "text": {"content": text}}


# --- WeCom -------------------------------------------------------------------------------------


class WeComMarkdown(Format[str]):
    """WeCom's ``markdown``: bold, links, ``<font color="comment">`` for the grey meta line."""

    name = "wecom"

    def header(self, view: DigestView) -> str:
        """The digest's heading in bold and its counts."""
        return f"**{markdown_text(view.heading)}**\n{_line(markdown_text(view.summary))}"

    def heading(self, text: str) -> str:
        """A topic's heading in bold."""
        return f"**{markdown_text(text)}**"

    def entry(self, entry: EntryView, title: str, snippet: tuple[SnippetPart, ...], link: bool) -> str:
        """Numbered linked title, grey outlets and time, snippet with bold keywords, other topics."""
        lines = [_title_markdown(entry, title, link)]
        if entry.meta:
            lines.append(f'<font color="comment">{markdown_text(entry.meta)}</font>')
        if snippet:
            lines.append(_line(_snippet_markdown(snippet)))
        if entry.also_line:
            lines.append(f'<font color="comment">{markdown_text(entry.also_line)}</font>')
        return "\n".join(lines)

    def more(self, text: str) -> str:
        """ "另有 N 条" in grey."""
        return f'<font color="comment">{markdown_text(text)}</font>'

    def measure(self, block: str) -> int:
        """UTF-8 bytes: WeCom's limit is on the content's bytes."""
        return _utf8(block)


def render_wecom(digest: Digest, limit: int = WECOM_CONTENT_LIMIT) -> list[dict[str, Any]]:
    """The digest as WeCom ``markdown`` messages, each content at most ``limit`` bytes."""
    messages = pack(digest_view(digest), WECOM, limit, gap=2)
    return [{"msgtype": "markdown", "markdown": {"content": "\n\n".join(blocks)}} for blocks in messages]


WECOM = WeComMarkdown()


# --- DingTalk ----------------------------------------------------------------------------------

# DingTalk's Markdown breaks a line only where "\n" has two spaces on each side (its documents'
# advice); a blank line separates blocks.
_DINGTALK_BREAK = "  \n  "


class DingTalkMarkdown(Format[str]):
    """DingTalk's ``markdown``; sizes are counted as the bytes each block adds to the JSON body."""

    name = "dingtalk"

    def header(self, view: DigestView) -> str:
        """The digest's heading in bold and its counts."""
        return f"**{markdown_text(view.heading)}**{_DINGTALK_BREAK}{_line(markdown_text(view.summary))}"

    def heading(self, text: str) -> str:
        """A topic's heading in bold."""
        return f"**{markdown_text(text)}**"

    def entry(self, entry: EntryView, title: str, snippet: tuple[SnippetPart, ...], link: bool) -> str:
        """Numbered linked title, outlets and time, snippet with bold keywords, other topics."""
        lines = [_title_markdown(entry, title, link)]
        if entry.meta:
            lines.append(_line(markdown_text(entry.meta)))
        if snippet:
            lines.append(_line(_snippet_markdown(snippet)))
        if entry.also_line:
            lines.append(_line(markdown_text(entry.also_line)))
        return _DINGTALK_BREAK.join(lines)

    def more(self, text: str) -> str:
        """ "另有 N 条"."""
        return markdown_text(text)

    def measure(self, block: str) -> int:
        """The bytes the block takes inside a JSON string (quotes excluded): additive over blocks."""
        return _json_bytes(block) - 2


DINGTALK = DingTalkMarkdown()


def _dingtalk_message(title: str, text: str) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def render_dingtalk(digest: Digest, limit: int = DINGTALK_BODY_LIMIT) -> list[dict[str, Any]]:
    """The digest as DingTalk ``markdown`` messages, each request body at most ``limit`` bytes.

    The title (what the chat list and the notification show) is the digest's title; later parts
    say "（续）".
    """
    view = digest_view(digest)
    titles = (markdown_text(view.title), markdown_text(view.title + texts.CONTINUED))
    envelope = _json_bytes(_dingtalk_message(max(titles, key=_utf8), ""))
    messages = pack(view, DINGTALK, limit - envelope - BODY_MARGIN, gap=4)  # "\n\n" is 4 bytes in JSON
    return [
        _dingtalk_message(titles[min(number, 1)], "\n\n".join(blocks))
        for number, blocks in enumerate(messages)
    ]


# --- Feishu ------------------------------------------------------------------------------------

Paragraph = list[dict[str, Any]]


def _text(text: str, *, bold: bool = False) -> dict[str, Any]:
    node: dict[str, Any] = {"tag": "text", "text": text}
    if bold:
        node["style"] = ["bold"]
    return node


class FeishuPost(Format[list[Paragraph]]):
    """Feishu's ``post`` rich text: paragraphs of text and link nodes; a block is paragraphs."""

    name = "feishu"

    def header(self, view: DigestView) -> list[Paragraph]:
        """The counts (the heading is the post's title)."""
        return [[_text(view.summary)]]

    def heading(self, text: str) -> list[Paragraph]:
        """A topic's heading in bold."""
        return [[_text(text, bold=True)]]

    def entry(
        self, entry: EntryView, title: str, snippet: tuple[SnippetPart, ...], link: bool
    ) -> list[Paragraph]:
        """Numbered linked title, outlets and time, snippet with bold keywords, other topics."""
        first: Paragraph = [_text(f"{entry.number}. ")]
        if link and entry.url is not None:
            first.append({"tag": "a", "text": title, "href": entry.url})
        else:
            first.append(_text(title, bold=True))
        paragraphs = [first]
        if entry.meta:
            paragraphs.append([_text(entry.meta)])
        if snippet:
            paragraphs.append([_text(part.text, bold=part.hit) for part in snippet])
        if entry.also_line:
            paragraphs.append([_text(entry.also_line)])
        return paragraphs

    def more(self, text: str) -> list[Paragraph]:
        """ "另有 N 条"."""
        return [[_text(text)]]

    def measure(self, block: list[Paragraph]) -> int:
        """Bytes in the body: each paragraph's JSON and the comma after it."""
        return sum(_json_bytes(paragraph) + 1 for paragraph in block)


FEISHU = FeishuPost()
# Between blocks an empty paragraph, which Feishu shows as a blank line.
_FEISHU_GAP: Paragraph = [_text("")]


def _feishu_message(title: str, content: list[Paragraph]) -> dict[str, Any]:
    return {"msg_type": "post", "content": {"post": {"zh_cn": {"title": title, "content": content}}}}


def render_feishu(digest: Digest, limit: int = FEISHU_BODY_LIMIT) -> list[dict[str, Any]]:
    """The digest as Feishu ``post`` messages, each request body at most ``limit`` bytes."""
    view = digest_view(digest)
    titles = (view.heading, view.heading + texts.CONTINUED)
    envelope = _json_bytes(_feishu_message(max(titles, key=_utf8), []))
    gap = _json_bytes(_FEISHU_GAP) + 1
    messages = pack(view, FEISHU, limit - envelope - BODY_MARGIN, gap=gap)
    result = []
    for number, blocks in enumerate(messages):
        content: list[Paragraph] = []
        for index, block in enumerate(blocks):
            if index:
                content.append(list(_FEISHU_GAP))
            content += block
        result.append(_feishu_message(titles[min(number, 1)], content))
    return result
