"""RSS/Atom parsing: generic feeds, finews feeds (crafted and built from the real corpus), charsets,
and documents that are not feeds or not whole."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

import pytest

from bot.domain.models import ItemKind
from bot.sources import errors
from bot.sources.errors import FeedError
from bot.sources.feeds import DUPLICATE_ENTRY, FeedResult, parse_feed
from bot.sources.finews import parse_date, split_front_matter
from bot.sources.parse import parse_file
from tests.helpers.paths import CORPUS, corpus_available

NOW = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
NOW_SHANGHAI = "2024-03-01T17:30:00+08:00"
RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"
FINEWS_FEED = "https://finews.withounder.com/feed.xml"


def parse(
    body: bytes | str,
    content_type: str | None = RSS_TYPE,
    *,
    url: str = "https://news.example.cn/rss.xml",
    source: str = "example",
    source_name: str = "示例日报",
) -> FeedResult:
    data = body.encode() if isinstance(body, str) else body
    return parse_feed(
        data, url=url, content_type=content_type, source=source, source_name=source_name, now=NOW
    )


def rss(items: str, *, declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    return (
        f'{declaration}\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>示例日报</title><link>https://news.example.cn/</link>{items}</channel></rss>\n"
    )


def atom(entries: str, *, title: str = "finews") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{title}</title><id>urn:x</id><updated>2021-12-08T10:00:00+08:00</updated>"
        f"{entries}</feed>\n"
    )


# --- generic RSS 2.0 and Atom --------------------------------------------------------------------

RSS_ITEMS = """
<item>
  <title>央行开展逆回购操作</title>
  <link>https://news.example.cn/a/1.html</link>
  <guid isPermaLink="false">12345</guid>
  <pubDate>Wed, 08 Dec 2021 02:46:18 GMT</pubDate>
  <description>&lt;p&gt;摘要&lt;/p&gt;</description>
  <content:encoded><![CDATA[<p>央行今日开展<b>逆回购</b>操作。</p><script>x()</script>
    <p class="em_media">（文章来源：人民日报）</p>]]></content:encoded>
</item>
<item>
  <title>Second &amp; last</title>
  <link>https://news.example.cn/a/2.html</link>
  <description>只有摘要</description>
</item>
"""


def test_rss_generic_entries() -> None:
    result = parse(rss(RSS_ITEMS))
    assert result.title == "示例日报"
    assert result.rejected == []
    first, second = result.items
    assert first.kind is ItemKind.FEED
    assert first.id == "example:12345"  # a bare guid is prefixed with the source
    assert (first.source, first.source_name) == ("example", "示例日报")
    assert first.title == "央行开展逆回购操作"
    assert first.text == "央行今日开展逆回购操作。"  # content:encoded wins over the description
    assert first.origin == "人民日报"
    assert first.url == "https://news.example.cn/a/1.html"
    assert first.published.isoformat() == "2021-12-08T10:46:18+08:00"
    assert first.path == ""
    assert second.id == "https://news.example.cn/a/2.html"  # no guid: the link, as given
    assert second.title == "Second & last"
    assert second.text == "只有摘要"
    assert second.published.isoformat() == NOW_SHANGHAI  # undated: now


def test_source_name_falls_back_to_the_feed_title() -> None:
    result = parse(rss(RSS_ITEMS), source_name="")
    assert {item.source_name for item in result.items} == {"示例日报"}


def test_atom_generic_entry() -> None:
    entry = """<entry><title type="html">&lt;b&gt;证监会&lt;/b&gt;发布  新规</title>
      <id>tag:csrc.gov.cn,2021:42</id><link rel="alternate" href="http://www.csrc.gov.cn/42.html"/>
      <updated>2021-12-08 09:00:00</updated>
      <summary type="html">&lt;div&gt;第一段&lt;/div&gt;&lt;div&gt;第二段&lt;/div&gt;</summary></entry>"""
    result = parse(
        atom(entry, title="证监会"), ATOM_TYPE, url="http://www.csrc.gov.cn/atom.xml", source="csrc"
    )
    (item,) = result.items
    assert item.kind is ItemKind.FEED
    assert item.id == "tag:csrc.gov.cn,2021:42"
    assert item.title == "证监会发布 新规"
    assert item.text == "第一段\n第二段"
    assert item.url == "http://www.csrc.gov.cn/42.html"
    # A date without zone is Shanghai time (feedparser alone would take it as UTC).
    assert item.published.isoformat() == "2021-12-08T09:00:00+08:00"


def test_eastmoney_link_in_a_generic_feed_gives_the_bare_id() -> None:
    item = "<item><title>t</title><link>http://finance.eastmoney.com/a/202112082206672930.html</link></item>"
    (parsed,) = parse(rss(item)).items
    assert parsed.id == "202112082206672930"
    assert parsed.kind is ItemKind.FEED


def test_return_link_of_another_site_is_not_finews() -> None:
    item = """<item><title>t</title><guid>https://www.sohu.com/a/1</guid><description>
      &lt;p&gt;正文&lt;/p&gt;&lt;a href="https://www.sohu.com/"&gt;返回搜狐，查看更多&lt;/a&gt;</description></item>"""
    (parsed,) = parse(rss(item)).items
    assert parsed.kind is ItemKind.FEED
    assert parsed.text == "正文\n返回搜狐，查看更多"


# --- rejected entries ------------------------------------------------------------------------------


def test_entries_without_id_or_without_title_and_text_are_rejected() -> None:
    items = """
      <item><title>没有标识</title><description>正文</description></item>
      <item><guid>https://x.cn/2</guid><title>  </title><description>&lt;p&gt; &lt;/p&gt;</description></item>
      <item><guid>https://x.cn/3</guid><description>只有正文。后面的句子</description></item>
      <item><guid>https://x.cn/3</guid><title>重复</title></item>
    """
    result = parse(rss(items))
    assert [item.id for item in result.items] == ["https://x.cn/3"]
    assert result.items[0].title == "只有正文"  # the first sentence, as for a post
    assert [(r.title, r.link, r.reason) for r in result.rejected] == [
        ("没有标识", "", errors.NO_ID),
        ("", "https://x.cn/2", errors.NO_TITLE_NO_TEXT),  # a guid is a permalink by default
        ("重复", "https://x.cn/3", DUPLICATE_ENTRY),
    ]


# --- charsets --------------------------------------------------------------------------------------

GBK_ITEM = "<item><guid>https://x.cn/1</guid><title>株洲金融发展</title><description>经济是肌体，金融是血脉。</description></item>"


@pytest.mark.parametrize(
    ("declaration", "content_type", "codec"),
    [
        ('<?xml version="1.0" encoding="gbk"?>', RSS_TYPE, "gbk"),
        ('<?xml version="1.0" encoding="GB2312"?>', "text/xml", "gb2312"),  # RFC 3023 says us-ascii
        ('<?xml version="1.0" encoding="gb18030"?>', None, "gb18030"),
        ('<?xml version="1.0"?>', "application/xml; charset=GBK", "gbk"),
        ("", "text/xml; charset=gb2312", "gb2312"),
        ("", RSS_TYPE, "gbk"),  # undeclared and not UTF-8: GB18030 rather than windows-1252
        ('<?xml version="1.0" encoding="gbk"?>', "text/html; charset=utf-8", "gbk"),  # a lying header
    ],
)
def test_chinese_charsets(declaration: str, content_type: str | None, codec: str) -> None:
    body = rss(GBK_ITEM, declaration=declaration).encode(codec)
    result = parse(body, content_type)
    (item,) = result.items
    assert result.title == "示例日报"
    assert item.title == "株洲金融发展"
    assert item.text == "经济是肌体，金融是血脉。"


def test_windows_1252_declared_is_kept() -> None:
    body = '<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel><title>Le café</title>'
    body += "<item><guid>u:1</guid><title>Crème brûlée</title></item></channel></rss>"
    result = parse(body.encode("cp1252"))
    assert (result.title, result.items[0].title) == ("Le café", "Crème brûlée")


# --- not a feed, not whole -------------------------------------------------------------------------

HTML_PAGE = "<!DOCTYPE html><html><head><title>首页</title></head><body><p>欢迎</p></body></html>"


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"", RSS_TYPE, errors.EMPTY_FEED),
        (b" \r\n\t", None, errors.EMPTY_FEED),
        (HTML_PAGE.encode(), "text/html; charset=utf-8", errors.NOT_A_FEED),
        (HTML_PAGE.encode(), RSS_TYPE, errors.NOT_A_FEED),
        (b"<html><body><p>unclosed", "text/html", errors.NOT_A_FEED),
        (
            b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
            None,
            errors.NOT_A_FEED,
        ),
        (b'<?xml version="1.0"?><foo><bar/></foo>', "application/xml", errors.NOT_A_FEED),
        (b'{"items": []}', "application/json", errors.NOT_A_FEED),
        (b"/etc/passwd", None, errors.NOT_A_FEED),  # never read as a path
        (rss(RSS_ITEMS).encode()[:300], RSS_TYPE, errors.MALFORMED_FEED),
        (rss(RSS_ITEMS).encode()[:-10], RSS_TYPE, errors.MALFORMED_FEED),
        (rss(RSS_ITEMS).encode()[:30], RSS_TYPE, errors.MALFORMED_FEED),
        (
            atom("<entry><title>t</title><id>u:1</id></entry>").encode()[:-20],
            ATOM_TYPE,
            errors.MALFORMED_FEED,
        ),
        (rss("<item><title>a</b></item>").encode(), RSS_TYPE, errors.MALFORMED_FEED),
        # An entity error hides a later truncation from the XML parser: still refused.
        (
            rss("<item><title>a&nbsp;b</title><guid>u:1</guid></item>").encode()[:-30],
            RSS_TYPE,
            errors.MALFORMED_FEED,
        ),
    ],
)
def test_refused(body: bytes, content_type: str | None, reason: str) -> None:
    with pytest.raises(FeedError) as caught:
        parse(body, content_type)
    assert caught.value.reason == reason


def test_malformed_detail_names_the_place() -> None:
    with pytest.raises(FeedError) as caught:
        parse(rss(RSS_ITEMS).encode()[:300])
    assert str(caught.value).startswith(errors.MALFORMED_FEED + ": line ")


def test_recoverable_errors_in_a_whole_document_are_tolerated() -> None:
    items = (
        "<item><title>a&nbsp;b</title><guid>u:1</guid></item>"  # HTML entity, undefined in XML
        '<item><title>c</title><guid>u:2</guid><media:thumbnail url="x"/></item>'  # undeclared prefix
    )
    result = parse(rss(items) + "<!-- generated -->\n")
    assert [item.title for item in result.items] == ["a b", "c"]


def test_empty_feed_is_not_an_error() -> None:
    result = parse(rss(""))
    assert (result.items, result.rejected, result.title) == ([], [], "示例日报")


# --- finews entries ---------------------------------------------------------------------------------

SOURCE = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202112292229199167"
RAW_BODY = f"""<p>株洲日报·掌上株洲记者/廖喜</p>
 <p>经济是肌体，金融是血脉。</p><p class="em_media">（文章来源：株洲日报）</p>

<{SOURCE}>

[返回株洲日报新闻](//finews.withounder.com/category/zhuzhouribao.html)｜[返回首页](//finews.withounder.com/)"""

# The same post as jekyll-feed writes it: rendered by kramdown.
RENDERED_BODY = f"""<p>株洲日报·掌上株洲记者/廖喜</p>
<p>经济是肌体，金融是血脉。</p>
<p class="em_media">（文章来源：株洲日报）</p>

<p><a href="{SOURCE}">{SOURCE}</a></p>

<p><a href="//finews.withounder.com/category/zhuzhouribao.html">返回株洲日报新闻</a>｜\
<a href="//finews.withounder.com/">返回首页</a></p>
"""


def finews_entry(body: str, *, title: str = "为高质量发展注入澎湃金融动能", extra: str = "") -> str:
    link = "https://finews.withounder.com/zhuzhouribao/2021/12/29/NW202112292229199167.html"
    return (
        f'<entry><title>{escape(title)}</title><link href="{link}" rel="alternate"/><id>{link}</id>'
        "<published>2021-12-29T07:52:46+08:00</published>"
        '<category term="zhuzhouribao"/><category term="株洲日报新闻"/>'
        f'{extra}<content type="html">{escape(body)}</content></entry>'
    )


@pytest.mark.parametrize("body", [RAW_BODY, RENDERED_BODY], ids=["raw", "rendered"])
@pytest.mark.parametrize("url", [FINEWS_FEED, "http://rsshub.example/finews"], ids=["site", "mirror"])
def test_finews_entry(body: str, url: str) -> None:
    result = parse(atom(finews_entry(body)), ATOM_TYPE, url=url, source="finews", source_name="finews")
    (item,) = result.items
    assert item.kind is ItemKind.POST
    assert item.id == "NW202112292229199167"
    assert (item.source, item.source_name) == ("zhuzhouribao", "株洲日报新闻")
    assert item.url == SOURCE
    assert item.origin == "株洲日报"
    assert item.text == "株洲日报·掌上株洲记者/廖喜\n经济是肌体，金融是血脉。"
    assert item.title == "为高质量发展注入澎湃金融动能"
    assert item.published.isoformat() == "2021-12-29T07:52:46+08:00"


def test_finews_entry_without_categories_or_date_uses_the_configuration_and_the_id() -> None:
    body = "快讯正文。\n\n<http://finance.eastmoney.com/a/202112082206672930.html>\n"
    entry = f'<entry><title></title><id>x</id><content type="html">{escape(body)}</content></entry>'
    (item,) = parse(atom(entry), ATOM_TYPE, source="emnews", source_name="东财滚动新闻").items
    assert item.kind is ItemKind.POST  # recognised by its source line
    assert (item.id, item.source, item.source_name) == ("202112082206672930", "emnews", "东财滚动新闻")
    assert item.title == "快讯正文"
    assert item.published.isoformat() == "2021-12-08T00:00:00+08:00"  # from the id


def test_finews_site_entry_without_source_line() -> None:
    link = "https://finews.withounder.com/sitenews/2021/12/01/init.html"
    entry = (
        f'<entry><title>开站大吉</title><link href="{link}"/><id>{link}</id>'
        '<category term="sitenews"/><category term="站长消息"/>'
        '<content type="html">&lt;p&gt;祝贺开站&lt;/p&gt;</content></entry>'
    )
    (item,) = parse(atom(entry), ATOM_TYPE, url=FINEWS_FEED).items
    assert (item.kind, item.id, item.url, item.text) == (ItemKind.POST, "init", "", "祝贺开站")
    assert item.published.isoformat() == NOW_SHANGHAI


# --- a feed built from the real corpus gives the same items as importing the files ----------------------


def corpus_atom(paths: list[Path]) -> str:
    """An Atom document as jekyll-feed would write it, one entry per post, with the raw body."""
    entries = []
    for path in paths:
        meta, body = split_front_matter(path.read_text(encoding="utf-8"))
        item = parse_file(path.read_bytes(), path=path.name, mtime=NOW)
        link = f"https://finews.withounder.com/{quote(meta['categories'])}/2021/12/08/{item.id}.html"
        published = parse_date(meta["date"])
        title = meta["title"][1:-1] if meta["title"].startswith('"') else meta["title"]
        terms = meta["categories"].split() + meta["tags"].split()  # Jekyll splits them on spaces
        entries.append(
            f'<entry><title>{escape(title)}</title><link href={quoteattr(link)} rel="alternate"/>'
            + (f"<published>{published.isoformat()}</published>" if published else "")
            + f"<id>{escape(link)}</id>"
            + "".join(f"<category term={quoteattr(term)}/>" for term in terms)
            + f'<content type="html">{escape(body)}</content></entry>'
        )
    return atom("".join(entries))


def test_corpus_feed_equals_import() -> None:
    if not corpus_available():
        pytest.skip(f"shared finews corpus not found at {CORPUS}: corpus tests need ../shared/corpus/finews")
    paths = sorted(path for path in CORPUS.rglob("*.md") if path.name != "MANIFEST.md")
    assert len(paths) == 156
    result = parse(corpus_atom(paths), ATOM_TYPE, url=FINEWS_FEED, source="finews", source_name="finews")
    assert len(result.items) == 151
    assert [r.reason for r in result.rejected] == [DUPLICATE_ENTRY] * 5
    by_id = {item.id: item for item in result.items}
    fields = ("id", "title", "published", "text", "url", "source", "source_name", "origin", "kind")
    for path in paths:
        imported = parse_file(path.read_bytes(), path=path.name, mtime=NOW)
        fed = by_id[imported.id]
        for name in fields:
            assert getattr(fed, name) == getattr(imported, name), (path.name, name)
        assert fed.content_hash == imported.content_hash  # stored once, whichever comes first
