"""Digests from the store: a day's digest built, written to files, queued for each subscription.

:class:`Digester` is the I/O shell around the pure :mod:`digests` package. It reads the day's
items and the effective topics (config file + chat edits) from the store, writes the Markdown
and HTML files, and queues each due subscription's messages in the outbox, exactly once per
(subscription, day). Sending is :mod:`bot.delivery.outbox`'s business.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from bot.config import Config
from bot.domain.models import APP_CHANNELS, Channel, Platform, Topic, channel_of, robot_name
from bot.domain.records import DeliveryStatus, OutgoingMessage, ReferenceList, Subscription
from bot.domain.topics import chat_topics, effective_topics
from bot.domain.when import covered_days, day_bounds, last_due
from bot.store import Store
from bot.texts import digest as digest_texts
from digests.build import build_digest, collector_paused, for_subscription
from digests.render import digest_file_stem, render_html_page, render_markdown, render_telegram, render_text
from digests.render_robots import render_dingtalk, render_feishu, render_wecom
from digests.render_view import shared_rendering, story_count
from digests.values import Digest

log = logging.getLogger(__name__)


# Each group robot's platform, and how a digest is written in its dialect.
ROBOT_RENDERERS = {
    Platform.WECOM: render_wecom,
    Platform.DINGTALK: render_dingtalk,
    Platform.FEISHU: render_feishu,
}

# How many past firings of a subscription are looked at for ones missed while the service was down.
LOOKBACK_FIRINGS = 7


@dataclass(slots=True)
class DueReport:
    """What one check of the subscriptions queued or recorded."""

    queued: list[str] = field(default_factory=list)  # "chat day (number of messages)"
    silent: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)


def _write_atomically(path: Path, text: str) -> None:
    # A reader (a web server, a sync job) never sees half a file: write aside, then rename.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Digester:
    """Builds digests from the store and queues them for subscriptions."""

    def __init__(self, config: Config, store: Store, now: Callable[[], datetime]) -> None:
        self.config = config
        self.store = store
        self.now = now

    def topics(self, chat: str | None = None) -> dict[str, Topic]:
        """The effective topics: the config file's with admins' edits from chat; for ``chat``,
        those with the chat's own changes laid over them."""
        topics = effective_topics(self.config.topics, self.store.topic_edits())
        return topics if chat is None else chat_topics(topics, self.store.chat_overlays(chat))

    def day_digest(self, day: date, topic_names: Sequence[str] = (), chat: str | None = None) -> Digest:
        """The digest of ``day`` (every topic, or those named; ``chat``'s own topics when given)
        from the items published that day."""
        return self.period_digest(day, day, topic_names, chat)

    def period_digest(
        self, first: date, last: date, topic_names: Sequence[str] = (), chat: str | None = None
    ) -> Digest:
        """The digest of the days ``first`` to ``last`` (see :meth:`day_digest`).

        Built over every topic and then narrowed, as each subscription's is: a story is placed
        under the same topic, and names the same others, in a chat's /digest as in what it was sent.
        """
        start, _ = day_bounds(first, self.config.timezone)
        _, end = day_bounds(last, self.config.timezone)
        items = self.store.published_between(start, end)
        digest = build_digest(  # which pauses the collector itself
            items,
            list(self.topics(chat).values()),
            last,
            str(self.config.timezone),
            top=self.config.digest.top,
            priority=self.config.digest.priority,
            first_day=first,
            repeat_stories=self.config.digest.repeat_stories,
        )
        return for_subscription(digest, topic_names) if topic_names else digest

    def write_files(self, digest: Digest, chat: str | None = None) -> list[Path]:
        """Write the digest as Markdown and as an HTML page; returns the paths."""
        stem = digest_file_stem(digest.day, chat)
        folder = self.config.digest_dir
        markdown, page = folder / f"{stem}.md", folder / f"{stem}.html"
        _write_atomically(markdown, render_markdown(digest))
        _write_atomically(page, render_html_page(digest))
        return [markdown, page]

    def messages_for(self, sub: Subscription, digest: Digest) -> list[OutgoingMessage]:
        """The messages a subscription's chat gets for a digest: Telegram HTML parts, one plain
        text for the console, a group robot's platform messages (JSON) in its dialect."""
        if sub.channel is Channel.CONSOLE:
            return [OutgoingMessage(render_text(digest), "text")]
        if sub.channel is Channel.ROBOT:
            robot = self.config.robot(robot_name(sub.chat))
            if robot is None:  # removed from the config since: its subscription goes at the next sync
                return []
            render = ROBOT_RENDERERS[robot.platform]
            return [OutgoingMessage(json.dumps(m, ensure_ascii=False), "json") for m in render(digest)]
        if sub.channel in APP_CHANNELS:
            # An app-level bot sends what a group robot of its platform would (its adapter wraps
            # each message in the platform's API call).
            render = ROBOT_RENDERERS[Platform(sub.channel.value)]
            return [OutgoingMessage(json.dumps(m, ensure_ascii=False), "json") for m in render(digest)]
        return [OutgoingMessage(body, "html") for body in render_telegram(digest)]

    def sync_config_subscriptions(self) -> None:
        """Make the database's config-made subscriptions match ``[[subscriptions]]``."""
        keep = []
        with self.store.transaction():
            for sub in self.config.subscriptions:
                channel = channel_of(sub.chat)
                keep.append((channel, sub.chat))
                current = self.store.subscription(channel, sub.chat)
                wanted = (sub.topics, sub.time, sub.days, sub.title)
                if (
                    current is not None
                    and current.origin == "config"
                    and ((current.topics, current.time, current.days, current.title) == wanted)
                ):
                    # Unchanged: keep its creation time, and keep it paused if the chat removed
                    # the bot (a restart must not knock on that door again; editing it does).
                    continue
                self.store.save_subscription(
                    channel,
                    sub.chat,
                    topics=sub.topics,
                    clock=sub.time,
                    days=sub.days,
                    title=sub.title,
                    origin="config",
                    now=self.now(),
                )
            self.store.remove_config_subscriptions_except(keep)

    def queue(self, sub: Subscription, day: date, due: datetime, digest: Digest) -> int | None:
        """Write a subscription's digest files and queue its messages.

        Returns how many messages were queued (0 for a silent empty day), or None if this
        (subscription, day) was already recorded.
        """
        if self.store.delivery(sub.id, day) is not None:
            return None  # done before: not even the files are written again
        mine = for_subscription(digest, sub.topics, sub.title)
        self.write_files(mine, sub.chat)
        if mine.empty and not self.config.digest.send_empty:
            status = DeliveryStatus.SILENT
            silent = self.store.queue_delivery(sub, day, due, [], status=status, now=self.now())
            return None if silent is None else 0
        messages = self.messages_for(sub, mine)
        with self.store.transaction():
            queued = self.store.queue_delivery(
                sub, day, due, messages, stories=story_count(mine), now=self.now()
            )
            if queued is not None:  # the chat's numbers ("/why 上市 3") now refer to this digest
                label = digest_texts.REFERENCE_LABEL.format(day=day.isoformat())
                refs = ReferenceList("digest", label, self.now(), mine.item_refs())
                self.store.save_references(sub.channel, sub.chat, refs)
        return None if queued is None else len(messages)

    def queue_due(self) -> DueReport:
        """Queue every subscription whose digest is due and not yet recorded; record missed ones."""
        report = DueReport()
        now = self.now()
        tz = self.config.timezone
        grace = self.config.digest.grace
        # Built once per period and topic set, whatever the number of chats: every chat without
        # topics of its own shares the global set.
        digests: dict[tuple[date, date, str | None], Digest] = {}
        own_topics = set(self.store.chats_with_overlays())
        # Each chat's digest is a selection of the day's sections, rendered in three formats: in
        # this block each section is made ready to show, and written in each format, only once.
        with collector_paused(), shared_rendering():
            for sub in self.store.subscriptions():
                if sub.paused:
                    continue
                due = last_due(sub.time, sub.days, tz, now)
                for _ in range(LOOKBACK_FIRINGS):
                    if sub.created is not None and due < sub.created:
                        break  # subscribed after this firing
                    first, day = covered_days(due, sub.time, sub.days, tz)
                    if self.store.delivery(sub.id, day) is not None:
                        break  # this one and the ones before it are done
                    where = f"{sub.label} {day}"
                    if now - due > grace:
                        self.store.queue_delivery(sub, day, due, [], status=DeliveryStatus.MISSED, now=now)
                        log.warning("digest for %s missed: due %s, beyond the grace window", where, due)
                        report.missed.append(where)
                    else:
                        key = (first, day, sub.chat if sub.chat in own_topics else None)
                        if key not in digests:
                            digests[key] = self.period_digest(first, day, chat=key[2])
                        parts = self.queue(sub, day, due, digests[key])
                        if parts is not None:
                            (report.queued if parts else report.silent).append(f"{where} ({parts})")
                    due = last_due(sub.time, sub.days, tz, due - timedelta(seconds=1))
            # Freed while the collector is paused: the day's matches, stories and renderings are
            # hundreds of thousands of objects, which its first pass after the pause would
            # otherwise traverse once more for nothing (0.13 s of a 2 s run, 200 subscriptions).
            digests.clear()
        return report
