"""The database schema, as migrations applied in order (``sqlite_utils.Migrations``).

A migration, once released, is never edited: a change to the schema is a new migration.
"""

from __future__ import annotations

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
    # Contentless: the text lives once, in items; the indexes keep only tokens (bot.textindex).
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
