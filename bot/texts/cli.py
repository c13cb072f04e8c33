"""The command line's words (and the service's log lines meant for the operator), Chinese first."""

from __future__ import annotations

NOTHING_IMPORTED = "尚未导入任何内容（nothing imported yet）：请先运行 finews-bot import [路径…]"
EMPTY_QUERY = "请输入至少一个关键词，例如：finews-bot latest 株洲"
QUERY_TRUNCATED = "关键词过长，只按前 {n} 个字符搜索。"
NO_RESULTS = "没有找到包含“{query}”的内容。"
RESULTS_HEADER = "“{query}”共 {total} 条，显示最新 {shown} 条："
TOPIC_HEADER = "主题“{topic}”（{keywords}）共 {total} 条，显示最新 {shown} 条："
TOPIC_NO_RESULTS = "主题“{topic}”（{keywords}）暂无相关内容。"
UNKNOWN_TOPIC = "没有名为“{name}”的主题。"
DID_YOU_MEAN = "您是不是要找：{names}"
AVAILABLE_TOPICS = "可用主题：{names}"
KEYWORD_FALLBACK = "以下是关键词“{name}”的搜索结果："
NO_TOPICS = "尚未配置任何主题：在配置文件中添加 [topics.名称] 和 keywords。"
TOPICS_HEADER = "共 {n} 个主题："
TOPIC_LINE = "{name}：{description}"
TOPIC_KEYWORDS = "    关键词：{keywords}"
TOPIC_MATCHES = "    已收录相关内容 {n} 条"
TOPIC_NOT_IN = "    不计入的上下文：{words}"
TOPIC_EXCLUDE = "    排除词：{words}"
TOPIC_REQUIRE = "    必备词：{words}"
TOPIC_TITLE_KEYWORDS = "    标题关键词（只在标题中算）：{words}"
TOPIC_NEAR = "    邻近词（前后 {n} 字内须有其一）：{near}"
TOPIC_NOT_NEAR = "    排除邻近词（前后 {n} 字内有其一则不算）：{near}"
TOPIC_NEAR_ENTRY = "{keyword}——{words}"
TOPIC_MIN_SCORE = "    最低分：{score}（正文每处 1 分，标题每处 2 分）"
AT_LEAST = "至少 {n}"
SOURCE_WITH_ORIGIN = "{name}（{origin}）"

IMPORT_SUMMARY = "导入完成：新增 {new} 条，更新 {updated} 条，未变 {unchanged} 条，跳过 {skipped} 个文件。"
IMPORT_SKIPPED = "  跳过 {path}：{reason}"
IMPORT_NO_SOURCES = (
    '配置中没有可导入的文件夹来源（[[sources]] kind = "folder"），请指定路径：finews-bot import 路径…'
)
IMPORT_SOURCE = "导入来源“{name}”：{path}"
IMPORT_MISSING_PATH = "找不到文件或文件夹：{path}"

STATUS_CONFIG = "配置：{path}（{origin}）"
STATUS_DATABASE = "数据库：{path}"
STATUS_NO_DATABASE = "数据库：{path}（尚未创建，请先运行 finews-bot import）"
STATUS_ITEMS = "共收录 {n} 条"
STATUS_SOURCES = "来源："
ORIGIN_EMBEDDED = "内置默认配置"
ORIGIN_FILE = "配置文件"

FETCH_UNKNOWN_SOURCE = "没有名为 {names} 的来源。已配置的来源：{available}"
NONE_CONFIGURED = "（无）"
FETCH_NO_SOURCES = "配置中没有启用的来源（[[sources]]）。"
FETCH_LINE = "{name}（{kind}）：新增 {new}，更新 {updated}，未变 {unchanged}{extra}"
FETCH_NOT_MODIFIED = "，未修改（304）"
FETCH_SKIPPED = "，跳过 {n} 个文件"
FETCH_REJECTED = "，拒收 {n} 条"
FETCH_ERROR = "{name}（{kind}）：失败：{error}"
FETCH_NEXT = "  下次尝试：{when}"
FETCH_WARNING = "  提示：{warning}"
ALREADY_RUNNING = (
    "另一个 finews-bot run 正在使用数据库 {database}"
    "（进程 {pid}，也可能是正在发送的 digest --send），本次不启动。"
)

ERROR_PREFIX = "finews-bot: "

DIGEST_BAD_DATE = "日期格式不对：{value!r}；请用 YYYY-MM-DD（如 2026-11-20），或 today、yesterday、latest。"
DIGEST_UNKNOWN_TOPIC = "没有名为 {names} 的主题。可用主题：{available}"
DIGEST_FILE = "已写入 {path}"
DIGEST_NO_SUBSCRIPTIONS = (
    '没有订阅：在配置文件中添加 [[subscriptions]]（chat = "console" 或群组 ID），或在群里发送 /subscribe。'
)
DIGEST_ALREADY = "{chat}：{day} 的日报已处理过（{status}），不重复发送。"
DIGEST_QUEUED = "{chat}：{day} 的日报已排队，共 {parts} 条消息。"
DIGEST_SENT = "发送完成：已发送 {sent} 条，失败 {failed} 条，等待中 {waiting} 条。"
DIGEST_WAITING = "等待 {seconds} 秒后继续发送（限流或重试）……"
DIGEST_ROBOTS_BY_SERVICE = "finews-bot run（进程 {pid}）正在运行：群机器人的消息由它发送。"
DIGEST_ROBOT_SENT = "{chat}：{day} 的日报已发送 {sent}/{parts} 条"
DIGEST_ROBOT_PAUSED = "；已暂停，其余消息保留待发：{reason}（修正配置后重新运行即可继续）"
DIGEST_ROBOT_LATER = "；{n} 条等待中（{when} 后可发），由 finews-bot run 或下次 digest --send 发送"
DIGEST_WAITING_TELEGRAM = "有 {n} 条 Telegram 消息等待发送：它们由 finews-bot run（配置了机器人令牌时）发出。"

TELEGRAM_NO_TOKEN = (
    "未配置 Telegram 机器人令牌（环境变量 {env}）：服务照常抓取来源、生成日报文件并输出到控制台。"
)

EXPORT_HEADER = (
    "# finews-bot 主题导出：配置文件中的主题，加上管理员在聊天中所做的修改。\n"
    '# 可替换 config.toml 中原有的 [topics."…"] 表。\n'
    "# finews-bot topics: the config file's topics with the edits made in chat.\n\n"
)
EXPORT_DONE = "已导出 {n} 个主题到 {path}"
EXPORT_OVER_CONFIG = "不能导出到正在使用的配置文件 {path}：导出内容只有主题，会覆盖其他设置。请换一个文件名。"
EXPORT_FAILED = "无法写入 {path}：{error}"

PLATFORMS_HEADER = "聊天平台："
PLATFORM_NAMES = {"telegram": "Telegram", "dingtalk": "钉钉", "feishu": "飞书", "wecom": "企业微信"}
PLATFORM_LINE = "  {name}：{state}（{when}）"
PLATFORM_NEVER = "  {name}：已配置，尚未连接（finews-bot run 运行后连接）"
PLATFORM_DETAIL = "    {detail}"
# The detail of "connecting" while a platform's SDK reconnects a lost long connection.
PLATFORM_RECONNECTING = "长连接中断，正在重连"
PLATFORM_STATES = {
    "connecting": "连接中",
    "connected": "已连接",
    "retrying": "无法连接，重试中，下次 {next}",
    "refused": "凭据被拒绝，已停止（修正环境变量后重启 finews-bot run）",
    "stopped": "服务已停止",
}
