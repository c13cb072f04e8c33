"""Feeds as real publishers write them: one small fixture per fault seen in real Chinese feeds.

Each :class:`FaultyFeed` is a body, the ``Content-Type`` it is served with and what a reader must
get out of it: the entries (guid → title, and a phrase of the text) that a correct reading finds,
or, for a body that is truly broken, the words of the one-line error. Written by hand for this
project (never copied from a real feed); the faults are the ones real feeds were seen to have:

- C0 control characters in titles and text (RSSHub and WeChat-derived feeds), raw and as ``&#x8;``;
- blank lines (and a stray byte-order mark) before ``<?xml``;
- a bare ``&``; a mismatched end tag; ``</feed>>``; invalid UTF-8 bytes in a UTF-8 feed;
- GBK, Big5 and Latin-1 bodies with no XML declaration and no charset header;
- a feed whose bytes no encoding reads whole (refused, not guessed);
- a 2-million-character title and an entry nesting HTML 10,000 elements deep;
- guids shaped like URIs without being URLs (``article:3``), used by two feeds at once.

Used by the tests (served by a real local HTTP server) and by ``python -m bench.feed_faults``,
which counts what the product makes of each of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"
# Served with no Content-Type at all (so no charset either): what some servers do for a file they
# do not know the type of.
NO_TYPE = None

# Real-looking news of the kind a municipal finance office follows (written for these fixtures).
NEWS = (
    ("株洲市召开普惠金融工作推进会", "会议要求进一步扩大普惠金融覆盖面，支持小微企业融资。"),
    ("央行开展逆回购操作维护流动性合理充裕", "人民银行今日以利率招标方式开展逆回购操作。"),
    ("两家湘企科创板上市申请获受理", "两家企业的科创板首次公开发行申请获上海证券交易所受理。"),
    ("非法集资风险提示：警惕高收益理财陷阱", "市金融办提醒广大群众，远离非法集资，谨防上当受骗。"),
    ("融资担保机构年度经营情况通报", "全市融资担保机构在保余额稳步增长，代偿率保持低位。"),
)
# Traditional Chinese news, as a Big5 feed from Taiwan or Hong Kong carries it.
NEWS_TRADITIONAL = (
    ("金管會發布銀行業資本適足率新規", "金融監督管理委員會今日發布新規，強化銀行資本管理。"),
    ("央行理監事會決議維持利率不變", "中央銀行理監事聯席會議決議，政策利率維持不變。"),
    ("證交所公布上市公司財務報告審閱結果", "臺灣證券交易所公布審閱結果，多家公司須補正說明。"),
)
NEWS_LATIN = (
    ("Crédit Agricole publie ses résultats", "Les résultats du groupe progressent."),
    ("La Banque de France prévoit une hausse", "Le groupe bancaire français publie un bénéfice en hausse."),
)


@dataclass(frozen=True, slots=True)
class Expected:
    """One entry a correct reading stores: its guid as written, its title, a phrase of its text."""

    guid: str
    title: str
    phrase: str


@dataclass(frozen=True, slots=True)
class FaultyFeed:
    """A feed body with a fault, and what reading it must give.

    ``entries`` are what a correct reader stores (empty for a refused body); ``error`` the words the
    one-line error must contain when the body is refused (empty when it must be read).
    """

    name: str
    fault: str  # the fault, in the brief's words
    body: bytes
    content_type: str | None
    entries: tuple[Expected, ...] = ()
    error: str = ""
    # Only part of the title is asserted (a title cut to a sane length keeps its start).
    title_prefix_only: bool = False


def rss_document(items: str, *, title: str = "金融新闻", declaration: str | None = None) -> str:
    """An RSS 2.0 document around ``items``; ``declaration`` None writes a UTF-8 declaration, ""
    none at all."""
    head = '<?xml version="1.0" encoding="utf-8"?>\n' if declaration is None else declaration
    return (
        f'{head}<rss version="2.0"><channel><title>{title}</title><link>http://news.example.test/</link>'
        f"<description>{title}</description>{items}</channel></rss>\n"
    )


def rss_item(guid: str, title: str, text: str, *, permalink: bool = False, raw: bool = False) -> str:
    """One ``<item>``; ``raw`` writes title and text unescaped (to plant a fault in them)."""
    if not raw:
        title, text = escape(title), escape(text)
    flag = "" if permalink else ' isPermaLink="false"'
    return (
        f"<item><title>{title}</title><link>http://news.example.test/{guid.replace(':', '-')}.html</link>"
        f"<guid{flag}>{guid}</guid><description>{text}</description>"
        "<pubDate>Mon, 04 Mar 2024 08:00:00 +0800</pubDate></item>"
    )


def _expected(news: tuple[tuple[str, str], ...]) -> tuple[Expected, ...]:
    return _shift(news, 1)


def _plain_rss(
    news: tuple[tuple[str, str], ...], *, title: str = "金融新闻", declaration: str | None = None
) -> str:
    items = "".join(rss_item(f"n{n}", t, d) for n, (t, d) in enumerate(news, 1))
    return rss_document(items, title=title, declaration=declaration)


def control_characters() -> FaultyFeed:
    """C0 controls in titles and text, raw and as character references (RSSHub, WeChat)."""
    dirty = [
        ("株洲市召开\x08普惠金融工作推进会", "会议要求进一步扩大普惠金融覆盖面，\x1b支持小微企业融资。"),
        ("央行开展逆回购操作\x0b维护流动性合理充裕", "人民银行今日以利率招标方式开展逆回购操作。\x00"),
        ("两家湘企科创板上市申请获受理&#x8;", "两家企业的科创板首次公开发行申请&#31;获上海证券交易所受理。"),
        (
            "非法集资风险提示：\x1f警惕高收益理财陷阱",
            "市金融办提醒广大群众，远离非法集资，\x7f谨防上当受骗。",
        ),
    ]
    items = "".join(rss_item(f"n{n}", t, d, raw=True) for n, (t, d) in enumerate(dirty, 1))
    return FaultyFeed(
        "control-characters",
        "C0 control characters in titles and text",
        rss_document(items).encode(),
        RSS_TYPE,
        _expected(NEWS[:4]),
    )


def leading_blank_lines() -> FaultyFeed:
    """Blank lines and a stray UTF-8 byte-order mark before ``<?xml`` (a PHP include's debris)."""
    body = b"\r\n\n  \n\xef\xbb\xbf" + _plain_rss(NEWS[:3]).encode()
    return FaultyFeed("leading-blank-lines", "blank lines before <?xml", body, RSS_TYPE, _expected(NEWS[:3]))


def bare_ampersand() -> FaultyFeed:
    """A bare ``&`` in a title and in a text."""
    items = rss_item("n1", "银行 & 保险业协会发布自律公约", "银行&保险机构共同签署公约。", raw=True)
    items += rss_item("n2", NEWS[1][0], NEWS[1][1])
    return FaultyFeed(
        "bare-ampersand",
        "a bare &",
        rss_document(items).encode(),
        RSS_TYPE,
        (
            Expected("n1", "银行 & 保险业协会发布自律公约", "银行&保险机构共同签署公约。"),
            Expected("n2", *NEWS[1]),
        ),
    )


def mismatched_tag() -> FaultyFeed:
    """An end tag that closes nothing open (``</b>`` after ``<i>``), in one item's text."""
    items = rss_item("n1", NEWS[0][0], "会议要求进一步扩大<i>普惠金融</b>覆盖面。", raw=True)
    items += "".join(rss_item(f"n{n}", t, d) for n, (t, d) in enumerate(NEWS[1:3], 2))
    return FaultyFeed(
        "mismatched-tag",
        "a mismatched tag",
        rss_document(items).encode(),
        RSS_TYPE,
        (Expected("n1", NEWS[0][0], "普惠金融"), *_shift(NEWS[1:3], 2)),
    )


def _shift(news: tuple[tuple[str, str], ...], start: int) -> tuple[Expected, ...]:
    return tuple(Expected(f"n{n}", t, d) for n, (t, d) in enumerate(news, start))


def atom_double_close() -> FaultyFeed:
    """An Atom feed ending ``</feed>>``."""
    entries = "".join(
        f"<entry><title>{escape(t)}</title><id>urn:example:news:{n}</id>"
        f'<updated>2024-03-04T08:00:00+08:00</updated><content type="html">{escape(d)}</content></entry>'
        for n, (t, d) in enumerate(NEWS[:3], 1)
    )
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>金融新闻</title><id>urn:example:news</id><updated>2024-03-04T08:00:00+08:00</updated>"
        f"{entries}</feed>>\n"
    )
    expected = tuple(Expected(f"urn:example:news:{n}", t, d) for n, (t, d) in enumerate(NEWS[:3], 1))
    return FaultyFeed("atom-double-close", "</feed>>", body.encode(), ATOM_TYPE, expected)


def invalid_utf8() -> FaultyFeed:
    """A UTF-8 feed with a few invalid bytes: a stray 0xFF and a character cut in half."""
    body = _plain_rss(NEWS[:4]).encode()
    title = NEWS[0][0].encode()
    broken = title[:6] + b"\xff" + title[6:] + "普".encode()[:2]
    body = body.replace(title, broken, 1)
    return FaultyFeed("invalid-utf8", "invalid UTF-8 bytes", body, RSS_TYPE, _expected(NEWS[:4]))


def undeclared_gbk() -> FaultyFeed:
    """GBK bytes, no XML declaration, no Content-Type header."""
    body = _plain_rss(NEWS, declaration="").encode("gbk")
    return FaultyFeed("undeclared-gbk", "undeclared GBK", body, NO_TYPE, _expected(NEWS))


def undeclared_big5() -> FaultyFeed:
    """Big5 bytes (traditional Chinese), no XML declaration, no Content-Type header."""
    body = _plain_rss(NEWS_TRADITIONAL, title="財經新聞", declaration="").encode("big5")
    return FaultyFeed("undeclared-big5", "undeclared Big5", body, NO_TYPE, _expected(NEWS_TRADITIONAL))


def undeclared_latin1() -> FaultyFeed:
    """Latin-1 bytes (French), no XML declaration, a Content-Type without charset. Every accented letter is
    followed by a letter, so that the bytes also read as (wrong) GB18030."""
    body = _plain_rss(NEWS_LATIN, title="Finance", declaration="").encode("latin-1")
    return FaultyFeed("undeclared-latin1", "undeclared Latin-1", body, RSS_TYPE, _expected(NEWS_LATIN))


def mixed_encodings() -> FaultyFeed:
    """Half UTF-8, half GBK, undeclared: no encoding reads it whole; it must be refused, not guessed."""
    first = rss_item("n1", *NEWS[0]).encode()
    second = rss_item("n2", *NEWS[1]).encode("gbk")
    body = rss_document("\x00", declaration="").encode().replace(b"\x00", first + second)
    return FaultyFeed("mixed-encodings", "bytes no encoding reads whole", body, NO_TYPE, error="编码")


def huge_title(length: int = 2_000_000) -> FaultyFeed:
    """One entry with a title of ``length`` characters, beside an ordinary one."""
    items = rss_item("n1", "超长标题" * (length // 4), NEWS[0][1]) + rss_item("n2", *NEWS[1])
    return FaultyFeed(
        "huge-title",
        "a 2-million-character title",
        rss_document(items).encode(),
        RSS_TYPE,
        (Expected("n1", "超长标题超长标题", NEWS[0][1]), Expected("n2", *NEWS[1])),
        title_prefix_only=True,
    )


def deep_nesting(depth: int = 10_000) -> FaultyFeed:
    """One entry whose HTML nests ``depth`` ``<div>`` elements, beside an ordinary one."""
    html = "<div>" * depth + "深层嵌套的正文。" + "</div>" * depth + "<p>结尾段落。</p>"
    items = rss_item("n1", "深层嵌套", html) + rss_item("n2", *NEWS[1])
    return FaultyFeed(
        "deep-nesting" if depth == 10_000 else f"deep-nesting-{depth // 1000}k",
        f"HTML nested {depth:,} elements deep",
        rss_document(items).encode(),
        RSS_TYPE,
        (Expected("n1", "深层嵌套", "深层嵌套的正文。"), Expected("n2", *NEWS[1])),
    )


def truncated() -> FaultyFeed:
    """A download cut short in the middle of an item: refused, nothing of it stored."""
    body = _plain_rss(NEWS).encode()
    return FaultyFeed(
        "truncated", "a download cut short", body[: len(body) * 2 // 3], RSS_TYPE, error="不完整"
    )


def colliding_guids() -> tuple[FaultyFeed, FaultyFeed]:
    """Two feeds using the same URI-shaped guid (``article:3``) for different news."""
    first = rss_document(rss_item("article:3", *NEWS[0]), title="甲市金融办").encode()
    second = rss_document(rss_item("article:3", *NEWS[3]), title="乙市金融办").encode()
    return (
        FaultyFeed(
            "colliding-guids-a", "URI-shaped guid", first, RSS_TYPE, (Expected("article:3", *NEWS[0]),)
        ),
        FaultyFeed(
            "colliding-guids-b", "URI-shaped guid", second, RSS_TYPE, (Expected("article:3", *NEWS[3]),)
        ),
    )


def all_faults() -> list[FaultyFeed]:
    """Every fixture, in the order of the brief."""
    return [
        control_characters(),
        leading_blank_lines(),
        bare_ampersand(),
        mismatched_tag(),
        atom_double_close(),
        invalid_utf8(),
        undeclared_gbk(),
        undeclared_big5(),
        undeclared_latin1(),
        mixed_encodings(),
        *colliding_guids(),
        deep_nesting(),
        deep_nesting(100_000),
        huge_title(),
        truncated(),
    ]
