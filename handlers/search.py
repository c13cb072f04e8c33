"""/latest and /topic in chat: numbered entries with links and highlighted snippets, page by page.

The queries themselves are :func:`bot.search.latest` and :func:`bot.search.topic`; this
module reads the chat's arguments, lays the answer out as reply lines and adds "上一页"/"下一页"
buttons when there is more than one page. A button carries a token of :mod:`handlers.pager`;
pressing it re-runs the query at that page and the adapter edits the message in place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot import search as news
from bot.domain.records import ItemRef
from bot.domain.safetext import cap, clean, safe_url
from bot.domain.textindex import fold, split_query
from bot.texts import chat as T
from digests.snippets import keyword_spans
from handlers.markup import text_line, text_reply
from handlers.pager import PageState, page_action, parse_page_action
from handlers.references import remember
from handlers.request import Button, Context, Line, Reply, Request, Span, Style

DEFAULT_PAGE_SIZE = 5
MAX_PAGE_SIZE = 20
# A trailing number of up to three digits is a page size ("/latest 株洲 10"); a longer one is a
# keyword ("/latest 株洲 2023" looks for the year).
_COUNT = re.compile(r"\d{1,3}")
TITLE_LIMIT = 80
ECHO_LIMIT = 30  # how much of a user's query is repeated back in a header


def split_count(args: Sequence[str]) -> tuple[tuple[str, ...], int | None]:
    """The arguments without a trailing page size, and that size (None when not given)."""
    if len(args) >= 2:
        last = fold(args[-1])  # full-width digits (１０) count too
        if _COUNT.fullmatch(last):
            return tuple(args[:-1]), int(last)
    return tuple(args), None


def _page_size(count: int | None) -> tuple[int, list[Line]]:
    if count is None:
        return DEFAULT_PAGE_SIZE, []
    if count > MAX_PAGE_SIZE:
        return MAX_PAGE_SIZE, [text_line(T.PAGE_SIZE_CAPPED.format(n=MAX_PAGE_SIZE))]
    return max(1, count), []


def latest_command(ctx: Context, request: Request) -> Reply:
    """/latest <关键词…> [条数]: the newest items containing every keyword."""
    words, count = split_count(request.args)
    if not split_query(words):
        return text_reply(T.LATEST_USAGE)
    size, notes = _page_size(count)
    state = PageState("latest", words, size, request.chat)
    return _show(ctx, request, state, 1, token=None, notes=notes)


def _resolve_topic(name: str, names: Sequence[str]) -> str:
    """A topic name as typed, tolerating case, full-width letters and stray spaces."""
    if name in names:
        return name
    wanted = fold("".join(name.split()))
    for candidate in names:
        if fold("".join(candidate.split())) == wanted:
            return candidate
    return name


def topic_command(ctx: Context, request: Request) -> Reply:
    """/topic <主题> [条数]: the newest items matching every rule of the topic."""
    words, count = split_count(request.args)
    topics = ctx.digester.topics(request.chat)
    if not words:
        return text_reply(T.TOPIC_USAGE, T.AVAILABLE_TOPICS.format(names="、".join(topics) or T.NONE))
    size, notes = _page_size(count)
    name = _resolve_topic(" ".join(words), list(topics))
    state = PageState("topic", (name,), size, request.chat)
    return _show(ctx, request, state, 1, token=None, notes=notes)


def turn_page(ctx: Context, request: Request) -> Reply:
    """A "上一页"/"下一页" button: the same query at another page, replacing the message."""
    parsed = parse_page_action(request.action)
    state = ctx.pager.recall(parsed[0]) if parsed else None
    if parsed is None or state is None or state.chat != request.chat:
        return text_reply(T.LIST_EXPIRED)
    token, page = parsed
    return _show(ctx, request, state, max(1, page), token=token, edit=True)


def next_page_command(ctx: Context, request: Request) -> Reply:
    """下一页 (typed): the next page of the list last shown in this chat."""
    return _turn_by_text(ctx, request, +1)


def previous_page_command(ctx: Context, request: Request) -> Reply:
    """上一页 (typed): the previous page of the list last shown in this chat."""
    return _turn_by_text(ctx, request, -1)


def _turn_by_text(ctx: Context, request: Request, step: int) -> Reply:
    last = ctx.pager.last_shown(request.chat)
    state = ctx.pager.recall(last[0]) if last else None
    if last is None or state is None or state.chat != request.chat:
        return text_reply(T.NO_LIST_TO_TURN)
    token, page = last
    if page + step < 1:
        return text_reply(T.FIRST_PAGE)
    return _show(ctx, request, state, page + step, token=token)


def _query(ctx: Context, state: PageState, page: int) -> news.NewsReply | news.UnknownTopic:
    offset = (page - 1) * state.page_size
    if state.command == "topic":
        topics = ctx.digester.topics(state.chat)
        return news.topic(
            ctx.store, topics, state.args[0], state.page_size, offset=offset, verdicts=ctx.verdicts
        )
    return news.latest(ctx.store, state.args, state.page_size, offset=offset)


def _pages(result: news.NewsReply, size: int) -> int:
    return max(1, -(-result.total // size))


def _show(
    ctx: Context,
    request: Request,
    state: PageState,
    page: int,
    *,
    token: str | None,
    notes: Sequence[Line] = (),
    edit: bool = False,
) -> Reply:
    result = _query(ctx, state, page)
    if isinstance(result, news.UnknownTopic):
        return unknown_topic_reply(result)
    if page > 1 and not result.entries and result.total:
        # The list shrank since the button was drawn (a topic edited): show its last page.
        page = _pages(result, state.page_size)
        result = _query(ctx, state, page)
        if isinstance(result, news.UnknownTopic):
            return unknown_topic_reply(result)
    more = page < _pages(result, state.page_size) or (
        not result.exact and len(result.entries) == state.page_size
    )
    if token is None and more:
        token = ctx.pager.remember(state)
    if token is not None:
        ctx.pager.shown(state.chat, token, page)
    buttons: list[Button] = []
    if token is not None and page > 1:
        buttons.append(Button(T.PREVIOUS_PAGE, page_action(token, page - 1)))
    if token is not None and more:
        buttons.append(Button(T.NEXT_PAGE, page_action(token, page + 1)))
    lines = [*notes, *_news_lines(ctx, result, page, state.page_size)]
    if result.entries:  # "/why 3" now means the third entry shown here
        first = (page - 1) * state.page_size + 1
        label = (
            T.LIST_LABEL_TOPIC.format(topic=result.topic)
            if result.topic is not None
            else T.LIST_LABEL_LATEST.format(query=cap(result.query, ECHO_LIMIT))
        )
        refs = [ItemRef(n, result.topic or "", e.id) for n, e in enumerate(result.entries, first)]
        remember(ctx, request, state.command, label, refs)
    return Reply(tuple(lines), tuple(buttons), edit=edit)


def _header(result: news.NewsReply, page: int, size: int) -> str:
    if result.topic is None:
        return T.LATEST_HEADER.format(
            query=cap(result.query, ECHO_LIMIT), total=result.total, page=page, pages=_pages(result, size)
        )
    if not result.exact:
        return T.TOPIC_HEADER_AT_LEAST.format(topic=result.topic, total=result.total, page=page)
    return T.TOPIC_HEADER.format(
        topic=result.topic, total=result.total, page=page, pages=_pages(result, size)
    )


def _news_lines(ctx: Context, result: news.NewsReply, page: int, size: int) -> list[Line]:
    lines: list[Line] = []
    if result.truncated:
        lines.append(text_line(T.QUERY_TRUNCATED.format(n=news.MAX_QUERY_CHARS)))
    keywords = cap("、".join(result.keywords), 60)
    if not result.entries:
        if page > 1:  # past the end of a list counted as "at least N"
            lines.append(text_line(T.NO_MORE))
        elif result.topic is not None:
            lines.append(text_line(T.TOPIC_EMPTY.format(topic=result.topic, keywords=keywords)))
        else:
            lines.append(text_line(T.LATEST_EMPTY.format(query=cap(result.query, ECHO_LIMIT))))
            lines.append(text_line(T.LATEST_EMPTY_HINT))
        return lines
    lines.append(text_line(_header(result, page, size), Style.BOLD))
    if result.topic is not None:
        lines.append(text_line(T.TOPIC_KEYWORDS.format(keywords=keywords)))
    words = split_query(result.query) if result.topic is None else split_query(result.keywords)
    for number, entry in enumerate(result.entries, (page - 1) * size + 1):
        lines.append(())
        lines.extend(_entry_lines(ctx, entry, number, words))
    return lines


def _entry_lines(ctx: Context, entry: news.NewsEntry, number: int, words: Sequence[str]) -> list[Line]:
    title = cap(clean(entry.title), TITLE_LIMIT) or T.UNTITLED
    url = safe_url(entry.url)
    title_span = Span(title, Style.LINK, url) if url else Span(title, Style.BOLD)
    when = entry.published.astimezone(ctx.config.timezone).strftime("%Y-%m-%d %H:%M")
    source = cap(clean(news.source_label(entry)), 40)
    lines: list[Line] = [
        (Span(f"{number}. "), title_span),
        (
            Span(
                (T.ENTRY_META_IN_PASSING if entry.in_passing else T.ENTRY_META).format(
                    source=source, time=when
                ),
                Style.ITALIC,
            ),
        ),
    ]
    snippet = clean(entry.snippet)
    if snippet:
        lines.append(highlight(snippet, words))
    return lines


def highlight(text: str, words: Sequence[str]) -> Line:
    """``text`` with every occurrence of the folded ``words`` in bold (longest word first)."""
    spans: list[Span] = []
    position = 0
    for start, end in keyword_spans(text, words):
        if start > position:
            spans.append(Span(text[position:start]))
        spans.append(Span(text[start:end], Style.BOLD))
        position = end
    if position < len(text):
        spans.append(Span(text[position:]))
    return tuple(spans)


def unknown_topic_reply(result: news.UnknownTopic) -> Reply:
    """No such topic: close names, the topic list, and the keyword search as a way out."""
    name = cap(result.name, ECHO_LIMIT)
    lines = [T.UNKNOWN_TOPIC.format(name=name)]
    if result.suggestions:
        lines.append(T.DID_YOU_MEAN.format(names="、".join(result.suggestions)))
    lines.append(T.AVAILABLE_TOPICS.format(names="、".join(result.available) or T.NONE))
    if result.keyword_results is not None and result.keyword_results.total:
        query = cap(" ".join(result.name.split()), ECHO_LIMIT)
        lines.append(T.KEYWORD_FALLBACK.format(n=result.keyword_results.total, query=query))
    return text_reply(*lines)
