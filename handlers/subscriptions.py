"""A chat's daily digest subscription: /subscribe, /unsubscribe, /settime, /subscriptions.

A chat has at most one subscription (topics, time, days), stored by :mod:`bot.store.subscriptions`
and delivered by the service. Changing it in a group needs one of the group's administrators:
the command table says so and the adapter checks with the platform, and the handlers check
``request.is_admin`` again, so that a handler called some other way cannot be talked round. Every
change is written together with its audit row.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from datetime import time
from typing import Any

from bot.domain.models import Channel
from bot.domain.records import Subscription
from bot.domain.safetext import cap, clean
from bot.domain.textindex import fold
from bot.domain.when import DAILY, DAYS_WORDS, looks_like_time, parse_time
from bot.texts import chat as T
from handlers.markup import text_reply
from handlers.permissions import Access, Role, may_change_chat
from handlers.refusals import refusal_reply
from handlers.request import ChatType, Context, Reply, Request

DEFAULT_TIME = time(8, 30)
ALL_WORDS = ("全部", "所有", "all")
MAX_LISTED = 30  # subscriptions listed to an admin; the rest are counted


def _refused(request: Request) -> Reply | None:
    """Why the user may not change this chat's subscription (see handlers.permissions), or None."""
    refusal = may_change_chat(request.role, request.group)
    return refusal_reply(refusal, Access.CHAT_ADMINS) if refusal is not None else None


def days_label(days: str) -> str:
    """每天 or 工作日."""
    return T.DAYS_LABELS.get(days, days)


def subscription_line(sub: Subscription) -> str:
    """One line: topics, time and days, and why it is paused if it is."""
    topics = "、".join(sub.topics) if sub.topics else T.ALL_TOPICS
    line = T.SUBSCRIPTION_LINE.format(topics=topics, days=days_label(sub.days), time=f"{sub.time:%H:%M}")
    if sub.paused:
        line += T.SUBSCRIPTION_PAUSED.format(reason=cap(clean(sub.paused), 60))
    return line


def _json(sub: Subscription | None) -> dict[str, Any] | None:
    """A subscription as an audit row keeps it."""
    if sub is None:
        return None
    return {"topics": list(sub.topics), "time": f"{sub.time:%H:%M}", "days": sub.days, "title": sub.title}


def _split_subscribe_args(args: Sequence[str]) -> tuple[list[str], list[str], str | None]:
    """(topic names, time-shaped words, the days word) from /subscribe's arguments."""
    names: list[str] = []
    times: list[str] = []
    days: str | None = None
    for arg in args:
        for word in re.split(r"[,，、;；]+", arg):
            if not word:
                continue
            if looks_like_time(word):
                times.append(word)
            elif fold(word) in DAYS_WORDS:
                days = DAYS_WORDS[fold(word)]
            elif word not in names:
                names.append(word)
    return names, times, days


def _unknown_topics(names: Sequence[str], known: Sequence[str]) -> str:
    close = [m for n in names for m in difflib.get_close_matches(n, known, n=2, cutoff=0.4)]
    close += [k for n in names for k in known if k not in close and (k in n or n in k)]
    lines = [T.SUBSCRIBE_UNKNOWN_TOPIC.format(names="、".join(cap(n, 20) for n in names))]
    if close:
        lines.append(T.DID_YOU_MEAN.format(names="、".join(dict.fromkeys(close))))
    lines.append(T.AVAILABLE_TOPICS.format(names="、".join(known) or T.NONE))
    return "\n".join(lines)


def subscribe_command(ctx: Context, request: Request) -> Reply:
    """/subscribe [主题…] [HH:MM]: receive the digest here every day (or workday)."""
    if (refused := _refused(request)) is not None:
        return refused
    if request.channel is Channel.TELEGRAM and not ctx.config.telegram.token:
        # Refused now rather than queued for ever: without a token nothing reaches Telegram.
        return text_reply(T.NO_TELEGRAM_TOKEN)
    names, times, days = _split_subscribe_args(request.args)
    if len(times) > 1:
        return text_reply(T.ONE_TIME_ONLY, T.SUBSCRIBE_USAGE)
    clock = parse_time(times[0]) if times else None
    if times and clock is None:
        return text_reply(T.BAD_TIME.format(value=cap(times[0], 20)))
    every = [n for n in names if fold(n) in ALL_WORDS]
    names = [n for n in names if fold(n) not in ALL_WORDS]
    with ctx.store.transaction():
        known = list(ctx.digester.topics(request.chat))
        unknown = [n for n in names if n not in known]
        if unknown:
            return text_reply(_unknown_topics(unknown, known))
        before = ctx.store.subscription(request.channel, request.chat)
        # What is left out stays as it was (a chat choosing another time keeps its topics, one
        # choosing topics keeps its /settime); a new subscription is every topic at 08:30 daily.
        chosen = tuple(names) if names or every else before.topics if before else ()
        after = ctx.store.save_subscription(
            request.channel,
            request.chat,
            topics=chosen,
            clock=clock or (before.time if before else DEFAULT_TIME),
            days=days or (before.days if before else DAILY),
            title=request.chat_title,
            origin="chat",
            now=ctx.now(),
        )
        ctx.store.record_audit(ctx.audit(request, "subscribe", request.chat, _json(before), _json(after)))
    done = T.SUBSCRIBED if before is None else T.SUBSCRIPTION_CHANGED
    return text_reply(done, subscription_line(after), T.SUBSCRIBE_HINT)


def unsubscribe_command(ctx: Context, request: Request) -> Reply:
    """/unsubscribe: stop this chat's daily digest."""
    if (refused := _refused(request)) is not None:
        return refused
    with ctx.store.transaction():
        before = ctx.store.subscription(request.channel, request.chat)
        if before is None:
            return text_reply(T.NOT_SUBSCRIBED)
        ctx.store.remove_subscription(request.channel, request.chat)
        ctx.store.record_audit(ctx.audit(request, "unsubscribe", request.chat, _json(before), None))
    return text_reply(T.UNSUBSCRIBED)


def settime_command(ctx: Context, request: Request) -> Reply:
    """/settime <HH:MM> [每天|工作日]: when this chat's digest arrives."""
    if (refused := _refused(request)) is not None:
        return refused
    _, times, days = _split_subscribe_args(request.args)
    if not times:
        return text_reply(T.SETTIME_USAGE)
    clock = parse_time(times[0])
    if clock is None or len(times) > 1:
        return text_reply(T.BAD_TIME.format(value=cap(times[0], 20)))
    with ctx.store.transaction():
        before = ctx.store.subscription(request.channel, request.chat)
        if before is None:
            return text_reply(T.NOT_SUBSCRIBED, T.SETTIME_SUBSCRIBE_FIRST)
        after = ctx.store.save_subscription(
            request.channel,
            request.chat,
            topics=before.topics,
            clock=clock,
            days=days or before.days,
            title=request.chat_title or before.title,
            origin=before.origin,
            now=ctx.now(),
        )
        ctx.store.record_audit(ctx.audit(request, "set_time", request.chat, _json(before), _json(after)))
    return text_reply(T.TIME_SET, subscription_line(after))


def subscriptions_command(ctx: Context, request: Request) -> Reply:
    """/subscriptions: this chat's subscription; for an admin in a private chat, every one."""
    if request.role is Role.ADMIN and request.chat_type is ChatType.PRIVATE:
        subs = ctx.store.subscriptions()
        if not subs:
            return text_reply(T.NO_SUBSCRIPTIONS_AT_ALL)
        lines = [T.ALL_SUBSCRIPTIONS.format(n=len(subs))]
        for each in subs[:MAX_LISTED]:
            who = cap(clean(each.title), 30) or each.chat
            lines.append(
                T.SUBSCRIPTION_ITEM.format(
                    who=who, chat=each.chat, channel=each.channel, line=subscription_line(each)
                )
            )
        if len(subs) > MAX_LISTED:
            lines.append(T.AND_MORE.format(n=len(subs) - MAX_LISTED))
        return text_reply(*lines)
    sub = ctx.store.subscription(request.channel, request.chat)
    if sub is None:
        return text_reply(T.NOT_SUBSCRIBED, T.SUBSCRIBE_HINT_NEW)
    return text_reply(T.THIS_CHAT_SUBSCRIPTION, subscription_line(sub))
