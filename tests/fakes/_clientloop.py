"""Run an SDK client's blocking or async entry point on an event loop of its own, in a thread, and
stop it again — for the tests that prove the fakes against the real SDKs.

Stopping is the hard part and is what an adapter must do too:

- ``DingTalkStreamClient.start()`` catches ``CancelledError`` and sleeps 10 s before looping
  (``dingtalk_stream/stream.py:82-86``): one cancellation is swallowed. A second one, delivered
  while it sleeps inside the ``except`` block, ends it. :meth:`ClientLoop.stop` cancels until no
  task is left.
- ``lark_oapi.ws.Client.start()`` blocks in ``loop.run_until_complete`` on the module-level loop
  ``lark_oapi.ws.client.loop`` and has no stop. Give it a fresh loop (``lark_oapi.ws.client.loop =
  ClientLoop.loop``) and stop that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any


class ClientLoop:
    """A new event loop and the thread that runs one client entry point on it."""

    def __init__(self, name: str = "sdk-client") -> None:
        self.loop = asyncio.new_event_loop()
        self._name = name
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.finished = threading.Event()

    def run_coroutine(self, make: Callable[[], Coroutine[Any, Any, object]]) -> None:
        """Run ``make()`` (e.g. ``client.start``) to completion on the loop, in the thread."""

        def target() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self.loop.run_until_complete(make())
            except BaseException as error:
                self.error = error
            finally:
                self.finished.set()

        self._start(target)

    def run_blocking(self, fn: Callable[[], object]) -> None:
        """Call ``fn()`` (e.g. lark's ``ws.Client.start``, which runs the loop itself) in the thread."""

        def target() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                fn()
            except BaseException as error:
                self.error = error
            finally:
                self.finished.set()

        self._start(target)

    def _start(self, target: Callable[[], None]) -> None:
        if self._thread is not None:
            raise RuntimeError("already running")
        self._thread = threading.Thread(target=target, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop, cancel every task it still has (twice over, for clients that swallow one
        cancellation), close it."""
        loop = self.loop
        if loop.is_closed():
            return
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        if loop.is_running():  # a client that will not stop: leave it to die with the process
            return
        for _ in range(10):
            tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
            if not tasks:
                break
            for task in tasks:
                task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(asyncio.wait(tasks, timeout=0.1))
        with contextlib.suppress(BaseException):
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
