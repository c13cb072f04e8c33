"""The effective topic set: the config file's topics with the admins' chat edits laid over them."""

from __future__ import annotations

from collections.abc import Mapping

from digests.model import Topic


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
