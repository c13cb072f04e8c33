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
# Elements nested deeper than this lose their tags before parsing (see cap_depth). Real pages
# nest a few dozen levels; a sloppy one that never closes its <p> reaches a few hundred, and loses
# nothing but those tags.
MAX_DEPTH = 256
# Possessive: a long tag name that never ends in ">" must not be re-split between the groups.
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*+)([^<>]*+)>")
_VOID = frozenset((
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
))
# Elements that a start tag of the same name closes (an HTML parser closes them implicitly).
_SELF_CLOSING = frozenset(("p", "li", "dt", "dd", "option", "tr", "td", "th"))
# Elements whose content is not markup: removing only their start tag would turn it into text.
_RAW_TEXT = frozenset(("script", "style", "textarea", "title", "template", "noscript", "xmp", "iframe"))
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

    Work is linear in the input whatever its shape: elements nested deeper than :data:`MAX_DEPTH`
    lose their tags (their text is kept, see :func:`cap_depth`) and the walk over the tree keeps its
    own stack instead of recursing.
    """
    if not HTML_TAG.search(html):
        return clean_text(htmllib.unescape(html) if "&" in html else html)
    if html.count("<") > MAX_DEPTH:  # fewer tags cannot nest deeper: the common case costs nothing
        html = cap_depth(html)
    # Parsed as a fragment, as a post body is: a full document's <html>, <head> and <body> tags are
    # ignored (their title and meta elements are dropped below), and nothing is moved into a head,
    # which in document mode carries a leading <noscript>'s text into the body.
    tree = LexborHTMLParser(html, is_fragment=True)
    parts: list[str] = []
    _walk(tree.root, parts)  # a fragment's root is its first top-level node
    return clean_text("".join(parts))


def _walk(first: LexborNode | None, parts: list[str]) -> None:
    """Append the visible text of ``first``, its following siblings and their descendants to
    ``parts``, with "\\n" around block elements and " " around table cells.

    Depth-first with an explicit stack of nodes still to visit and separators still to write, so
    that no nesting reaches Python's recursion limit (a recursive walk raised RecursionError at
    about 990 levels).
    """
    pending: list[LexborNode | str] = [first] if first is not None else []
    while pending:
        entry = pending.pop()
        if isinstance(entry, str):
            parts.append(entry)
            continue
        node = entry
        following = node.next
        if following is not None:
            pending.append(following)  # after this node's subtree
        tag = node.tag
        if tag == "-text":
            text = node.text_content
            if not text:
                pass
            elif "\n" not in text:
                parts.append(text)
            elif text.isspace():
                # The line breaks between paragraphs: what _unwrap would make of them, cheaply.
                parts.append("\n" if text.count("\n") > 1 else " ")
            else:
                parts.append(_unwrap(text))
        elif tag is None or tag[0] == "-" or tag in _DROP or _is_hidden(node):
            pass  # comments, doctype, invisible elements
        else:
            separator = "\n" if tag in _BLOCK else " " if tag in _CELL else ""
            if separator:
                parts.append(separator)
                pending.append(separator)
            child = node.child
            if child is not None:
                pending.append(child)


def cap_depth(html: str, limit: int | None = None) -> str:
    """``html`` with the tags of elements nested deeper than ``limit`` (:data:`MAX_DEPTH`) removed.

    Their text stays where it was: a removed block element's tag becomes a ``<br>``, a cell's a
    space, an inline element's nothing, as :func:`html_to_text` would render them; the content of a
    removed script, style or other invisible raw-text element goes with it. The nesting is followed
    as an HTML parser would, approximately: void elements and self-closed tags open nothing, an end
    tag closes up to the innermost open element of its name and is ignored when none is open, and
    a ``<p>``, ``<li>``… closes an open one of its kind at the top; an end tag of a removed element
    (the innermost of its name) is removed too. Within the limit nothing changes. Linear in the
    number of tags.

    Why: the HTML parser (lexbor) checks its stack of open elements at each start tag, so its work
    grows with the square of the nesting (10,000 nested ``<div>``: 0.14 s; 100,000: 14 s).
    """
    limit = MAX_DEPTH if limit is None else limit
    out: list[str] = []
    stack: list[str] = []
    open_names: dict[str, int] = {}
    removed: dict[str, int] = {}  # removed start tags whose end tag has not come yet, by name
    position = 0
    while True:
        match = _TAG.search(html, position)
        if match is None:
            break
        closing, name = match.group(1), match.group(2).lower()
        end = match.end()
        kept = True
        if closing:
            if removed.get(name):
                removed[name] -= 1
                kept = False
            elif open_names.get(name):
                while stack:
                    top = stack.pop()
                    open_names[top] -= 1
                    if top == name:
                        break
        elif name not in _VOID and not match.group(3).endswith("/"):
            if name in _SELF_CLOSING and stack and stack[-1] == name:
                open_names[stack.pop()] -= 1
            if len(stack) >= limit:
                kept = False
                if name in _RAW_TEXT:  # its content and its end tag go with it
                    close = re.compile(rf"</{name}\s*>", re.IGNORECASE).search(html, end)
                    end = close.end() if close else len(html)
                else:
                    removed[name] = removed.get(name, 0) + 1
            else:
                stack.append(name)
                open_names[name] = open_names.get(name, 0) + 1
        out.append(html[position : match.start()])
        if kept:
            out.append(match.group())
        elif not (name in _RAW_TEXT and not closing):
            # A line break must stay markup: "\n" in text is only a space (or, between CJK, nothing).
            out.append("<br>" if name in _BLOCK else " " if name in _CELL else "")
        position = end
    out.append(html[position:])
    return "".join(out)


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
