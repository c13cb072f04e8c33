"""Where a topic edit goes: the global topics (全局) or this chat's own (本群), one code path.

Every editing command reads the topics of its scope, computes a topic's new definition, and hands
it to :meth:`TopicScope.save`, which writes it where it belongs — a global edit replaces the
topic for every chat; a chat's edit is stored as that chat's overlay: for a global topic the words
it added and removed and the sense rules it set (so that a later global change still shows
through, except for what the chat changed itself), or its hiding; for a topic of its own, the
whole topic. Each save writes its
audit row with the scope, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.models import Topic
from bot.domain.textindex import fold
from bot.domain.topics import Overlay, find_topic, overlay_between, topic_to_dict
from bot.texts import chat as T
from handlers.markup import text_reply
from handlers.permissions import Refusal, Role, Scope, default_scope, may_edit
from handlers.request import Context, Reply, Request

GLOBAL_WORDS = ("全局", "global")
CHAT_WORDS = ("本群", "本聊天", "chat")


def chosen_scope(request: Request) -> tuple[Scope, tuple[str, ...]]:
    """The scope the user named (a leading 全局 or 本群), else the default; and the rest of the
    arguments."""
    if request.args:
        first = fold(request.args[0])
        if first in GLOBAL_WORDS:
            return Scope.GLOBAL, request.args[1:]
        if first in CHAT_WORDS:
            return Scope.CHAT, request.args[1:]
    return default_scope(request.role, request.group), request.args


def edit_refusal(request: Request, scope: Scope) -> Reply | None:
    """Why this user may not edit topics in ``scope`` here, or None."""
    refusal = may_edit(request.role, request.group, scope)
    if refusal is None:
        return None
    if refusal is Refusal.UNKNOWN:
        return text_reply(T.ROLE_UNKNOWN)
    if scope is Scope.GLOBAL and request.role is Role.GROUP_ADMIN:
        return text_reply(T.GLOBAL_ADMIN_ONLY)
    return text_reply(T.ADMIN_ONLY)


def edit_scope(ctx: Context, request: Request) -> tuple[TopicScope, tuple[str, ...]] | Reply:
    """Where this request's edit goes and the arguments after the scope word; or, when the user
    may not edit there, the refusal."""
    scope, args = chosen_scope(request)
    refused = edit_refusal(request, scope)
    if refused is not None:
        return refused
    return TopicScope(ctx, request, scope), args


@dataclass(slots=True)
class TopicScope:
    """The topics one edit sees and changes."""

    ctx: Context
    request: Request
    scope: Scope

    @property
    def chat(self) -> str | None:
        """The chat whose own topics are edited, or None for the global ones."""
        return self.request.chat if self.scope is Scope.CHAT else None

    @property
    def tag(self) -> str:
        """The reply's word for the scope: （本群） or （全局）."""
        return T.SCOPE_CHAT if self.scope is Scope.CHAT else T.SCOPE_GLOBAL

    def tagged(self, text: str) -> str:
        """A reply's first line with the scope said: before its closing 。 or ：, else at its end."""
        if text.endswith(("。", "：")):
            return text[:-1] + self.tag + text[-1]
        return text + self.tag

    def topics(self) -> dict[str, Topic]:
        """The effective topics in this scope (read them inside the edit's transaction)."""
        return self.ctx.digester.topics(self.chat)

    def find(self, name: str) -> Topic | None:
        """A topic of this scope by name, tolerating case and full-width letters."""
        return find_topic(name, self.topics())

    def save(self, name: str, before: Topic | None, after: Topic | None, action: str) -> None:
        """Store the topic ``name`` as ``after`` (None: deleted, or hidden in this chat), with
        its audit row."""
        entry = self.ctx.audit(
            self.request,
            action,
            name,
            topic_to_dict(before) if before is not None else None,
            topic_to_dict(after) if after is not None else None,
            scope=self.chat or "",
        )
        if self.chat is None:
            self.ctx.store.save_topic_edit(name, after, entry)
            return
        self.ctx.store.save_overlay(self.chat, name, self._overlay(name, after), entry)

    def _overlay(self, name: str, after: Topic | None) -> Overlay:
        """What this chat must store so that its topic ``name`` becomes ``after``."""
        base = self.ctx.digester.topics().get(name)  # the global topic, if there is one
        current = self.ctx.store.chat_overlays(self.request.chat).get(name)
        if after is None:
            return Overlay(hidden=True) if base is not None else Overlay()
        if base is None or (current is not None and current.own is not None):
            return Overlay(own=after)
        return overlay_between(base, after)
