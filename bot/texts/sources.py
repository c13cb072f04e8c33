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
WARNING = "{indent}提示：{warning}"

# What was repaired to read a feed (bot.sources.feeds.Repair, by kind): the source is read all the
# same and stays 正常; the warning tells an admin why its items may look a little off, or that the
# publisher's feed is broken in a way worth reporting to them.
REPAIRED = "已修复后读取：{repairs}"
REPAIR_SEPARATOR = "；"
REPAIRS = {
    "debris": "删除文档开头的 {count} 个多余字符（空行、字节顺序标记等）",
    "controls": "删除 {count} 个 XML 不允许的控制字符",
    "invalid_bytes": "丢弃 {count} 处无效的 {encoding} 字节",
    "encoding_detected": "未声明编码，识别为 {encoding}",
    "encoding_overridden": "声明的编码 {detail} 与内容不符，按 {encoding} 读取",
    "lenient_xml": "XML 格式有误，已宽松解析（{detail}）",
    "entries_cut": "{count} 条标题或正文过长，已截断",
}
# Encodings as people know them (codec names otherwise).
ENCODINGS = {
    "gb18030": "GB18030（GBK）",
    "cp950": "Big5",
    "cp1252": "Latin-1（windows-1252）",
    "utf-8": "UTF-8",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
}
