"""The chat platforms' adapters `finews-bot run` starts: which exist, and how each is built.

Each adapter module is imported only when its platform's credentials are set, so that a
deployment without Feishu never loads lark-oapi (2 s and tens of MiB).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime

from bot.config import AppConfig, Config
from bot.delivery.channels import ChatAdapter

# platform → "module:class" of its adapter; the class is built as cls(config, app, now).
APP_ADAPTERS = {
    "dingtalk": "bot.adapters.dingtalk:DingTalkAdapter",
    "feishu": "bot.adapters.feishu:FeishuAdapter",
    "wecom": "bot.adapters.wecom:WeComAdapter",
}


def app_adapter_factory(
    config: Config, app: AppConfig, now: Callable[[], datetime]
) -> Callable[[], ChatAdapter]:
    """A factory of ``app``'s adapter (the service calls it for every connection attempt)."""
    module_name, _, class_name = APP_ADAPTERS[app.platform].partition(":")

    def build() -> ChatAdapter:
        adapter: ChatAdapter = getattr(importlib.import_module(module_name), class_name)(config, app, now)
        return adapter

    return build
