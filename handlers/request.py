"""What every chat handler takes and returns, transport-free.

An adapter (Telegram, the console) turns an incoming command into a :class:`Request`, calls the
command's handler with the shared :class:`Context`, and turns the :class:`Reply` into its own
markup (:mod:`handlers.markup`: Telegram HTML or plain text). One :class:`Command` table
(:mod:`handlers.commands`) drives ``/help``, Telegram's command menu, the console and the README.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.config import Config
from bot.delivery.digester import Digester
from bot.domain.models import AuditEntry, Channel
from bot.search import TopicVerdicts
from bot.store import Store
from digests.values import Digest
from handlers.feedback_book import FeedbackBook
from handlers.pager import Pager
from handlers.permissions import Access, Role, needs_group_role
from handlers.reference_writer import ReferenceWriter


class Style(StrEnum):
    """How a span of reply text is shown."""

    PLAIN = "plain"
    BOLD = "bold"
    ITALIC = "italic"
    CODE = "code"
    LINK = "link"


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text in one style; a link carries its URL."""

    text: str
    style: Style = Style.PLAIN
    url: str = ""


Line = tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button; ``action`` comes back in the request when it is pressed (≤ 64 bytes)."""

    label: str
    action: str


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot answers: lines of styled text and optional buttons under them.

    ``edit`` marks a reply to a button press that replaces the message the button was on
    (pagination) rather than posting a new one.
    """

    lines: tuple[Line, ...]
    buttons: tuple[Button, ...] = ()
    edit: bool = False
    digest: Digest | None = None  # a digest to show after the lines, rendered by the adapter


class ChatType(StrEnum):
    """A private chat with one person, or a group."""

    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Request:
    """One command as the handlers see it, whatever the transport."""

    command: str  # without the slash and without @botname, lower case
    args: tuple[str, ...]  # the arguments, split on white space
    chat: str  # the chat id
    chat_type: ChatType
    user_id: str
    user_name: str = ""
    chat_title: str = ""
    channel: Channel = Channel.TELEGRAM
    role: Role = Role.MEMBER  # see handlers.permissions
    action: str = ""  # for a button press: the button's action

    @property
    def group(self) -> bool:
        """Whether the chat is a group."""
        return self.chat_type is ChatType.GROUP

    @property
    def raw_args(self) -> str:
        """The arguments as one string."""
        return " ".join(self.args)


@dataclass(slots=True)
class Context:
    """What handlers work with: the configuration, the store and the clock (one per worker thread)."""

    config: Config
    store: Store
    now: Callable[[], datetime]
    # Pagination state of /latest and /topic replies; adapters with several contexts (threads)
    # pass one shared Pager so that a button works whichever thread handles it.
    pager: Pager = field(default_factory=Pager)
    # "不相关" buttons and proposed rule changes waiting for an admin's choice; shared like the pager.
    feedback: FeedbackBook = field(default_factory=FeedbackBook)
    # What /topic found on each item it checked: the next /topic of a topic checks only new items.
    verdicts: TopicVerdicts = field(default_factory=TopicVerdicts)
    # Where numbered lists are saved behind the reply (a service worker); None: saved at once.
    reference_writer: ReferenceWriter | None = None
    digester: Digester = field(init=False)

    def __post_init__(self) -> None:
        self.digester = Digester(self.config, self.store, self.now)

    def audit(
        self, request: Request, action: str, target: str, before: Any, after: Any, *, scope: str = ""
    ) -> AuditEntry:
        """The audit record of a change made now by the user who sent ``request``; ``scope``: the
        chat whose own topics changed ("" for the global ones and for subscriptions)."""
        return AuditEntry(
            at=self.now(),
            user_id=request.user_id,
            user_name=request.user_name,
            chat=request.chat,
            action=action,
            target=target,
            before=before,
            after=after,
            scope=scope,
        )


Handler = Callable[[Context, Request], Reply]


@dataclass(frozen=True, slots=True)
class Command:
    """One chat command: its name, how to call it, what it does, and who may."""

    name: str
    usage: str  # the arguments, e.g. "<关键词…> [条数]"
    summary: str  # one line in Chinese, for /help and the command menu
    example: str  # e.g. "/latest 株洲"
    handler: Handler
    access: Access = Access.EVERYONE  # who may run it (see handlers.permissions)
    menu: bool = True  # listed in the Telegram command menu
    aliases: tuple[str, ...] = ()  # Chinese words that call it too (最新 for latest)
    # Open to everyone, but those who may edit topics are offered more (/why's "不相关" buttons):
    # the adapter finds out whether the sender administers the group, as for an editing command.
    offers_editors_more: bool = False

    @property
    def admin(self) -> bool:
        """Whether it is an admin's command (listed apart in /help): it changes topics or is the
        admins' own."""
        return self.access in (Access.EDITORS, Access.ADMINS)

    def needs_admin(self, chat_type: ChatType) -> bool:
        """Whether the adapter must ask the platform if the user administers the group before
        :func:`~handlers.commands.dispatch` applies the one permission rule."""
        group = chat_type is ChatType.GROUP
        return needs_group_role(self.access, group) or (self.offers_editors_more and group)
