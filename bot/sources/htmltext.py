"""Markup and raw text to the clean, searchable text stored for an item.

Search is by exact Chinese substrings, so the conversion must never split a word: inline elements
(``株<b>洲</b>``) join without a separator, and only block elements start a new line.
"""

from __future__ import annotations

import html as htmllib
import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

# Something that looks like a tag, comment or doctype: decides whether markup parsing is needed.
# A tag name must end at whitespace, "/" or ">", so that Markdown autolinks (<http://…>) and
# comparisons (a<b) in plain text do not count.
HTML_TAG = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9-]*[\s/>]|!|/[a-zA-Z])")

# fmt: off
# Elements that start and end a line of text.
_BLOCK = frozenset((
    "address", "article", "aside", "blockquote", "br", "caption", "center", "dd", "details", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hr", "legend", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
    "table", "tbody", "tfoot", "thead", "tr", "ul",
))
# Table cells sit side by side on their row's line, so they are only kept apart by a space.
_CELL = frozenset(("td", "th"))
# Elements whose content is never visible text (or is not text at all).
_DROP = frozenset((
    "audio", "button", "canvas", "embed", "head", "iframe", "img", "input", "link", "map", "meta",
    "noscript", "object", "option", "picture", "script", "select", "style", "svg", "template",
    "textarea", "title", "video",
))
# fmt: on
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)

# In a text node, a line break between two CJK characters is a hard wrap of one word or phrase:
# joining without a space keeps the phrase searchable. Elsewhere a line break is a space (HTML).
_CJK = r"\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_WRAP = re.compile(rf"(?<=[{_CJK}])[^\S\n]*\n[^\S\n]*(?=[{_CJK}])")
# A blank line inside text is a paragraph break: finews bodies are Markdown with HTML inside.
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")

# Invisible characters that would otherwise split words for search. Found with a regex and removed
# only when present: str.translate costs tens of µs on every long Chinese text.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")

_SENTENCE_END = "。！？!?"
_SOFT_BREAK = "，,；;：: 、"
TITLE_MAX = 60


def html_to_text(html: str) -> str:
    """Convert an HTML fragment or document to clean text, one paragraph per line.

    Block elements (p, div, br, li, h1–h6, center, tr, …) break lines, inline elements join without
    separators, entities are decoded. Comments, scripts, styles, images, iframes and elements hidden
    by ``style="display:none"`` or the ``hidden`` attribute are dropped. Input without anything
    tag-like is treated as plain text, its line breaks kept (entities are still decoded: it is
    Markdown). The result is cleaned as by :func:`clean_text`.
    """
    if not HTML_TAG.search(html):
        return clean_text(htmllib.unescape(html) if "&" in html else html)
    # Parsed as a fragment, as a post body is: a full document's <html>, <head> and <body> tags are
    # ignored (their title and meta elements are dropped below), and nothing is moved into a head,
    # which in document mode carries a leading <noscript>'s text into the body.
    tree = LexborHTMLParser(html, is_fragment=True)
    parts: list[str] = []
    _walk(tree.root, parts)  # a fragment's root is its first top-level node
    return clean_text("".join(parts))


def _walk(first: LexborNode | None, parts: list[str]) -> None:
    """Append the visible text of ``first``, its following siblings and their descendants to
    ``parts``, with "\\n" around block elements."""
    child = first
    while child is not None:
        tag = child.tag
        if tag == "-text":
            text = child.text_content
            if not text:
                pass
            elif "\n" not in text:
                parts.append(text)
            elif text.isspace():
                # The line breaks between paragraphs: what _unwrap would make of them, cheaply.
                parts.append("\n" if text.count("\n") > 1 else " ")
            else:
                parts.append(_unwrap(text))
        elif tag is None or tag[0] == "-" or tag in _DROP or _is_hidden(child):
            pass  # comments, doctype, invisible elements
        elif tag in _BLOCK:
            parts.append("\n")
            _walk(child.child, parts)
            parts.append("\n")
        elif tag in _CELL:
            parts.append(" ")
            _walk(child.child, parts)
            parts.append(" ")
        else:
            _walk(child.child, parts)
        child = child.next


def _is_hidden(node: LexborNode) -> bool:
    attributes = node.attributes
    if not attributes:
        return False
    if "hidden" in attributes:
        return True
    style = attributes.get("style")
    return style is not None and _HIDDEN_STYLE.search(style) is not None


def _unwrap(text: str) -> str:
    """Line breaks inside a text node: paragraph breaks stay, hard wraps become spaces or vanish."""
    text = _BLANK_LINE.sub("\x00", text)  # protect paragraph breaks while joining wrapped lines
    text = _CJK_WRAP.sub("", text).replace("\n", " ")
    return text.replace("\x00", "\n")


def clean_text(text: str) -> str:
    """Strip every line (including U+3000 and no-break spaces), collapse runs of whitespace to
    one space, drop invisible zero-width characters and empty lines; join lines with "\\n"."""
    if _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def first_sentence(text: str, limit: int = TITLE_MAX) -> str:
    """A title made from the start of ``text``: its first sentence without the final punctuation.

    The sentence ends at the first 。！？!? or line break. A sentence longer than ``limit``
    characters is cut at the last comma-like break within the limit (if one is not too early),
    else at the limit.
    """
    line = text.strip().split("\n", 1)[0].strip()
    end = min((i for i in map(line.find, _SENTENCE_END) if i >= 0), default=len(line))
    sentence = line[:end].strip()
    if len(sentence) <= limit:
        return sentence
    head = sentence[:limit]
    cut = max(head.rfind(mark) for mark in _SOFT_BREAK)
    return (head[:cut] if cut >= limit // 3 else head).strip()
