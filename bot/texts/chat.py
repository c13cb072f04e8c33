"""Every word the bot says in chat (Telegram and the console), Chinese first, in one place to review.

Kept apart from :mod:`bot.texts.cli` (the CLI's words) and :mod:`bot.texts.digest` (the
digest's): the readers differ, and so does the tone. Every chat platform's adapter uses these.
``{name}`` fields are filled with :meth:`str.format`.
"""

from __future__ import annotations

from bot.texts.digest import IN_PASSING

NONE = "（无）"
ALL_TOPICS = "全部主题"
UNTITLED = "（无标题）"
AND_MORE = "……另有 {n} 个"

# --- the command table ---------------------------------------------------------------------------
SUMMARY = {
    "start": "欢迎与使用说明",
    "help": "查看全部命令及示例",
    "latest": "搜索包含全部关键词的最新新闻（默认每页 5 条，最多 20 条）",
    "topic": "查看某个主题的最新新闻（按主题的全部规则筛选）",
    "topics": "列出全部主题及其关键词",
    "digest": "查看本群订阅主题某一天的日报（默认昨天）",
    "subscribe": "在本聊天订阅每日日报（默认全部主题，08:30）",
    "unsubscribe": "取消本聊天的每日日报",
    "subscriptions": "查看本聊天的订阅",
    "settime": "设置日报的推送时间与频率（每天或工作日）",
    "sources": "查看新闻来源及其状态",
    "status": "查看机器人运行状态",
    "addkw": "为主题添加关键词",
    "delkw": "删除主题的关键词",
    "addexclude": "为主题添加排除词（含该词的新闻不收录）",
    "delexclude": "删除主题的排除词",
    "addnotin": "为主题添加排除上下文（如“线上市场”中的“上市”不算）",
    "delnotin": "删除主题的排除上下文",
    "addtitlekw": "为主题添加标题关键词（只在标题中出现才算）",
    "deltitlekw": "删除主题的标题关键词",
    "addnear": "为关键词添加邻近词（关键词附近须有其中之一才算，如“上市”附近须有“企业”）",
    "delnear": "删除关键词的邻近词；不写邻近词则取消该要求",
    "addnotnear": "为关键词添加排除邻近词（关键词附近有其中之一就不算，如“小额贷款”附近有“质押”）",
    "delnotnear": "删除关键词的排除邻近词；不写词则全部取消",
    "setwindow": "设置邻近词与关键词之间最多相隔的字数（默认 10）",
    "setminscore": "设置主题的最低得分（正文每处计 1 分，标题计 2 分；0 为不设）",
    "why": "查看一条新闻为什么命中（或没命中）主题：关键词、位置、上下文",
    "notrelevant": "把一条新闻标为不相关，并得到去掉它的规则修改建议",
    "apply": "采用 /notrelevant 给出的某个修改建议",
    "newtopic": "新建主题",
    "deltopic": "删除主题",
    "audit": "查看最近的管理操作记录",
    "next": "翻到上次列表的下一页",
    "prev": "翻到上次列表的上一页",
}

# What officials may type instead of the command's name (with or without a slash, @-mentioning the
# bot in a group): the Chinese word for it. /help and the README show them.
ALIASES = {
    "start": ("开始",),
    "help": ("帮助",),
    "latest": ("最新", "搜索"),
    "topic": ("主题",),
    "topics": ("主题列表",),
    "digest": ("日报",),
    "subscribe": ("订阅",),
    "unsubscribe": ("取消订阅", "退订"),
    "subscriptions": ("订阅情况",),
    "settime": ("推送时间",),
    "sources": ("来源",),
    "status": ("状态",),
    "next": ("下一页",),
    "prev": ("上一页",),
    "addkw": ("添加关键词",),
    "delkw": ("删除关键词",),
    "newtopic": ("新建主题",),
    "deltopic": ("删除主题",),
    "audit": ("操作记录",),
}

WELCOME = (
    "您好！我是 finews-bot，为金融办收集、检索财经新闻，并每天推送按主题整理的日报。",
    "可以试试：",
    "/latest 株洲 —— 搜索包含“株洲”的最新新闻",
    "/topic 上市 —— 查看“上市”主题的新闻",
    "/subscribe 08:30 —— 每天 08:30 在这里接收日报",
    "发送 /help 查看全部命令。",
)
HELP_TITLE = "finews-bot 命令"
HELP_LEGEND = "<> 为必填，[] 为可选；参数之间用空格分隔。命令可不带斜杠，也可用中文，如“最新 株洲”。"
HELP_ENTRY = "  {summary}。例：{example}{note}"
HELP_ALIASES = "（也可以说：{aliases}）"
HELP_GROUP_ADMIN = "（群内需群管理员）"
HELP_ADMIN_TITLE = "管理员命令"

# --- errors and permissions ------------------------------------------------------------------------
UNKNOWN_COMMAND = "未知命令 /{name}，发送 /help 查看可用命令。"
DID_YOU_MEAN = "您是不是要找：{names}"
INTERNAL_ERROR = "抱歉，处理这条命令时出了错，已记录。请稍后再试，或发送 /help 查看用法。"
NOT_ENABLED_HERE = "本机器人未在此聊天中启用。如需使用，请联系管理员把本群加入允许列表。"
OPERATOR_ALERT = "finews-bot 出错：{error}"
ADMIN_ONLY = "只有管理员可以使用这个命令。"
GROUP_ADMIN_ONLY = "只有管理员可以更改本群的订阅。"
ROLE_UNKNOWN = "暂时无法向平台确认您是否为本群管理员，请稍后再试。"
GLOBAL_ADMIN_ONLY = "只有配置的管理员可以修改全局主题。群管理员的修改只对本群生效：去掉“全局”再试。"
BUTTON_EXPIRED = "这个按钮已失效，请重新发送命令。"
TEXT_ONLY = "我只能读懂文字命令，例如“最新 株洲”；发送“帮助”查看全部命令。"
ARG_TRUNCATED = "参数过长，每个参数只取前 {n} 个字符。"
TOO_MANY_ARGS = "参数过多，只取前 {n} 个。"

# --- /latest and /topic ----------------------------------------------------------------------------
LATEST_USAGE = "请输入至少一个关键词，例如：/latest 株洲，或 /latest 株洲 金融 10（最后的数字为每页条数）。"
TOPIC_USAGE = "请输入主题名称，例如：/topic 上市"
LATEST_HEADER = "“{query}”共 {total} 条，第 {page}/{pages} 页"
TOPIC_HEADER = "主题“{topic}”共 {total} 条，第 {page}/{pages} 页"
TOPIC_HEADER_AT_LEAST = "主题“{topic}”至少 {total} 条，第 {page} 页"
TOPIC_KEYWORDS = "关键词：{keywords}"
LATEST_EMPTY = "没有找到包含“{query}”的内容。"
LATEST_EMPTY_HINT = "可以换个更短的关键词，或发送 /topics 查看主题。"
TOPIC_EMPTY = "主题“{topic}”暂无相关内容（关键词：{keywords}）。"
NO_MORE = "没有更多了。"
QUERY_TRUNCATED = "关键词过长，只按前 {n} 个字符搜索。"
PAGE_SIZE_CAPPED = "每页最多 {n} 条。"
ENTRY_META = "{source} · {time}"
ENTRY_META_IN_PASSING = "{source} · {time} · " + IN_PASSING  # as digests mark it
PREVIOUS_PAGE = "上一页"
NEXT_PAGE = "下一页"
NO_LIST_TO_TURN = "本聊天没有可以翻页的列表，请先发送 最新 关键词 或 主题 名称。"
FIRST_PAGE = "已经是第一页了。"
LIST_EXPIRED = "该列表已过期，请重新查询。"
UNKNOWN_TOPIC = "没有名为“{name}”的主题。"
AVAILABLE_TOPICS = "可用主题：{names}"
KEYWORD_FALLBACK = "按关键词搜索可找到 {n} 条：/latest {query}"

# --- /topics -------------------------------------------------------------------------------------
NO_TOPICS = "还没有任何主题。管理员可以用 /newtopic 名称 关键词 新建。"
TOPICS_HEADER = "共 {n} 个主题："
TOPIC_NAME = "【{name}】"
TOPIC_RULE = "  {field}：{values}"
SCOPE_CHAT_CHANGED = "（本群已修改）"
TOPICS_HIDDEN = "本群已隐藏的主题：{names}"
TOPICS_HINT = "发送 /topic 主题名 查看该主题的新闻，/why 编号 查看某条为什么命中。"
NEAR_RULE = "前后 {n} 字内须有——{near}"
NOT_NEAR_RULE = "前后 {n} 字内有则不算——{near}"
NEAR_ENTRY = "{keyword}：{words}"
NEAR_SEPARATOR = "；"
MIN_SCORE_RULE = "{score}（正文每处 1 分，标题每处 2 分）"
FIELD_LABELS = {
    "name": "名称",
    "keywords": "关键词",
    "description": "说明",
    "exclude": "排除词",
    "not_in": "排除上下文",
    "require": "必备词",
    "sources": "限定来源",
    "exclude_sources": "排除来源",
    "weights": "权重",
    "title_keywords": "标题关键词",
    "near": "邻近词",
    "not_near": "排除邻近词",
    "near_window": "邻近字数",
    "min_score": "最低分",
    "topics": "主题",
    "time": "时间",
    "days": "频率",
    "title": "群名",
    "value": "值",
}

# --- /sources and /status --------------------------------------------------------------------------
NO_SOURCES = "配置中没有新闻来源（[[sources]]）。"
SOURCES_HEADER = "共 {n} 个来源："
STATUS_TITLE = "finews-bot 运行状态"
STATUS_ITEMS = "已收录：{n} 条"
STATUS_SOURCES = "来源：{n} 个（正常 {ok}，失败 {failing}，长时间无新内容 {stale}，尚未抓取 {never}）"
STATUS_SUBSCRIPTIONS = "订阅：{n} 个（暂停 {paused}）"
STATUS_OUTBOX = "消息：待发送 {pending}，已发送 {sent}，失败 {failed}"
STATUS_LAST_DELIVERIES = "最近的日报："
STATUS_DELIVERY = "· {day} {chat}：{status}，{stories} 条"
DELIVERY_STATUS = {
    "sending": "发送中",
    "sent": "已发送",
    "silent": "无内容，未发送",
    "missed": "错过（服务未运行）",
    "failed": "发送失败",
}
REMOVED_SUBSCRIPTION = "（已取消的订阅）"

# --- /digest and subscriptions -----------------------------------------------------------------------
DIGEST_HEADER = "{day} 日报（{topics}）："
DIGEST_USAGE = (
    "用法：/digest [日期]，日期格式为 YYYY-MM-DD（如 2022-04-03），也可以写 今天、昨天、前天；不写则为昨天。"
)
BAD_DATE = "日期格式不对：“{value}”。"
BAD_TIME = "时间格式不对：“{value}”。请用 HH:MM，例如 08:30"
ONE_TIME_ONLY = "只能指定一个时间。"
SUBSCRIBE_USAGE = (
    "用法：/subscribe [主题…] [HH:MM]，例如 /subscribe 上市 普惠金融 08:30；不写主题即订阅全部主题。"
)
SUBSCRIBE_UNKNOWN_TOPIC = "没有名为“{names}”的主题，订阅未更改。"
NO_TELEGRAM_TOKEN = "本部署没有配置 Telegram 机器人令牌，日报无法发到 Telegram，订阅未保存。请联系管理员。"
SUBSCRIBED = "已订阅：每天的日报会发到这里。"
SUBSCRIPTION_CHANGED = "订阅已更新。"
SUBSCRIBE_HINT = "发送 /settime 时间 更改推送时间，/unsubscribe 取消订阅。"
SUBSCRIBE_HINT_NEW = "发送 /subscribe 订阅全部主题，或 /subscribe 上市 08:30 订阅指定主题。"
SUBSCRIPTION_LINE = "主题：{topics}；时间：{days} {time}"
SUBSCRIPTION_PAUSED = "；已暂停：{reason}"
SUBSCRIPTION_ITEM = "· {who}（{channel} {chat}）：{line}"
THIS_CHAT_SUBSCRIPTION = "本聊天的订阅："
ALL_SUBSCRIPTIONS = "共 {n} 个订阅："
NO_SUBSCRIPTIONS_AT_ALL = "还没有任何订阅。"
NOT_SUBSCRIBED = "本聊天尚未订阅日报。"
UNSUBSCRIBED = "已取消订阅，不再推送日报。随时可以发送 /subscribe 重新订阅。"
SETTIME_USAGE = "用法：/settime HH:MM [每天|工作日]，例如 /settime 07:45 工作日"
SETTIME_SUBSCRIBE_FIRST = "请先发送 /subscribe 订阅，或直接 /subscribe 07:45 同时设定时间。"
TIME_SET = "推送时间已更新。"
DAYS_LABELS = {"daily": "每天", "weekdays": "工作日"}

# --- topic editing and /audit -----------------------------------------------------------------------
EDIT_USAGE = {
    "addkw": "用法：/addkw 主题 关键词…，例如 /addkw 上市 科创板 北交所",
    "delkw": "用法：/delkw 主题 关键词…，例如 /delkw 上市 挂牌",
    "addexclude": "用法：/addexclude 主题 排除词…，例如 /addexclude 上市 招聘",
    "delexclude": "用法：/delexclude 主题 排除词…，例如 /delexclude 上市 招聘",
    "addnotin": "用法：/addnotin 主题 上下文…，例如 /addnotin 上市 线上市场（“线上市场”中的“上市”不算）",
    "delnotin": "用法：/delnotin 主题 上下文…，例如 /delnotin 上市 线上市场",
    "addtitlekw": "用法：/addtitlekw 主题 词…，例如 /addtitlekw 上市 敲钟（只在标题中出现才算）",
    "deltitlekw": "用法：/deltitlekw 主题 词…，例如 /deltitlekw 上市 敲钟",
}
KEYWORD_IN_OTHER_LIST = (
    "“{word}”已是主题“{topic}”的{field}，未作更改。一个词要么全文都算，要么只在标题中算；"
    "如要改，请先用 /{command} 删除。"
)
ADDNEAR_USAGE = (
    "用法：/addnear 主题 关键词 邻近词…，例如 /addnear 上市 上市 企业 IPO"
    "（“上市”前后若干字内须有“企业”或“IPO”才算）"
)
DELNEAR_USAGE = (
    "用法：/delnear 主题 关键词 [邻近词…]，例如 /delnear 上市 上市 公司；不写邻近词则取消该关键词的邻近词要求"
)
NOT_A_KEYWORD = "“{word}”不是主题“{topic}”的关键词，邻近词只能加在关键词上。"
NEAR_NONE = "“{keyword}”没有邻近词要求：每处都算。"
NEAR_NOW = "“{keyword}”前后 {n} 字内须有：{words}"
NEAR_ALREADY = "“{keyword}”的邻近词中已有：{words}，未作更改。"
NEAR_NOT_THERE = "“{keyword}”的邻近词中没有：{words}，未作更改。"
NEAR_ADDED = "已为主题“{topic}”的“{keyword}”添加邻近词：{words}"
NEAR_REMOVED = "已从主题“{topic}”的“{keyword}”删除邻近词：{words}"
NEAR_CLEARED = "已取消主题“{topic}”中“{keyword}”的邻近词要求。"
NEAR_IS_KEYWORD = "注意：邻近词“{keyword}”就是关键词本身，总是满足，不起作用。"
ADDNOTNEAR_USAGE = (
    "用法：/addnotnear 主题 关键词 排除邻近词…，例如 /addnotnear 地方金融监管 小额贷款 质押"
    "（“小额贷款”前后若干字内有“质押”时不算）"
)
DELNOTNEAR_USAGE = (
    "用法：/delnotnear 主题 关键词 [排除邻近词…]，例如 /delnotnear 地方金融监管 小额贷款 质押；"
    "不写词则取消该关键词的全部排除邻近词"
)
NOT_A_KEYWORD_FAR = "“{word}”不是主题“{topic}”的关键词，排除邻近词只能加在关键词上。"
NOT_NEAR_NONE = "“{keyword}”没有排除邻近词：附近有什么词都算。"
NOT_NEAR_NOW = "“{keyword}”前后 {n} 字内有这些词时不算：{words}"
NOT_NEAR_ALREADY = "“{keyword}”的排除邻近词中已有：{words}，未作更改。"
NOT_NEAR_NOT_THERE = "“{keyword}”的排除邻近词中没有：{words}，未作更改。"
NOT_NEAR_ADDED = "已为主题“{topic}”的“{keyword}”添加排除邻近词：{words}"
NOT_NEAR_REMOVED = "已从主题“{topic}”的“{keyword}”删除排除邻近词：{words}"
NOT_NEAR_CLEARED = "已取消主题“{topic}”中“{keyword}”的排除邻近词。"
NOT_NEAR_IS_KEYWORD = "注意：排除邻近词“{keyword}”就是关键词本身，每处都会被排除。"
SETMINSCORE_USAGE = (
    "用法：/setminscore 主题 分数，例如 /setminscore 上市 2（一处标题命中或两处正文命中才算）；0 为不设"
)
SETWINDOW_USAGE = "用法：/setwindow 主题 字数，例如 /setwindow 上市 8"
BAD_SCORE = "分数不对：“{value}”。请写 0 到 {n} 之间的数，最多两位小数，例如 2 或 1.5。"
BAD_WINDOW = "字数不对：“{value}”。请写 1 到 {n} 之间的整数，例如 10。"
MIN_SCORE_MEANS = "计分：命中的每处关键词按其权重计分，标题中计两倍；总分达到最低分才算相关。"
WINDOW_MEANS = "邻近词须在关键词前后这么多字以内。"
VALUE_UNCHANGED = "主题“{topic}”的{field}已是 {value}，未作更改。"
VALUE_SET = "已将主题“{topic}”的{field}由 {before} 改为 {value}。"
NEWTOPIC_USAGE = "用法：/newtopic 名称 关键词…，例如 /newtopic 债券 债券 城投债"
DELTOPIC_USAGE = "用法：/deltopic 名称，例如 /deltopic 债券"
WORD_TOO_LONG = "“{word}”太长了：每个词最多 {n} 个字。"
WORD_NOT_SEARCHABLE = "“{word}”不含文字或数字，无法用于检索。"
TOO_MANY_WORDS = "一次最多 {n} 个词。"
ALREADY_THERE = "主题“{topic}”的{field}中已有：{words}，未作更改。"
SOME_ALREADY_THERE = "已有的词未重复添加：{words}"
NOT_THERE = "主题“{topic}”的{field}中没有：{words}，未作更改。"
SOME_NOT_THERE = "这些词本来就没有：{words}"
LAST_TOPIC = "不能删除“{topic}”：这是本聊天仅剩的主题，删除后日报将没有任何内容。"
SCOPE_CHAT = "（本群）"
SCOPE_GLOBAL = "（全局）"
LAST_KEYWORD = "不能删除主题“{topic}”的最后一个关键词。如要删除整个主题，请用 /deltopic {topic}"
ADDED = "已为主题“{topic}”添加{field}：{words}"
REMOVED = "已从主题“{topic}”删除{field}：{words}"
CONTEXT_WITHOUT_KEYWORD = "注意：上下文“{words}”不含该主题的任何关键词，不会起作用。"
FIELD_NOW = "当前{field}：{values}"
EFFECTIVE_NOW = "修改立即生效，并已记入 /audit。"
BAD_TOPIC_NAME = "主题名称须含文字或数字，最多 {n} 个字。"
TOPIC_EXISTS = "主题“{topic}”已存在；可用 /addkw {topic} 关键词 添加关键词。"
TOPIC_CREATED = "已新建主题“{topic}”，关键词：{keywords}"
TOPIC_CREATED_HINT = "发送 /topic {topic} 查看新闻，/addexclude {topic} 词 添加排除词。"
TOPIC_DELETED = "已删除主题“{topic}”。"
TOPIC_DELETED_SUBSCRIBED = "注意：有 {n} 个订阅包含该主题，它们今后不再收到这个主题的新闻。"
AUDIT_USAGE = "用法：/audit [条数]，例如 /audit 20"
AUDIT_EMPTY = "还没有任何管理操作记录。"
AUDIT_HEADER = "最近 {n} 条操作记录（新的在前）："
AUDIT_LINE = "{when} {user}（{chat}）：{action} · {target}（{scope}）"
AUDIT_SCOPE_GLOBAL = "全局"
AUDIT_SCOPE_CHAT = "本群"
AUDIT_SCOPE_OTHER_CHAT = "聊天 {chat}"
AUDIT_TARGET_TOPIC = "主题“{topic}”"
AUDIT_TARGET_CHAT = "聊天 {chat}"
AUDIT_CREATED = "新建（{what}）"
AUDIT_REMOVED = "已删除"
AUDIT_UNCHANGED = "无变化"
ACTION_LABELS = {
    "add_keyword": "添加关键词",
    "delete_keyword": "删除关键词",
    "add_exclude": "添加排除词",
    "delete_exclude": "删除排除词",
    "add_not_in": "添加排除上下文",
    "delete_not_in": "删除排除上下文",
    "add_title_keyword": "添加标题关键词",
    "delete_title_keyword": "删除标题关键词",
    "add_near": "添加邻近词",
    "delete_near": "删除邻近词",
    "add_not_near": "添加排除邻近词",
    "delete_not_near": "删除排除邻近词",
    "set_near_window": "设置邻近字数",
    "set_min_score": "设置最低分",
    "feedback": "按“不相关”反馈修改规则",
    "new_topic": "新建主题",
    "delete_topic": "删除主题",
    "subscribe": "订阅",
    "unsubscribe": "取消订阅",
    "set_time": "设置推送时间",
}

# --- referring to an entry (/why, /notrelevant) ----------------------------------------------------------
NO_LIST = (
    "本聊天还没有可引用编号的列表：请先发送 /topic 主题 或 /digest，再用编号，例如 /why 3；"
    "也可以直接写条目 ID。"
)
NO_SUCH_ENTRY = "最近的列表（{label}）中没有{topic}第 {n} 条。"
WHICH_TOPIC = "最近的日报（{label}）中有多个第 {n} 条，请写明主题，例如：{examples}"
ENTRY_GONE = "第 {n} 条（{label}）已不在库中。请重新查询。"
NOT_A_REFERENCE = "找不到条目“{value}”：请写最近列表中的编号（如 3），或条目 ID（/why 的回复中有）。"
WHERE_LIST = "第 {n} 条（{label}）"
WHERE_ID = "条目 {id}"
LIST_LABEL_TOPIC = "/topic {topic}"
LIST_LABEL_LATEST = "/latest {query}"

# --- /why ---------------------------------------------------------------------------------------------
WHY_USAGE = (
    "用法：/why [主题] 编号，例如 /why 3（最近一次 /topic 或 /digest 列表的第 3 条）、/why 上市 2"
    "（日报中“上市”的第 2 条），或 /why 条目ID。"
)
WHY_HEADER = "{where}：{title}"
WHY_META = "{source} · {time} · ID {id}"
WHY_NO_TOPIC = "没有任何主题的关键词出现在这条新闻中。"
WHY_VERDICT_MATCHED = "【{topic}】相关"
WHY_VERDICT_NOT = "【{topic}】不相关"
WHY_SCORE = "（得分 {score}，最低分 {minimum}）"
WHY_OCCURRENCE = "· {field}第 {at} 字“{word}”：{verdict}"
WHY_COUNTED = "计入"
WHY_COUNTED_NEAR = "计入，前后 {window} 字内有“{context}”"
WHY_NEGATED = "不计，位于排除上下文“{context}”中"
WHY_NOT_NEAR = "不计，前后 {window} 字内没有邻近词"
WHY_NEAR_NEGATIVE = "不计，前后 {window} 字内有排除邻近词“{context}”"
WHY_TITLE_ONLY = "不计，标题关键词只在标题中算"
WHY_MORE_OCCURRENCES = "  ……另有 {n} 处"
WHY_EXCLUDED = "· 含排除词“{word}”，不收录"
WHY_MISSING = "· 缺少必备词“{word}”"
WHY_IN_PASSING = f"· {IN_PASSING}：日报中排在本主题其他新闻之后，并注明“{IN_PASSING}”"
WHY_BELOW_SCORE = "· 得分 {score} 低于最低分 {minimum}（正文每处计 1 分，标题计 2 分）"
WHY_SOURCE_NOT_ALLOWED = "· 来源 {source} 不在该主题的允许列表"
WHY_SOURCE_EXCLUDED = "· 来源 {source} 在该主题的排除列表"
WHY_NO_KEYWORD = "· 未命中任何关键词"
WHY_FEEDBACK_HINT = "如这条与“{topic}”无关，请点“不相关”，或发送 /notrelevant {topic} {ref}"
FIELD_TITLE = "标题"
FIELD_TEXT = "正文"
NOT_RELEVANT_BUTTON = "不相关：{topic}"

# --- /notrelevant and /apply -----------------------------------------------------------------------------
NOTRELEVANT_USAGE = (
    "用法：/notrelevant [主题] 编号，例如 /notrelevant 上市 3；机器人会提出去掉它的规则修改，"
    "并列出近 30 天还会一起去掉的新闻。"
)
NOTRELEVANT_WHICH_TOPIC = "这条新闻属于多个主题：{topics}。请写明主题，例如 /notrelevant {example} {ref}"
NOTRELEVANT_NO_TOPIC = "这条新闻目前不属于任何主题，不需要修改规则。"
NOTRELEVANT_NOT_MATCHING = "这条新闻目前不属于主题“{topic}”（规则可能已经改过），不需要修改。"
PROPOSALS_HEADER = "“{title}”不属于“{topic}”{scope}。去掉它的规则修改（任选其一）："
PROPOSAL_LINE = "方案 {n}：{change}"
PROPOSAL_NOT_IN = "添加排除上下文“{words}”——位于其中的“{keyword}”不再计入"
PROPOSAL_NOT_NEAR = "“{keyword}”前后 {window} 字内有“{words}”时不再计入"
PROPOSAL_NEAR = "“{keyword}”须在前后 {window} 字内有邻近词：{words}"
PROPOSAL_NEAR_NARROWER = "从“{keyword}”的邻近词中去掉：{words}"
PROPOSAL_EXCLUDE = "添加排除词“{words}”——含此词的新闻不再收录"
PROPOSAL_MIN_SCORE = (
    "把最低分设为 {score}（这条得 {item_score} 分）——得分更低的新闻不再收录（正文每处计 1 分，标题计 2 分）"
)
PROPOSAL_DROPS = "  {span}另有 {n} 条将不再收录：{titles}"
PROPOSAL_DROPS_NONE = "  {span}没有其他新闻受影响。"
PROPOSAL_SPAN = "近 30 天"
PROPOSAL_SHARE_NOT_IN = (
    "  注意：存档中含“{keyword}”的 {total} 条新闻里，{n} 条（{percent}%）含“{context}”——"
    "今后其中的“{keyword}”都不再计入。"
)
PROPOSAL_SHARE_NOT_NEAR = (
    "  注意：存档中含“{keyword}”的 {total} 条新闻里，{n} 条（{percent}%）也含“{word}”——"
    "其中两词相距 {window} 字以内的，今后都不再计入。"
)
PROPOSAL_SPAN_MOVED = "30 天内（{day} 之前；近期无新闻）"
PROPOSAL_SPAN_PARTIAL = "（只核对了最新的 {n} 条）"
PROPOSAL_TITLES_MORE = "等"
PROPOSALS_HINT = "点“采用方案”按钮，或发送 /apply 编号，例如 /apply 1。"
APPLY_BUTTON = "采用方案 {n}"
NO_PROPOSAL = (
    "找不到只改一处规则就能去掉它的办法（它被多个关键词命中）。可以用 /addexclude {topic} 词 "
    "添加排除词，或 /why 查看命中的每一处。"
)
APPLY_USAGE = "用法：/apply 方案编号，例如 /apply 1（采用最近一次 /notrelevant 给出的方案）"
PROPOSALS_EXPIRED = "这些修改建议已过期（机器人重启过，或已采用、已有更新的建议）。请重新发送 /notrelevant。"
NO_SUCH_PROPOSAL = "没有方案 {n}：最近的建议共 {count} 个。"
TOPIC_CHANGED_SINCE = "主题“{topic}”在给出建议之后已被修改，建议已作废。请重新发送 /notrelevant。"
APPLIED = "已采用方案 {n}：{change}"
APPLIED_DROPPED = "“{title}”已不再属于“{topic}”。"
APPLIED_ALSO = "它仍属于：{topics}"
APPLIED_UNDO = "如需撤销：{command}"

# --- chat platforms without buttons that come back to the bot (DingTalk) ----------------------------
PAGE_BY_TYPING = "翻页请发送：{labels}"
PAGE_BY_TYPING_GROUP = "翻页请 @我 并发送：{labels}"
PAGE_LABELS_JOINER = " 或 "
NOT_TEXT = "目前只能识别文字消息。请发送命令，例如：最新 株洲；发送“帮助”查看全部命令。"
DINGTALK_NO_GROUP_ADMINS = (
    "钉钉不告诉机器人谁是群主或群管理员：在钉钉群里，订阅与本群主题只能由部署时配置的钉钉管理员"
    "（配置文件 dingtalk 一节的 admins）更改。"
)

# --- the console (finews-bot chat) ------------------------------------------------------------------
CONSOLE_GREETING = (
    "finews-bot 控制台：输入命令（如 /latest 株洲），不带 / 的一行按关键词搜索；/help 查看命令，Ctrl-D 退出。"
)
CONSOLE_TITLE = "控制台"
CONSOLE_CHOICE = "[{n}] {label}"
CONSOLE_CHOICES = "{choices} — 输入 {keys}"
CONSOLE_KEYS_JOINER = " 或 "
CONSOLE_NO_CHOICE = "没有这个选项：{key}"

# --- WeCom (企业微信 智能机器人) ----------------------------------------------------------------------
WECOM_TEXT_ONLY = "目前只能处理文字消息。请发送文字命令，例如“最新 株洲”，或发送“帮助”查看全部命令。"
WECOM_WORKING = "正在查询，请稍候…"
WECOM_PAGER_TITLE = "翻页"
WECOM_PAGER_DESC = "点“上一页”“下一页”，新的一页会作为新消息发出"
WECOM_BUTTONS_TITLE = "请选择"
WECOM_BUTTONS_DESC = "点按钮后，结果会作为新消息发出"
