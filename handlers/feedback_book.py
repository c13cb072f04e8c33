"""Feedback waiting for an answer: "不相关" buttons, and the rule changes proposed for one item.

Like :mod:`handlers.pager`, a button carries a short random token (Telegram gives it 64 bytes) and
what it stands for stays here, in memory: the newest :data:`DEFAULT_CAPACITY` entries are kept
(least recently used goes first). A restart forgets them; a pressed button, or /apply, then says
that the proposals have expired instead of applying something nobody saw. Proposals are also
dropped once one of them is applied, and /apply uses the chat's newest set only.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

from bot.domain.models import Topic
from digests.proposals import Proposal
from handlers.permissions import Scope

MARK_PREFIX = "nr:"  # a "不相关" button: nr:<token>
APPLY_PREFIX = "fx:"  # an "采用方案" button: fx:<token>:<number>
DEFAULT_CAPACITY = 500


@dataclass(frozen=True, slots=True)
class Marking:
    """What a "不相关" button is about: an item, a topic, in a chat."""

    chat: str
    item_id: str
    topic: str
    ref: str  # how the chat referred to the item ("3", or its id)


@dataclass(frozen=True, slots=True)
class ProposalSet:
    """The changes proposed to drop one item from one topic, and the topic they were made from."""

    chat: str
    item_id: str
    item_title: str
    before: Topic  # applying is refused if the topic has changed since
    proposals: tuple[Proposal, ...]
    scope: Scope = Scope.GLOBAL  # the topics the proposals were made from, and change


class FeedbackBook:
    """Tokens for feedback buttons and the chats' newest proposals; safe to share between threads."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        """Keep at most ``capacity`` markings and proposal sets together."""
        self.capacity = capacity
        self._entries: OrderedDict[str, Marking | ProposalSet] = OrderedDict()
        self._newest: dict[str, str] = {}  # chat → token of its newest proposal set
        self._lock = threading.Lock()

    def _store(self, entry: Marking | ProposalSet) -> str:
        token = secrets.token_urlsafe(6)
        while token in self._entries:
            token = secrets.token_urlsafe(6)
        self._entries[token] = entry
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        return token

    def mark(self, marking: Marking) -> str:
        """Remember a "不相关" button's subject; returns its token."""
        with self._lock:
            return self._store(marking)

    def marking(self, token: str) -> Marking | None:
        """The subject of a "不相关" button, or None if forgotten or not one."""
        with self._lock:
            entry = self._entries.get(token)
            return entry if isinstance(entry, Marking) else None

    def propose(self, proposals: ProposalSet) -> str:
        """Remember a chat's proposals, now its newest; returns their token."""
        with self._lock:
            token = self._store(proposals)
            self._newest[proposals.chat] = token
            return token

    def proposals(self, token: str) -> ProposalSet | None:
        """The proposals behind ``token``, or None if forgotten, applied or not proposals."""
        with self._lock:
            entry = self._entries.get(token)
            return entry if isinstance(entry, ProposalSet) else None

    def newest(self, chat: str) -> tuple[str, ProposalSet] | None:
        """The chat's newest proposals that are still there, with their token."""
        with self._lock:
            token = self._newest.get(chat)
            entry = self._entries.get(token) if token else None
            return (token, entry) if token and isinstance(entry, ProposalSet) else None

    def forget(self, token: str) -> None:
        """Drop the proposals behind ``token`` (one was applied: the others no longer fit)."""
        with self._lock:
            self._entries.pop(token, None)


def mark_action(token: str) -> str:
    """A "不相关" button's action."""
    return f"{MARK_PREFIX}{token}"


def apply_action(token: str, number: int) -> str:
    """An "采用方案 N" button's action."""
    return f"{APPLY_PREFIX}{token}:{number}"


def parse_apply_action(action: str) -> tuple[str, int] | None:
    """``"fx:<token>:<n>"`` → (token, n); None for anything else."""
    if not action.startswith(APPLY_PREFIX):
        return None
    token, _, number = action[len(APPLY_PREFIX) :].partition(":")
    if not token or not number.isascii() or not number.isdigit() or len(number) > 2:
        return None
    return token, int(number)
