"""Topic editing from chat (admins only) and the audit log of every administrative change.

Each edit reads the effective topics (config file + earlier chat edits), computes the topic's new
definition, and stores it with its audit row in one transaction (``BEGIN IMMEDIATE``): two admins
editing at once are serialised, and no change is ever stored without its record. Queries and
digests read the effective topics from the store each time, so an edit applies at once, and it
survives restarts. ``finews-bot topics --export`` writes the result back as TOML.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from bot.domain.models import AuditEntry, Topic
from bot.domain.safetext import cap, clean
from bot.domain.textindex import fold, split_query
from bot.domain.topics import topic_to_dict
from bot.texts import chat as T
from handlers.markup import text_reply
from handlers.request import Context, Reply, Request

MAX_WORD_CHARS = 50
MAX_WORDS = 20  # words in one edit
MAX_TOPIC_NAME = 20
AUDIT_DEFAULT, AUDIT_MAX = 10, 30
# Lists whose before and after together are this short are shown whole in /audit; longer ones as
# what changed (+added −removed), which stays on one line of a phone screen.
LIST_SHOWN_WHOLE = 40
# Audit actions whose target is a chat (a subscription); the others name a topic.
CHAT_ACTIONS = ("subscribe", "unsubscribe", "set_time")
_SEPARATORS = re.compile(r"[,，、;；]+")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")

# What each editing command changes: the topic's field, adding or removing, the audit action.
EDITS: dict[str, tuple[str, bool, str]] = {
    "addkw": ("keywords", True, "add_keyword"),
    "delkw": ("keywords", False, "delete_keyword"),
    "addexclude": ("exclude", True, "add_exclude"),
    "delexclude": ("exclude", False, "delete_exclude"),
    "addnotin": ("not_in", True, "add_not_in"),
    "delnotin": ("not_in", False, "delete_not_in"),
}


def split_words(args: Sequence[str]) -> list[str]:
    """Words separated by spaces or by ，、,;； — each once, in order."""
    words: list[str] = []
    for arg in args:
        for word in _SEPARATORS.split(arg):
            word = word.strip()
            if word and word not in words:
                words.append(word)
    return words


def _word_problem(word: str) -> str | None:
    if len(word) > MAX_WORD_CHARS:
        return T.WORD_TOO_LONG.format(word=cap(word, 20), n=MAX_WORD_CHARS)
    # A word without letters or digits cannot use the index: every query would read every item.
    if not split_query(word) or not _LETTER_OR_DIGIT.search(fold(word)):
        return T.WORD_NOT_SEARCHABLE.format(word=cap(word, 20))
    return None


def _check_words(words: Sequence[str]) -> str | None:
    if len(words) > MAX_WORDS:
        return T.TOO_MANY_WORDS.format(n=MAX_WORDS)
    for word in words:
        problem = _word_problem(word)
        if problem:
            return problem
    return None


def _unknown(name: str, topics: Sequence[str]) -> Reply:
    close = difflib.get_close_matches(name, topics, n=3, cutoff=0.4)
    lines = [T.UNKNOWN_TOPIC.format(name=cap(name, 30))]
    if close:
        lines.append(T.DID_YOU_MEAN.format(names="、".join(close)))
    lines.append(T.AVAILABLE_TOPICS.format(names="、".join(topics) or T.NONE))
    return text_reply(*lines)


def _find(name: str, topics: dict[str, Topic]) -> Topic | None:
    if name in topics:
        return topics[name]
    wanted = fold(name)
    return next((t for n, t in topics.items() if fold(n) == wanted), None)


def _listing(topic: Topic, field: str) -> str:
    values = getattr(topic, field)
    return T.FIELD_NOW.format(field=T.FIELD_LABELS[field], values="、".join(values) or T.NONE)


def _useless_contexts(topic: Topic, contexts: Sequence[str]) -> list[str]:
    """Contexts that hold none of the topic's keywords: they can never negate anything."""
    words = split_query(topic.keywords)
    return [c for c in contexts if not any(w in fold(c) for w in words)]


def _with(topic: Topic, field: str, values: tuple[str, ...]) -> Topic:
    """The topic with one of its word lists replaced."""
    if field == "keywords":  # a weight must name a keyword (the config file insists)
        return replace(
            topic, keywords=values, weights={k: v for k, v in topic.weights.items() if k in values}
        )
    if field == "exclude":
        return replace(topic, exclude=values)
    return replace(topic, not_in=values)


def edit_words(ctx: Context, request: Request, command: str) -> Reply:
    """/addkw, /delkw, /addexclude, /delexclude, /addnotin, /delnotin <主题> <词…>."""
    field, adding, action = EDITS[command]
    if not request.is_admin:
        return text_reply(T.ADMIN_ONLY)
    words = split_words(request.args[1:])
    if not request.args or not words:
        return text_reply(T.EDIT_USAGE[command])
    problem = _check_words(words) if adding else None
    if problem:
        return text_reply(problem)
    with ctx.store.transaction():
        topics = ctx.digester.topics()
        topic = _find(request.args[0], topics)
        if topic is None:
            return _unknown(request.args[0], list(topics))
        current: tuple[str, ...] = getattr(topic, field)
        present = {fold(w): w for w in current}
        label = T.FIELD_LABELS[field]
        notes: list[str] = []
        if adding:
            added: dict[str, str] = {}  # folded → as typed: ＩＰＯ and ipo are one word
            for word in words:
                if fold(word) not in present:
                    added.setdefault(fold(word), word)
            fresh = list(added.values())
            there = [w for w in words if fold(w) in present]
            if not fresh:
                return text_reply(
                    T.ALREADY_THERE.format(topic=topic.name, field=label, words="、".join(there)),
                    _listing(topic, field),
                )
            if there:
                notes.append(T.SOME_ALREADY_THERE.format(words="、".join(there)))
            values = (*current, *fresh)
            changed_words = fresh
        else:
            gone = [present[fold(w)] for w in words if fold(w) in present]
            missing = [w for w in words if fold(w) not in present]
            if not gone:
                return text_reply(
                    T.NOT_THERE.format(topic=topic.name, field=label, words="、".join(missing)),
                    _listing(topic, field),
                )
            if missing:
                notes.append(T.SOME_NOT_THERE.format(words="、".join(missing)))
            values = tuple(w for w in current if w not in gone)
            if field == "keywords" and not values:
                return text_reply(T.LAST_KEYWORD.format(topic=topic.name))
            changed_words = gone
        changed = _with(topic, field, values)
        ctx.store.save_topic_edit(
            topic.name,
            changed,
            ctx.audit(request, action, topic.name, topic_to_dict(topic), topic_to_dict(changed)),
        )
    done = T.ADDED if adding else T.REMOVED
    lines = [done.format(topic=topic.name, field=label, words="、".join(changed_words)), *notes]
    if field == "not_in" and adding and (useless := _useless_contexts(changed, changed_words)):
        lines.append(T.CONTEXT_WITHOUT_KEYWORD.format(words="、".join(useless)))
    lines += [_listing(changed, field), T.EFFECTIVE_NOW]
    return text_reply(*lines)


def editor(command: str) -> Callable[[Context, Request], Reply]:
    """The handler of one word-editing command."""

    def handler(ctx: Context, request: Request) -> Reply:
        return edit_words(ctx, request, command)

    handler.__doc__ = f"/{command}: {EDITS[command][2]}"
    return handler


def newtopic_command(ctx: Context, request: Request) -> Reply:
    """/newtopic <名称> <关键词…>: a topic of its own, effective at once."""
    if not request.is_admin:
        return text_reply(T.ADMIN_ONLY)
    keywords = split_words(request.args[1:])
    if not request.args or not keywords:
        return text_reply(T.NEWTOPIC_USAGE)
    name = request.args[0].strip()
    if len(name) > MAX_TOPIC_NAME or not _LETTER_OR_DIGIT.search(fold(name)):
        return text_reply(T.BAD_TOPIC_NAME.format(n=MAX_TOPIC_NAME))
    problem = _check_words(keywords)
    if problem:
        return text_reply(problem)
    with ctx.store.transaction():
        topics = ctx.digester.topics()
        existing = _find(name, topics)
        if existing is not None:
            return text_reply(T.TOPIC_EXISTS.format(topic=existing.name))
        topic = Topic(name=name, keywords=tuple(keywords))
        ctx.store.save_topic_edit(
            name, topic, ctx.audit(request, "new_topic", name, None, topic_to_dict(topic))
        )
    return text_reply(
        T.TOPIC_CREATED.format(topic=name, keywords="、".join(keywords)),
        T.TOPIC_CREATED_HINT.format(topic=name),
    )


def deltopic_command(ctx: Context, request: Request) -> Reply:
    """/deltopic <名称>: remove a topic (one from the config file is hidden, not lost)."""
    if not request.is_admin:
        return text_reply(T.ADMIN_ONLY)
    if len(request.args) != 1:
        return text_reply(T.DELTOPIC_USAGE)
    with ctx.store.transaction():
        topics = ctx.digester.topics()
        topic = _find(request.args[0], topics)
        if topic is None:
            return _unknown(request.args[0], list(topics))
        ctx.store.save_topic_edit(
            topic.name, None, ctx.audit(request, "delete_topic", topic.name, topic_to_dict(topic), None)
        )
        subscribed = sum(1 for s in ctx.store.subscriptions() if topic.name in s.topics)
    lines = [T.TOPIC_DELETED.format(topic=topic.name)]
    if subscribed:
        lines.append(T.TOPIC_DELETED_SUBSCRIBED.format(n=subscribed))
    return text_reply(*lines)


# --- /audit -------------------------------------------------------------------------------------


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


def _change(key: str, before: Any, after: Any) -> str:
    label = T.FIELD_LABELS.get(key, key)
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


def audit_command(ctx: Context, request: Request) -> Reply:
    """/audit [条数]: the most recent changes, newest first."""
    if not request.is_admin:
        return text_reply(T.ADMIN_ONLY)
    limit = AUDIT_DEFAULT
    if request.args:
        digits = fold(request.args[0])
        if not digits.isdigit() or len(digits) > 4:
            return text_reply(T.AUDIT_USAGE)
        limit = max(1, min(AUDIT_MAX, int(digits)))
    entries = ctx.store.audit_entries(limit)
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
            )
        )
        lines.append("  " + cap(describe_change(entry.before, entry.after), 160))
    return text_reply(*lines)
