"""What the product makes of real feeds' faults: ``python -m bench.feed_faults [--json PATH]``.

Serves every fixture of :mod:`tests.helpers.feed_faults` (and a slow-drip response) from a local
HTTP server (standard library, a background thread on 127.0.0.1), polls each source once with the
real :class:`~bot.ingest.poller.Poller` into a fresh database, one source after another so that each
is timed alone, and counts per fault: the entries a correct reading stores, the entries stored right
(by the source that brought them: an item overwritten by another feed does not count), the error
line, the warning (what was repaired), tracebacks logged, the longest stored title, and seconds.

It uses only what every version of the product has (config, poller, store), so the same command run
in a checkout of an earlier commit (with this file and the fixtures copied in) measures "before".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from bot.config import parse_config
from bot.ingest.poller import Poller
from bot.store import Store
from tests.helpers.feed_faults import NEWS, FaultyFeed, all_faults, rss_document, rss_item

# The slow drip: a whole, valid feed sent in small pieces for DRIP_SECONDS; the source's timeout is
# DRIP_TIMEOUT, so a product that bounds the whole download by it gives up after ~DRIP_TIMEOUT s.
DRIP_SECONDS = 8.0
DRIP_TIMEOUT = 2.0
DRIP_BODY = rss_document(rss_item("n1", *NEWS[0])).encode()


@dataclass
class Outcome:
    """One fault's figures."""

    fault: str
    expected: int  # entries a correct reading stores; -1: the body must be refused
    correct: int  # entries stored right; for a body to refuse, 1 when refused with nothing kept
    kept: int  # items the source brought in that are in the database after all polls
    error: str
    warning: str
    tracebacks: int
    longest_title: int
    seconds: float


class _Handler(BaseHTTPRequestHandler):
    served: ClassVar[dict[str, FaultyFeed]] = {}

    def do_GET(self) -> None:
        if self.path == "/drip.xml":
            self._drip()
            return
        feed = self.served.get(self.path)
        if feed is None:
            self.send_error(404)
            return
        self.send_response(200)
        if feed.content_type:
            self.send_header("Content-Type", feed.content_type)
        self.send_header("Content-Length", str(len(feed.body)))
        self.end_headers()
        self.wfile.write(feed.body)

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(DRIP_BODY)))
        self.end_headers()
        pieces = 16
        size = -(-len(DRIP_BODY) // pieces)
        try:
            for start in range(0, len(DRIP_BODY), size):
                self.wfile.write(DRIP_BODY[start : start + size])
                self.wfile.flush()
                time.sleep(DRIP_SECONDS / pieces)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: what a bounded download does

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Tracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.count += 1


def _correct(feed: FaultyFeed, rows: list[tuple[str, str]]) -> int:
    """How many expected entries are stored right: title (or its start) and a phrase of the text."""
    found = 0
    for want in feed.entries:
        if any(
            (title.startswith(want.title) if feed.title_prefix_only else title == want.title)
            and want.phrase in text
            for title, text in rows
        ):
            found += 1
    return found


def measure(workdir: Path) -> list[Outcome]:
    """Serve, poll one by one, count."""
    faults = all_faults()
    _Handler.served = {f"/{feed.name}.xml": feed for feed in faults}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    sources: list[dict[str, Any]] = [
        {"name": feed.name, "kind": "feed", "url": f"{base}/{feed.name}.xml", "every": "5m"}
        for feed in faults
    ]
    sources.append({"name": "slow-drip", "kind": "feed", "url": f"{base}/drip.xml", "timeout": DRIP_TIMEOUT})
    config = parse_config(
        {"fetch": {"timeout": 20}, "sources": sources},
        path=workdir / "config.toml",
        environ={"FINEWS_DB": str(workdir / "finews.db")},
    )
    tracebacks = _Tracebacks()
    logging.getLogger().addHandler(tracebacks)
    outcomes: list[Outcome] = []
    try:
        poller = Poller(config)
        for source in config.sources:
            before = tracebacks.count
            started = time.perf_counter()
            report = asyncio.run(poller.poll(source, force=True))
            seconds = time.perf_counter() - started
            outcomes.append(
                Outcome(
                    fault=source.name,
                    expected=0,
                    correct=0,
                    kept=0,
                    error=report.error,
                    warning=str(getattr(report, "warning", "")),
                    tracebacks=tracebacks.count - before,
                    longest_title=0,
                    seconds=round(seconds, 2),
                )
            )
        asyncio.run(poller.aclose())
    finally:
        logging.getLogger().removeHandler(tracebacks)
        server.shutdown()
    by_name = {feed.name: feed for feed in faults}
    with Store(config.database) as store:
        items = list(store.all_items())
    for outcome in outcomes:
        rows = [(s.item.title, s.item.text) for s in items if s.via == outcome.fault]
        outcome.kept = len(rows)
        feed = by_name.get(outcome.fault)
        if feed is None:  # the slow drip: one entry, whatever the product does with it
            outcome.expected = 1
            outcome.correct = sum(1 for title, _ in rows if title == NEWS[0][0])
        elif feed.error:
            outcome.expected = -1
            outcome.correct = int(feed.error in outcome.error and not rows)
        else:
            outcome.expected = len(feed.entries)
            outcome.correct = _correct(feed, rows)
        outcome.longest_title = max((len(title) for title, _ in rows), default=0)
    return outcomes


def format_table(outcomes: list[Outcome]) -> str:
    """A Markdown table, one fault a row."""
    lines = [
        "| fault | stored right / expected | kept | error | warning | tracebacks | longest title | s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        error = o.error[:70] + ("…" if len(o.error) > 70 else "")
        warning = o.warning[:70] + ("…" if len(o.warning) > 70 else "")
        right = (
            f"{o.correct} / {o.expected}" if o.expected >= 0 else ("refused" if o.correct else "NOT refused")
        )
        lines.append(
            f"| {o.fault} | {right} | {o.kept} | {error} | {warning} | {o.tracebacks} "
            f"| {o.longest_title:,} | {o.seconds:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print the table (and write JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        outcomes = measure(Path(tmp))
    print(format_table(outcomes))
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
