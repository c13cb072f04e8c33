"""Pytest fixtures for the fakes. A test module that uses them declares

``pytest_plugins = ("tests.fakes.fixtures",)``

(a plain ``from tests.fakes.fixtures import robot_fake`` works too, but then every test parameter
named ``robot_fake`` shadows the import and ruff reports F811).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.dingtalk import DingTalkFake
from tests.fakes.feishu import FeishuFake
from tests.fakes.robots import RobotFake
from tests.fakes.wecom import WeComFake


@pytest.fixture
def robot_fake() -> Iterator[RobotFake]:
    """A started robot fake with the documented limits, stopped after the test.

    Tests that need short rate windows build their own ``RobotFake(limits=Limits(...))`` or pass
    ``limits=`` to ``add_robot``.
    """
    with RobotFake() as fake:
        yield fake


@pytest.fixture
def dingtalk_fake() -> Iterator[DingTalkFake]:
    """A started DingTalk Stream fake with a fresh app (``client_id``/``client_secret``), stopped
    after the test. Tests that need short re-delivery delays build their own
    ``DingTalkFake(redeliver_after=...)``."""
    with DingTalkFake() as fake:
        yield fake


@pytest.fixture
def feishu_fake() -> Iterator[FeishuFake]:
    """A started Feishu fake with a fresh app (``app_id``/``app_secret``, so the SDK's token cache,
    keyed by app id, never mixes fakes), the SDK's default ClientConfig, stopped after the test.
    Tests of reconnects build ``FeishuFake(client_config=FAST_CONFIG)``."""
    with FeishuFake() as fake:
        yield fake


@pytest.fixture
def wecom_fake() -> Iterator[WeComFake]:
    """A started WeCom smart-robot fake on plain ``ws://`` (for clients of our own), stopped after
    the test. The official SDK needs ``WeComFake(tls=True)`` and its ``client_ssl_context()``."""
    with WeComFake() as fake:
        yield fake
