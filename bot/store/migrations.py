"""The database schema, as migrations applied in order (``sqlite_utils.Migrations``).

A migration, once released, is never edited: a change to the schema is a new migration.
"""

from __future__ import annotations

import re

import sqlite_utils
from sqlite_utils import Migrations

migrations = Migrations("finews")


@migrations()
def m001_items(db: sqlite_utils.Database) -> None:
    """Items and their search index."""
    db.execute(
        """
        CREATE TABLE items (
            seq INTEGER PRIMARY KEY,      -- publication order; the rowid of items_fts
            id TEXT NOT NULL UNIQUE,      -- infoCode / eastmoney id / file stem
            kind TEXT NOT NULL,
            source TEXT NOT NULL,         -- slug, e.g. zhuzhouribao
            source_name TEXT NOT NULL,    -- e.g. 株洲日报新闻
            origin TEXT NOT NULL,         -- the original newspaper, or ''
            via TEXT NOT NULL,            -- the configured source that brought it in, or ''
            title TEXT NOT NULL,
            published TEXT NOT NULL,      -- ISO 8601 with offset (Asia/Shanghai)
            url TEXT NOT NULL,
            text TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            first_seen TEXT NOT NULL,     -- UTC, ISO 8601
            updated TEXT NOT NULL,        -- UTC, ISO 8601
            path TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX items_via ON items(via)")
    db.execute("CREATE INDEX items_source ON items(source)")
    # Contentless: the text lives once, in items; the indexes keep only tokens (bot.domain.textindex).
    # items_fts holds the bigram token stream, with positions for phrases; items_chars each item's
    # distinct characters, without positions, for one-character words (far cheaper to keep than
    # FTS5's prefix index, measured at 60k posts: 429 against 596 µs per insert).
    db.execute(
        "CREATE VIRTUAL TABLE items_fts USING fts5("
        "body, content='', tokenize='ascii', columnsize=0, detail=full)"
    )
    db.execute(
        "CREATE VIRTUAL TABLE items_chars USING fts5("
        "body, content='', tokenize='ascii', columnsize=0, detail=none)"
    )
    for table in ("items_fts", "items_chars"):
        # Merge segments less eagerly and flush pending terms less often: with the defaults (4,
        # 1 MB) an import spends most of its index time re-merging small segments.
        db.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('automerge', 8)")
        db.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('hashsize', {16 * 1024 * 1024})")


@migrations()
def m002_source_state(db: sqlite_utils.Database) -> None:
    """Per-source polling state, and the files a folder source has already read."""
    db.execute(
        """
        CREATE TABLE source_state (
            name TEXT PRIMARY KEY,        -- the configured source name
            kind TEXT NOT NULL,
            last_attempt TEXT,            -- UTC, ISO 8601
            last_success TEXT,
            last_error TEXT NOT NULL DEFAULT '',
            failures INTEGER NOT NULL DEFAULT 0,   -- consecutive
            next_attempt TEXT,
            last_new TEXT,                -- when a poll last stored something new or updated
            rhythm REAL,                  -- seconds: typical gap between polls that found something
            etag TEXT,
            last_modified TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE seen_files (
            source TEXT NOT NULL,
            path TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            PRIMARY KEY (source, path)
        )
        """
    )


@migrations()
def m003_digests(db: sqlite_utils.Database) -> None:
    """Subscriptions, digest deliveries and the outbox of messages to send."""
    db.execute(
        """
        CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,        -- telegram | console
            chat TEXT NOT NULL,           -- the channel's chat id
            title TEXT NOT NULL DEFAULT '',
            topics TEXT NOT NULL,         -- JSON array of topic names; [] = every topic
            time TEXT NOT NULL,           -- HH:MM in the configured time zone
            days TEXT NOT NULL,           -- daily | weekdays
            origin TEXT NOT NULL,         -- config | chat
            paused TEXT NOT NULL DEFAULT '',   -- why delivery is paused (bot removed), or ''
            created TEXT NOT NULL,        -- UTC, ISO 8601
            updated TEXT NOT NULL,
            UNIQUE (channel, chat)
        )
        """
    )
    # One row per (subscription, day): its existence is what makes a digest go out exactly once.
    db.execute(
        """
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            subscription_id INTEGER NOT NULL,
            day TEXT NOT NULL,            -- the calendar day the digest covers (YYYY-MM-DD)
            due TEXT NOT NULL,            -- when it fell due, UTC
            status TEXT NOT NULL,         -- sending | sent | silent | missed | failed
            stories INTEGER NOT NULL DEFAULT 0,
            created TEXT NOT NULL,
            finished TEXT,
            UNIQUE (subscription_id, day)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,       -- sending order
            delivery_id INTEGER,          -- the digest it belongs to, or NULL
            channel TEXT NOT NULL,
            chat TEXT NOT NULL,
            part INTEGER NOT NULL,        -- 1-based within the delivery
            parts INTEGER NOT NULL,
            body TEXT NOT NULL,
            format TEXT NOT NULL,         -- html | text
            status TEXT NOT NULL,         -- pending | sent | failed
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT NOT NULL DEFAULT '',
            next_attempt TEXT,            -- UTC; NULL = now
            message_id TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL,
            sent TEXT
        )
        """
    )
    db.execute("CREATE INDEX outbox_pending ON outbox(status, channel) WHERE status = 'pending'")
    db.execute("CREATE INDEX outbox_delivery ON outbox(delivery_id)")


@migrations()
def m004_topic_edits(db: sqlite_utils.Database) -> None:
    """Topics edited from chat, and the audit trail of every change."""
    db.execute(
        """
        CREATE TABLE topic_edits (
            name TEXT PRIMARY KEY,
            definition TEXT,              -- the whole topic as JSON; NULL: the topic is deleted
            updated TEXT NOT NULL,
            updated_by TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,             -- UTC, ISO 8601
            user_id TEXT NOT NULL,
            user_name TEXT NOT NULL,
            chat TEXT NOT NULL,
            action TEXT NOT NULL,         -- e.g. add_keyword, delete_topic, set_time
            target TEXT NOT NULL,         -- the topic or the subscription changed
            before TEXT NOT NULL,         -- JSON
            after TEXT NOT NULL           -- JSON
        )
        """
    )


@migrations()
def m005_chat_topics(db: sqlite_utils.Database) -> None:
    """Each chat's own changes to the topics, and the scope of every audited change."""
    db.execute(
        """
        CREATE TABLE chat_topics (
            chat TEXT NOT NULL,           -- the chat whose topics these are
            name TEXT NOT NULL,           -- the topic's name
            overlay TEXT NOT NULL,        -- JSON: hidden, own topic, words added and removed
            updated TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            PRIMARY KEY (chat, name)
        )
        """
    )
    # '' for a change of the global topics (and of subscriptions, which have their own chat).
    db.execute("ALTER TABLE audit ADD COLUMN scope TEXT NOT NULL DEFAULT ''")


@migrations()
def m006_platform_state(db: sqlite_utils.Database) -> None:
    """How each chat platform's connection stands, as the service last saw it (for `status`)."""
    db.execute(
        """
        CREATE TABLE platform_state (
            platform TEXT PRIMARY KEY,    -- telegram, dingtalk, feishu, wecom
            state TEXT NOT NULL,          -- connecting | connected | retrying | refused | stopped
            detail TEXT NOT NULL,         -- the last error, or ''
            next_attempt TEXT,            -- UTC, while retrying
            updated TEXT NOT NULL         -- UTC
        )
        """
    )


@migrations()
def m007_chat_references(db: sqlite_utils.Database) -> None:
    """Per chat, the numbered entries of the last list or digest it was shown (for /why 3)."""
    db.execute(
        """
        CREATE TABLE chat_references (
            channel TEXT NOT NULL,
            chat TEXT NOT NULL,
            kind TEXT NOT NULL,           -- topic | latest | digest
            label TEXT NOT NULL,          -- what the chat saw, e.g. "/topic 上市"
            made TEXT NOT NULL,           -- UTC, ISO 8601
            refs TEXT NOT NULL,           -- JSON array of [number, topic, item id]
            PRIMARY KEY (channel, chat)
        )
        """
    )


# The rule of m008, frozen as released (bot.sources.feedentry.given_id is the living copy): an id
# shaped like a URI, and the ids unique by construction.
_M008_URI_SHAPED = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S")
_M008_GLOBAL = re.compile(r"https?://[^/?#\s]+|tag:\S|urn:\S", re.IGNORECASE)


@migrations()
def m008_feed_item_ids(db: sqlite_utils.Database) -> None:
    """Scope by their feed the ids of feed items whose guid looked like a URI without being a URL,
    ``tag:`` or ``urn:`` (``article:3``), as new ones are: taken as global, such a guid let a second
    feed overwrite the first feed's item.

    Feed items are those a configured source brought in (``via``) that were not read from a file
    (``path``); the feed's scope is ``via``, the configured source that stored the item first. Ids
    already scoped (``<via>:…``) and global ids stay. An item that another feed had overwritten
    keeps the overwriting text under the first feed's scoped id until that feed's next poll
    updates it; the other feed's next poll stores its own item under its own scoped id.
    """
    rows = db.execute(
        "SELECT seq, id, via FROM items WHERE via <> '' AND path = '' AND instr(id, ':') > 0"
    ).fetchall()
    for seq, item_id, via in rows:
        if not _M008_URI_SHAPED.match(item_id) or _M008_GLOBAL.match(item_id):
            continue
        if item_id.startswith(f"{via}:"):
            continue
        # OR IGNORE: should the scoped id already exist, the two rows are the same feed's entry;
        # the one stored under the scoped id is kept as it is.
        db.execute("UPDATE OR IGNORE items SET id = ? WHERE seq = ?", (f"{via}:{item_id}", seq))


@migrations()
def m009_source_warning(db: sqlite_utils.Database) -> None:
    """What had to be repaired to read a source at its last successful poll (shown by ``status``)."""
    db.execute("ALTER TABLE source_state ADD COLUMN warning TEXT NOT NULL DEFAULT ''")
