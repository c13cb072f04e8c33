"""Pagination state for list replies (/latest, /topic): which query a "下一页" button belongs to.

Telegram gives a button at most 64 bytes of ``callback_data``, too little for a query of Chinese
keywords, so a button carries a short random token and a page number (``pg:<token>:<page>``) and
the query itself stays here, in memory. Only the newest :data:`DEFAULT_CAPACITY` queries are kept
(least recently used goes first); a restart forgets them all, and a pressed button then answers
"该列表已过期" instead of guessing. The pager is shared by the adapter's handler threads.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

PREFIX = "pg:"
DEFAULT_CAPACITY = 2000
ACTION_LIMIT = 64  # bytes of UTF-8: Telegram's callback_data limit


@dataclass(frozen=True, slots=True)
class PageState:
    """A paginated query: the command that made it, its arguments, the page size and the chat."""

    command: str
    args: tuple[str, ...]
    page_size: int
    chat: str


class Pager:
    """An LRU map from short tokens to paginated queries; safe to share between threads."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        """Keep at most ``capacity`` queries."""
        self.capacity = capacity
        self._states: OrderedDict[str, PageState] = OrderedDict()
        # Per chat, the list last shown there and its page: "下一页" typed as text turns it (on
        # platforms whose buttons do not come back to the bot).
        self._shown: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, state: PageState) -> str:
        """Store ``state`` and return its token (8 URL-safe characters)."""
        with self._lock:
            token = secrets.token_urlsafe(6)
            while token in self._states:  # 48 random bits: a clash is theoretical, but cheap to rule out
                token = secrets.token_urlsafe(6)
            self._states[token] = state
            while len(self._states) > self.capacity:
                self._states.popitem(last=False)
            return token

    def recall(self, token: str) -> PageState | None:
        """The query behind ``token``, or None if it was never made or has been forgotten."""
        with self._lock:
            state = self._states.get(token)
            if state is not None:
                self._states.move_to_end(token)
            return state

    def shown(self, chat: str, token: str, page: int) -> None:
        """The chat now shows page ``page`` of the list ``token``."""
        with self._lock:
            self._shown[chat] = (token, page)
            self._shown.move_to_end(chat)
            while len(self._shown) > self.capacity:
                self._shown.popitem(last=False)

    def last_shown(self, chat: str) -> tuple[str, int] | None:
        """The list (token) and page the chat was last shown, or None."""
        with self._lock:
            return self._shown.get(chat)

    def __len__(self) -> int:
        with self._lock:
            return len(self._states)


def page_action(token: str, page: int) -> str:
    """A button's action for ``page`` of the query ``token``."""
    action = f"{PREFIX}{token}:{page}"
    assert len(action.encode()) <= ACTION_LIMIT, action
    return action


def parse_page_action(action: str) -> tuple[str, int] | None:
    """``"pg:<token>:<page>"`` → (token, page); None for anything else."""
    if not action.startswith(PREFIX):
        return None
    token, _, page = action[len(PREFIX) :].partition(":")
    if not token or not page.isascii() or not page.isdigit():
        return None
    return token, int(page)


def turns_page(action: str) -> bool:
    """Whether a button's action turns a list's page (which 上一页 / 下一页 typed do as well, on
    platforms whose buttons do not come back to the bot); other buttons have typed commands of
    their own, named in the reply's text (/notrelevant, /apply)."""
    return action.startswith(PREFIX)
