"""What the bot is and how it is doing: /start, /help, /topics, /sources, /status.

/help is generated from the command table it is given (:data:`handlers.commands.COMMANDS`), so a
command cannot exist without being listed. /sources and /status compute each source's health as
``finews-bot status`` does, in the same words (:mod:`bot.ingest.status`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot.domain.models import Topic
from bot.domain.safetext import cap, clean
from bot.ingest.health import Health
from bot.ingest.status import CHAT_LAYOUT, other_items_line, source_lines, sources_overview
from bot.texts import chat as T
from handlers.markup import text_line, text_reply
from handlers.permissions import Access
from handlers.request import Command, Context, Line, Reply, Request, Span, Style


def start_command(ctx: Context, request: Request) -> Reply:
    """/start: what the bot does, and three commands to try."""
    return text_reply(*T.WELCOME)


def _usage(command: Command) -> str:
    return f"/{command.name} {command.usage}".rstrip()


def _command_lines(command: Command) -> list[Line]:
    note = T.HELP_GROUP_ADMIN if command.access is Access.CHAT_ADMINS else ""
    if command.aliases:
        note += T.HELP_ALIASES.format(aliases="、".join(command.aliases))
    return [
        text_line(_usage(command), Style.BOLD),
        text_line(T.HELP_ENTRY.format(summary=command.summary, example=command.example, note=note)),
    ]


def help_reply(commands: Sequence[Command], request: Request) -> Reply:
    """/help [命令]: every command with usage, summary and example; admin commands apart."""
    if request.args:
        wanted = request.args[0].lstrip("/／").lower()
        for command in commands:
            if command.name == wanted:
                return Reply(tuple(_command_lines(command)))
    lines: list[Line] = [text_line(T.HELP_TITLE, Style.BOLD), text_line(T.HELP_LEGEND)]
    for command in commands:
        if not command.admin:
            lines += _command_lines(command)
    admin = [c for c in commands if c.admin]
    if admin:
        lines += [(), text_line(T.HELP_ADMIN_TITLE, Style.BOLD)]
        for command in admin:
            lines += _command_lines(command)
    return Reply(tuple(lines))


def topics_command(ctx: Context, request: Request) -> Reply:
    """/topics: the effective topics (config file + chat edits) with their rules."""
    topics = ctx.digester.topics(request.chat)
    if not topics:
        return text_reply(T.NO_TOPICS)
    own = ctx.store.chat_overlays(request.chat)  # what this chat changed for itself
    lines: list[Line] = [text_line(T.TOPICS_HEADER.format(n=len(topics)))]
    for topic in topics.values():
        head: Line = (Span(T.TOPIC_NAME.format(name=topic.name), Style.BOLD),)
        if topic.name in own:
            head += (Span(T.SCOPE_CHAT_CHANGED),)
        if topic.description:
            head += (Span(cap(clean(topic.description), 60)),)
        lines.append(head)
        for field, values in topic_rules(topic):
            label = T.FIELD_LABELS[field]
            lines.append(text_line(T.TOPIC_RULE.format(field=label, values=cap(values, 200))))
    hidden = [name for name, overlay in own.items() if overlay.hidden]
    if hidden:
        lines.append(text_line(T.TOPICS_HIDDEN.format(names="、".join(hidden))))
    lines.append(text_line(T.TOPICS_HINT))
    return Reply(tuple(lines))


def topic_rules(topic: Topic) -> list[tuple[str, str]]:
    """The rules a topic sets, as (field, values shown), in the order people read them: what
    counts, in which sense, what is dropped, what is needed."""
    near, far = (
        T.NEAR_SEPARATOR.join(T.NEAR_ENTRY.format(keyword=k, words="、".join(ws)) for k, ws in table.items())
        for table in (topic.near, topic.not_near)
    )
    rules = (
        ("keywords", "、".join(topic.keywords)),
        ("title_keywords", "、".join(topic.title_keywords)),
        ("not_in", "、".join(topic.not_in)),
        ("near", T.NEAR_RULE.format(n=topic.near_window, near=near) if near else ""),
        ("not_near", T.NOT_NEAR_RULE.format(n=topic.near_window, near=far) if far else ""),
        ("exclude", "、".join(topic.exclude)),
        ("require", "、".join(topic.require)),
        ("min_score", T.MIN_SCORE_RULE.format(score=f"{topic.min_score:g}") if topic.min_score > 0 else ""),
        ("sources", "、".join(topic.sources)),
        ("exclude_sources", "、".join(topic.exclude_sources)),
    )
    return [(field, shown) for field, shown in rules if shown]


def sources_command(ctx: Context, request: Request) -> Reply:
    """/sources: each configured source's health, items and last error."""
    overview = sources_overview(ctx.config, ctx.store, ctx.now())
    if not overview.sources:
        return text_reply(T.NO_SOURCES)
    lines = [T.SOURCES_HEADER.format(n=len(overview.sources))]
    for status in overview.sources:
        lines += source_lines(status, ctx.config.timezone, CHAT_LAYOUT)
    other = other_items_line(overview, CHAT_LAYOUT)
    if other:
        lines.append(other)
    return text_reply(*lines)


def status_command(ctx: Context, request: Request) -> Reply:
    """/status: items, source health, subscriptions, the outbox and the last deliveries."""
    health = Counter(s.health for s in sources_overview(ctx.config, ctx.store, ctx.now()).sources)
    subs = ctx.store.subscriptions()
    outbox = ctx.store.outbox_counts()
    lines = [
        T.STATUS_TITLE,
        T.STATUS_ITEMS.format(n=ctx.store.count()),
        T.STATUS_SOURCES.format(
            n=sum(health.values()),
            ok=health[Health.OK],
            failing=health[Health.FAILING],
            stale=health[Health.STALE],
            never=health[Health.NEVER],
        ),
        T.STATUS_SUBSCRIPTIONS.format(n=len(subs), paused=sum(1 for s in subs if s.paused)),
        T.STATUS_OUTBOX.format(
            pending=outbox.get("pending", 0), sent=outbox.get("sent", 0), failed=outbox.get("failed", 0)
        ),
    ]
    deliveries = ctx.store.deliveries(limit=3)
    if deliveries:
        labels = {s.id: s.label for s in subs}
        lines.append(T.STATUS_LAST_DELIVERIES)
        for delivery in deliveries:
            lines.append(
                T.STATUS_DELIVERY.format(
                    day=delivery.day.isoformat(),
                    chat=cap(clean(labels.get(delivery.subscription_id, T.REMOVED_SUBSCRIPTION)), 30),
                    status=T.DELIVERY_STATUS.get(delivery.status, delivery.status),
                    stories=delivery.stories,
                )
            )
    return text_reply(*lines)
