"""Why a file could not be parsed: one exception type and every reason it can carry.

The reasons are shown to users in chat and in import summaries, so they are short, Chinese first,
and kept together here so that wording stays consistent across the parsers.
"""

from __future__ import annotations

EMPTY = "空文件 (empty file)"
BINARY = "二进制文件 (binary)"
UNDECODABLE = "无法解码 (undecodable text)"
NO_FRONT_MATTER = "Markdown 文件缺少前置信息，不是 finews 文章 (no front matter: not a finews post)"
FRONT_MATTER_NOT_CLOSED = "前置信息未结束 (front matter not closed)"
NO_TITLE_NO_TEXT = "缺少标题和正文 (no title and no text)"


class ParseError(Exception):
    """A file that cannot become an :class:`~bot.domain.models.Item`.

    ``reason`` is one of the constants of this module; ``path`` names the file when known.
    """

    def __init__(self, reason: str, path: str = "") -> None:
        """Carry ``reason`` (a module constant) and, if known, the ``path`` of the file."""
        super().__init__(reason, path)
        self.reason = reason
        self.path = path

    def __str__(self) -> str:
        """``path: reason``, or the reason alone when the path is unknown."""
        return f"{self.path}: {self.reason}" if self.path else self.reason


# --- feeds: the whole feed is refused (nothing of it is stored) -------------------------------
EMPTY_FEED = "空响应 (empty body)"
NOT_A_FEED = "不是 RSS/Atom 源 (not a feed: an HTML page?)"
# Sloppy XML is read leniently (bot.sources.feeds); what is refused is a document cut short.
MALFORMED_FEED = "源内容不完整 (truncated XML: the document does not end with its root element)"
UNDECODABLE_FEED = "源编码无法识别 (undecodable feed)"
# Undeclared bytes that read as more than one encoding (or as a mess in every one): refused rather
# than stored as mojibake, which would be searchable as if it were real text.
UNCERTAIN_ENCODING = "源编码无法可靠识别，未保存以免乱码 (encoding uncertain, nothing stored)"

# --- feeds: one entry is rejected, the others are kept -----------------------------------------
NO_ID = "条目缺少标识 (no guid, no link, no id)"
# An entry with neither title nor text is rejected with NO_TITLE_NO_TEXT, as a post is.


class FeedError(Exception):
    """A fetched body that cannot be read as a feed: an error for that source, nothing stored.

    ``reason`` is one of the feed constants of this module; ``detail`` says more when known
    (e.g. the XML parser's ``line 3, column 0: no element found``).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        """Carry ``reason`` (a module constant) and an optional one-line ``detail``."""
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        """``reason: detail``, or the reason alone when there is no detail."""
        return f"{self.reason}: {self.detail}" if self.detail else self.reason
