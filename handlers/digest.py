"""/digest [日期]: a day's digest of this chat's topics, on demand."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.safetext import cap
from bot.domain.when import parse_day
from bot.texts import chat as T
from bot.texts import digest as DT
from handlers.markup import text_reply
from handlers.references import remember
from handlers.request import Context, Reply, Request


def digest_command(ctx: Context, request: Request) -> Reply:
    """/digest [日期]: a day's digest of this chat's topics (all topics when not subscribed)."""
    today = ctx.now().astimezone(ctx.config.timezone).date()
    text = " ".join(request.args).strip()
    day = parse_day(text, today) if text else today - timedelta(days=1)
    if day is None:
        return text_reply(T.BAD_DATE.format(value=cap(text, 30)), T.DIGEST_USAGE)
    sub = ctx.store.subscription(request.channel, request.chat)
    topics = sub.topics if sub is not None else ()
    digest = ctx.digester.day_digest(day, topics, chat=request.chat)
    scope = "、".join(topics) if topics else T.ALL_TOPICS
    header = T.DIGEST_HEADER.format(day=day.isoformat(), topics=scope)
    reply = text_reply(header)
    # "/why 上市 3" now means the third entry of this digest's 上市 section.
    remember(ctx, request, "digest", DT.REFERENCE_LABEL.format(day=day.isoformat()), digest.item_refs())
    return Reply(reply.lines, digest=digest)
