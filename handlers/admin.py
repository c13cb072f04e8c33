"""Topic editing from chat: one path for every rule change, each in its scope with its audit row.

:func:`commit_edit` is that path. Every command that changes a topic — word lists (/addkw,
/addexclude, /addnotin, /addtitlekw and their /del… twins), near words (:mod:`handlers.rule_edits`),
scores and windows, a proposal adopted from "不相关" feedback (:mod:`handlers.feedback`),
/newtopic and /deltopic — hands it the topic's name, the audit action and a function from the
topic as it is to the topic as it should be. The path reads the topics of the edit's scope
(:mod:`handlers.scopes`: 全局, the global topics, which configured admins edit; 本群, this chat's
own, which a group's admins edit too), applies the function, and stores the result with its audit
row in one transaction (``BEGIN IMMEDIATE``): two admins editing at once are serialised, and no
change is ever stored without its record. Queries and digests read the effective topics from the
store each time, so an edit applies at once, and it survives restarts. ``finews-bot topics
--export [--chat ID]`` writes the result back as TOML.

Every command may start with 全局 or 本群 to choose the scope; without it, an edit in a group
changes that group's own topics, and an admin's edit in a private chat the global ones.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bot.domain.models import Topic
from bot.domain.safetext import cap
from bot.domain.textindex import fold, split_query
from bot.domain.topics import find_topic
from bot.texts import chat as T
from handlers.markup import text_reply
from handlers.request import Context, Reply, Request
from handlers.scopes import TopicScope, edit_refusal, edit_scope

MAX_WORD_CHARS = 50
MAX_WORDS = 20  # words in one edit
MAX_TOPIC_NAME = 20
_SEPARATORS = re.compile(r"[,，、;；]+")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")

# What each word-list command changes: the topic's field, adding or removing, the audit action.
EDITS: dict[str, tuple[str, bool, str]] = {
    "addkw": ("keywords", True, "add_keyword"),
    "delkw": ("keywords", False, "delete_keyword"),
    "addtitlekw": ("title_keywords", True, "add_title_keyword"),
    "deltitlekw": ("title_keywords", False, "delete_title_keyword"),
    "addexclude": ("exclude", True, "add_exclude"),
    "delexclude": ("exclude", False, "delete_exclude"),
    "addnotin": ("not_in", True, "add_not_in"),
    "delnotin": ("not_in", False, "delete_not_in"),
}
# A word is counted everywhere or only in the headline, never both: adding it to one list while it
# is in the other is refused (the config file refuses it too).
_OTHER_KEYWORD_LIST = {"keywords": "title_keywords", "title_keywords": "keywords"}


@dataclass(frozen=True, slots=True)
class Edited:
    """A topic change as stored: the topic before and after (None: it did not exist, or is deleted)."""

    before: Topic | None
    after: Topic | None


# From the topic as it is (None when creating one) to the topic as it should be (None: delete it),
# or a reply saying why not (nothing is stored then).
Change = Callable[[Topic | None], "Topic | Reply | None"]


def commit_edit(
    where: TopicScope, name: str, action: str, change: Change, *, create: bool = False
) -> Edited | Reply:
    """THE path of every topic change made from chat: read, change, store with the audit row.

    ``name`` is the topic as typed (case and width are forgiven); ``create``: the topic must not
    exist yet (/newtopic), otherwise it must. Returns what was stored, or the reply that explains
    why nothing was: not allowed in this scope, an unknown or existing topic, or ``change``'s own
    refusal.
    """
    refused = edit_refusal(where.request, where.scope)  # checked again, whoever called
    if refused is not None:
        return refused
    with where.ctx.store.transaction():
        topics = where.topics()
        current = find_topic(name, topics)
        if create and current is not None:
            return text_reply(T.TOPIC_EXISTS.format(topic=current.name))
        if not create and current is None:
            return unknown_topic(name, list(topics))
        outcome = change(current)
        if isinstance(outcome, Reply):
            return outcome
        where.save(current.name if current is not None else name, current, outcome, action)
    return Edited(current, outcome)


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


def check_words(words: Sequence[str]) -> str | None:
    """Why these words cannot be added (too many, too long, nothing to search for), or None."""
    if len(words) > MAX_WORDS:
        return T.TOO_MANY_WORDS.format(n=MAX_WORDS)
    for word in words:
        problem = _word_problem(word)
        if problem:
            return problem
    return None


def unknown_topic(name: str, topics: Sequence[str]) -> Reply:
    """No topic by that name: close names and the list of topics."""
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
    words = split_query(topic.all_keywords)
    return [c for c in contexts if not any(w in fold(c) for w in words)]


_REPLACE: dict[str, Callable[[Topic, tuple[str, ...]], Topic]] = {
    "keywords": lambda topic, values: replace(topic, keywords=values),
    "title_keywords": lambda topic, values: replace(topic, title_keywords=values),
    "exclude": lambda topic, values: replace(topic, exclude=values),
    "not_in": lambda topic, values: replace(topic, not_in=values),
}


def with_words(topic: Topic, field: str, values: tuple[str, ...]) -> Topic:
    """The topic with one of its word lists replaced.

    A keyword taken away takes its weight and its near words (both kinds) along: they name a keyword
    (the config file insists).
    """
    changed = _REPLACE[field](topic, values)
    if field in _OTHER_KEYWORD_LIST:
        kept = set(changed.all_keywords)
        changed = replace(
            changed,
            weights={k: v for k, v in topic.weights.items() if k in kept},
            near={k: v for k, v in topic.near.items() if k in kept},
            not_near={k: v for k, v in topic.not_near.items() if k in kept},
        )
    return changed


def _changed_words(command: str, words: Sequence[str], topic: Topic | None) -> Topic | Reply:
    """The topic with ``words`` added to or removed from the command's list, or why not."""
    assert topic is not None  # commit_edit only calls with an existing topic here
    field, adding, _ = EDITS[command]
    current: tuple[str, ...] = getattr(topic, field)
    present = {fold(w): w for w in current}
    label = T.FIELD_LABELS[field]
    if adding:
        other = _OTHER_KEYWORD_LIST.get(field)
        elsewhere = {fold(w): w for w in getattr(topic, other)} if other else {}
        clash = next((w for w in words if fold(w) in elsewhere), None)
        if other is not None and clash is not None:
            return text_reply(
                T.KEYWORD_IN_OTHER_LIST.format(
                    topic=topic.name, word=clash, field=T.FIELD_LABELS[other], command=_delete_command(other)
                )
            )
        added: dict[str, str] = {}  # folded → as typed: ＩＰＯ and ipo are one word
        for word in words:
            if fold(word) not in present:
                added.setdefault(fold(word), word)
        if not added:
            return text_reply(
                T.ALREADY_THERE.format(topic=topic.name, field=label, words="、".join(words)),
                _listing(topic, field),
            )
        return with_words(topic, field, (*current, *added.values()))
    gone = {fold(w) for w in words} & set(present)
    if not gone:
        return text_reply(
            T.NOT_THERE.format(topic=topic.name, field=label, words="、".join(words)), _listing(topic, field)
        )
    values = tuple(w for w in current if fold(w) not in gone)
    if field == "keywords" and not values:
        return text_reply(T.LAST_KEYWORD.format(topic=topic.name))
    return with_words(topic, field, values)


def _delete_command(field: str) -> str:
    return next(name for name, (f, adding, _) in EDITS.items() if f == field and not adding)


def edit_words(ctx: Context, request: Request, command: str) -> Reply:
    """/addkw, /delkw, /addtitlekw, /deltitlekw, /addexclude, /delexclude, /addnotin, /delnotin,
    each [全局|本群] <主题> <词…>."""
    field, adding, action = EDITS[command]
    scoped = edit_scope(ctx, request)
    if isinstance(scoped, Reply):
        return scoped
    where, args = scoped
    words = split_words(args[1:])
    if not args or not words:
        return text_reply(T.EDIT_USAGE[command])
    problem = check_words(words) if adding else None
    if problem:
        return text_reply(problem)
    outcome = commit_edit(where, args[0], action, lambda topic: _changed_words(command, words, topic))
    if isinstance(outcome, Reply):
        return outcome
    assert outcome.before is not None and outcome.after is not None
    before, after = getattr(outcome.before, field), getattr(outcome.after, field)
    label = T.FIELD_LABELS[field]
    name = outcome.after.name
    if adding:
        changed = [w for w in after if w not in before]
        untouched = [w for w in words if fold(w) not in {fold(c) for c in changed}]
        lines = [where.tagged(T.ADDED.format(topic=name, field=label, words="、".join(changed)))]
        if untouched:
            lines.append(T.SOME_ALREADY_THERE.format(words="、".join(untouched)))
    else:
        changed = [w for w in before if w not in after]
        untouched = [w for w in words if fold(w) not in {fold(c) for c in changed}]
        lines = [where.tagged(T.REMOVED.format(topic=name, field=label, words="、".join(changed)))]
        if untouched:
            lines.append(T.SOME_NOT_THERE.format(words="、".join(untouched)))
    if field == "not_in" and adding and (useless := _useless_contexts(outcome.after, changed)):
        lines.append(T.CONTEXT_WITHOUT_KEYWORD.format(words="、".join(useless)))
    lines += [_listing(outcome.after, field), T.EFFECTIVE_NOW]
    return text_reply(*lines)


def editor(command: str) -> Callable[[Context, Request], Reply]:
    """The handler of one word-editing command."""

    def handler(ctx: Context, request: Request) -> Reply:
        return edit_words(ctx, request, command)

    handler.__doc__ = f"/{command}: {EDITS[command][2]}"
    return handler


def newtopic_command(ctx: Context, request: Request) -> Reply:
    """/newtopic [全局|本群] <名称> <关键词…>: a topic of its own, effective at once."""
    scoped = edit_scope(ctx, request)
    if isinstance(scoped, Reply):
        return scoped
    where, args = scoped
    keywords = split_words(args[1:])
    if not args or not keywords:
        return text_reply(T.NEWTOPIC_USAGE)
    name = args[0].strip()
    if len(name) > MAX_TOPIC_NAME or not _LETTER_OR_DIGIT.search(fold(name)):
        return text_reply(T.BAD_TOPIC_NAME.format(n=MAX_TOPIC_NAME))
    problem = check_words(keywords)
    if problem:
        return text_reply(problem)
    outcome = commit_edit(
        where, name, "new_topic", lambda _: Topic(name=name, keywords=tuple(keywords)), create=True
    )
    if isinstance(outcome, Reply):
        return outcome
    return text_reply(
        where.tagged(T.TOPIC_CREATED.format(topic=name, keywords="、".join(keywords))),
        T.TOPIC_CREATED_HINT.format(topic=name),
    )


def deltopic_command(ctx: Context, request: Request) -> Reply:
    """/deltopic [全局|本群] <名称>: remove a topic (a global one only hidden in this chat; one
    from the config file hidden, not lost)."""
    scoped = edit_scope(ctx, request)
    if isinstance(scoped, Reply):
        return scoped
    where, args = scoped
    if len(args) != 1:
        return text_reply(T.DELTOPIC_USAGE)

    def delete(topic: Topic | None) -> Reply | None:
        assert topic is not None  # commit_edit only calls with an existing topic here
        # The last topic of a scope stays: without any, digests and /topics would be empty.
        return text_reply(T.LAST_TOPIC.format(topic=topic.name)) if len(where.topics()) == 1 else None

    outcome = commit_edit(where, args[0], "delete_topic", delete)
    if isinstance(outcome, Reply):
        return outcome
    assert outcome.before is not None
    name = outcome.before.name
    subscribed = sum(
        1
        for s in ctx.store.subscriptions()
        if name in s.topics and (where.chat is None or s.chat == where.chat)
    )
    lines = [where.tagged(T.TOPIC_DELETED.format(topic=name))]
    if subscribed:
        lines.append(T.TOPIC_DELETED_SUBSCRIBED.format(n=subscribed))
    return text_reply(*lines)
