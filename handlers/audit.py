"""/audit: the most recent administrative changes, with who, where, when, the scope, before → after.

Configured admins see every change; a group's administrators see the changes made in or for
their group (its subscription, its own topics). Every change is recorded by the code that makes it
(:func:`handlers.admin.commit_edit` for topics, :mod:`handlers.subscriptions` for subscriptions);
this module only reads the log back, compactly: only what changed, long lists as "+added −removed".
"""

from __future__ import annotations

from typing import Any

from bot.domain.models import AuditEntry
from bot.domain.safetext import cap, clean
from bot.domain.textindex import fold
from bot.texts import chat as T
from handlers.markup import text_reply
from handlers.permissions import Access, Role, may_run
from handlers.refusals import refusal_reply
from handlers.request import Context, Reply, Request

AUDIT_DEFAULT, AUDIT_MAX = 10, 30
# Lists whose before and after together are this short are shown whole in /audit; longer ones as
# what changed (+added −removed), which stays on one line of a phone screen.
LIST_SHOWN_WHOLE = 40
# Audit actions whose target is a chat (a subscription); the others name a topic.
CHAT_ACTIONS = ("subscribe", "unsubscribe", "set_time")


def _values(key: str, value: Any) -> str:
    if key == "topics" and value == []:
        return T.ALL_TOPICS
    if key == "days":
        return T.DAYS_LABELS.get(str(value), str(value))
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or T.NONE
    if isinstance(value, dict):
        return "、".join(f"{k}={v}" for k, v in value.items()) or T.NONE
    return str(value) if value not in ("", None) else T.NONE


def _near_change(label: str, before: dict[str, Any], after: dict[str, Any]) -> str:
    """Near words by keyword: only the keywords whose words changed ("+上市（企业、IPO）", "−挂牌")."""
    parts = []
    for keyword in dict.fromkeys([*before, *after]):
        old, new = list(before.get(keyword, [])), list(after.get(keyword, []))
        if old == new:
            continue
        if not old:
            parts.append(f"+{keyword}（{'、'.join(new)}）")
        elif not new:
            parts.append(f"−{keyword}")
        else:
            added = "、".join(w for w in new if w not in old)
            removed = "、".join(w for w in old if w not in new)
            change = " ".join(([f"+{added}"] if added else []) + ([f"−{removed}"] if removed else []))
            parts.append(f"{keyword} {change}")
    return f"{label}：{'；'.join(parts)}"


def _change(key: str, before: Any, after: Any) -> str:
    label = T.FIELD_LABELS.get(key, key)
    if key in ("near", "not_near") and isinstance(before or {}, dict) and isinstance(after or {}, dict):
        return _near_change(label, before or {}, after or {})
    old, new = _values(key, before), _values(key, after)
    if isinstance(before, list) and isinstance(after, list) and len(old) + len(new) > LIST_SHOWN_WHOLE:
        # Long lists: only what changed ("+科创板 −北交所") keeps the line readable.
        added = "、".join(str(v) for v in after if v not in before)
        removed = "、".join(str(v) for v in before if v not in after)
        parts = ([f"+{added}"] if added else []) + ([f"−{removed}"] if removed else [])
        return f"{label}：{' '.join(parts)}"
    return f"{label}：{cap(old, 40)} → {cap(new, 40)}"


def describe_change(before: Any, after: Any) -> str:
    """An audit row's before → after, compact: only the keys that changed."""
    if before is None and isinstance(after, dict):
        shown = ("keywords",) if "keywords" in after else ("topics", "time", "days")
        what = "；".join(f"{T.FIELD_LABELS[k]}：{cap(_values(k, after[k]), 80)}" for k in shown if k in after)
        return T.AUDIT_CREATED.format(what=what)
    if after is None:
        return T.AUDIT_REMOVED
    if isinstance(before, dict) and isinstance(after, dict):
        changed = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
        # Rows are stored with sorted keys; show them in the order people think of them.
        keys = sorted(changed, key=lambda k: list(T.FIELD_LABELS).index(k) if k in T.FIELD_LABELS else 99)
        return "；".join(_change(k, before.get(k), after.get(k)) for k in keys) or T.AUDIT_UNCHANGED
    return _change("value", before, after)


def _target(entry: AuditEntry) -> str:
    what = cap(clean(entry.target), 24)
    if entry.action in CHAT_ACTIONS:
        return T.AUDIT_TARGET_CHAT.format(chat=what)
    return T.AUDIT_TARGET_TOPIC.format(topic=what)


def _scope(entry: AuditEntry) -> str:
    """全局 for the global topics; 本群 for a chat's own topics or subscription changed in that
    chat; the chat's id when changed from elsewhere (an admin's console)."""
    chat = entry.target if entry.action in CHAT_ACTIONS else entry.scope
    if not chat:
        return T.AUDIT_SCOPE_GLOBAL
    if chat == entry.chat:
        return T.AUDIT_SCOPE_CHAT
    return T.AUDIT_SCOPE_OTHER_CHAT.format(chat=cap(clean(chat), 24))


def audit_command(ctx: Context, request: Request) -> Reply:
    """/audit [条数]: the most recent changes, newest first (a group admin: their group's)."""
    refusal = may_run(Access.EDITORS, request.role, request.group)
    if refusal is not None:  # dispatch refused already; a handler called some other way too
        return refusal_reply(refusal, Access.EDITORS)
    limit = AUDIT_DEFAULT
    if request.args:
        digits = fold(request.args[0])
        if not digits.isdigit() or len(digits) > 4:
            return text_reply(T.AUDIT_USAGE)
        limit = max(1, min(AUDIT_MAX, int(digits)))
    own = None if request.role is Role.ADMIN else request.chat  # dispatch let only admins in
    entries = ctx.store.audit_entries(limit, chat=own)
    if not entries:
        return text_reply(T.AUDIT_EMPTY)
    lines = [T.AUDIT_HEADER.format(n=len(entries))]
    for entry in entries:
        when = entry.at.astimezone(ctx.config.timezone).strftime("%Y-%m-%d %H:%M")
        lines.append(
            T.AUDIT_LINE.format(
                when=when,
                user=cap(clean(entry.user_name), 20) or entry.user_id,
                chat=cap(entry.chat, 24),
                action=T.ACTION_LABELS.get(entry.action, entry.action),
                target=_target(entry),
                scope=_scope(entry),
            )
        )
        lines.append("  " + cap(describe_change(entry.before, entry.after), 160))
    return text_reply(*lines)
