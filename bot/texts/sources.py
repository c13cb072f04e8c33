"""How a source's health is said, to every reader alike (``finews-bot status``, /sources, /status).

One wording and one layout of lines, rendered by :func:`bot.ingest.status.source_lines`; the CLI
and the chat differ only in indentation and in naming a source's kind by its config keyword
(``folder``, which an admin types in the config file) or in Chinese.
"""

from __future__ import annotations

HEALTH = {"never": "尚未抓取", "ok": "正常", "failing": "失败", "stale": "长时间无新内容（可能已失效）"}
KINDS = {"folder": "文件夹", "feed": "订阅源"}

LINE = "{bullet}{name}（{kind}，每 {every}{disabled}）：{health}，{items} 条{newest}"
DISABLED = "，已停用"
NEWEST = "，最新 {when}"
ERROR = "{indent}最近错误：{error}（连续失败 {failures} 次）"
NEXT_ATTEMPT = "{indent}下次尝试：{when}"
LAST_SUCCESS = "{indent}上次成功：{when}"
OTHER_ITEMS = "{bullet}手动导入：{n} 条"
