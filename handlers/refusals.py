"""How a refusal of the permission rule (:mod:`handlers.permissions`) is said, in one place."""

from __future__ import annotations

from bot.texts import chat as T
from handlers.markup import text_reply
from handlers.permissions import Access, Refusal
from handlers.request import Reply


def refusal_reply(refusal: Refusal, access: Access) -> Reply:
    """A refused request's answer: who may, or that the platform could not say (try again)."""
    if refusal is Refusal.UNKNOWN:
        return text_reply(T.ROLE_UNKNOWN)
    if access is Access.CHAT_ADMINS:
        return text_reply(T.GROUP_ADMIN_ONLY)
    return text_reply(T.ADMIN_ONLY)
