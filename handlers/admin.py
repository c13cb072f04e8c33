"""Topic editing from chat: a group's admins for their group (本群), configured admins for all (全局).

Each edit reads the topics of its scope (:mod:`handlers.scopes`), computes the topic's new
definition, and stores it with its audit row in one transaction (``BEGIN IMMEDIATE``): two admins
editing at once are serialised, and no change is ever stored without its record. Queries and
digests read the effective topics from the store each time, so an edit applies at once, and it
survives restarts. ``finews-bot topics --export [--chat ID]`` writes the result back as TOML.

Every command may start with 全局 or 本群 to choose the scope; without it, an edit in a group
changes that group's own topics, and an admin's edit in a private chat the global ones.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from bot.domain.models import Topic
from bot.domain.safetext import cap
from bot.domain.textindex import fold, split_query
from bot.texts import chat as T
from handlers.markup import text_reply
from handlers.request import Context, Reply, Request
from handlers.scopes import TopicScope, chosen_scope, edit_refusal

MAX_WORD_CHARS = 50
MAX_WORDS = 20  # words in one edit
MAX_TOPIC_NAME = 20
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
    """/addkw, /delkw, /addexclude, /delexclude, /addnotin, /delnotin [全局|本群] <主题> <词…>."""
    field, adding, action = EDITS[command]
    scope, args = chosen_scope(request)
    refused = edit_refusal(request, scope)
    if refused is not None:
        return refused
    words = split_words(args[1:])
    if not args or not words:
        return text_reply(T.EDIT_USAGE[command])
    problem = _check_words(words) if adding else None
    if problem:
        return text_reply(problem)
    where = TopicScope(ctx, request, scope)
    with ctx.store.transaction():
        topic = where.find(args[0])
        if topic is None:
            return _unknown(args[0], list(where.topics()))
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
        where.save(topic.name, topic, changed, action)
    done = T.ADDED if adding else T.REMOVED
    first = done.format(topic=topic.name, field=label, words="、".join(changed_words)) + where.tag
    lines = [first, *notes]
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
    """/newtopic [全局|本群] <名称> <关键词…>: a topic of its own, effective at once."""
    scope, args = chosen_scope(request)
    refused = edit_refusal(request, scope)
    if refused is not None:
        return refused
    keywords = split_words(args[1:])
    if not args or not keywords:
        return text_reply(T.NEWTOPIC_USAGE)
    name = args[0].strip()
    if len(name) > MAX_TOPIC_NAME or not _LETTER_OR_DIGIT.search(fold(name)):
        return text_reply(T.BAD_TOPIC_NAME.format(n=MAX_TOPIC_NAME))
    problem = _check_words(keywords)
    if problem:
        return text_reply(problem)
    where = TopicScope(ctx, request, scope)
    with ctx.store.transaction():
        existing = where.find(name)
        if existing is not None:
            return text_reply(T.TOPIC_EXISTS.format(topic=existing.name))
        topic = Topic(name=name, keywords=tuple(keywords))
        where.save(name, None, topic, "new_topic")
    return text_reply(
        T.TOPIC_CREATED.format(topic=name, keywords="、".join(keywords)) + where.tag,
        T.TOPIC_CREATED_HINT.format(topic=name),
    )


def deltopic_command(ctx: Context, request: Request) -> Reply:
    """/deltopic [全局|本群] <名称>: remove a topic (the global one only hidden in this chat; one
    from the config file hidden, not lost)."""
    scope, args = chosen_scope(request)
    refused = edit_refusal(request, scope)
    if refused is not None:
        return refused
    if len(args) != 1:
        return text_reply(T.DELTOPIC_USAGE)
    where = TopicScope(ctx, request, scope)
    with ctx.store.transaction():
        topic = where.find(args[0])
        if topic is None:
            return _unknown(args[0], list(where.topics()))
        if len(where.topics()) == 1:
            return text_reply(T.LAST_TOPIC.format(topic=topic.name))
        where.save(topic.name, topic, None, "delete_topic")
        subscribed = sum(
            1
            for s in ctx.store.subscriptions()
            if topic.name in s.topics and (where.chat is None or s.chat == where.chat)
        )
    lines = [T.TOPIC_DELETED.format(topic=topic.name) + where.tag]
    if subscribed:
        lines.append(T.TOPIC_DELETED_SUBSCRIBED.format(n=subscribed))
    return text_reply(*lines)
