"""Topics as data: the effective set of a deployment, and a topic ⇄ plain data (JSON, TOML), once.

The effective topics are the config file's ``[topics."…"]`` with the admins' chat edits laid
over them. A topic crosses into plain data in three places — the store (an edit, an audit row's
before/after), the config file (a ``[topics."NAME"]`` table) and the CLI (``topics --json``,
``topics --export``) — and each goes through :func:`topic_to_dict` / :func:`topic_from_dict`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain.models import DEFAULT_MIN_SCORE, DEFAULT_NEAR_WINDOW, Topic

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
    near = data.get("near", {})
    # In the order of the keywords they belong to, whatever order they were stored in (the store
    # keeps JSON with sorted keys).
    ordered = sorted(near, key=lambda k: keywords.index(k) if k in keywords else len(keywords))
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
        near={k: tuple(near[k]) for k in ordered},
        near_window=int(data.get("near_window", DEFAULT_NEAR_WINDOW)),
        min_score=float(data.get("min_score", DEFAULT_MIN_SCORE)),
    )
