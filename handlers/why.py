"""/why [主题] <编号|条目ID>: why an item is (or is not) in a topic, occurrence by occurrence.

For each keyword occurrence: the field, the character where it stands, a few words around it as
written with the keyword in bold, and what the rules made of it — counted (with the near word
that let it count), negated by a context, missing its near word, or a headline keyword in the
body. Then whatever else decided: exclude and require words, the source, the score. Without a
topic named or listed, every topic whose keywords occur in the item is explained.

Those who may edit the chat's topics (a group's administrators, configured admins) get a "不相关"
button per topic the item is in (and the /notrelevant line to type), which starts
:mod:`handlers.feedback`.
"""

from __future__ import annotations

from bot.domain.models import Item
from bot.domain.safetext import cap, clean, flatten
from bot.domain.textindex import fold_with_origin
from bot.texts import chat as T
from digests.explain import EXCLUDED_SOURCE, NOT_ALLOWED, Explanation, Occurrence, Verdict
from digests.rules import TopicMatcher
from digests.values import Field
from handlers.feedback_book import Marking, mark_action
from handlers.markup import text_line
from handlers.permissions import default_scope, may_edit
from handlers.references import Target, resolve
from handlers.request import Button, Context, Line, Reply, Request, Span, Style

MAX_OCCURRENCES = 6  # per topic; the rest are counted
EXCERPT_CHARS = 10  # characters shown either side of an occurrence
MAX_BUTTONS = 3  # "不相关" buttons, one per topic the item is in
TITLE_LIMIT = 60


def why_command(ctx: Context, request: Request) -> Reply:
    """/why [主题] <编号|条目ID>: the rules' reasons, occurrence by occurrence."""
    target = resolve(ctx, request, T.WHY_USAGE)
    if isinstance(target, Reply):
        return target
    return why_reply(ctx, request, target)


def why_reply(ctx: Context, request: Request, target: Target) -> Reply:
    """The explanation of ``target`` for its topic, or for every topic that has a word in it."""
    item = target.item
    topics = ctx.digester.topics(request.chat)
    matcher = TopicMatcher(list(topics.values()))
    if target.topic is not None and target.topic in topics:
        explanations = [matcher.explain(item, target.topic)]
    else:
        explanations = [e for e in (matcher.explain(item, n) for n in topics) if e.matched or e.occurrences]
    lines: list[Line] = [
        text_line(
            T.WHY_HEADER.format(where=target.where, title=cap(clean(item.title), TITLE_LIMIT) or T.UNTITLED),
            Style.BOLD,
        ),
        text_line(
            T.WHY_META.format(
                source=cap(clean(item.origin or item.source_name or item.source), 30),
                time=item.published.astimezone(ctx.config.timezone).strftime("%Y-%m-%d %H:%M"),
                id=item.id,
            ),
            Style.ITALIC,
        ),
    ]
    if not explanations:
        lines.append(text_line(T.WHY_NO_TOPIC))
    for why in explanations:
        lines.append(())
        lines += explanation_lines(item, why)
    buttons: list[Button] = []
    matched = [e.topic for e in explanations if e.matched]
    if matched and may_edit(request.role, request.group, default_scope(request.role, request.group)) is None:
        lines += [(), text_line(T.WHY_FEEDBACK_HINT.format(topic=matched[0], ref=target.ref))]
        for topic in matched[:MAX_BUTTONS]:
            token = ctx.feedback.mark(Marking(request.chat, item.id, topic, target.ref))
            buttons.append(Button(T.NOT_RELEVANT_BUTTON.format(topic=cap(topic, 12)), mark_action(token)))
    return Reply(tuple(lines), tuple(buttons))


def explanation_lines(item: Item, why: Explanation) -> list[Line]:
    """One topic's verdict, each occurrence with its context, and the other reasons."""
    verdict = (T.WHY_VERDICT_MATCHED if why.matched else T.WHY_VERDICT_NOT).format(topic=why.topic)
    if why.min_score > 0 and why.hits:
        verdict += T.WHY_SCORE.format(score=f"{why.score:g}", minimum=f"{why.min_score:g}")
    lines: list[Line] = [text_line(verdict, Style.BOLD)]
    texts = {Field.TITLE: item.title, Field.TEXT: item.text}
    shown = _distinct(why.occurrences)
    for occ in shown[:MAX_OCCURRENCES]:
        lines += _occurrence_lines(occ, texts[occ.field], why.near_window)
    if len(shown) > MAX_OCCURRENCES:
        lines.append(text_line(T.WHY_MORE_OCCURRENCES.format(n=len(shown) - MAX_OCCURRENCES)))
    if why.usable and not why.occurrences:
        lines.append(text_line(T.WHY_NO_KEYWORD))
    lines += [text_line(T.WHY_EXCLUDED.format(word=w)) for w in why.excluded_by]
    lines += [text_line(T.WHY_MISSING.format(word=w)) for w in why.missing_required]
    if why.in_passing:
        lines.append(text_line(T.WHY_IN_PASSING))
    if why.below_min_score:
        lines.append(
            text_line(T.WHY_BELOW_SCORE.format(score=f"{why.score:g}", minimum=f"{why.min_score:g}"))
        )
    if why.source_refused == NOT_ALLOWED:
        lines.append(text_line(T.WHY_SOURCE_NOT_ALLOWED.format(source=why.source)))
    elif why.source_refused == EXCLUDED_SOURCE:
        lines.append(text_line(T.WHY_SOURCE_EXCLUDED.format(source=why.source)))
    return lines


def _distinct(occurrences: tuple[Occurrence, ...]) -> list[Occurrence]:
    """The occurrences without those inside a longer one with the same verdict (普惠 inside 普惠金融
    says nothing more)."""
    return [
        occ
        for occ in occurrences
        if not any(
            other is not occ
            and other.field is occ.field
            and other.verdict is occ.verdict
            and other.start <= occ.start
            and occ.end <= other.end
            and other.end - other.start > occ.end - occ.start
            for other in occurrences
        )
    ]


def _verdict(occ: Occurrence, window: int) -> str:
    if occ.verdict is Verdict.NEGATED:
        return T.WHY_NEGATED.format(context=occ.context)
    if occ.verdict is Verdict.NOT_NEAR:
        return T.WHY_NOT_NEAR.format(window=window)
    if occ.verdict is Verdict.NEAR_NEGATIVE:
        return T.WHY_NEAR_NEGATIVE.format(window=window, context=occ.context)
    if occ.verdict is Verdict.TITLE_ONLY:
        return T.WHY_TITLE_ONLY
    if occ.context:
        return T.WHY_COUNTED_NEAR.format(window=window, context=occ.context)
    return T.WHY_COUNTED


def _occurrence_lines(occ: Occurrence, text: str, window: int) -> list[Line]:
    """ "· 正文第 12 字“上市”：计入…" and the words around it as written, the keyword in bold."""
    folded, origin = fold_with_origin(text)
    if occ.end > len(folded):  # the text changed since it was matched: say no more than the verdict
        start = end = 0
    else:
        start, end = origin[occ.start], origin[occ.end - 1] + 1
    field = T.FIELD_TITLE if occ.field is Field.TITLE else T.FIELD_TEXT
    head = T.WHY_OCCURRENCE.format(
        field=field, at=start + 1, word=text[start:end] or occ.word, verdict=_verdict(occ, window)
    )
    lines: list[Line] = [text_line(head)]
    if end > start:
        lo, hi = max(0, start - EXCERPT_CHARS), min(len(text), end + EXCERPT_CHARS)
        before, word, after = flatten(text[lo:start]), flatten(text[start:end]), flatten(text[end:hi])
        lines.append(
            (
                Span("  " + ("…" if lo else "") + before),
                Span(word, Style.BOLD),
                Span(after + ("…" if hi < len(text) else "")),
            )
        )
    return lines
