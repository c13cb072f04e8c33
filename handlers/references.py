"""How a chat refers to an item: a number of the last list it was shown, or the item's id.

Replies that number entries (/topic, /latest, /digest, and the digests the service sends) record
them per chat in the store (:mod:`bot.store.references`). "/why 3" is then entry 3 of the chat's
newest list; in a digest, numbers restart in each topic's section, so "/why 上市 3" names the
section, and a bare number that several sections have is answered with the choices. An item id
(shown by /why) always works, whatever the chat was shown last. Every way this can fail — no list
yet, a number past its end, an item deleted since, a string that is no id — gets its own answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.models import Item
from bot.domain.records import ItemRef, ReferenceList
from bot.domain.safetext import cap, clean
from bot.domain.textindex import fold
from bot.domain.topics import find_topic
from bot.texts import chat as T
from handlers.admin import unknown_topic
from handlers.markup import text_reply
from handlers.request import Context, Reply, Request

_NUMBER = re.compile(r"\d{1,3}")
# Item ids are infoCodes, article ids or file stems: far shorter than this. Longer is no id.
MAX_ID_CHARS = 120


@dataclass(frozen=True, slots=True)
class Target:
    """The item a command refers to, and the topic it named or was listed under."""

    item: Item
    topic: str | None  # None: no topic named, and the list had none (/latest) or an id was given
    where: str  # how the reply names it: "第 3 条（/topic 上市）" or "条目 NW…"
    ref: str  # how to refer to it again after the topic in a command: "3" or the id


def remember(ctx: Context, request: Request, kind: str, label: str, refs: Sequence[ItemRef]) -> None:
    """Make these numbered entries what this chat's numbers refer to from now on."""
    listed = ReferenceList(kind, label, ctx.now(), tuple(refs))
    if ctx.reference_writer is not None:
        ctx.reference_writer.save(request.channel, request.chat, listed)  # the reply does not wait
    else:
        ctx.store.save_references(request.channel, request.chat, listed)


def resolve(ctx: Context, request: Request, usage: str) -> Target | Reply:
    """The item ``[主题] <编号|条目ID>`` in the request's arguments refers to, or why none."""
    args = request.args
    if not args:
        return text_reply(usage)
    typed_ref = args[-1]
    typed_topic = " ".join(args[:-1]).strip()
    topic: str | None = None
    if typed_topic:
        topics = ctx.digester.topics(request.chat)
        found = find_topic(typed_topic, topics)
        if found is None:
            return unknown_topic(typed_topic, list(topics))
        topic = found.name
    folded = fold(typed_ref)
    if _NUMBER.fullmatch(folded):
        return _by_number(ctx, request, int(folded), topic)
    if len(typed_ref) > MAX_ID_CHARS or (stored := ctx.store.get(typed_ref.strip())) is None:
        return text_reply(T.NOT_A_REFERENCE.format(value=cap(clean(typed_ref), 30)), usage)
    return Target(stored.item, topic, T.WHERE_ID.format(id=stored.item.id), stored.item.id)


def _by_number(ctx: Context, request: Request, number: int, topic: str | None) -> Target | Reply:
    listed = _newest_list(ctx, request)
    if listed is None or not listed.refs:
        return text_reply(T.NO_LIST)
    # A topic named must be the entry's section (a digest); a list of one topic or of a keyword
    # search numbers its entries once, whatever topic the command then asks about.
    candidates = [
        r for r in listed.refs if r.number == number and (topic is None or not r.topic or r.topic == topic)
    ]
    if not candidates:
        named = f"“{topic}”的" if topic and listed.kind == "digest" else ""
        return text_reply(T.NO_SUCH_ENTRY.format(label=listed.label, topic=named, n=number))
    if len(candidates) > 1:
        examples = "、".join(f"/{request.command or 'why'} {r.topic} {number}" for r in candidates[:3])
        return text_reply(T.WHICH_TOPIC.format(label=listed.label, n=number, examples=examples))
    (ref,) = candidates
    stored = ctx.store.get(ref.item_id)
    if stored is None:
        return text_reply(T.ENTRY_GONE.format(n=number, label=listed.label))
    where = T.WHERE_LIST.format(n=number, label=listed.label)
    return Target(stored.item, topic or ref.topic or None, where, str(number))


def _newest_list(ctx: Context, request: Request) -> ReferenceList | None:
    """The chat's newest list: one still on its way to the database, or a digest saved since."""
    saved = ctx.store.references(request.channel, request.chat)
    writer = ctx.reference_writer
    pending = writer.pending(request.channel, request.chat) if writer is not None else None
    if pending is None or (saved is not None and saved.made > pending.made):
        return saved
    return pending
