"""Replies rendered: Telegram HTML that no title can break, plain text, the 4096-unit limit; the pager."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.models import Item, ItemKind
from bot.domain.safetext import utf16_len
from bot.store import Store
from handlers.markup import MESSAGE_LIMIT, text_line, text_reply, to_html, to_text
from handlers.pager import ACTION_LIMIT, Pager, PageState, page_action, parse_page_action
from handlers.request import Reply, Span, Style
from tests.helpers.chat import ask, make_context, seeded_config


def test_every_text_is_escaped_and_styles_become_tags() -> None:
    reply = Reply(
        (
            (Span('<b>A&B</b> "q"', Style.LINK, 'http://x.example/?a=1&b="2"'), Span(" & <i>", Style.BOLD)),
            (Span("<code>", Style.CODE), Span("斜体", Style.ITALIC), Span("<script>")),
        )
    )
    assert to_html(reply) == (
        '<a href="http://x.example/?a=1&amp;b=&quot;2&quot;">&lt;b&gt;A&amp;B&lt;/b&gt; &quot;q&quot;</a>'
        "<b> &amp; &lt;i&gt;</b>\n"
        "<code>&lt;code&gt;</code><i>斜体</i>&lt;script&gt;"
    )
    assert to_text(reply) == ('<b>A&B</b> "q" <http://x.example/?a=1&b="2"> & <i>\n<code>斜体<script>')


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "/relative", "", "http://a b"])
def test_only_http_urls_become_links(url: str) -> None:
    reply = Reply(((Span("标题", Style.LINK, url),),))
    assert to_html(reply) == "标题" and to_text(reply) == "标题"


def test_empty_lines_and_unencodable_characters() -> None:
    reply = Reply((text_line("一"), (), text_line("坏\ud800字\x1b[31m")))
    assert to_text(reply) == "一\n\n坏\ufffd字 [31m"
    assert to_html(reply).encode("utf-8")  # no lone surrogate left
    assert text_reply("甲\n乙").lines == (text_line("甲"), text_line("乙"))


def test_a_long_reply_drops_whole_trailing_lines_within_4096_utf16_units() -> None:
    lines = [f"第 {n} 行 <&> 😀" * 3 for n in range(1000)]
    reply = text_reply(*lines)
    for render in (to_html, to_text):
        out = render(reply)
        assert utf16_len(out) <= MESSAGE_LIMIT
        kept = out.split("\n")
        assert kept[-1] == "…" and len(kept) > 10
        rendered = [render(text_reply(line)) for line in lines]
        assert kept[:-1] == rendered[: len(kept) - 1]  # whole lines, in order


def test_a_single_huge_line_is_cut_not_dropped() -> None:
    reply = Reply(((Span("😀" * 5000, Style.BOLD), Span("尾")),))
    out = to_html(reply)
    assert utf16_len(out) <= MESSAGE_LIMIT and out.startswith("<b>😀") and out.endswith("</b>…")
    assert utf16_len(to_html(reply, limit=100)) <= 100


def test_titles_with_markup_characters_are_escaped_end_to_end(tmp_path: Path) -> None:
    config = seeded_config(tmp_path)
    with Store(config.database) as store:
        item = Item(
            id="x1",
            kind=ItemKind.FEED,
            source="test",
            source_name="测<试>源",
            origin="",
            title='株洲 <b>IPO</b> & "A股" </a>',
            published=datetime(2022, 4, 3, 1, 0, tzinfo=UTC),
            url='https://example.com/?q=1&r="<x>"',
            text="株洲 <script>alert(1)</script> & 上市",
        )
        store.upsert(item, via="test")
        out = to_html(ask(make_context(config, store), "/latest 株洲"))
    assert '<a href="https://example.com/?q=1&amp;r=&quot;&lt;x&gt;&quot;">' in out
    assert "株洲 &lt;b&gt;IPO&lt;/b&gt; &amp; &quot;A股&quot; &lt;/a&gt;</a>" in out
    assert "测&lt;试&gt;源" in out and "&lt;script&gt;" in out
    # Only our own tags are left once the escaped text is taken out.
    assert set(re.findall(r"</?([a-z]+)", out)) <= {"a", "b", "i"}


# --- the pager -----------------------------------------------------------------------------------


def test_page_actions_fit_telegram_and_parse_back() -> None:
    pager = Pager()
    token = pager.remember(PageState("latest", ("株" * 200,), 5, "-1001234567890"))
    action = page_action(token, 99999)
    assert len(action.encode()) <= ACTION_LIMIT
    assert parse_page_action(action) == (token, 99999)
    for bad in ("pg:", "pg:abc", "pg:abc:", "pg:abc:x", "pg::2", "xx:abc:2", "pg:abc:２"):
        assert parse_page_action(bad) is None


def test_the_pager_forgets_the_least_recently_used_query() -> None:
    pager = Pager(capacity=2)
    states = [PageState("latest", (str(n),), 5, "c") for n in range(3)]
    first, second = pager.remember(states[0]), pager.remember(states[1])
    assert pager.recall(first) == states[0]  # now the most recently used
    pager.remember(states[2])
    assert pager.recall(second) is None and pager.recall(first) == states[0] and len(pager) == 2
