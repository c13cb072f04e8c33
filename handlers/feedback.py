"""Marking an item "not relevant" and adopting a proposed rule change, from chat (editors only).

/notrelevant [全局|本群] [主题] <编号|条目ID> (or a "不相关" button under /why) measures the
topic's matches of the last 30 days, asks :func:`digests.proposals.propose` for the changes that
would drop the item (a negative context around its occurrence, a positive-context requirement, an
exclude word, a minimum score), and shows each with what else it would drop, and with a warning
when a negative context or near word goes with much of its keyword's stored news (the whole
archive: the 30 days may hold none of it). The editor adopts one with its "采用方案 N" button or
/apply N; the change goes through :func:`handlers.admin.commit_edit` like
every rule edit, in the scope the proposals were made for (the user's default scope unless
named: this group's own topics in a group), audited as "feedback". Proposals are refused when
stale: after a restart, once one was adopted, or when the topic was edited since they were made.
"""

from __future__ import annotations

from dataclasses import replace

from bot import search
from bot.domain.models import Item, Topic
from bot.domain.safetext import cap, clean
from bot.domain.textindex import compile_query, fold
from bot.texts import chat as T
from digests.proposals import (
    EXCLUDE,
    MIN_SCORE,
    NEAR,
    NOT_IN,
    NOT_NEAR,
    Proposal,
    exclude_candidates,
    propose,
)
from digests.rules import TopicMatcher
from handlers.admin import commit_edit, unknown_topic
from handlers.feedback_book import Marking, ProposalSet, apply_action, parse_apply_action
from handlers.markup import text_line, text_reply
from handlers.permissions import Scope, default_scope
from handlers.references import resolve
from handlers.request import Button, Context, Line, Reply, Request, Style
from handlers.rule_edits import number_text
from handlers.scopes import CHAT_WORDS, GLOBAL_WORDS, TopicScope, edit_refusal, edit_scope

TITLES_SHOWN = 3  # titles of other items a proposal would drop
TITLE_CHARS = 24
# A negative context (or near word) that stands beside this share of a keyword's stored items is
# how the keyword is mostly used, not an exception to it (小贷 in 小贷公司): the proposal says so,
# since the last 30 days may hold none of those items.
WARN_SHARE = 0.2
MIN_SHARE_BASE = 20  # stored items with the keyword below which a share says little
# Exclude words counted in the store for a proposal; each count is one index query.
MAX_COUNTED_WORDS = 80


def notrelevant_command(ctx: Context, request: Request) -> Reply:
    """/notrelevant [全局|本群] [主题] <编号|条目ID>: rule changes that would drop the item, with
    their cost."""
    scoped = edit_scope(ctx, request)
    if isinstance(scoped, Reply):
        return scoped
    where, args = scoped
    target = resolve(ctx, replace(request, args=args), T.NOTRELEVANT_USAGE)
    if isinstance(target, Reply):
        return target
    topics = where.topics()
    if target.topic is not None:
        name = target.topic
    else:
        matcher = TopicMatcher(list(topics.values()))
        matched = [m.topic for m in matcher.match(target.item)]
        if not matched:
            return text_reply(T.NOTRELEVANT_NO_TOPIC)
        if len(matched) > 1:
            return text_reply(
                T.NOTRELEVANT_WHICH_TOPIC.format(
                    topics="、".join(matched), example=matched[0], ref=target.ref
                )
            )
        name = matched[0]
    if name not in topics:  # a topic of this chat's own, named with 全局
        return unknown_topic(name, list(topics))
    return proposals_reply(where, target.item, topics[name])


def mark_button(ctx: Context, request: Request, token: str) -> Reply:
    """A "不相关" button under /why: as /notrelevant for that item and topic, in the default scope
    of the one who pressed it."""
    where = TopicScope(ctx, request, default_scope(request.role, request.group))
    refused = edit_refusal(request, where.scope)
    if refused is not None:
        return refused
    marking: Marking | None = ctx.feedback.marking(token)
    if marking is None or marking.chat != request.chat:
        return text_reply(T.BUTTON_EXPIRED)
    stored = ctx.store.get(marking.item_id)
    topic = where.topics().get(marking.topic)
    if stored is None or topic is None:
        return text_reply(T.BUTTON_EXPIRED)
    return proposals_reply(where, stored.item, topic)


def proposals_reply(where: TopicScope, item: Item, topic: Topic) -> Reply:
    """The proposed changes for dropping ``item`` from ``topic``, with buttons to adopt one."""
    ctx, request = where.ctx, where.request
    if not TopicMatcher([topic]).match(item):
        return text_reply(T.NOTRELEVANT_NOT_MATCHING.format(topic=topic.name))
    recent = search.recent_matches(ctx.store, topic, ctx.now(), around=item.published)
    words = exclude_candidates(topic, item)[:MAX_COUNTED_WORDS]
    counts = {word: ctx.store.count_matches([compile_query(word)]) for word in words}
    found = propose(topic, item, recent.items, word_counts=counts, stored=ctx.store.count())
    if not found:
        return text_reply(T.NO_PROPOSAL.format(topic=topic.name))
    title = cap(clean(item.title), 40) or T.UNTITLED
    token = ctx.feedback.propose(ProposalSet(request.chat, item.id, title, topic, tuple(found), where.scope))
    header = T.PROPOSALS_HEADER.format(title=title, topic=topic.name, scope=where.tag)
    lines: list[Line] = [text_line(header, Style.BOLD)]
    span = (
        T.PROPOSAL_SPAN_MOVED.format(day=recent.end.astimezone(ctx.config.timezone).date().isoformat())
        if recent.moved
        else T.PROPOSAL_SPAN
    )
    if not recent.complete:
        span += T.PROPOSAL_SPAN_PARTIAL.format(n=search.RECENT_LIMIT)
    totals: dict[str, int] = {}  # keyword → stored items holding it, counted once per reply
    for number, proposal in enumerate(found, 1):
        lines.append(text_line(T.PROPOSAL_LINE.format(n=number, change=describe(proposal, topic))))
        lines.append(text_line(_drops(proposal, span)))
        lines += [text_line(warning) for warning in _archive_shares(ctx, proposal, topic, totals)]
    lines.append(text_line(T.PROPOSALS_HINT))
    buttons = [Button(T.APPLY_BUTTON.format(n=n), apply_action(token, n)) for n in range(1, len(found) + 1)]
    return Reply(tuple(lines), tuple(buttons))


def describe(proposal: Proposal, topic: Topic) -> str:
    """One proposal in a sentence."""
    words = "、".join(proposal.words)
    if proposal.kind == NOT_IN:
        keywords = [k for k in topic.all_keywords if any(fold(k) in fold(w) for w in proposal.words)]
        return T.PROPOSAL_NOT_IN.format(words=words, keyword="、".join(keywords) or topic.name)
    if proposal.kind == NOT_NEAR:
        return T.PROPOSAL_NOT_NEAR.format(keyword=proposal.keyword, window=topic.near_window, words=words)
    if proposal.kind == NEAR and proposal.removed:
        return T.PROPOSAL_NEAR_NARROWER.format(keyword=proposal.keyword, words="、".join(proposal.removed))
    if proposal.kind == NEAR:
        return T.PROPOSAL_NEAR.format(keyword=proposal.keyword, window=topic.near_window, words=words)
    if proposal.kind == EXCLUDE:
        return T.PROPOSAL_EXCLUDE.format(words=words)
    return T.PROPOSAL_MIN_SCORE.format(
        score=number_text(proposal.score), item_score=number_text(proposal.item_score)
    )


def _drops(proposal: Proposal, span: str) -> str:
    if not proposal.dropped:
        return T.PROPOSAL_DROPS_NONE.format(span=span)
    titles = "；".join(
        cap(clean(o.title), TITLE_CHARS) or T.UNTITLED for o in proposal.dropped[:TITLES_SHOWN]
    )
    if len(proposal.dropped) > TITLES_SHOWN:
        titles += T.PROPOSAL_TITLES_MORE
    return T.PROPOSAL_DROPS.format(span=span, n=len(proposal.dropped), titles=titles)


def _archive_shares(ctx: Context, proposal: Proposal, topic: Topic, totals: dict[str, int]) -> list[str]:
    """Warnings for a negative context or near word that goes with much of its keyword's stored
    news: the whole archive, where "what else it drops" sees only the last 30 days. ``totals``
    keeps each keyword's count across the proposals of one reply."""
    pairs: list[tuple[str, str]] = []  # (keyword, context or near word)
    if proposal.kind == NOT_IN:
        for context in proposal.words:
            inside = [k for k in topic.all_keywords if fold(k) in fold(context)]
            if inside:
                pairs.append((max(inside, key=len), context))
    elif proposal.kind == NOT_NEAR:
        pairs = [(proposal.keyword, word) for word in proposal.words]
    warnings = []
    for keyword, word in pairs:
        try:
            if keyword not in totals:
                totals[keyword] = ctx.store.count_matches([compile_query(keyword)])
            total = totals[keyword]
            together = ctx.store.count_matches([compile_query([keyword, word])])
        except ValueError:  # no word to search for (punctuation only): nothing to measure
            continue
        if total < MIN_SHARE_BASE or together < WARN_SHARE * total:
            continue
        values = {"keyword": keyword, "total": total, "n": together, "percent": round(100 * together / total)}
        if proposal.kind == NOT_IN:
            warnings.append(T.PROPOSAL_SHARE_NOT_IN.format(context=word, **values))
        else:
            warnings.append(T.PROPOSAL_SHARE_NOT_NEAR.format(word=word, window=topic.near_window, **values))
    return warnings


def apply_command(ctx: Context, request: Request) -> Reply:
    """/apply <方案编号>: adopt one of this chat's newest proposals."""
    typed = fold(request.args[0]) if len(request.args) == 1 else ""
    if not typed.isascii() or not typed.isdigit() or len(typed) > 2:
        return text_reply(T.APPLY_USAGE)
    newest = ctx.feedback.newest(request.chat)
    if newest is None:
        return text_reply(T.PROPOSALS_EXPIRED)
    return _apply(ctx, request, newest[0], int(typed))


def apply_button(ctx: Context, request: Request) -> Reply:
    """An "采用方案 N" button."""
    parsed = parse_apply_action(request.action)
    if parsed is None:
        return text_reply(T.BUTTON_EXPIRED)
    return _apply(ctx, request, *parsed)


def _apply(ctx: Context, request: Request, token: str, number: int) -> Reply:
    proposals = ctx.feedback.proposals(token)
    if proposals is None or proposals.chat != request.chat:
        return text_reply(T.PROPOSALS_EXPIRED)
    # Whoever applies must be allowed to edit where the proposals were made (commit_edit checks
    # again); a member pressing an admin's button is refused here.
    where = TopicScope(ctx, request, proposals.scope)
    refused = edit_refusal(request, where.scope)
    if refused is not None:
        return refused
    if not 1 <= number <= len(proposals.proposals):
        return text_reply(T.NO_SUCH_PROPOSAL.format(n=number, count=len(proposals.proposals)))
    proposal = proposals.proposals[number - 1]
    name = proposals.before.name

    def change(current: Topic | None) -> Topic | Reply:
        if current != proposals.before:
            return text_reply(T.TOPIC_CHANGED_SINCE.format(topic=name))
        return proposal.topic

    outcome = commit_edit(where, name, "feedback", change)
    if isinstance(outcome, Reply):
        return outcome
    ctx.feedback.forget(token)
    stored = ctx.store.get(proposals.item_id)
    lines = [where.tagged(T.APPLIED.format(n=number, change=describe(proposal, proposals.before)))]
    if stored is not None:
        lines.append(T.APPLIED_DROPPED.format(title=proposals.item_title, topic=name))
        topics = ctx.digester.topics(request.chat)
        others = [m.topic for m in TopicMatcher(list(topics.values())).match(stored.item)]
        if others:
            lines.append(T.APPLIED_ALSO.format(topics="、".join(others)))
    undo = _undo(proposal, proposals.before, _scope_word(request, where.scope))
    lines += [T.EFFECTIVE_NOW, T.APPLIED_UNDO.format(command=undo)]
    return text_reply(*lines)


def _scope_word(request: Request, scope: Scope) -> str:
    """ "全局 " or "本群 " when the user's commands would not go there by default, else ""."""
    if scope is default_scope(request.role, request.group):
        return ""
    return (GLOBAL_WORDS[0] if scope is Scope.GLOBAL else CHAT_WORDS[0]) + " "


def _undo(proposal: Proposal, before: Topic, scope: str) -> str:
    """The command that takes the change back (``scope``: the scope word it needs, or "")."""
    words = " ".join(proposal.words)
    topic = scope + before.name
    if proposal.kind == NOT_IN:
        return f"/delnotin {topic} {words}"
    if proposal.kind == NOT_NEAR:
        return f"/delnotnear {topic} {proposal.keyword} {words}"
    if proposal.kind == NEAR and proposal.removed:
        return f"/addnear {topic} {proposal.keyword} {' '.join(proposal.removed)}"
    if proposal.kind == NEAR:
        return f"/delnear {topic} {proposal.keyword}"
    if proposal.kind == EXCLUDE:
        return f"/delexclude {topic} {words}"
    assert proposal.kind == MIN_SCORE
    return f"/setminscore {topic} {number_text(before.min_score)}"
