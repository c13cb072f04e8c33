"""Reply time of the running service under load: ``python -m bench.service_load [--posts 10000]``.

The real service (``python -m bot run``) answers Telegram commands from the local Telegram Bot API
emulator of the end-to-end tests (``tests/e2e/emulator``, long polling as with Telegram), while it

- imports ``--posts`` new posts (default 10,000) that its folder source finds at its first poll,
  as ``finews-bot run`` does (parsing workers, batches of the importer), and
- builds, writes and sends the digest of a day of 5,000 items for 200 Telegram subscriptions of
  3-10 of 50 topics (the day, the topics and the subscriptions of :mod:`bench.digests`), falling
  due a few seconds after start-up (``FINEWS_FAKE_NOW``, as the end-to-end tests do).

A client acting as users sends ``/latest …`` and ``/topic …`` in turn, each in a private chat of its
own, waits for the answer and sends the next one after a short pause; a reply's time runs from the
user's message reaching the emulator to the bot's ``sendMessage`` reaching it (both on this
machine's clock). Printed: p50, p95 and the slowest during the load and, for comparison, on the idle
service after it; the load's own figures (import, digest, messages sent) and the memory of the
service's processes. Target (issue #15): p95 ≤ 300 ms under load.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import tomli_w

from bench.corpus import CORPUS, load_documents, source_files
from bench.digests import DAY, day_items, make_topics
from bench.import_run import TreeWatch
from bench.measure import percentile
from bench.runtime import log, save_json
from bench.synth import INVERTED, RARE_WORD, write_posts
from bot.store import Store
from tests.e2e.bot_process import BotProcess, query
from tests.e2e.emulator import EMULATOR_DIR, Emulator

TARGET_P95_MS = 300.0
SUBSCRIPTIONS = 200
TOPICS = 50
DAY_ITEMS = 5_000
# The digest falls due this long after the process starts: while the first poll imports.
LEAD = timedelta(seconds=8)
QUERIES = ("/latest 株洲", "/topic 上市", "/latest 金融 上市", "/topic 普惠金融", "/latest 高质量发展")
PAUSE = 0.15  # seconds between a reply and the next question
IDLE_QUERIES = 30
USER_BASE = 880_000  # private chats of the client's users: one per question
TOKEN = "7200000001:AAFinewsBenchServiceLoadToken0001"


@dataclass(slots=True)
class Sample:
    """One question: what was asked, when, in which chat, and its reply time (ms; None: no reply)."""

    text: str
    chat: int
    sent: float  # epoch seconds
    loaded: bool  # asked while the load was on
    reply_ms: float | None = None


@dataclass(slots=True)
class LoadResult:
    """The samples and what the service did meanwhile."""

    posts: int
    samples: list[Sample] = field(default_factory=list)
    import_seconds: float = 0.0
    digest_queued_seconds: float = 0.0  # from start-up until every subscription's digest was queued
    sent_seconds: float = 0.0  # … until the outbox was empty
    load_seconds: float = 0.0
    messages_sent: int = 0
    peak_kib: dict[str, int] = field(default_factory=dict)  # "pid command" → peak RSS

    def latencies(self, loaded: bool) -> list[float]:
        """Reply times in ms of the questions asked under load (or on the idle service)."""
        return [s.reply_ms for s in self.samples if s.loaded is loaded and s.reply_ms is not None]

    def missing(self) -> int:
        """Questions that got no reply."""
        return sum(1 for s in self.samples if s.reply_ms is None)

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``."""
        loaded, idle = self.latencies(True), self.latencies(False)
        return {
            "posts": self.posts,
            "subscriptions": SUBSCRIPTIONS,
            "topics": TOPICS,
            "day_items": DAY_ITEMS,
            "import_seconds": self.import_seconds,
            "digest_queued_seconds": self.digest_queued_seconds,
            "sent_seconds": self.sent_seconds,
            "load_seconds": self.load_seconds,
            "messages_sent": self.messages_sent,
            "loaded": _stats(loaded),
            "idle": _stats(idle),
            "missing": self.missing(),
            "target_p95_ms": TARGET_P95_MS,
            "peak_rss_kib": self.peak_kib,
            "samples": [
                {"text": s.text, "loaded": s.loaded, "reply_ms": s.reply_ms, "sent": s.sent}
                for s in self.samples
            ],
        }


def _stats(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": percentile(values, 0.5),
        "p95": percentile(values, 0.95),
        "max": max(values),
    }


def emulator_available() -> str:
    """Why the emulator cannot run here, or "" when it can (installing its packages if needed)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are needed for the Telegram emulator"
    installed = EMULATOR_DIR / "node_modules" / "telegram-test-api" / "package.json"
    if not installed.is_file():
        log("installing the Telegram emulator's packages (npm ci)")
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=EMULATOR_DIR, capture_output=True, text=True
        )
        if done.returncode != 0:
            return f"npm ci failed: {done.stderr[-300:]}"
    return ""


def write_config(folder: Path, incoming: Path, topics: Sequence[Any], seed: int) -> Path:
    """The service's config: the incoming folder, the 50 topics, 200 subscriptions at 08:30."""
    rng = random.Random(seed)
    names = [t.name for t in topics]
    data: dict[str, Any] = {
        "timezone": "Asia/Shanghai",
        "sources": [{"name": "incoming", "kind": "folder", "path": str(incoming), "every": "5s"}],
        "digest": {"check_every": "1s", "grace": "6h"},
        # Long polling, as with Telegram: an update is handed to the bot as soon as it arrives.
        "telegram": {"poll_interval": 0.0, "poll_timeout": 10, "admins": [1001]},
        "topics": {
            t.name: {"keywords": list(t.keywords), "not_in": list(t.not_in), "exclude": list(t.exclude)}
            for t in topics
        },
        "subscriptions": [
            {"chat": str(-1_000_000 - n), "topics": rng.sample(names, rng.randint(3, 10)), "time": "08:30"}
            for n in range(SUBSCRIPTIONS)
        ],
    }
    path = folder / "config.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def _service_env(folder: Path, tg: Emulator, start: datetime) -> dict[str, str]:
    return {
        "FINEWS_TELEGRAM_TOKEN": tg.token,
        "FINEWS_TELEGRAM_API_URL": tg.base_url,
        "FINEWS_FAKE_NOW": start.isoformat(),
        "PYTHONDONTWRITEBYTECODE": "",
    }


def _count(database: Path, sql: str) -> int:
    try:
        return int(query(database, sql)[0][0])
    except Exception:  # the database being created or migrated: not yet
        return 0


class Client:
    """Users asking questions one after the other, each in a private chat of its own."""

    def __init__(self, tg: Emulator) -> None:
        self.tg = tg
        self.samples: list[Sample] = []
        self._next_chat = USER_BASE

    def ask(self, text: str, loaded: bool, timeout: float = 60.0) -> None:
        """Send one question and wait for its answer (its time is read from the emulator later)."""
        self._next_chat += 1
        chat = self._next_chat
        sample = Sample(text, chat, time.time(), loaded)
        self.tg.send_command(chat, chat, text, first_name="bench")
        self.samples.append(sample)
        deadline = time.monotonic() + timeout
        while not self.tg.bot_messages(chat):
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)

    def settle(self) -> None:
        """Each question's reply time: from its sending to the bot's first sendMessage to its chat."""
        first: dict[int, float] = {}
        for call in self.tg.calls("sendMessage"):
            chat = int(call["params"].get("chat_id", 0))
            if chat > USER_BASE and chat not in first:
                first[chat] = float(call["time"])
        for sample in self.samples:
            if sample.chat in first:
                sample.reply_ms = (first[sample.chat] - sample.sent) * 1000


def measure_service(
    posts: int, documents: Sequence[Any], *, seed: int, tmp_root: Path | None = None
) -> LoadResult:
    """Prepare the database and the folder, start the emulator and the service, ask under load."""
    tmp = Path(tempfile.mkdtemp(prefix="finews-bench-service-", dir=tmp_root))
    result = LoadResult(posts)
    emulator: Emulator | None = None
    bot: BotProcess | None = None
    try:
        folder, incoming = tmp / "service", tmp / "incoming"
        folder.mkdir()
        log(f"service: a day of {DAY_ITEMS:,} items, {TOPICS} topics, {SUBSCRIPTIONS} subscriptions")
        items = day_items(DAY_ITEMS, seed)
        topics = make_topics(TOPICS, items, seed)
        config = write_config(folder, incoming, topics, seed)
        with Store(folder / "finews.db") as store, store.transaction():
            for item in items:
                store.upsert(item, via="bench")
        log(f"service: {posts:,} new posts in {incoming}")
        write_posts(incoming, posts, documents, seed=seed, order=INVERTED)

        emulator = Emulator.start(tmp / "emulator.log", token=TOKEN)
        start = (DAY + timedelta(days=1, hours=8, minutes=30)) - LEAD
        bot = BotProcess(folder, config, telegram=emulator, env=_service_env(folder, emulator, start))
        bot.env.pop("PYTHONDONTWRITEBYTECODE", None)
        began = time.time()
        bot.start()
        assert bot.process is not None
        watch = TreeWatch(bot.process.pid)
        stop_watch = threading.Event()

        def watch_memory() -> None:
            while not stop_watch.wait(0.2):
                watch.sample()

        watcher = threading.Thread(target=watch_memory, daemon=True)
        watcher.start()
        bot.wait_polling(timeout=60)
        log("service: polling; asking under load")
        database = folder / "finews.db"
        client = Client(emulator)
        asked = 0
        while True:
            elapsed = time.time() - began
            imported = _count(database, "SELECT count(*) FROM items WHERE via = 'incoming'")
            if imported >= posts and not result.import_seconds:
                result.import_seconds = elapsed
            queued = _count(database, "SELECT count(*) FROM deliveries")
            if queued >= SUBSCRIPTIONS and not result.digest_queued_seconds:
                result.digest_queued_seconds = elapsed
            pending = _count(database, "SELECT count(*) FROM outbox WHERE status = 'pending'")
            if result.digest_queued_seconds and not pending and not result.sent_seconds:
                result.sent_seconds = elapsed
            if result.import_seconds and result.sent_seconds:
                break
            if elapsed > 600:
                raise RuntimeError(f"the load did not end in 10 minutes:\n{bot.output[-2000:]}")
            client.ask(QUERIES[asked % len(QUERIES)], loaded=True)
            asked += 1
            time.sleep(PAUSE)
        result.load_seconds = time.time() - began
        log(f"service: load over after {result.load_seconds:.1f} s; asking the idle service")
        for n in range(IDLE_QUERIES):
            client.ask(QUERIES[n % len(QUERIES)], loaded=False)
            time.sleep(PAUSE)
        client.settle()
        result.samples = client.samples
        result.messages_sent = _count(database, "SELECT count(*) FROM outbox WHERE status = 'sent'")
        stop_watch.set()
        watcher.join()
        result.peak_kib = {
            f"{pid} {watch.commands.get(pid, '')[:80]}": kib for pid, kib in watch.peaks_kib.items()
        }
        bot.stop(timeout=30)
        if "Traceback" in bot.output:
            log("service: a traceback in the service's output:\n" + bot.output[-3000:])
        return result
    finally:
        if bot is not None:
            bot.kill()
        if emulator is not None:
            emulator.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _helpers(peak_kib: dict[str, int]) -> str:
    """What the service's other processes were, counted by kind from their command lines."""
    kinds: dict[str, int] = {}
    for label in list(peak_kib)[1:] if peak_kib else []:
        if "resource_tracker" in label:
            kind = "resource tracker"
        elif "forkserver" in label:  # the server and the workers it forks share its command line
            kind = "forkserver and reprint worker"
        elif "spawn" in label:
            kind = "parsing worker"
        else:
            kind = "other"
        kinds[kind] = kinds.get(kind, 0) + 1
    return ", ".join(f"{kind} ×{count}" for kind, count in kinds.items())


def format_service(result: LoadResult) -> str:
    """Reply times under load and idle, the load's own figures, memory, and the target."""
    loaded, idle = _stats(result.latencies(True)), _stats(result.latencies(False))

    def line(name: str, stats: dict[str, float | int]) -> str:
        if not stats["n"]:
            return f"  {name}: no replies"
        return (
            f"  {name}: {stats['n']} replies, p50 {stats['p50']:.0f} ms, p95 {stats['p95']:.0f} ms,"
            f" slowest {stats['max']:.0f} ms"
        )

    total_mib = sum(result.peak_kib.values()) / 1024
    service_mib = max(result.peak_kib.values(), default=0) / 1024
    p95 = float(loaded.get("p95", float("inf")))
    return "\n".join(
        [
            f"service reply time (python -m bot run + Telegram emulator, /latest and /topic in turn) while it"
            f" imports {result.posts:,} new posts (done after {result.import_seconds:.1f} s) and builds and"
            f" sends the digest of {DAY_ITEMS:,} items × {TOPICS} topics for {SUBSCRIPTIONS} subscriptions"
            f" (queued after {result.digest_queued_seconds:.1f} s, {result.messages_sent} messages sent"
            f" after {result.sent_seconds:.1f} s):",
            line("under load", loaded),
            line("idle, after", idle),
            f"  no reply: {result.missing()}; peak memory: the service process {service_mib:,.0f} MiB, with"
            f" {len(result.peak_kib) - 1} more ({_helpers(result.peak_kib)})"
            f" {total_mib:,.0f} MiB in all"
            " (sum of each process' peak)",
            f"  target p95 ≤ {TARGET_P95_MS:.0f} ms under load: {'met' if p95 <= TARGET_P95_MS else 'MISSED'}"
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; optionally save the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.service_load", description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=10_000, help="new posts to import (default 10000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tmpdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, metavar="PATH")
    args = parser.parse_args(argv)
    why_not = emulator_available()
    if why_not:
        print(f"service reply time: not measured ({why_not})")
        return 0
    files = source_files(CORPUS if (CORPUS / "_posts").is_dir() else None)
    documents = load_documents(files, exclude=RARE_WORD)
    result = measure_service(args.posts, documents, seed=args.seed, tmp_root=args.tmpdir)
    print(format_service(result), flush=True)
    if args.json is not None:
        save_json(args.json, result.to_json())
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.exit(main())
