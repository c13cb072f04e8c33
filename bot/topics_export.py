"""``finews-bot topics --export [PATH]``: the effective topics written back as TOML.

The effective topics are the config file's ``[topics."…"]`` with the admins' chat edits laid over
them (:func:`bot.topicset.effective_topics`). The export holds one table per topic with every rule
that differs from its default, so it can replace the ``[topics]`` part of a config file: loading it
with :func:`bot.config.load_config` gives the same topics back.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from bot import texts
from bot.config import Config
from bot.store import Store
from bot.topicset import effective_topics
from digests.model import Topic

HEADER = (
    "# finews-bot 主题导出：配置文件中的主题，加上管理员在聊天中所做的修改。\n"
    '# 可替换 config.toml 中原有的 [topics."…"] 表。\n'
    "# finews-bot topics: the config file's topics with the edits made in chat.\n\n"
)
# The CLI's words for this command; they belong in bot/texts.py, which another change is editing.
EXPORT_DONE = "已导出 {n} 个主题到 {path}"
EXPORT_OVER_CONFIG = "不能导出到正在使用的配置文件 {path}：导出内容只有主题，会覆盖其他设置。请换一个文件名。"
EXPORT_FAILED = "无法写入 {path}：{error}"
_LISTS = ("exclude", "not_in", "require", "sources", "exclude_sources")


def current_topics(config: Config) -> dict[str, Topic]:
    """The effective topics: the config file's, with the database's chat edits if it exists."""
    store = Store.open_existing(config.database)
    if store is None:
        return dict(config.topics)
    with store:
        return effective_topics(config.topics, store.topic_edits())


def topic_table(topic: Topic) -> dict[str, Any]:
    """One topic as its TOML table: keywords, and each other rule only when it is set."""
    table: dict[str, Any] = {}
    if topic.description:
        table["description"] = topic.description
    table["keywords"] = list(topic.keywords)
    for key in _LISTS:
        values = getattr(topic, key)
        if values:
            table[key] = list(values)
    if topic.weights:
        table["weights"] = {k: float(v) for k, v in topic.weights.items()}
    return table


def topics_toml(topics: Mapping[str, Topic]) -> str:
    """The topics as a TOML document of ``[topics."NAME"]`` tables, in order."""
    return HEADER + tomli_w.dumps({"topics": {name: topic_table(t) for name, t in topics.items()}})


def cmd_export(config: Config, target: str) -> int:
    """Write the export to ``target`` ("-": standard output); never over the config file in use."""
    topics = current_topics(config)
    document = topics_toml(topics)
    if target == "-":
        sys.stdout.write(document)
        return 0
    path = Path(target).expanduser()
    if path.resolve() == config.path.resolve():
        # The export holds topics only: written over the config, it would drop sources and the rest.
        print(texts.ERROR_PREFIX + EXPORT_OVER_CONFIG.format(path=path), file=sys.stderr)
        return 2
    try:
        path.write_text(document, encoding="utf-8")
    except OSError as error:
        print(texts.ERROR_PREFIX + EXPORT_FAILED.format(path=path, error=error.strerror), file=sys.stderr)
        return 1
    print(EXPORT_DONE.format(n=len(topics), path=path), file=sys.stderr)
    return 0
