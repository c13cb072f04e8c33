"""Items and their search index.

Items are kept once each, by id. Their ``seq`` (the table's rowid) orders them by publication time,
and doubles as the rowid of the contentless FTS5 indexes ``items_fts`` and ``items_chars``, so
"newest first, top 10" is an index walk in rowid order that stops after ten hits. See
:mod:`bot.domain.textindex` for the tokens.

``seq`` is the publication time in seconds × 4, plus 0–3 for items published in the same second:
small gaps between consecutive rowids keep the index's doclists compact (rowids are stored as
deltas), which halves index size and insert time against a sparser numbering. A fifth item in one
second takes the next free value, so order within such a pile-up can be off by a second or two.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from bot.domain.models import Item, ItemKind
from bot.domain.textindex import CompiledQuery, IndexEntry, index_entry
from bot.domain.when import Clock

_SEQ_PER_SECOND = 4


class UpsertOutcome:
    """What storing one item did."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as stored, with the store's own bookkeeping."""

    item: Item
    via: str
    first_seen: datetime


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One page of matches, newest first, and how many match in all."""

    total: int
    items: list[StoredItem]


@dataclass(frozen=True, slots=True)
class SourceCount:
    """How many items a configured source (``via``) has brought in."""

    via: str
    items: int
    newest: datetime


_COLUMNS = "seq, id, kind, source, source_name, origin, via, title, published, url, text, first_seen, path"


def _candidates(queries: Sequence[CompiledQuery]) -> tuple[str, list[str]]:
    """SQL selecting the rowids that the indexes match for any of ``queries``, with its parameters;
    every item when a query has no indexed word at all (only a scan can answer it).

    The common case, every query on the token index alone, is one FTS5 expression, which FTS5
    walks in rowid order: "newest ten" stops after ten hits. A query with one-character words
    intersects with the character index; several such queries are a union.
    """
    if any(q.needs_scan for q in queries):
        return "SELECT seq AS rowid FROM items", []
    if all(q.chars is None for q in queries):
        return "SELECT rowid FROM items_fts WHERE items_fts MATCH ?", [
            " OR ".join(f"({q.fts})" for q in queries)
        ]
    parts: list[str] = []
    params: list[str] = []
    for query in queries:
        if query.fts is None:
            parts.append("SELECT rowid FROM items_chars WHERE items_chars MATCH ?")
            params.append(query.chars or "")
        elif query.chars is None:
            parts.append("SELECT rowid FROM items_fts WHERE items_fts MATCH ?")
            params.append(query.fts)
        else:
            parts.append(
                "SELECT rowid FROM items_fts WHERE items_fts MATCH ?"
                " AND rowid IN (SELECT rowid FROM items_chars WHERE items_chars MATCH ?)"
            )
            params += [query.fts, query.chars]
    return " UNION ".join(parts), params


# One tzinfo object per UTC offset for the times read back. fromisoformat() makes a new one for
# each "+08:00", and comparing or subtracting two times whose tzinfo objects differ asks each for
# its offset: 8 times slower than with one shared object, in the sorts and spans a digest makes
# over tens of thousands of items.
_ZONES: dict[timedelta | None, tzinfo | None] = {}


def _moment(text: str) -> datetime:
    """A stored ISO time, its tzinfo shared with every other time of the same offset."""
    when = datetime.fromisoformat(text)
    zone = _ZONES.setdefault(when.utcoffset(), when.tzinfo)
    return when if zone is when.tzinfo else when.replace(tzinfo=zone)


def _row_to_item(row: Sequence[Any]) -> Item:
    (_seq, id_, kind, source, source_name, origin, _via, title, published, url, text, _first_seen, path) = row
    return Item(
        id=id_,
        kind=ItemKind(kind),
        source=source,
        source_name=source_name,
        origin=origin,
        title=title,
        published=_moment(published),
        url=url,
        text=text,
        path=path,
    )


def _row_to_stored(row: Sequence[Any]) -> StoredItem:
    return StoredItem(_row_to_item(row), row[6], datetime.fromisoformat(row[11]))


class ItemsMixin:
    """Storing and searching items; part of :class:`bot.store.Store`."""

    _conn: sqlite3.Connection

    # --- writing --------------------------------------------------------------------------------

    def _free_seq(self, published: datetime) -> int:
        base = int(published.timestamp()) * _SEQ_PER_SECOND
        (top,) = self._conn.execute(
            "SELECT max(seq) FROM items WHERE seq >= ? AND seq < ?", (base, base + _SEQ_PER_SECOND)
        ).fetchone()
        if top is None:
            return base
        if top + 1 < base + _SEQ_PER_SECOND:
            return int(top) + 1
        # The second is full: the first free value after it.
        (free,) = self._conn.execute(
            "SELECT min(seq) + 1 FROM items AS a WHERE seq >= ?"
            " AND NOT EXISTS (SELECT 1 FROM items AS b WHERE b.seq = a.seq + 1)",
            (base,),
        ).fetchone()
        return int(free)

    def upsert(
        self,
        item: Item,
        *,
        via: str = "",
        now: datetime | None = None,
        entry: IndexEntry | None = None,
        content_hash: str = "",
    ) -> str:
        """Store an item by id: new, updated (its index entry too) or unchanged. Returns the outcome.

        ``entry`` and ``content_hash`` are the item's, when already computed (the importer's workers
        do it); call inside :meth:`transaction` to batch many items in one commit.
        """
        stamp = (now or Clock().now()).isoformat()
        content_hash = content_hash or item.content_hash
        # Times are kept to the second: seq orders by whole seconds, and a file's mtime precision
        # would otherwise order items within one second differently from their stored times.
        published = item.published.replace(microsecond=0)
        old = self._conn.execute(
            "SELECT seq, content_hash, published, title, text FROM items WHERE id = ?", (item.id,)
        ).fetchone()
        values = (
            item.kind.value,
            item.source,
            item.source_name,
            item.origin,
            item.title,
            published.isoformat(),
            item.url,
            item.text,
            content_hash,
            item.path,
        )
        if old is None:
            seq = self._free_seq(published)
            self._conn.execute(
                "INSERT INTO items (seq, id, via, first_seen, updated, kind, source, source_name, origin,"
                " title, published, url, text, content_hash, path)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, item.id, via, stamp, stamp, *values),
            )
            self._index(seq, entry or index_entry(item.title, item.text))
            return UpsertOutcome.NEW
        old_seq, old_hash, old_published, old_title, old_text = old
        if old_hash == content_hash:
            return UpsertOutcome.UNCHANGED
        # A contentless index forgets its text: deleting an entry means handing back its tokens.
        old_entry = index_entry(old_title, old_text)
        self._conn.execute(
            "INSERT INTO items_fts (items_fts, rowid, body) VALUES ('delete', ?, ?)",
            (old_seq, old_entry.tokens),
        )
        self._conn.execute(
            "INSERT INTO items_chars (items_chars, rowid, body) VALUES ('delete', ?, ?)",
            (old_seq, old_entry.chars),
        )
        seq = old_seq
        if old_published != published.isoformat():
            seq = self._free_seq(published)
        self._conn.execute(
            "UPDATE items SET seq = ?, updated = ?, kind = ?, source = ?, source_name = ?, origin = ?,"
            " title = ?, published = ?, url = ?, text = ?, content_hash = ?, path = ? WHERE id = ?",
            (seq, stamp, *values, item.id),
        )
        self._index(seq, entry or index_entry(item.title, item.text))
        return UpsertOutcome.UPDATED

    def _index(self, seq: int, entry: IndexEntry) -> None:
        self._conn.execute("INSERT INTO items_fts (rowid, body) VALUES (?, ?)", (seq, entry.tokens))
        self._conn.execute("INSERT INTO items_chars (rowid, body) VALUES (?, ?)", (seq, entry.chars))

    # --- reading --------------------------------------------------------------------------------

    def count(self) -> int:
        """How many items are stored."""
        (n,) = self._conn.execute("SELECT count(*) FROM items").fetchone()
        return int(n)

    def get(self, item_id: str) -> StoredItem | None:
        """One item by id."""
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM items WHERE id = ?", (item_id,)).fetchone()
        return _row_to_stored(row) if row else None

    def counts_by_via(self) -> list[SourceCount]:
        """Items per configured source, with the newest publication time."""
        rows = self._conn.execute(
            "SELECT i.via, c.n, i.published FROM"
            " (SELECT via, count(*) AS n, max(seq) AS newest FROM items GROUP BY via) AS c"
            " JOIN items AS i ON i.seq = c.newest ORDER BY i.via"
        ).fetchall()
        return [SourceCount(via, n, datetime.fromisoformat(newest)) for via, n, newest in rows]

    def search(self, queries: Sequence[CompiledQuery], *, limit: int = 10, offset: int = 0) -> SearchResult:
        """Items matching any of ``queries`` (each: all of its words), newest first, and the total."""
        if queries and not all(q.exact for q in queries):
            return self._search_verified(queries, limit, offset)
        return SearchResult(self.count_matches(queries), self.page(queries, limit=limit, offset=offset))

    def page(self, queries: Sequence[CompiledQuery], *, limit: int = 10, offset: int = 0) -> list[StoredItem]:
        """The newest ``limit`` items matching any of ``queries``, after ``offset``, without counting
        the rest: when the indexes answer exactly, an index walk that stops after ``limit`` hits."""
        if not queries or limit <= 0:
            return []
        if not all(q.exact for q in queries):
            return self._search_verified(queries, limit, offset).items
        candidates, params = _candidates(queries)
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM items WHERE seq IN ("
            f" SELECT rowid FROM ({candidates}) ORDER BY rowid DESC LIMIT ? OFFSET ?"
            ") ORDER BY seq DESC",
            [*params, limit, offset],
        ).fetchall()
        return [_row_to_stored(r) for r in rows]

    def candidate_keys(
        self, queries: Sequence[CompiledQuery], *, limit: int, offset: int = 0
    ) -> list[tuple[int, str]]:
        """The index's candidates for ``queries`` as (seq, content hash), newest first, without
        their text: what a topic check needs to tell the items it has already judged."""
        candidates, params = _candidates(queries)
        rows = self._conn.execute(
            "SELECT seq, content_hash FROM items WHERE seq IN ("
            f" SELECT rowid FROM ({candidates}) ORDER BY rowid DESC LIMIT ? OFFSET ?"
            ") ORDER BY seq DESC",
            [*params, limit, offset],
        ).fetchall()
        return [(int(seq), str(content_hash)) for seq, content_hash in rows]

    def items_by_seq(self, seqs: Iterable[int]) -> dict[int, StoredItem]:
        """The items with these seqs (those still stored), by seq."""
        wanted = list(seqs)
        found: dict[int, StoredItem] = {}
        for first in range(0, len(wanted), 500):  # within SQLite's limit on parameters
            chunk = wanted[first : first + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(f"SELECT {_COLUMNS} FROM items WHERE seq IN ({marks})", chunk):
                found[int(row[0])] = _row_to_stored(row)
        return found

    def count_matches(self, queries: Sequence[CompiledQuery]) -> int:
        """How many items match any of ``queries``."""
        if not queries:
            return 0
        if not all(q.exact for q in queries):
            return self._search_verified(queries, 0, 0).total
        candidates, params = _candidates(queries)
        (total,) = self._conn.execute(f"SELECT count(*) FROM ({candidates})", params).fetchone()
        return int(total)

    def _search_verified(self, queries: Sequence[CompiledQuery], limit: int, offset: int) -> SearchResult:
        # The indexes (or, for words without letters or digits, a scan) narrow the candidates;
        # each is checked against the reference semantics.
        candidates, params = _candidates(queries)
        rows = self._conn.execute(
            f"SELECT seq, title, text FROM items WHERE seq IN ({candidates}) ORDER BY seq DESC", params
        )
        hits: list[int] = []
        total = 0
        for seq, title, text in rows:
            if any(q.matches(title, text) for q in queries):
                if offset <= total < offset + limit:
                    hits.append(seq)
                total += 1
        return SearchResult(total, self._by_seq(hits))

    def _by_seq(self, seqs: Iterable[int]) -> list[StoredItem]:
        wanted = list(seqs)
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM items WHERE seq IN ({marks}) ORDER BY seq DESC", wanted
        ).fetchall()
        return [_row_to_stored(r) for r in rows]

    def published_between(self, start: datetime, end: datetime) -> list[Item]:
        """Items published in [start, end), oldest first: a digest's day."""
        # seq follows publication time; a pile-up of more than four items in one second spills a
        # little past its second, so look a minute further and check the times themselves.
        low = int(start.timestamp()) * _SEQ_PER_SECOND
        high = (int(end.timestamp()) + 60) * _SEQ_PER_SECOND
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM items WHERE seq >= ? AND seq < ? ORDER BY seq", (low, high)
        ).fetchall()
        # Compared as timestamps: an item's time and the bounds have different tzinfo objects.
        low_ts, high_ts = start.timestamp(), end.timestamp()
        items = map(_row_to_item, rows)
        return [item for item in items if low_ts <= item.published.timestamp() < high_ts]

    def all_items(self) -> Iterator[StoredItem]:
        """Every stored item, newest first (for checks and exports)."""
        for row in self._conn.execute(f"SELECT {_COLUMNS} FROM items ORDER BY seq DESC"):
            yield _row_to_stored(row)

    def integrity_problems(self) -> list[str]:
        """SQLite's own integrity check plus the index's; an empty list means all is well."""
        problems = [r[0] for r in self._conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        for table in ("items_fts", "items_chars"):
            try:
                self._conn.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 0)")
            except sqlite3.DatabaseError as error:
                problems.append(f"{table}: {error}")
        return problems
