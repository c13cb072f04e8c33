"""Topics as data: the effective sets (global, and each chat's), and a topic ⇄ plain data, once.

The global topics are the config file's ``[topics."…"]`` with the admins' chat edits laid over
them; a chat's topics are the global ones with that chat's own changes (an :class:`Overlay` per
topic) laid over those. A topic crosses into plain data in three places — the store (an edit, an audit row's
before/after), the config file (a ``[topics."NAME"]`` table) and the CLI (``topics --json``,
``topics --export``) — and each goes through :func:`topic_to_dict` / :func:`topic_from_dict`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.domain.models import DEFAULT_MIN_SCORE, DEFAULT_NEAR_WINDOW, Topic
from bot.domain.textindex import fold

# A topic's word lists besides its keywords, in the order people read them.
RULE_LISTS = ("title_keywords", "exclude", "not_in", "require", "sources", "exclude_sources")


def effective_topics(configured: Mapping[str, Topic], edits: Mapping[str, Topic | None]) -> dict[str, Topic]:
    """File topics in file order, an edited one replaced whole, a deleted one left out; new ones last."""
    topics: dict[str, Topic] = {}
    for name, topic in configured.items():
        if name in edits:
            edited = edits[name]
            if edited is not None:
                topics[name] = edited
        else:
            topics[name] = topic
    for name, edited in edits.items():
        if name not in configured and edited is not None:
            topics[name] = edited
    return topics


def find_topic(name: str, topics: Mapping[str, Topic]) -> Topic | None:
    """The topic called ``name``, forgiving case and full-width letters."""
    if name in topics:
        return topics[name]
    wanted = fold(name)
    return next((t for n, t in topics.items() if fold(n) == wanted), None)


def topic_to_dict(topic: Topic, *, sparse: bool = False) -> dict[str, Any]:
    """A topic as plain data.

    Whole (the default): its name and every rule, as the store keeps an edit and an audit row its
    before and after. ``sparse``: a config file's ``[topics."NAME"]`` table — no name (the table's
    key holds it), keywords, and every other rule only when it is set.
    """
    data: dict[str, Any] = {} if sparse else {"name": topic.name}
    if topic.description or not sparse:
        data["description"] = topic.description
    data["keywords"] = list(topic.keywords)
    for key in RULE_LISTS:
        values = getattr(topic, key)
        if values or not sparse:
            data[key] = list(values)
    if topic.near or not sparse:
        data["near"] = {k: list(v) for k, v in topic.near.items()}
    if topic.not_near or not sparse:
        data["not_near"] = {k: list(v) for k, v in topic.not_near.items()}
    if topic.near_window != DEFAULT_NEAR_WINDOW or not sparse:
        data["near_window"] = topic.near_window
    if topic.min_score != DEFAULT_MIN_SCORE or not sparse:
        data["min_score"] = float(topic.min_score)
    if topic.weights or not sparse:
        data["weights"] = {k: float(v) for k, v in topic.weights.items()}
    return data


def topic_from_dict(data: Mapping[str, Any], name: str | None = None) -> Topic:
    """The inverse of :func:`topic_to_dict` (``name`` for a sparse table, whose key names it)."""
    keywords = (*data["keywords"], *data.get("title_keywords", ()))

    def by_keyword(table: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
        # In the order of the keywords they belong to, whatever order they were stored in (the
        # store keeps JSON with sorted keys).
        ordered = sorted(table, key=lambda k: keywords.index(k) if k in keywords else len(keywords))
        return {k: tuple(table[k]) for k in ordered}

    return Topic(
        name=data["name"] if name is None else name,
        keywords=tuple(data["keywords"]),
        description=data.get("description", ""),
        exclude=tuple(data.get("exclude", ())),
        not_in=tuple(data.get("not_in", ())),
        require=tuple(data.get("require", ())),
        sources=tuple(data.get("sources", ())),
        exclude_sources=tuple(data.get("exclude_sources", ())),
        weights=dict(data.get("weights", {})),
        # Edits stored before these rules existed lack them: the defaults are what they meant.
        title_keywords=tuple(data.get("title_keywords", ())),
        near=by_keyword(data.get("near", {})),
        not_near=by_keyword(data.get("not_near", {})),
        near_window=int(data.get("near_window", DEFAULT_NEAR_WINDOW)),
        min_score=float(data.get("min_score", DEFAULT_MIN_SCORE)),
    )


# --- a chat's own topics, laid over the global set ------------------------------------------------

# The word lists a chat may change for itself (added to or taken from the global topic's).
CHAT_LISTS = ("keywords", "title_keywords", "exclude", "not_in")


@dataclass(frozen=True, slots=True)
class Overlay:
    """What one chat changed of one topic, for itself only.

    For a global topic: words added to and removed from its lists (so that a later change of the
    global topic still shows through, unless this chat changed that very word), the sense rules it
    set for itself (near words, negative near words, their window, the minimum score: each replaces
    the global value while set), or the topic hidden in this chat. For a topic of the chat's own:
    the whole topic (``own``).
    """

    hidden: bool = False
    own: Topic | None = None
    added: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    removed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    near: Mapping[str, tuple[str, ...]] | None = None
    not_near: Mapping[str, tuple[str, ...]] | None = None
    near_window: int | None = None
    min_score: float | None = None

    @property
    def empty(self) -> bool:
        """Whether it changes nothing (and can be forgotten)."""
        return (
            not self.hidden
            and self.own is None
            and not any(self.added.values())
            and not any(self.removed.values())
            and self.near is None
            and self.not_near is None
            and self.near_window is None
            and self.min_score is None
        )


def overlay_to_dict(overlay: Overlay) -> dict[str, Any]:
    """An overlay as plain data (the store's JSON)."""
    data: dict[str, Any] = {
        "hidden": overlay.hidden,
        "own": topic_to_dict(overlay.own) if overlay.own is not None else None,
        "added": {k: list(v) for k, v in overlay.added.items() if v},
        "removed": {k: list(v) for k, v in overlay.removed.items() if v},
    }
    if overlay.near is not None:
        data["near"] = {k: list(v) for k, v in overlay.near.items()}
    if overlay.not_near is not None:
        data["not_near"] = {k: list(v) for k, v in overlay.not_near.items()}
    if overlay.near_window is not None:
        data["near_window"] = overlay.near_window
    if overlay.min_score is not None:
        data["min_score"] = overlay.min_score
    return data


def overlay_from_dict(data: Mapping[str, Any]) -> Overlay:
    """The inverse of :func:`overlay_to_dict`."""
    own = data.get("own")
    near = data.get("near")
    not_near = data.get("not_near")
    window = data.get("near_window")
    score = data.get("min_score")
    return Overlay(
        hidden=bool(data.get("hidden", False)),
        own=topic_from_dict(own) if own else None,
        added={k: tuple(v) for k, v in data.get("added", {}).items()},
        removed={k: tuple(v) for k, v in data.get("removed", {}).items()},
        near={k: tuple(v) for k, v in near.items()} if near is not None else None,
        not_near={k: tuple(v) for k, v in not_near.items()} if not_near is not None else None,
        near_window=int(window) if window is not None else None,
        min_score=float(score) if score is not None else None,
    )


def overlay_between(base: Topic, after: Topic) -> Overlay:
    """The overlay that makes the global topic ``base`` read as ``after`` in one chat."""
    added: dict[str, tuple[str, ...]] = {}
    removed: dict[str, tuple[str, ...]] = {}
    for name in CHAT_LISTS:
        mine, theirs = getattr(after, name), getattr(base, name)
        added[name] = tuple(w for w in mine if w not in theirs)
        removed[name] = tuple(w for w in theirs if w not in mine)
    return Overlay(
        added=added,
        removed=removed,
        near=after.near if after.near != base.near else None,
        not_near=after.not_near if after.not_near != base.not_near else None,
        near_window=after.near_window if after.near_window != base.near_window else None,
        min_score=after.min_score if after.min_score != base.min_score else None,
    )


def overlaid(topic: Topic, overlay: Overlay) -> Topic:
    """A global topic as a chat sees it: its lists minus the chat's removals, plus its additions,
    and the sense rules the chat set for itself."""
    changes: dict[str, tuple[str, ...]] = {}
    for name in CHAT_LISTS:
        removed = set(overlay.removed.get(name, ()))
        kept = [w for w in getattr(topic, name) if w not in removed]
        changes[name] = tuple(dict.fromkeys([*kept, *overlay.added.get(name, ())]))
    # Weights and near words name keywords: those of a keyword the chat removed go with it.
    keywords = {*changes["keywords"], *changes["title_keywords"]}
    near = overlay.near if overlay.near is not None else topic.near
    not_near = overlay.not_near if overlay.not_near is not None else topic.not_near
    return replace(
        topic,
        keywords=changes["keywords"],
        title_keywords=changes["title_keywords"],
        exclude=changes["exclude"],
        not_in=changes["not_in"],
        weights={k: v for k, v in topic.weights.items() if k in keywords},
        near={k: v for k, v in near.items() if k in keywords},
        not_near={k: v for k, v in not_near.items() if k in keywords},
        near_window=overlay.near_window if overlay.near_window is not None else topic.near_window,
        min_score=overlay.min_score if overlay.min_score is not None else topic.min_score,
    )


def chat_topics(global_topics: Mapping[str, Topic], overlays: Mapping[str, Overlay]) -> dict[str, Topic]:
    """A chat's effective topics: the global set, each topic as the chat changed it, the ones it
    hid left out, its own topics last. A chat's own topic of a global topic's name replaces it."""
    topics: dict[str, Topic] = {}
    for name, topic in global_topics.items():
        overlay = overlays.get(name)
        if overlay is None:
            topics[name] = topic
        elif overlay.own is not None:
            topics[name] = overlay.own
        elif not overlay.hidden:
            topics[name] = overlaid(topic, overlay)
    for name, overlay in overlays.items():
        if name not in global_topics and overlay.own is not None:
            topics[name] = overlay.own
    return topics
