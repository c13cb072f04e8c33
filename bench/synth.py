"""Synthetic finews posts, deterministic for a given seed and count, written as real post files.

A post is what the finews site publishes (see ``shared/corpus/finews/MANIFEST.md``): front matter
(quoted title, ``date`` with ``+0800``, ``categories`` slug, ``tags`` source name), an HTML body of
``<p>`` paragraphs, an eastmoney source line and a navigation footer, so that the import exercises
the same parsing as real data. Bodies are 300–3,000 characters of real sentences: each paragraph is
a run of consecutive sentences of one real document.
"""

from __future__ import annotations

import html
import itertools
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.corpus import Document

MIN_BODY_CHARS = 300
MAX_BODY_CHARS = 3000
TITLE_MAX_CHARS = 40
# Publication times spread over about two years. A finews checkout sorted by file name (date, then
# id) is nearly in publication order, but not quite: in the corpus sample, 19 of the 100 posts of
# `_posts/` and 8 of the 55 of `old_post/` are older than the one named before them, mostly by a few
# minutes (ids are not handed out in publication order). Feeds, too, interleave their sources. The
# benchmark writes the same posts in three orders (ORDERS): the order of the file names follows
# publication time exactly, as real names do (1 in 5 a little late), or not at all within each day.
# (Out of order is where an import can slow down: the index's rowid follows publication time, and
# FTS5 flushes its pending terms whenever a rowid goes backwards.)
ORDERED, INVERTED, SHUFFLED = "ordered", "inverted", "shuffled"
ORDERS = (ORDERED, INVERTED, SHUFFLED)
# "inverted": this share of the posts arrive late, after a few (1 + exponential, mean 3) later ones;
# some land among posts of their own second or next to another late one, so 0.24 gives 18-19 % of
# posts older than the one before them at 20k-100k posts (the corpus sample: 27 of 155, 17 %).
LATE_SHARE = 0.24
LATE_MEAN_POSTS = 3.0
START = datetime(2021, 1, 1, tzinfo=timezone(timedelta(hours=8)))
SPAN_SECONDS = 730 * 24 * 3600

# A made-up word, absent from every source sentence, put into about one post in 10,000: the "rare
# word" of the benchmark, whose exact number of posts is known.
RARE_WORD = "澎湃动能指数"
RARE_SENTENCE = f"据测算，本季度区域{RARE_WORD}较上季度回升，市场主体活力持续增强。"
RARE_SHARE = 0.0001

# (categories slug, tags name, weight). Eastmoney's rolling news dominates the real site; the others
# are a plausible spread of the ~2,000 newspapers and sites it republishes (slugs as finews spells
# them, including a capitalised one).
SOURCES: tuple[tuple[str, str, float], ...] = (
    ("emnews", "东财滚动新闻", 40.0),
    ("zhuzhouribao", "株洲日报新闻", 2.0),
    ("gannanribao", "赣南日报新闻", 2.0),
    ("hunanribao", "湖南日报新闻", 2.0),
    ("changshawanbao", "长沙晚报新闻", 2.0),
    ("xiangtanribao", "湘潭日报新闻", 2.0),
    ("hengyangribao", "衡阳日报新闻", 2.0),
    ("jingjiribao", "经济日报新闻", 2.0),
    ("renminribao", "人民日报新闻", 2.0),
    ("guangmingribao", "光明日报新闻", 2.0),
    ("zhongguozhengquanbao", "中国证券报新闻", 2.0),
    ("shanghaizhengquanbao", "上海证券报新闻", 2.0),
    ("zhengquanshibao", "证券时报新闻", 2.0),
    ("zhengquanribao", "证券日报新闻", 2.0),
    ("jingjicankaobao", "经济参考报新闻", 2.0),
    ("diyicaijingribao", "第一财经日报新闻", 2.0),
    ("21shijijingjibaodao", "21世纪经济报道新闻", 2.0),
    ("jinrongshibao", "金融时报新闻", 2.0),
    ("xinhuawang", "新华网新闻", 2.0),
    ("zhongguowang", "中国网新闻", 2.0),
    ("nanfangribao", "南方日报新闻", 2.0),
    ("dazhongribao", "大众日报新闻", 2.0),
    ("zhejiangribao", "浙江日报新闻", 2.0),
    ("sichuanribao", "四川日报新闻", 2.0),
    ("hubeiribao", "湖北日报新闻", 2.0),
    ("jiangxiribao", "江西日报新闻", 2.0),
    ("ganzhouwanbao", "赣州晚报新闻", 2.0),
    ("xinjingbao", "新京报新闻", 2.0),
    ("qianjiangwanbao", "钱江晚报新闻", 2.0),
    ("TechWeb", "TechWeb新闻", 2.0),
)
_NAMES = [(slug, name) for slug, name, _ in SOURCES]
_WEIGHTS = [weight for _, _, weight in SOURCES]


@dataclass(frozen=True, slots=True)
class Post:
    """One synthetic post: its file name, its file content and how long its body text is."""

    filename: str
    content: str
    body_chars: int


@dataclass(frozen=True, slots=True)
class SynthStats:
    """What :func:`write_posts` wrote; ``inversions``: posts older than the one named before them."""

    posts: int
    bytes: int
    median_body_chars: float
    rare_posts: int
    order: str = ORDERED
    inversions: int = 0

    @property
    def inversion_rate(self) -> float:
        """The share of posts older than the one before them, in file-name order."""
        return self.inversions / max(1, self.posts - 1)


def day_order(count: int, order: str, rng: random.Random) -> list[int]:
    """In which order a day's ``count`` posts (numbered in publication order) are named: element k
    is the post whose time the k-th file of the day gets."""
    positions = list(range(count))
    if order == ORDERED:
        return positions
    if order == SHUFFLED:
        rng.shuffle(positions)
        return positions
    if order != INVERTED:
        raise ValueError(f"unknown order {order!r} (expected one of {', '.join(ORDERS)})")
    # A late post is named after the few posts published after it: it is older than the one before.
    keys = [
        k + (1.5 + int(rng.expovariate(1 / LATE_MEAN_POSTS)) if rng.random() < LATE_SHARE else 0.0)
        for k in positions
    ]
    return sorted(positions, key=keys.__getitem__)


def publication_times(count: int, seed: int) -> list[datetime]:
    """``count`` publication times over about two years (a Poisson stream of news), in order."""
    clock = random.Random(seed * 104_729 + 3)  # its own stream: the posts' text does not depend on it
    elapsed = 0.0
    times = []
    for _ in range(count):
        elapsed += clock.expovariate(count / SPAN_SECONDS)
        times.append(START + timedelta(seconds=int(elapsed)))
    return times


def named_times(times: list[datetime], order: str, seed: int) -> list[datetime]:
    """The publication times in the order of the files' names: ``times`` (sorted) rearranged within
    each day as ``order`` says. The posts are the same whatever the order; which post is published
    when, within its day, is what changes."""
    rng = random.Random(seed * 7_727 + ORDERS.index(order) if order in ORDERS else seed)
    result: list[datetime] = []
    start = 0
    while start < len(times):
        end = start
        while end < len(times) and times[end].date() == times[start].date():
            end += 1
        result += [times[start + k] for k in day_order(end - start, order, rng)]
        start = end
    return result


def rare_indices(count: int, seed: int) -> set[int]:
    """Which of ``count`` posts carry the rare word: about one in 10,000, at least one."""
    k = max(1, round(count * RARE_SHARE))
    # A generator of its own, so that choosing them does not shift the posts' random stream.
    return set(random.Random(seed * 7919 + 1).sample(range(count), k))


def _title(sentence: str) -> str:
    """A headline made of a sentence: no final stop, cut at a comma when it is too long."""
    title = sentence.rstrip("。！？")
    if len(title) > TITLE_MAX_CHARS:
        cut = title.rfind("，", 0, TITLE_MAX_CHARS)
        title = title[:cut] if cut >= 8 else title[:TITLE_MAX_CHARS]
    # Front-matter titles are never escaped: an ASCII double quote inside is legal but pointless.
    return title.replace('"', "“")


def _paragraphs(rng: random.Random, documents: Sequence[Document], max_chars: int) -> list[str]:
    """Paragraphs of real sentences, 300 to ``max_chars`` characters in all (log-uniform target)."""
    target = int(MIN_BODY_CHARS * 10 ** rng.random())  # 300…3,000, median ≈ 950
    paragraphs: list[str] = []
    length = 0
    while length < target:
        document = rng.choice(documents)
        start = rng.randrange(len(document.sentences))
        run = document.sentences[start : start + rng.randint(1, 4)]
        kept: list[str] = []
        for sentence in run:
            # Stopping before the maximum is always past the minimum: a sentence is < 300 chars.
            if length + len(sentence) > max_chars:
                break
            kept.append(sentence)
            length += len(sentence)
        if kept:
            paragraphs.append("".join(kept))
        if len(kept) < len(run) and length >= MIN_BODY_CHARS:
            break
    return paragraphs


def make_post(
    rng: random.Random, index: int, published: datetime, documents: Sequence[Document], *, rare: bool
) -> Post:
    """Post number ``index`` (which makes its id unique), with the rare word if ``rare``."""
    slug, name = rng.choices(_NAMES, _WEIGHTS)[0]
    # eastmoney-like 18-digit id: the date, then a number unique to this post.
    post_id = f"{published:%Y%m%d}{2_200_000_000 + index:010d}"
    budget = MAX_BODY_CHARS - (len(RARE_SENTENCE) if rare else 0)
    paragraphs = _paragraphs(rng, documents, budget)
    if rare:
        at = rng.randrange(len(paragraphs))
        paragraphs[at] = paragraphs[at] + RARE_SENTENCE
    first = rng.choice(documents)
    # Half the titles are real headlines, half a sentence of the body (as in posts without a title).
    title = _title(first.title if first.title and rng.random() < 0.5 else rng.choice(paragraphs))
    body = "\n ".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)
    if slug != "emnews":
        # Republished newspapers name the original, as real finews posts do.
        body += f'<p class="em_media">（文章来源：{name.removesuffix("新闻")}）</p>'
    content = (
        "---\n"
        "layout: post\n"
        f'title: "{title}"\n'
        f"date: {published:%Y-%m-%d %H:%M:%S} +0800\n"
        f"categories: {slug}\n"
        f"tags: {name}\n"
        "---\n"
        f"{body}\n"
        "\n"
        f"<http://finance.eastmoney.com/news/1350,{post_id}.html>\n"
        "\n"
        f"[返回{name}](../{slug}/)\n"
    )
    return Post(f"{published:%Y-%m-%d}-{post_id}.md", content, sum(len(p) for p in paragraphs))


def write_posts(
    folder: Path,
    count: int,
    documents: Sequence[Document],
    *,
    seed: int,
    order: str = ORDERED,
    progress: Callable[[int], None] | None = None,
) -> SynthStats:
    """Write ``count`` posts into ``folder/_posts`` (flat, as in a finews checkout), their times
    arranged within each day as ``order`` says (:data:`ORDERS`). For one seed and count, every
    order writes the same posts (texts, ids, file names); only their times within a day differ."""
    if not documents:
        raise ValueError("no source sentences")
    posts_dir = folder / "_posts"
    posts_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    rare = rare_indices(count, seed)
    total_bytes = 0
    body_chars: list[int] = []
    times = named_times(publication_times(count, seed), order, seed)
    inversions = sum(1 for before, after in itertools.pairwise(times) if after < before)
    for index, published in enumerate(times):
        post = make_post(rng, index, published, documents, rare=index in rare)
        data = post.content.encode()
        (posts_dir / post.filename).write_bytes(data)
        total_bytes += len(data)
        body_chars.append(post.body_chars)
        if progress is not None and (index + 1) % 10_000 == 0:
            progress(index + 1)
    return SynthStats(count, total_bytes, statistics.median(body_chars), len(rare), order, inversions)
