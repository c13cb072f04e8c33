"""The feed benchmark's local server: 500 RSS feeds of real Chinese sentences, with ETag/304.

Served by ``http.server`` in a thread of the benchmark's own process (see :mod:`bench.feeds`).
"""

from __future__ import annotations

import html
import random
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from bench.corpus import Document

ENTRIES_PER_FEED = 20
# A changed feed gains 1–3 entries (its oldest ones drop out, so it keeps 20); now and then it also
# edits one of the entries it keeps, so that the store's "updated" path runs too.
NEW_ENTRIES = (1, 3)
EDIT_SHARE = 0.1
# Publication times: one entry every 37 s from here on, in the order entries are made, so that
# newer entries are newer and no second is crowded (the store numbers items by publication second).
START = datetime(2024, 1, 1, tzinfo=UTC)
ENTRY_GAP_S = 37
# Channel names, so that a feed looks like the newspapers and sites the office really follows.
CHANNELS = ("株洲日报", "赣南日报", "湖南日报", "经济日报", "证券时报", "金融时报", "新华网", "第一财经")


# --- the feeds ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Served:
    """What the server answers for one feed now: the body and its ETag (replaced whole, never
    mutated, so that a server thread always sees one consistent pair)."""

    etag: str
    body: bytes


class EntryMaker:
    """Feed entries made of real sentences, each with a unique link (its guid) and a later date."""

    def __init__(self, documents: Sequence[Document], rng: random.Random) -> None:
        if not documents:
            raise ValueError("no source sentences")
        self.documents = documents
        self.rng = rng
        self.made = 0

    def _run(self) -> list[str]:
        """Consecutive sentences of one document: coherent text, as a real summary is."""
        document = self.rng.choice(self.documents)
        start = self.rng.randrange(len(document.sentences))
        return list(document.sentences[start : start + self.rng.randint(1, 3)])

    def description(self) -> str:
        """One to three paragraphs, as HTML (escaped once more into the XML by :func:`render_item`)."""
        return "".join(
            f"<p>{html.escape(''.join(self._run()), quote=False)}</p>" for _ in range(self.rng.randint(1, 3))
        )

    def title(self) -> str:
        """A real headline half the time, else a sentence cut to headline length."""
        document = self.rng.choice(self.documents)
        if document.title and self.rng.random() < 0.5:
            return document.title
        sentence = self.rng.choice(document.sentences).rstrip("。！？")
        return sentence[:40]

    def item(self, feed: str) -> str:
        """A new entry of ``feed``, rendered."""
        serial = self.made
        self.made += 1
        published = START + timedelta(seconds=serial * ENTRY_GAP_S)
        link = f"http://{feed}.news.example.test/{published:%Y/%m/%d}/{serial:07d}.html"
        return render_item(self.title(), link, self.description(), published)


def render_item(title: str, link: str, description: str, published: datetime) -> str:
    """One RSS 2.0 ``<item>``: the guid is the link, as most Chinese news sites publish it."""
    return (
        f"<item><title>{html.escape(title, quote=False)}</title><link>{link}</link>"
        f'<guid isPermaLink="true">{link}</guid>'
        f"<description>{html.escape(description, quote=False)}</description>"
        f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate></item>"
    )


class FeedSet:
    """The feeds the server serves, by path (``/f001.xml``), and how they change between polls.

    Only the benchmark's own thread changes them; server threads read :attr:`served` (a dict whose
    values are replaced, never mutated).
    """

    def __init__(self, count: int, maker: EntryMaker, rng: random.Random) -> None:
        self.maker = maker
        self.rng = rng
        self.names = [f"f{n:03d}" for n in range(1, count + 1)]
        self.items: dict[str, deque[str]] = {}
        self.versions: dict[str, int] = {}
        self.served: dict[str, Served] = {}
        for name in self.names:
            self.items[name] = deque((maker.item(name) for _ in range(ENTRIES_PER_FEED)), ENTRIES_PER_FEED)
            self.versions[name] = 1
            self._render(name)

    def _render(self, name: str) -> None:
        number = int(name[1:])
        channel = f"{CHANNELS[number % len(CHANNELS)]}·频道{number}"
        built = format_datetime(START + timedelta(seconds=self.maker.made * ENTRY_GAP_S), usegmt=True)
        document = (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>{channel}</title><link>http://{name}.news.example.test/</link>"
            f"<description>{channel}最新新闻</description><language>zh-cn</language>"
            f"<lastBuildDate>{built}</lastBuildDate>{''.join(self.items[name])}</channel></rss>"
        )
        self.served[f"/{name}.xml"] = Served(f'"{name}-v{self.versions[name]}"', document.encode())

    def advance(self, name: str) -> None:
        """New entries at the end (the oldest drop out), sometimes an edited one; a new ETag."""
        entries = self.items[name]
        if self.rng.random() < EDIT_SHARE:
            # An edited entry keeps its link (its id) and gets one more paragraph: "updated".
            at = self.rng.randrange(len(entries))
            entries[at] = entries[at].replace(
                "</description>", html.escape(self.maker.description(), quote=False) + "</description>"
            )
        for _ in range(self.rng.randint(*NEW_ENTRIES)):
            entries.append(self.maker.item(name))
        self.versions[name] += 1
        self._render(name)

    def advance_share(self, names: Sequence[str], fraction: float) -> list[str]:
        """Change ``fraction`` of ``names`` (chosen at random); the names changed."""
        changed = self.rng.sample(list(names), round(len(names) * fraction))
        for name in changed:
            self.advance(name)
        return changed

    def body_bytes(self) -> int:
        """All feeds' bodies together."""
        return sum(len(s.body) for s in self.served.values())


# --- the server -----------------------------------------------------------------------------------


@dataclass(slots=True)
class ServerStats:
    """What the server answered, and the CPU its threads spent (they share the GIL with the poller)."""

    ok: int = 0
    not_modified: int = 0
    not_found: int = 0
    bytes_sent: int = 0
    cpu_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self) -> dict[str, Any]:
        """The counts so far, as plain values."""
        with self.lock:
            return {
                "ok": self.ok,
                "not_modified": self.not_modified,
                "not_found": self.not_found,
                "bytes_sent": self.bytes_sent,
                "cpu_s": self.cpu_s,
            }


class FeedServer(ThreadingHTTPServer):
    """The feeds over HTTP/1.1, a thread per connection."""

    # The default backlog of 5 would drop connections when hundreds of polls connect at once (the
    # client then retries after a second): a real server's backlog is in the hundreds.
    request_queue_size = 1024
    daemon_threads = True
    # Idle keep-alive connections end with the client (or the handler's timeout): closing the server
    # does not wait for them.
    block_on_close = False

    def __init__(self, feeds: FeedSet) -> None:
        self.feeds = feeds
        self.stats = ServerStats()
        super().__init__(("127.0.0.1", 0), FeedHandler)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.server_address[1]}"


class FeedHandler(BaseHTTPRequestHandler):
    """``GET /fNNN.xml``: 200 with the feed and its ETag, or 304 when ``If-None-Match`` matches."""

    protocol_version = "HTTP/1.1"  # keep-alive, as any real server, so that httpx reuses connections
    # Headers and body go out in two writes: with Nagle's algorithm the body would wait for the
    # client's delayed ACK (40 ms on Linux), which is the server's slowness, not the poller's.
    disable_nagle_algorithm = True
    timeout = 60

    def handle(self) -> None:
        """Serve the connection, adding the thread's CPU time to the server's."""
        started = time.thread_time()
        try:
            super().handle()
        finally:
            stats = cast(FeedServer, self.server).stats
            with stats.lock:
                stats.cpu_s += time.thread_time() - started

    def do_GET(self) -> None:
        """Answer one feed request."""
        server = cast(FeedServer, self.server)
        served = server.feeds.served.get(self.path)
        stats = server.stats
        if served is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            with stats.lock:
                stats.not_found += 1
            return
        wanted = {tag.strip() for tag in self.headers.get("If-None-Match", "").split(",")}
        if served.etag in wanted or "*" in wanted:
            self.send_response(304)
            self.send_header("ETag", served.etag)
            self.end_headers()
            with stats.lock:
                stats.not_modified += 1
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(served.body)))
        self.send_header("ETag", served.etag)
        self.end_headers()
        self.wfile.write(served.body)
        with stats.lock:
            stats.ok += 1
            stats.bytes_sent += len(served.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a line per request would swamp the progress log."""
