"""html_to_text, clean_text and first_sentence: text that search can rely on."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sources.htmltext import cap_depth, clean_text, first_sentence, html_to_text


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param("株<b>洲</b>", "株洲", id="inline joins without separator"),
        pytest.param(
            '<p>据<span class="keytip"><a href="x">霍尼韦尔</a></span><span id="q"></span>官网</p>',
            "据霍尼韦尔官网",
            id="keytip spans",
        ),
        pytest.param("<p>a<strong>b</strong><em>c</em><font>d</font></p>", "abcd", id="strong em font"),
        pytest.param(
            "<p>&lt;蒙特利尔&gt; A&amp;B x&nbsp;y &#x4E2D;&#25991;</p>",
            "<蒙特利尔> A&B x y 中文",
            id="entities",
        ),
        pytest.param("A&amp;B &lt;x&gt;", "A&B <x>", id="entities without tags"),
        pytest.param('<p style="display:none;height:1px;"><br /></p><p>可见</p>', "可见", id="hidden p"),
        pytest.param('<p style="DISPLAY : None">隐藏</p>正文', "正文", id="hidden, any case and spacing"),
        pytest.param('<div style="visibility: hidden">隐藏</div>正文', "正文", id="visibility hidden"),
        pytest.param("<p hidden>隐藏</p><p>正文</p>", "正文", id="hidden attribute"),
        pytest.param(
            "<script>var a = '<p>x</p>';</script><style>p { color: red }</style>正文",
            "正文",
            id="script style",
        ),
        pytest.param(
            "<noscript>请启用</noscript><iframe src=x>框</iframe>正文", "正文", id="noscript iframe"
        ),
        pytest.param("前<!-- EM_StockImg_Start -->中<!-- EM_StockImg_End -->后", "前中后", id="comments"),
        pytest.param(
            '<center><img src="a.jpg" alt="Image"></center><p>图片来源：官网</p>', "图片来源：官网", id="img"
        ),
        pytest.param("一<br>二<br/>三<br />", "一\n二\n三", id="br"),
        pytest.param(
            "<div><div><p>a</p>b</div>c<blockquote>d</blockquote></div>e", "a\nb\nc\nd\ne", id="nested blocks"
        ),
        pytest.param("<h1>标题</h1><ul><li>一</li><li>二</li></ul>", "标题\n一\n二", id="headings and lists"),
        pytest.param("<table><tr><td>a</td><td>b</td></tr><tr><th>c</th></tr></table>", "a b\nc", id="table"),
        pytest.param("<section>甲</section><center>乙</center>", "甲\n乙", id="section center"),
        pytest.param(
            "<p>\u3000\u3000首行缩进 \xa0 内容\u200b文字 </p>", "首行缩进 内容文字", id="ideographic and nbsp"
        ),
        pytest.param("<p>a</p>\n <p>b</p>\n", "a\nb", id="whitespace between blocks"),
        pytest.param(
            "<p>株洲\n日报 Hello\nworld</p>", "株洲日报 Hello world", id="hard wraps inside a paragraph"
        ),
        pytest.param("<p>第一段\n\n第二段</p>", "第一段\n第二段", id="blank line is a paragraph break"),
        pytest.param(
            "<html><head><title>页</title></head><body><p>正文</p></body></html>", "正文", id="document"
        ),
        pytest.param("<p>未闭合<b>粗体", "未闭合粗体", id="unclosed tags"),
        pytest.param("纯文本\n\n  第二行  \n", "纯文本\n第二行", id="plain text keeps lines"),
        pytest.param("利率 <5% 与 a < b 与 a<b", "利率 <5% 与 a < b 与 a<b", id="less-than is not a tag"),
        pytest.param("见 <http://a.example/>", "见 <http://a.example/>", id="autolink is not a tag"),
        pytest.param("<p>利率 <5%</p>", "利率 <5%", id="less-than inside html"),
        pytest.param("<meta charset=utf-8><link rel=x><p>正文</p>", "正文", id="head elements in a fragment"),
        pytest.param("<p></p><div> </div>", "", id="nothing visible"),
        pytest.param("", "", id="empty"),
    ],
)
def test_html_to_text(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  a  \n\n\n b\t c \n", "a\nb c"),
        ("\u3000\u3000全角缩进\u3000", "全角缩进"),
        ("x\xa0\xa0y", "x y"),
        ("零\u200b宽\ufeff", "零宽"),
        ("\n \n", ""),
    ],
)
def test_clean_text(text: str, expected: str) -> None:
    assert clean_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("金融是现代经济的核心。金融活，经济活。", "金融是现代经济的核心", id="full stop"),
        pytest.param("汽车来了！据悉", "汽车来了", id="exclamation"),
        pytest.param("Is it? yes", "Is it", id="ascii question mark"),
        pytest.param("第一行\n第二行。", "第一行", id="line break ends it"),
        pytest.param("没有句号", "没有句号", id="no punctuation"),
        pytest.param("股价6.35元。", "股价6.35元", id="decimal point is not a sentence end"),
        pytest.param("甲" * 30 + "，" + "乙" * 50 + "。", "甲" * 30, id="long: cut at a comma"),
        pytest.param("长" * 100, "长" * 60, id="long without a break: cut at the limit"),
        pytest.param("", "", id="empty"),
    ],
)
def test_first_sentence(text: str, expected: str) -> None:
    assert first_sentence(text) == expected


@given(st.text(alphabet=st.sampled_from(list("<>/ab p&;!-\n\u3000株洲=\"'")), max_size=80))
def test_output_is_always_clean(html: str) -> None:
    text = html_to_text(html)
    for line in text.split("\n") if text else ():
        assert line
        assert line == line.strip()
        assert "  " not in line


# --- hostile shapes: bounded work, no recursion limit ----------------------------------------------


@pytest.mark.parametrize("tag", ["div", "b", "ul", "table", "blockquote", "span"])
def test_deep_nesting_keeps_its_text(tag: str) -> None:
    depth = 10_000  # a recursive walk gave up at about 990
    html = f"<{tag}>" * depth + "深层<b>正文</b>" + f"</{tag}>" * depth + "<p>结尾段落</p>"
    assert html_to_text(html) == "深层正文\n结尾段落"


@pytest.mark.slow
def test_a_hundred_thousand_levels_cost_little() -> None:
    html = "<div>" * 100_000 + "深层正文" + "</div>" * 100_000
    started = time.process_time()
    assert html_to_text(html) == "深层正文"
    assert time.process_time() - started < 3  # 14 s of HTML parsing without the depth cap


def test_depth_cap_keeps_text_and_line_breaks() -> None:
    html = "<div>" * 300 + "<p>甲</p><p>乙</p>丙<b>丁</b><td>戊</td>" + "</div>" * 300
    capped = cap_depth(html, 5)
    assert capped.count("<div>") == 5
    assert html_to_text(capped) == "甲\n乙\n丙丁 戊"


def test_depth_cap_drops_invisible_content_with_its_tag() -> None:
    html = "<div>" * 10 + "<script>alert('x')</script><style>p{}</style>正文" + "</div>" * 10
    assert html_to_text(cap_depth(html, 5)) == "正文"


def test_stray_end_tags_do_not_hide_the_depth() -> None:
    html = "<div></x>" * 1000 + "正文"
    assert cap_depth(html, 50).count("<div>") == 50


def test_unclosed_paragraphs_do_not_count_as_nesting() -> None:
    html = "<p>段落" * 1000
    assert cap_depth(html, 5) == html


@given(
    st.recursive(
        st.text(alphabet="株洲金融 ab&<>", max_size=5),
        lambda inner: st.builds(
            lambda tag, parts: f"<{tag}>{''.join(parts)}</{tag}>",
            st.sampled_from(["p", "div", "b", "span", "li", "td", "h1", "script", "em"]),
            st.lists(inner, max_size=4),
        ),
        max_leaves=30,
    )
)
def test_depth_cap_changes_nothing_within_the_limit(html: str) -> None:
    assert cap_depth(html, 1000) == html
    assert html_to_text(cap_depth(html, 1000)) == html_to_text(html)
