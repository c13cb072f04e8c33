"""finews posts: the seeds, every post of the shared corpus, and crafted variants."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.models import Item, ItemKind
from bot.sources import errors
from bot.sources.errors import ParseError
from bot.sources.finews import parse_post
from bot.sources.parse import SUPPORTED_SUFFIXES, is_supported, parse_file

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
CORPUS = REPO.parent / "shared" / "corpus" / "finews"
MTIME = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
MTIME_SHANGHAI = "2024-03-01T17:30:00+08:00"
NAVIGATION = ("返回首页", "返回东财", "返回株洲", "finews.", "](", "<http", "<>")


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip(f"shared finews corpus not found at {CORPUS}: corpus tests need ../shared/corpus/finews")
    return sorted(path for path in CORPUS.rglob("*.md") if path.name != "MANIFEST.md")


def parse_corpus(relative: str) -> Item:
    files = corpus_files()  # skips when the corpus is absent
    path = CORPUS / relative
    assert path in files
    return parse_file(path.read_bytes(), path=relative, mtime=MTIME)


def parse_bytes(data: bytes, name: str = "2021-12-08-202112082206672930.md") -> Item:
    return parse_file(data, path=name, mtime=MTIME)


def assert_no_navigation(item: Item) -> None:
    for marker in NAVIGATION:
        assert marker not in item.text, (item.path, marker)
    if item.url:
        assert item.url not in item.text


# --- seeds -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(path.name for path in SEEDS.glob("*.md")))
def test_seed_posts_parse(name: str) -> None:
    item = parse_file((SEEDS / name).read_bytes(), path=f"seeds/{name}", mtime=MTIME)
    assert item.kind is ItemKind.POST
    assert item.title and item.text
    assert item.id == name.removesuffix(".md").split("-", 3)[3]
    assert item.path == f"seeds/{name}"
    assert_no_navigation(item)


def test_seed_zhuzhou_field_by_field() -> None:
    name = "2021-12-29-NW202112292229199167.md"
    item = parse_file((SEEDS / name).read_bytes(), path=name, mtime=MTIME)
    assert item.id == "NW202112292229199167"
    assert item.kind is ItemKind.POST
    assert item.title == "为高质量发展注入澎湃金融动能"
    assert item.published.isoformat() == "2021-12-29T07:52:46+08:00"
    assert item.source == "zhuzhouribao"
    assert item.source_name == "株洲日报新闻"
    assert item.origin == "株洲日报"
    assert item.url == "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202112292229199167"
    assert item.path == name
    lines = item.text.split("\n")
    assert lines[0] == "株洲日报·掌上株洲记者/廖喜张通讯员/余亘泰供图/市政府金融办"
    assert lines[1] == "经济是肌体，金融是血脉。"
    assert lines[-1].endswith("书写服务“三高四新”战略定位和使命任务的新答卷。")
    assert "文章来源" not in item.text
    assert_no_navigation(item)


# --- the shared corpus -----------------------------------------------------------------------------


def test_every_corpus_post_parses_without_navigation() -> None:
    files = corpus_files()
    assert len(files) == 156
    ids = set()
    for path in files:
        relative = path.relative_to(CORPUS).as_posix()
        item = parse_file(path.read_bytes(), path=relative, mtime=MTIME)
        assert item.kind is ItemKind.POST
        assert item.title, relative
        assert item.published.utcoffset() is not None
        assert item.published.isoformat().endswith("+08:00")
        assert item.source and item.source_name
        assert "文章来源" not in item.text
        assert_no_navigation(item)
        ids.add(item.id)
    assert len(ids) == 151


def test_corpus_duplicates_are_the_same_item() -> None:
    files = corpus_files()
    old = {path.name for path in files if path.parent.name == "old_post"}
    twins = sorted(path.name for path in files if path.parent.name == "_posts" and path.name in old)
    assert len(twins) == 5
    for name in twins:
        new_item = parse_corpus(f"_posts/{name}")
        old_item = parse_corpus(f"old_post/{name}")
        assert new_item.id == old_item.id
        assert new_item.published == old_item.published
        assert new_item.content_hash == old_item.content_hash, name
        assert new_item.path != old_item.path


def test_corpus_pair_with_and_without_zone() -> None:
    new_item = parse_corpus("_posts/2021-12-08-202112082206672930.md")
    old_item = parse_corpus("old_post/2021-12-08-202112082206672930.md")
    for item in (new_item, old_item):
        assert item.id == "202112082206672930"
        assert item.title == "离岸人民币兑美元升至2018年以来最高水平"
        assert item.published.isoformat() == "2021-12-08T10:46:18+08:00"
        assert item.url == "http://finance.eastmoney.com/news/11060,202112082206672930.html"
        assert item.text == "离岸人民币兑美元升至6.3512，为2018年以来最高水平。"
    assert new_item.content_hash == old_item.content_hash


def test_corpus_post_with_empty_title_and_date() -> None:
    item = parse_corpus("_posts/-202205262391921712.md")
    assert item.id == "202205262391921712"
    assert item.published.isoformat() == "2022-05-26T00:00:00+08:00"
    assert item.url == ""
    assert item.source == "emnews"
    assert item.source_name == "东财滚动新闻"
    assert item.origin == "上海证券报"
    digest = "据霍尼韦尔官网消息，5月24日，霍尼韦尔宣布为蔚来旗下ET7新能源汽车提供HFO-1234yf(四氟丙烯)制冷剂"
    assert item.title == digest
    lines = item.text.split("\n")
    assert lines[0].startswith(digest + "。据悉")  # the digest is the first paragraph
    assert lines[0].endswith("（上海证券报）")
    # Hidden <p>, images and EM_StockImg comments are gone.
    assert lines[1] == "国内首款使用超低GWP(全球变暖潜值)制冷剂的新能源汽车来了！"
    assert "具体来看，巨化股份、联创股份已有HFO-1234yf产品，国新文化控股子公司" in item.text  # keytip spans
    assert "《<蒙特利尔议定书>基加利修正案》" in item.text  # entities
    assert "什么是HFO-1234yf" in lines
    assert "K图" not in item.text and "Image" not in item.text and "EM_StockImg" not in item.text
    assert lines[-1].startswith("公司曾公开表示，有HFO-1234yf设计产能5000吨/年。")
    assert lines[-1].endswith("产品已有少量销售，主要应用于空调领域。")


def test_corpus_init_post() -> None:
    item = parse_corpus("_posts/2021-12-01-init.md")
    assert (item.id, item.title, item.text) == ("init", "开站大吉", "祝贺开站")
    assert item.published.isoformat() == "2021-12-01T13:33:50+08:00"
    assert (item.source, item.source_name, item.url, item.origin) == ("sitenews", "站长消息", "", "")


def test_corpus_post_with_blank_line_before_front_matter() -> None:
    item = parse_corpus("_posts/2021-12-08-202112082206703990.md")
    assert item.title == "FF：有充足的现金支持到FF 91完成投产"
    assert item.published.isoformat() == "2021-12-08T10:18:31+08:00"
    assert item.text.startswith("Faraday Future (FF)于今日举办的线上投资者沟通交流会上")
    assert item.url == "http://stock.eastmoney.com/news/1611,202112082206703990.html"
    twin = parse_corpus("old_post/2021-12-08-202112082206703990.md")
    assert twin.content_hash == item.content_hash


def test_corpus_post_with_empty_source_link_and_two_line_footer() -> None:
    item = parse_corpus("_posts/2021-12-08-202112082206870651.md")
    assert item.url == ""
    assert item.text == (
        "2021年12月8日讯，财政部2年期续发国债中标利率为2.4576%，边际利率为2.4823%，"
        "全场倍数为3.7，边际倍数为2.2。(东方财富Choice数据)"
    )


# --- crafted variants ------------------------------------------------------------------------------

BODY = "\n中间价报6.3512。\n\n<http://finance.eastmoney.com/news/11060,202112082206672930.html>\n"
FOOTER = "\n[返回东财滚动新闻](../emnews/)\n[返回首页](../)"


def post(
    title: str = '"人民币中间价"',
    date: str = "2021-12-08 10:46:18",
    categories: str = "emnews",
    tags: str = "东财滚动新闻",
    body: str = BODY + FOOTER,
) -> str:
    front = f"layout: post\ntitle: {title}\ndate: {date}\ncategories: {categories}\ntags: {tags}"
    return f"---\n{front}\n---\n{body}"


@pytest.mark.parametrize(
    ("data", "title"),
    [
        pytest.param(post().encode(), "人民币中间价", id="plain"),
        pytest.param(codecs.BOM_UTF8 + post().encode(), "人民币中间价", id="BOM"),
        pytest.param(post().replace("\n", "\r\n").encode(), "人民币中间价", id="CRLF"),
        pytest.param(post().rstrip("\n").encode(), "人民币中间价", id="no trailing newline"),
        pytest.param(("\n\n" + post()).encode(), "人民币中间价", id="blank lines before front matter"),
        pytest.param(post().encode("gbk"), "人民币中间价", id="GBK"),
        pytest.param(post().encode("utf-16"), "人民币中间价", id="UTF-16"),
        pytest.param(post(title='"他说"好"的"').encode(), '他说"好"的', id="title containing quotes"),
        pytest.param(post(title='"a: b"').encode(), "a: b", id="title containing a colon"),
        pytest.param(post(title="没有引号").encode(), "没有引号", id="unquoted title"),
        pytest.param(post(title='"  空格  "').encode(), "空格", id="title stripped"),
        pytest.param(post(title='""').encode(), "中间价报6.3512", id="empty title from the text"),
        pytest.param(post(title="").encode(), "中间价报6.3512", id="no title value"),
    ],
)
def test_crafted_titles(data: bytes, title: str) -> None:
    item = parse_bytes(data)
    assert item.title == title
    assert item.text == "中间价报6.3512。"
    assert item.id == "202112082206672930"
    assert item.url == "http://finance.eastmoney.com/news/11060,202112082206672930.html"
    assert item.published.isoformat() == "2021-12-08T10:46:18+08:00"


@pytest.mark.parametrize(
    ("date", "name", "expected"),
    [
        pytest.param("2021-12-08 10:46:18", None, "2021-12-08T10:46:18+08:00", id="no zone is Shanghai"),
        pytest.param("2021-12-08 10:46:18 +0800", None, "2021-12-08T10:46:18+08:00", id="+0800"),
        pytest.param("2021-12-08 02:46:18 +0000", None, "2021-12-08T10:46:18+08:00", id="UTC converted"),
        pytest.param("2021-12-07 21:46:18 -0500", None, "2021-12-08T10:46:18+08:00", id="negative offset"),
        pytest.param("2021-12-08 10:46:18 +08:00", None, "2021-12-08T10:46:18+08:00", id="offset with colon"),
        pytest.param(
            "2021-12-08  10:46  +0800 ", None, "2021-12-08T10:46:00+08:00", id="no seconds, extra spaces"
        ),
        pytest.param('"2021-12-08 10:46:18"', None, "2021-12-08T00:00:00+08:00", id="quoted: unparseable"),
        pytest.param("2021-12-08", None, "2021-12-08T00:00:00+08:00", id="date only"),
        pytest.param("2021-12-08 10:46:18 +9999", None, "2021-12-08T00:00:00+08:00", id="impossible zone"),
        pytest.param(" +0800", None, "2021-12-08T00:00:00+08:00", id="empty: from the id"),
        pytest.param("", "2021-12-29-NW202112292229199167.md", "2021-12-29T00:00:00+08:00", id="from NW id"),
        pytest.param("", "-202205262391921712.md", "2022-05-26T00:00:00+08:00", id="from id, no name date"),
        pytest.param("2021-13-45 99:00:00", "2021-12-01-init.md", "2021-12-01T00:00:00+08:00", id="invalid"),
        pytest.param("yesterday", "2021-12-01-init.md", "2021-12-01T00:00:00+08:00", id="from file name"),
        pytest.param("", "posts/init.md", MTIME_SHANGHAI, id="from mtime"),
    ],
)
def test_crafted_dates(date: str, name: str | None, expected: str) -> None:
    body = "\n正文\n" if name else BODY  # without a source line the id comes from the file name
    item = parse_bytes(post(date=date, body=body).encode(), name or "2021-12-08-202112082206672930.md")
    assert item.published.isoformat() == expected
    assert item.published.tzinfo is not None and str(item.published.tzinfo) == "Asia/Shanghai"


def test_naive_mtime_is_taken_as_utc() -> None:
    item = parse_post(post(date="", body="正文"), filename="x.md", mtime=datetime(2024, 3, 1, 9, 30))
    assert item.published.isoformat() == MTIME_SHANGHAI


@pytest.mark.parametrize(
    ("categories", "tags"),
    [
        ("emnews", "东财滚动新闻"),
        ("TechWeb", "TechWeb新闻"),
        ("zhong guo zheng quan bao (2021)", "中国证券报新闻"),
        ("  cls 123  ", "财联社新闻"),
        ("", ""),
    ],
)
def test_categories_and_tags_kept_whole(categories: str, tags: str) -> None:
    item = parse_bytes(post(categories=categories, tags=tags).encode())
    assert (item.source, item.source_name) == (categories.strip(), tags.strip())


@pytest.mark.parametrize(
    ("body", "url", "item_id"),
    [
        pytest.param(
            BODY + FOOTER,
            "http://finance.eastmoney.com/news/11060,202112082206672930.html",
            "202112082206672930",
            id="two relative lines",
        ),
        pytest.param(
            BODY
            + "\n[返回东财滚动新闻](//finews.withounder.com/emnews/)｜[返回首页](//finews.withounder.com/)",
            "http://finance.eastmoney.com/news/11060,202112082206672930.html",
            "202112082206672930",
            id="one line with ｜",
        ),
        pytest.param(
            BODY + "\n[返回东财滚动新闻](//finews.zning.me/emnews/)\n[返回首页](//finews.zning.me/)",
            "http://finance.eastmoney.com/news/11060,202112082206672930.html",
            "202112082206672930",
            id="two absolute lines",
        ),
        pytest.param(
            BODY,
            "http://finance.eastmoney.com/news/11060,202112082206672930.html",
            "202112082206672930",
            id="no footer",
        ),
        pytest.param(
            "\n中间价报6.3512。\n\n<http://finance.eastmoney.com/a/202112082206999999.html>\n",
            "http://finance.eastmoney.com/a/202112082206999999.html",
            "202112082206999999",
            id="/a/ article url",
        ),
        pytest.param(
            "\n中间价报6.3512。\n\n<http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW2021>",
            "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW2021",
            "NW2021",
            id="infoCode",
        ),
        pytest.param("\n中间价报6.3512。\n\n<>" + FOOTER, "", "202112082206672930", id="empty url"),
        pytest.param("\n中间价报6.3512。\n" + FOOTER, "", "202112082206672930", id="footer without url"),
        pytest.param(
            "\n中间价报6.3512。\n\n<https://example.com/other>",
            "https://example.com/other",
            "202112082206672930",
            id="unknown url: id from the file name",
        ),
    ],
)
def test_source_line_and_footer(body: str, url: str, item_id: str) -> None:
    item = parse_bytes(post(body=body).encode())
    assert (item.url, item.id, item.text) == (url, item_id, "中间价报6.3512。")


@pytest.mark.parametrize(
    ("body", "origin", "text"),
    [
        ('<p>正文。</p><p class="em_media">（文章来源：株洲日报）</p>', "株洲日报", "正文。"),
        ("<p>正文。</p><p>(文章来源:上海<span><a>证券</a></span>报)</p>", "上海证券报", "正文。"),
        ("正文。\n（文章来源： 新华社 ）", "新华社", "正文。"),
        ("正文提到（文章来源：甲）但不是单独一行。", "", "正文提到（文章来源：甲）但不是单独一行。"),
        ("正文。（央视新闻客户端）", "", "正文。（央视新闻客户端）"),
    ],
)
def test_origin(body: str, origin: str, text: str) -> None:
    item = parse_bytes(post(body=body).encode())
    assert (item.origin, item.text) == (origin, text)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        pytest.param(
            "> 摘要一句。\n\n<p>正文。</p>", "摘要一句。\n正文。", id="digest kept as first paragraph"
        ),
        pytest.param(
            "> 正文开头。\n\n<p>正文开头。</p><p>后文</p>", "正文开头。\n后文", id="digest already in text"
        ),
        pytest.param("> 第一行\n>第二行\n\n正文", "第一行\n第二行\n正文", id="several digest lines"),
        pytest.param("> 只有摘要", "只有摘要", id="digest only"),
        pytest.param("第一段\n\n第二段\n", "第一段\n第二段", id="plain paragraphs"),
        pytest.param("A&amp;B 3 < 5", "A&B 3 < 5", id="plain text entities"),
        pytest.param(
            "第一段\n<http://a.example/>\n第二段",
            "第一段\n<http://a.example/>\n第二段",
            id="autolink in the text",
        ),
    ],
)
def test_body_forms(body: str, text: str) -> None:
    assert parse_bytes(post(body=body).encode()).text == text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"", errors.EMPTY, id="empty"),
        pytest.param(b"  \n\n", errors.EMPTY, id="whitespace only"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", errors.BINARY, id="PNG"),
        pytest.param(b"---\nlayout: post\x00\n---\n", errors.BINARY, id="NUL bytes"),
        pytest.param(
            b'---\nlayout: post\ntitle: "\xff\xfe\xfa"\n---\n', errors.UNDECODABLE, id="undecodable"
        ),
        pytest.param(
            b'---\nlayout: post\ntitle: "t"\ndate: 2021-12-08',
            errors.FRONT_MATTER_NOT_CLOSED,
            id="truncated front matter",
        ),
        pytest.param(b"---\n", errors.FRONT_MATTER_NOT_CLOSED, id="only the opening line"),
        pytest.param(
            post(title='""', body="\n\n<>\n" + FOOTER).encode(),
            errors.NO_TITLE_NO_TEXT,
            id="no title and no text",
        ),
        pytest.param(
            post(title='""', body='<p style="display:none">隐藏</p>').encode(),
            errors.NO_TITLE_NO_TEXT,
            id="only hidden text",
        ),
    ],
)
def test_refused(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_bytes(data, "posts/bad.md")
    assert caught.value.reason == reason
    assert caught.value.path == "posts/bad.md"
    assert str(caught.value) == f"posts/bad.md: {reason}"


def test_title_without_text_is_accepted() -> None:
    item = parse_bytes(post(body="\n<>\n" + FOOTER).encode())
    assert (item.title, item.text) == ("人民币中间价", "")


def test_parse_post_requires_front_matter() -> None:
    with pytest.raises(ParseError) as caught:
        parse_post("不是文章", filename="a.md", mtime=MTIME)
    assert caught.value.reason == errors.NO_FRONT_MATTER


@pytest.mark.parametrize(
    ("path", "supported"),
    [
        ("_posts/2021-12-08-1.md", True),
        ("docs/讲话.TXT", True),
        ("a.markdown", True),
        ("category/emnews.html", False),
        ("a.docx", False),
        (".hidden.md", False),
        ("docs/~$讲话.txt", False),
    ],
)
def test_is_supported(path: str, supported: bool) -> None:
    assert is_supported(path) is supported
    assert ".md" in SUPPORTED_SUFFIXES
