"""Who may do what: the one permission rule, for every adapter and every command.

Three roles, and a fourth state when the platform cannot tell:

- **admin**: a configured admin of the deployment (``[telegram] admins``, the console's
  ``--role admin``). Edits the global topics and any chat's own topics and subscription.
- **group admin**: an owner or administrator of *this* group, as the platform says. Edits only
  this group's own topics (本群) and its subscription.
- **member**: queries only. In a private chat the user is the chat's only member and may change
  its subscription; topics only admins edit there.
- **unknown**: the platform could not be asked whether the user administers the group (a network
  error): the user is told so and asked to try again, rather than refused as a member.

With no admins configured, nobody edits the global topics from a chat. Two scopes of topic edits:
全局 (the global set every chat inherits) and 本群 (this chat's own changes, laid over it).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Who the user is in this chat, as the adapter found out."""

    ADMIN = "admin"
    GROUP_ADMIN = "group-admin"
    MEMBER = "member"
    UNKNOWN = "unknown"  # the platform could not say whether the user administers the group


class Scope(StrEnum):
    """Which topics an edit changes."""

    GLOBAL = "global"  # 全局: the topics every chat inherits
    CHAT = "chat"  # 本群: this chat's own changes


class Access(StrEnum):
    """What a command needs, as the command table declares it."""

    EVERYONE = "everyone"  # queries
    CHAT_ADMINS = "chat-admins"  # changes this chat: in a group its admins, in a private chat its user
    EDITORS = "editors"  # changes topics: a group's own its admins, the global ones admins only
    ADMINS = "admins"  # configured admins only


class Refusal(StrEnum):
    """Why a request is refused."""

    ADMINS_ONLY = "admins-only"  # needs a configured admin
    GROUP_ADMINS_ONLY = "group-admins-only"  # needs an administrator of this group
    UNKNOWN = "unknown"  # the platform could not say: try again


def may_change_chat(role: Role, group: bool) -> Refusal | None:
    """May this user change this chat (its subscription, its own topics)? None: yes."""
    if not group or role in (Role.ADMIN, Role.GROUP_ADMIN):
        return None
    return Refusal.UNKNOWN if role is Role.UNKNOWN else Refusal.GROUP_ADMINS_ONLY


def may_edit(role: Role, group: bool, scope: Scope) -> Refusal | None:
    """May this user edit topics in ``scope`` from this chat? None: yes."""
    if scope is Scope.GLOBAL or not group:
        return None if role is Role.ADMIN else Refusal.ADMINS_ONLY
    return may_change_chat(role, group)


def may_run(access: Access, role: Role, group: bool) -> Refusal | None:
    """Whether a command of this access may run at all (a topic edit is checked again for its
    scope once its arguments are read). None: yes."""
    if access is Access.EVERYONE:
        return None
    if access is Access.ADMINS or (access is Access.EDITORS and not group):
        return None if role is Role.ADMIN else Refusal.ADMINS_ONLY
    return may_change_chat(role, group)


def needs_group_role(access: Access, group: bool) -> bool:
    """Whether the adapter must ask the platform if the user administers the group."""
    return group and access in (Access.CHAT_ADMINS, Access.EDITORS)


def default_scope(role: Role, group: bool) -> Scope:
    """Where an edit goes when the user does not say: in a group its own topics (本群); in a
    private chat an admin's edit is global, anyone else's their own chat's."""
    return Scope.GLOBAL if not group and role is Role.ADMIN else Scope.CHAT
