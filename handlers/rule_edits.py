"""The sense rules from chat: near words (/addnear, /delnear), negative near words (/addnotnear,
/delnotnear), the window (/setwindow) and the minimum score (/setminscore). Every change goes
through :func:`handlers.admin.commit_edit`, with its audit row.

Word lists that count only in the headline (/addtitlekw, /deltitlekw) are word lists like the
others and live in :mod:`handlers.admin`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.config.digest import MAX_MIN_SCORE, MAX_NEAR_WINDOW
from bot.domain.models import Topic
from bot.domain.safetext import cap
from bot.domain.textindex import fold
from bot.texts import chat as T
from handlers.admin import check_words, commit_edit, split_words
from handlers.markup import text_reply
from handlers.request import Context, Reply, Request
from handlers.scopes import TopicScope, edit_scope

# A score like 2 or 1.5 (two decimals at most), a window like 10: digits only, so that "nan",
# "1e9" or "-3" are refused by their form rather than by arithmetic.
_SCORE = re.compile(r"\d{1,3}(?:\.\d{1,2})?")
_WINDOW = re.compile(r"\d{1,3}")


def number_text(value: float) -> str:
    """2.0 → "2", 1.5 → "1.5": a score as people write it."""
    return f"{value:g}"


@dataclass(frozen=True, slots=True)
class _Table:
    """One of the two tables of words around a keyword, with what the chat says about it."""

    field: str  # the Topic field: "near" or "not_near"
    add_action: str  # the audit actions
    delete_action: str
    add_usage: str
    delete_usage: str
    not_a_keyword: str
    none: str
    now: str
    already: str
    not_there: str
    added: str
    removed: str
    cleared: str
    is_keyword: str

    def of(self, topic: Topic) -> Mapping[str, tuple[str, ...]]:
        """The topic's table of this kind."""
        return topic.not_near if self.field == "not_near" else topic.near

    def into(self, topic: Topic, table: Mapping[str, tuple[str, ...]]) -> Topic:
        """The topic with its table of this kind replaced."""
        return replace(topic, not_near=table) if self.field == "not_near" else replace(topic, near=table)


NEAR = _Table(
    "near",
    "add_near",
    "delete_near",
    T.ADDNEAR_USAGE,
    T.DELNEAR_USAGE,
    T.NOT_A_KEYWORD,
    T.NEAR_NONE,
    T.NEAR_NOW,
    T.NEAR_ALREADY,
    T.NEAR_NOT_THERE,
    T.NEAR_ADDED,
    T.NEAR_REMOVED,
    T.NEAR_CLEARED,
    T.NEAR_IS_KEYWORD,
)
NOT_NEAR = _Table(
    "not_near",
    "add_not_near",
    "delete_not_near",
    T.ADDNOTNEAR_USAGE,
    T.DELNOTNEAR_USAGE,
    T.NOT_A_KEYWORD_FAR,
    T.NOT_NEAR_NONE,
    T.NOT_NEAR_NOW,
    T.NOT_NEAR_ALREADY,
    T.NOT_NEAR_NOT_THERE,
    T.NOT_NEAR_ADDED,
    T.NOT_NEAR_REMOVED,
    T.NOT_NEAR_CLEARED,
    T.NOT_NEAR_IS_KEYWORD,
)


def near_summary(topic: Topic, keyword: str, table: _Table = NEAR) -> str:
    """ "“上市”前后 10 字内须有：企业、公司", or that every occurrence counts (for ``not_near``:
    the words that keep it from counting)."""
    words = table.of(topic).get(keyword, ())
    if not words:
        return table.none.format(keyword=keyword)
    return table.now.format(keyword=keyword, n=topic.near_window, words="、".join(words))


def _keyword_of(typed: str, topic: Topic) -> str | None:
    """The topic's keyword (or headline keyword) ``typed`` names, forgiving case and width."""
    wanted = fold(typed.strip())
    return next((k for k in topic.all_keywords if fold(k) == wanted), None)


def _not_a_keyword(topic: Topic, typed: str, table: _Table) -> Reply:
    return text_reply(
        table.not_a_keyword.format(topic=topic.name, word=cap(typed, 20)),
        T.FIELD_NOW.format(field=T.FIELD_LABELS["keywords"], values="、".join(topic.all_keywords)),
    )


def _with_near(
    topic: Topic | None, typed: str, words: Sequence[str], adding: bool, table: _Table
) -> Topic | Reply:
    assert topic is not None  # commit_edit calls with an existing topic
    keyword = _keyword_of(typed, topic)
    if keyword is None:
        return _not_a_keyword(topic, typed, table)
    current = table.of(topic).get(keyword, ())
    present = {fold(w) for w in current}
    if adding:
        fresh = list(dict.fromkeys(w for w in words if fold(w) not in present))
        if not fresh:
            return text_reply(
                table.already.format(keyword=keyword, words="、".join(words)),
                near_summary(topic, keyword, table),
            )
        values = (*current, *fresh)
    elif not current:
        return text_reply(near_summary(topic, keyword, table))
    elif words:
        gone = {fold(w) for w in words} & present
        if not gone:
            return text_reply(
                table.not_there.format(keyword=keyword, words="、".join(words)),
                near_summary(topic, keyword, table),
            )
        values = tuple(w for w in current if fold(w) not in gone)
    else:
        values = ()  # /delnear 主题 关键词: the requirement goes
    changed = {k: v for k, v in table.of(topic).items() if k != keyword}
    if values:
        changed[keyword] = values
    return table.into(topic, changed)


def _near_edit(ctx: Context, request: Request, adding: bool, table: _Table = NEAR) -> Reply:
    scoped = edit_scope(ctx, request)
    if isinstance(scoped, Reply):
        return scoped
    where, args = scoped
    usage = table.add_usage if adding else table.delete_usage
    if len(args) < (3 if adding else 2):
        return text_reply(usage)
    typed, words = args[1], split_words(args[2:])
    problem = check_words(words) if adding else None
    if problem:
        return text_reply(problem)
    outcome = commit_edit(
        where,
        args[0],
        table.add_action if adding else table.delete_action,
        lambda topic: _with_near(topic, typed, words, adding, table),
    )
    if isinstance(outcome, Reply):
        return outcome
    assert outcome.before is not None and outcome.after is not None
    keyword = _keyword_of(typed, outcome.after)
    assert keyword is not None
    before, after = table.of(outcome.before).get(keyword, ()), table.of(outcome.after).get(keyword, ())
    name = outcome.after.name
    if adding:
        added = "、".join(w for w in after if w not in before)
        lines = [where.tagged(table.added.format(topic=name, keyword=keyword, words=added))]
        if any(fold(w) == fold(keyword) for w in after):
            lines.append(table.is_keyword.format(keyword=keyword))
    elif after:
        removed = "、".join(w for w in before if w not in after)
        lines = [where.tagged(table.removed.format(topic=name, keyword=keyword, words=removed))]
    else:
        lines = [where.tagged(table.cleared.format(topic=name, keyword=keyword))]
    return text_reply(*lines, near_summary(outcome.after, keyword, table), T.EFFECTIVE_NOW)


def addnear_command(ctx: Context, request: Request) -> Reply:
    """/addnear [全局|本群] <主题> <关键词> <邻近词…>: the keyword counts only with one of these
    words close by."""
    return _near_edit(ctx, request, adding=True)


def delnear_command(ctx: Context, request: Request) -> Reply:
    """/delnear [全局|本群] <主题> <关键词> [邻近词…]: fewer near words; without words, none are
    needed any more."""
    return _near_edit(ctx, request, adding=False)


def addnotnear_command(ctx: Context, request: Request) -> Reply:
    """/addnotnear [全局|本群] <主题> <关键词> <排除邻近词…>: the keyword does not count where one
    of these words stands close by (小额贷款 beside 质押: a share pledge naming its lender)."""
    return _near_edit(ctx, request, adding=True, table=NOT_NEAR)


def delnotnear_command(ctx: Context, request: Request) -> Reply:
    """/delnotnear [全局|本群] <主题> <关键词> [排除邻近词…]: fewer such words; without words, none."""
    return _near_edit(ctx, request, adding=False, table=NOT_NEAR)


def _set_value(
    where: TopicScope,
    name: str,
    *,
    field: str,
    action: str,
    value: float,
    shown: str,
    usage: str,
    setter: Callable[[Topic], Topic],
) -> Reply:
    def change(topic: Topic | None) -> Topic | Reply:
        assert topic is not None
        if getattr(topic, field) == value:
            return text_reply(
                T.VALUE_UNCHANGED.format(topic=topic.name, field=T.FIELD_LABELS[field], value=shown)
            )
        return setter(topic)

    outcome = commit_edit(where, name, action, change)
    if isinstance(outcome, Reply):
        return outcome
    assert outcome.before is not None and outcome.after is not None
    old = getattr(outcome.before, field)
    before = number_text(old) if isinstance(old, float) else str(old)
    label = T.FIELD_LABELS[field]
    return text_reply(
        where.tagged(T.VALUE_SET.format(topic=outcome.after.name, field=label, before=before, value=shown)),
        usage,
        T.EFFECTIVE_NOW,
    )


def setminscore_command(ctx: Context, request: Request) -> Reply:
    """/setminscore [全局|本群] <主题> <分数>: what the counted occurrences must score (0: no minimum)."""
    scoped = edit_scope(ctx, request)
    if isinstance(scoped, Reply):
        return scoped
    where, args = scoped
    if len(args) != 2:
        return text_reply(T.SETMINSCORE_USAGE)
    typed = fold(args[1])
    if not _SCORE.fullmatch(typed) or float(typed) > MAX_MIN_SCORE:
        return text_reply(
            T.BAD_SCORE.format(value=cap(args[1], 20), n=number_text(MAX_MIN_SCORE)),
            T.SETMINSCORE_USAGE,
        )
    score = float(typed)
    return _set_value(
        where,
        args[0],
        field="min_score",
        action="set_min_score",
        value=score,
        shown=number_text(score),
        usage=T.MIN_SCORE_MEANS,
        setter=lambda topic: replace(topic, min_score=score),
    )


def setwindow_command(ctx: Context, request: Request) -> Reply:
    """/setwindow [全局|本群] <主题> <字数>: how close a near word must stand to its keyword."""
    scoped = edit_scope(ctx, request)
    if isinstance(scoped, Reply):
        return scoped
    where, args = scoped
    if len(args) != 2:
        return text_reply(T.SETWINDOW_USAGE)
    typed = fold(args[1])
    if not _WINDOW.fullmatch(typed) or not 1 <= int(typed) <= MAX_NEAR_WINDOW:
        return text_reply(T.BAD_WINDOW.format(value=cap(args[1], 20), n=MAX_NEAR_WINDOW), T.SETWINDOW_USAGE)
    window = int(typed)
    return _set_value(
        where,
        args[0],
        field="near_window",
        action="set_near_window",
        value=window,
        shown=str(window),
        usage=T.WINDOW_MEANS,
        setter=lambda topic: replace(topic, near_window=window),
    )
