"""The digest's reader-facing words, Chinese first, in one place to review and translate.

The digest's readers are officials, in a chat or a file, not the operator at a terminal; every format
(Telegram, Markdown, HTML page, plain text) shares these strings.
"""

from __future__ import annotations

# The document title, also the HTML page's <title>; ``day`` is ISO (2026-11-20).
TITLE = "金融要闻 {day}"
TITLE_LABEL = "金融要闻 {day} · {label}"
WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
DATE_LINE = "{day} {weekday}"
PERIOD = "{first} 至 {last}"  # a digest covering several days
COUNTS = "{stories} 条新闻 · {topics} 个主题 · 当日共收录 {considered} 条"
EMPTY = "今日无相关新闻（当日共收录 {considered} 条）"

SECTION_HEADING = "【{name}】{n} 条"
CONTINUED = "（续）"
MORE = "另有 {n} 条"

# A story shown once, under its strongest topic, names the other topics it matched.
ALSO = "也属于：{names}"
ALSO_SEPARATOR = "、"

# On an entry whose every copy names its topic once, in the body only (listed after the others).
IN_PASSING = "正文仅提及一次"

OUTLET_SEPARATOR = "、"
# "株洲日报、湖南日报等 3 家": how many names are spelled out before the rest is counted.
OUTLETS_MANY = "{names}等 {n} 家"
OUTLETS_SHOWN = 2
META_SEPARATOR = " · "
# An entry's time when it falls on another day than the digest's (a late copy of yesterday's story).
OTHER_DAY_TIME = "{month}月{day}日 {time}"
UNTITLED = "（无标题）"

# How a chat's last digest is named when a command refers to its entries ("第 3 条（2022-04-03 日报）").
REFERENCE_LABEL = "{day} 日报"
