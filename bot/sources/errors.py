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
    """A file that cannot become an :class:`~bot.models.Item`.

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
