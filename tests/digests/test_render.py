"""Rendering a digest: Telegram messages within the limit and nothing lost, safe Markdown and HTML."""

from __future__ import annotations

import html
import random
import re
from dataclasses import replace
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digests.render import (
    MESSAGE_LIMIT,
    digest_file_stem,
    render_html_page,
    render_markdown,
    render_telegram,
    render_text,
)
from digests.render_view import shared_rendering, story_count
from digests.values import Digest, SnippetPart, TopicSection
from tests.helpers.digests import DAY, make_digest, make_entry, section

TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote"}


def units(text: str) -> int:
    """UTF-16 code units, as Telegram counts a message."""
    return len(text.encode("utf-16-le")) // 2


def norm(text: str) -> str:
    """What the renderer shows of a text: one line, runs of whitespace collapsed."""
    return " ".join(text.split())


# What may stand between text in a message: a tag Telegram knows (a link only with an http(s)
# href), or an entity Telegram knows. Checked on the raw message, before any parser forgives.
TELEGRAM_MARKUP = re.compile(
    r'<(?:/?(?:b|strong|i|em|u|ins|s|strike|del|code|pre|blockquote)|a href="https?://[^"<>]*"|/a)>'
    r"|&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);"
)


class TelegramHTMLChecker(HTMLParser):
    """Parses one message: tags must balance; collects its text and its links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.errors: list[str] = []
        self.stack: list[str] = []
        self.text: list[str] = []
        self.links: list[tuple[str, str]] = []  # (href, the link's text)
        self.link_start = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS or (attrs and tag != "a"):
            self.errors.append(f"<{tag} {attrs}>")
        if tag == "a":
            self.link_start = len(self.text)
            self.links.append((dict(attrs).get("href") or "", ""))
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")
        if tag == "a":
            self.links[-1] = (self.links[-1][0], "".join(self.text[self.link_start :]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.errors.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.errors.append("declaration")

    def handle_pi(self, data: str) -> None:
        self.errors.append("processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.errors.append("declaration")


def parse_message(message: str) -> TelegramHTMLChecker:
    """The message parsed; fails the test when it is not HTML that Telegram accepts."""
    stray = set(TELEGRAM_MARKUP.sub("", message)) & set("<>&")
    assert not stray, f"{stray} outside a Telegram tag or entity"
    checker = TelegramHTMLChecker()
    checker.feed(message)
    checker.close()
    assert not checker.errors, checker.errors
    assert not checker.stack, f"unclosed {checker.stack}"
    return checker


def message_text(checker: TelegramHTMLChecker) -> str:
    return "".join(checker.text)


def check_messages(digest: Digest, messages: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Every rule of Telegram output; returns the titles of the entries that were shortened.

    Walks the messages' blocks against the digest: header first, then per section its heading,
    every entry in order exactly once, and "另有 N 条"; a message that opens inside a section
    opens with its "（续）" heading. Links are checked against the entries' safe URLs.
    """
    assert messages
    for message in messages:
        assert units(message) <= limit
    parsed = [parse_message(message) for message in messages]
    blocks = [
        (index > 0 and position == 0, block)
        for index, checker in enumerate(parsed)
        for position, block in enumerate(message_text(checker).split("\n\n"))
    ]
    header = blocks.pop(0)[1].split("\n")
    assert header[0].startswith(f"金融要闻 {DAY.isoformat()}")
    if digest.empty:
        assert "今日无相关新闻" in header[1]
    shortened: list[str] = []
    links: list[tuple[str, str]] = []
    cursor = 0

    def take(heading: str) -> str:
        nonlocal cursor
        opens, block = blocks[cursor]
        if opens:  # a topic continued from the previous message
            assert block == heading + "（续）"
            cursor += 1
            opens, block = blocks[cursor]
        cursor += 1
        return block

    for topic in digest.sections:
        heading = f"【{norm(topic.name)}】{topic.total} 条"
        assert blocks[cursor][1] == heading
        cursor += 1
        for number, entry in enumerate(topic.entries, 1):
            lines = take(heading).split("\n")
            title = norm(entry.title) or "（无标题）"
            if lines[0] == f"{number}. {title}":
                snippet = norm(entry.snippet_text)
                assert lines[2:] == ([snippet] if snippet else [])
            else:
                cut = lines[0].removeprefix(f"{number}. ")
                assert cut.endswith("…") and title.startswith(cut[:-1]), (cut[:80], title[:80])
                big = units(html.escape(entry.title)) + units(html.escape(entry.snippet_text))
                assert big > limit - 1000, "only an entry too large for a message is shortened"
                assert len(lines) <= 3
                shortened.append(entry.title)
                title = cut
            if entry.url.startswith(("https://", "http://")):
                links.append((entry.url, title))
            names = list(dict.fromkeys(norm(name) for name in entry.sources))
            outlets = "、".join(names) if len(names) <= 2 else f"{'、'.join(names[:2])}等 {len(names)} 家"
            assert lines[1] == f"{outlets} · 08:30".lstrip(" ·")
        if topic.more > 0:
            assert take(heading) == f"另有 {topic.more} 条"
    assert cursor == len(blocks), "nothing but the digest's blocks"
    assert [link for checker in parsed for link in checker.links] == links
    return shortened


# Text that breaks naive renderers: markup, quotes, emoji (2 UTF-16 units, ZWJ sequences), CJK
# including a character outside the BMP, and whitespace that must not break lines.
ALPHABET = (
    list("abcXYZ019 <>&\"'[]()*_`#|\\!-.:")
    + list("财政株洲日报债务专项（）“”")
    + [
        "😀",
        "🇨🇳",
        "👨\u200d👩\u200d👧",
        "𠀀",
        "\n",
        "\t",
        "\u3000",
    ]
)
WORD = st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=12).map("".join)
WORDS = st.lists(WORD, min_size=1, max_size=8)


@st.composite
def digests(draw: st.DrawFn) -> Digest:
    """A day's digest with up to 1,000 entries; bulk text is built from a few drawn words."""
    words = draw(WORDS)
    # Bulk choices come from a drawn seed: drawing each of ~100,000 choices from hypothesis would
    # exceed its data budget, and the words and sizes drawn above still shrink.
    rng = random.Random(draw(st.integers(0, 2**32)))
    sizes = draw(st.lists(st.integers(0, 80), min_size=0, max_size=4))
    if draw(st.integers(0, 4)) == 0:  # not always: it is the slowest case to generate and check
        sizes.append(1000 - sum(sizes))  # the largest day the issue asks for

    # Texts are slices of one long run of the words: cheap enough for 1,000 entries per example.
    pool = "".join(rng.choice(words) for _ in range(6000))
    pool *= 5001 // len(pool) + 1

    def text(length: int) -> str:
        start = rng.randrange(len(pool) - length)
        return pool[start : start + length]

    def title() -> str:
        # mostly headline-sized; some 500-character titles; rarely one too large for any message
        return text(rng.choice([0, 5, 20, 40, 40, 80, 500, 500] + [5000] * (rng.random() < 0.02)))

    def snippet() -> tuple[SnippetPart, ...]:
        return tuple(
            SnippetPart(text(rng.randint(0, 30)), rng.random() < 0.3) for _ in range(rng.randint(0, 6))
        )

    def url(index: int) -> str:
        return rng.choice(
            [f"https://example.com/{index}?a=1&b=<x>\"'", "javascript:alert(1)", "", f"http://a.cn/{index}"]
        )

    sections = []
    for number, size in enumerate(sizes):
        entries = tuple(
            make_entry(
                title(),
                url(index),
                tuple(f"{text(rng.randint(1, 8))}报" for _ in range(rng.randint(1, 4))),
                snippet(),
                # 00:30 UTC is 08:30 in Shanghai; the checker expects that time everywhere
                datetime(2026, 11, 20, 0, 30, tzinfo=ZoneInfo("UTC")),
            )
            for index in range(size)
        )
        name = f"主题{number}{text(rng.randint(0, 6))}"
        sections.append(TopicSection(name, text(20), len(entries) + rng.choice([0, 0, 1, 57]), entries))
    return Digest(DAY, "Asia/Shanghai", tuple(sections), items_considered=rng.randint(0, 10**6))


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(digest=digests(), limit=st.sampled_from([MESSAGE_LIMIT, MESSAGE_LIMIT, 1500]))
def test_telegram_messages_fit_are_well_formed_and_lose_nothing(digest: Digest, limit: int) -> None:
    messages = render_telegram(digest, limit=limit)
    check_messages(digest, messages, limit)
    assert render_telegram(digest, limit=limit) == messages  # deterministic


def test_empty_day_is_one_short_message_in_every_format() -> None:
    digest = make_digest()
    [message] = render_telegram(digest)
    assert message == "<b>金融要闻 2026-11-20 星期五</b>\n今日无相关新闻（当日共收录 420 条）"
    for output in (render_markdown(digest), render_html_page(digest), render_text(digest)):
        assert "今日无相关新闻" in output


def test_telegram_layout_header_heading_numbered_entries_and_more() -> None:
    digest = make_digest(
        section("财政", make_entry(outlets=("株洲日报", "湖南日报", "新华社")), make_entry("二"), total=5),
        label="株洲市财政局",
    )
    [message] = render_telegram(digest)
    assert message == (
        "<b>金融要闻 2026-11-20 星期五 · 株洲市财政局</b>\n5 条新闻 · 1 个主题 · 当日共收录 420 条\n\n"
        "<b>【财政】5 条</b>\n\n"
        '1. <a href="https://example.com/a">株洲市财政局发布预算报告</a>\n'
        "<i>株洲日报、湖南日报等 3 家 · 08:30</i>\n今年<b>财政</b>收入增长。\n\n"
        '2. <a href="https://example.com/a">二</a>\n<i>株洲日报 · 08:30</i>\n今年<b>财政</b>收入增长。\n\n'
        "<i>另有 3 条</i>"
    )


def test_long_topic_continues_with_its_heading_repeated() -> None:
    entries = [make_entry(f"第{n}条 " + "财政预算执行情况" * 20) for n in range(60)]
    digest = make_digest(section("财政", *entries), section("债务", make_entry("债务新闻")))
    messages = render_telegram(digest)
    assert len(messages) > 2
    assert messages[0].startswith("<b>金融要闻")
    assert all(m.startswith("<b>【财政】60 条（续）</b>\n\n") for m in messages[1:-1])
    last_blocks = [m.rsplit("\n\n", 1)[-1] for m in messages]
    assert not any(block.startswith("<b>【") for block in last_blocks), "no bare heading at the end"
    assert "债务新闻" in messages[-1]
    assert check_messages(digest, messages) == []


def test_entry_too_large_for_a_message_is_shortened_and_nothing_else() -> None:
    huge = make_entry("长" * 5000, snippet=(SnippetPart("财政", True), SnippetPart("增" * 5000)))
    digest = make_digest(section("财政", make_entry("前一条"), huge, make_entry("后一条")))
    messages = render_telegram(digest)
    assert check_messages(digest, messages) == [huge.title]
    big = next(m for m in messages if "长长" in m)
    assert units(big) <= MESSAGE_LIMIT and units(big) > MESSAGE_LIMIT - 50, "uses the room it has"
    assert big.count("长") > 1000 and big.count("增") > 1000, "title and snippet both keep a fair share"
    assert "<b>财政</b>" in big


def test_entry_whose_link_alone_is_too_large_keeps_its_title_without_the_link() -> None:
    url = "https://example.com/?" + "&" * 2000  # escapes to 10,000 units
    digest = make_digest(section("财政", make_entry("标题", url=url)))
    [message] = render_telegram(digest)
    assert units(message) <= MESSAGE_LIMIT
    assert "href" not in message and "1. <b>标题</b>" in message
    parse_message(message)


def test_emoji_count_two_units() -> None:
    entries = [make_entry("😀" * 300) for _ in range(20)]  # 600 units each in Telegram, 300 len()
    digest = make_digest(section("表情", *entries))
    messages = render_telegram(digest)
    assert all(units(m) <= MESSAGE_LIMIT for m in messages)
    assert len(messages) > 2  # counted in code points, all would fit in fewer messages
    check_messages(digest, messages)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "/relative", "https://", ""]
)
def test_unsafe_or_empty_url_is_never_a_link(url: str) -> None:
    digest = make_digest(section("财政", make_entry("标题", url=url)))
    [message] = render_telegram(digest)
    assert "href" not in message and "<b>标题</b>" in message
    assert "](" not in render_markdown(digest)
    assert "href" not in render_html_page(digest)
    assert url not in render_text(digest) or not url


def test_markdown_escapes_a_link_injection_title() -> None:
    title = "[x](javascript:alert(1)) <img src=x onerror=alert(1)> *a* _b_ `c` # | \\ &amp;"
    markdown = render_markdown(make_digest(section("财政", make_entry(title))))
    line = next(line for line in markdown.splitlines() if line.startswith("1. "))
    link_text = line[len("1. [") : line.rindex("](<")]
    punctuation = r"!-/:-@\[-`{-~"
    assert re.fullmatch(rf"(\\[{punctuation}]|[^{punctuation}])*", link_text), "all punctuation escaped"
    assert re.sub(r"\\(.)", r"\1", link_text) == title
    assert line.endswith("](<https://example.com/a>)\\")
    assert not re.search(r"(?<!\\)[<\[]", line[len("1. [") : line.rindex("](<")]), "no raw < or ["


def test_markdown_layout() -> None:
    markdown = render_markdown(make_digest(section("财政", make_entry(), total=3)))
    assert markdown == (
        "# 金融要闻 2026\\-11\\-20 星期五\n\n5 条新闻 · 1 个主题 · 当日共收录 420 条\n\n"
        "## 【财政】3 条\n\n*财政相关*\n\n"
        "1. [株洲市财政局发布预算报告](<https://example.com/a>)\\\n"
        "   株洲日报 · 08\\:30\\\n   今年**财政**收入增长。\n\n另有 2 条\n"
    ).replace("5 条新闻", "3 条新闻")


def test_markdown_link_destination_cannot_be_closed_early() -> None:
    url = 'https://example.com/x>y)z\\<"?q=株洲'
    markdown = render_markdown(make_digest(section("财政", make_entry(url=url))))
    assert "](<https://example.com/x%3Ey)z%5C%3C%22?q=%E6%A0%AA%E6%B4%B2>)" in markdown


def test_html_page_is_standalone_and_escapes_everything() -> None:
    script = "<script>alert(1)</script>"
    entry = make_entry(script, url='https://example.com/"><script>x</script>', outlets=(script,))
    digest = make_digest(
        TopicSection(script, script, 1, (entry,)),
        label=script,
    )
    page = render_html_page(digest)
    assert page.startswith('<!doctype html>\n<html lang="zh-CN">')
    assert '<meta charset="utf-8">' in page and "<style>" in page
    assert "<title>金融要闻 2026-11-20 · &lt;script&gt;alert(1)&lt;/script&gt;</title>" in page
    assert "<script" not in page
    # <title>, <h1>, <h2>, description, entry title, outlet
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 6
    assert 'href="https://example.com/&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in page
    assert "<strong>财政</strong>" in page


def test_html_page_title_without_label() -> None:
    assert "<title>金融要闻 2026-11-20</title>" in render_html_page(make_digest())


def test_times_are_shown_in_the_digests_zone() -> None:
    utc = ZoneInfo("UTC")
    morning = make_entry("早", published=datetime(2026, 11, 20, 0, 30, tzinfo=utc))  # 08:30 in Shanghai
    late = make_entry("晚", published=datetime(2026, 11, 19, 15, 50, tzinfo=utc))  # 23:50 the day before
    digest = make_digest(section("财政", morning, late))
    text = render_text(digest)
    assert "株洲日报 · 08:30" in text and "株洲日报 · 11月19日 23:50" in text
    assert '<time datetime="2026-11-20T08:30+08:00">08:30</time>' in render_html_page(digest)
    new_york = render_text(make_digest(section("财政", morning), timezone="America/New_York"))
    assert "株洲日报 · 11月19日 19:30" in new_york


def test_text_is_plain_with_urls_on_their_own_lines() -> None:
    entry = make_entry("标题\x1b[31m红\n第二行", outlets=("株洲日报", "湖南日报"))
    text = render_text(make_digest(section("财政", entry, total=2)))
    assert text == (
        "金融要闻 2026-11-20 星期五\n2 条新闻 · 1 个主题 · 当日共收录 420 条\n\n【财政】2 条\n财政相关\n\n"
        "  1. 标题 [31m红 第二行\n     株洲日报、湖南日报 · 08:30\n     今年财政收入增长。\n"
        "     https://example.com/a\n\n  另有 1 条\n"
    )
    assert "\x1b" not in text and "<" not in text


def test_outputs_are_deterministic() -> None:
    digest = make_digest(section("财政", make_entry(), make_entry("b", outlets=("乙", "甲", "乙", "丙"))))
    for render in (render_telegram, render_markdown, render_html_page, render_text):
        assert render(digest) == render(digest)


@pytest.mark.parametrize(
    ("chat", "stem"),
    [
        (None, "2026-11-20"),
        ("", "2026-11-20"),
        ("-1001234", "2026-11-20--1001234"),
        ("finance_office", "2026-11-20-finance_office"),
        ("株洲财政", "2026-11-20-株洲财政"),
    ],
)
def test_file_stem_keeps_safe_names(chat: str | None, stem: str) -> None:
    assert digest_file_stem(DAY, chat) == stem


@pytest.mark.parametrize(
    "chat", ["../x", "..", "a/b", "a\\b", "/etc/passwd", "x\0y", "C:..\\x", "a b", "x" * 300]
)
def test_file_stem_never_leaves_the_folder(chat: str) -> None:
    stem = digest_file_stem(DAY, chat)
    assert re.fullmatch(r"2026-11-20-[\w-]{1,80}", stem), stem
    assert stem != digest_file_stem(DAY, chat + "!"), "names that clean alike stay apart"


@settings(max_examples=50)
@given(st.text(max_size=40))
def test_file_stem_is_always_a_safe_fragment(chat: str) -> None:
    stem = digest_file_stem(DAY, chat)
    assert re.fullmatch(r"2026-11-20(-[\w-]+)?", stem), stem
    assert "/" not in stem and "\\" not in stem and ".." not in stem


def test_a_day_of_1000_entries_loses_nothing() -> None:
    entries = tuple(make_entry(f"{n} " + "<财政>&" * 60) for n in range(1000))
    digest = make_digest(section("财政", *entries[:500]), section("债务", *entries[500:]))
    messages = render_telegram(digest)
    check_messages(digest, messages)


def test_shared_rendering_renders_many_selections_of_a_day_as_each_alone() -> None:
    # What Digester.queue_due does: each chat's digest is a selection of the day's section objects,
    # rendered in every format within one shared_rendering block.
    rng = random.Random(5)
    day_sections = [
        replace(
            section(f"主题{n}", *(make_entry(f"{n}-{k} <b>&", outlets=("乙", "甲")) for k in range(n % 4))),
            story_keys=frozenset(rng.sample(range(60), rng.randint(0, 12))),
        )
        for n in range(12)
    ]
    chats = [
        make_digest(*rng.sample(day_sections, rng.randint(0, 6)), label=rng.choice(["", "财政局", "<x>"]))
        for _ in range(40)
    ]
    formats = (render_markdown, render_html_page, render_telegram, render_text, story_count)
    alone = [[render(chat) for render in formats] for chat in chats]
    with shared_rendering():
        shared = [[render(chat) for render in formats] for chat in chats]
        again = [[render(chat) for render in formats] for chat in chats]
    assert shared == alone == again
    assert [row[-1] for row in alone] == [chat.stories for chat in chats]


@given(
    keys=st.lists(
        st.frozensets(st.one_of(st.integers(0, 3000), st.integers(-5, 2**40)), max_size=30),
        max_size=5,
    )
)
def test_story_count_is_the_digests_story_count(keys: list[frozenset[int]]) -> None:
    digest = make_digest(
        *(replace(section(f"t{n}", total=len(k) + 1), story_keys=k) for n, k in enumerate(keys))
    )
    with shared_rendering():
        assert story_count(digest) == digest.stories
