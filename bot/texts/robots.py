"""The group robots' words: their state in ``status`` and ``finews-bot robots``, the test message."""

from __future__ import annotations

PLATFORMS = {"wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书"}
STATES = {
    "ok": "正常",
    "waiting": "有消息等待发送",
    "paused": "已暂停（消息保留待发）",
    "never": "尚未发送",
    "unsubscribed": '未订阅（[[subscriptions]] 中没有 chat = "robot:名称"）',
}
LINE = "{indent}{name}（{platform}{signed}，$ {env}）：{state}{pending}{when}"
SIGNED = "，加签"
PENDING = "，待发 {n} 条"
LAST_SENT = "，上次发送 {when}"
SUBSCRIPTION = "{indent}订阅：{line}"
SUBSCRIPTION_LINE = "{topics}；{days} {time}"
ALL_TOPICS = "全部主题"
DAYS = {"daily": "每天", "weekdays": "工作日"}
PAUSED = (
    "{indent}暂停原因：{reason}。修正环境变量中的 webhook 或密钥后，"
    "重新运行 finews-bot run 或 digest --send 即恢复。"
)
ERROR = "{indent}最近错误：{error}"

HEADER = "群机器人："
NONE = "配置中没有群机器人（[[robots]]）。"
UNKNOWN = "没有名为“{name}”的机器人。已配置的机器人：{names}"
TEST_MESSAGE = "finews-bot 测试消息：机器人“{name}”配置正确，日报将发送到本群。"
TEST_SENT = "已向机器人“{name}”（{platform}）发送测试消息，请在群里查看。"
TEST_FAILED = "向机器人“{name}”发送测试消息失败：{error}"
