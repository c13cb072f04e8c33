"""An aiohttp application served on 127.0.0.1 from its own event loop in a background thread.

The chat-platform fakes (``dingtalk``, ``feishu``, ``wecom``) each need HTTP and WebSocket on one
port, state changed by the protocol (on the server's loop) and read or driven by a test (in the
test's thread), and a server that a bot in another process can reach. aiohttp serves both HTTP
and WebSocket from one application; running it on a loop of its own in a daemon thread keeps it
independent of whatever loop, thread or process the client under test uses.

Everything that touches a connection runs on the server's loop: the fakes' public methods hand
their work over with :meth:`AioServer.run` and return when it is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from aiohttp import web

T = TypeVar("T")


class AioServer:
    """Serve ``make_app()`` on ``127.0.0.1:port`` (0: any free port) until :meth:`stop`."""

    def __init__(
        self,
        make_app: Callable[[], web.Application],
        *,
        port: int = 0,
        name: str = "fake",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._make_app = make_app
        self._ssl_context = ssl_context
        self._port = port
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None
        # Transports of open requests (HTTP and WebSocket), so that stop() can cut them.
        self._transports: set[asyncio.Transport] = set()

    @property
    def port(self) -> int:
        if self._bound_port is None:
            raise RuntimeError(f"{self._name} is not started")
        return self._bound_port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https`` with TLS; no trailing slash)."""
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:PORT`` (``wss`` with TLS; no trailing slash)."""
        scheme = "wss" if self._ssl_context is not None else "ws"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError(f"{self._name} is not started")
        return self._loop

    @property
    def running(self) -> bool:
        return self._loop is not None

    def start(self) -> None:
        if self._loop is not None:
            raise RuntimeError(f"{self._name} is already started")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            self.run(self._start())
        except BaseException:
            self._shutdown_loop()
            raise

    async def _start(self) -> None:
        app = self._make_app()
        app.middlewares.append(self._track)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self._port, ssl_context=self._ssl_context)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self._bound_port = int(address[1])

    @web.middleware
    async def _track(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        transport = request.transport
        if transport is not None:
            self._transports.add(transport)
        try:
            return await handler(request)
        finally:
            if transport is not None:
                self._transports.discard(transport)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coro`` on the server's loop and return its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run the plain function ``fn`` on the server's loop and return its result."""

        async def wrapper() -> T:
            return fn()

        return self.run(wrapper(), timeout)

    def stop(self) -> None:
        """Cut every open connection (no close frames), close the listening socket, end the thread."""
        if self._loop is None:
            return
        with contextlib.suppress(Exception):
            self.run(self._stop(), timeout=5.0)
        self._shutdown_loop()

    async def _stop(self) -> None:
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _shutdown_loop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=5)
        if not loop.is_running():
            loop.close()
        self._loop = self._thread = None
        self._bound_port = None


class _Socket(Protocol):
    """What a fake keeps of one WebSocket connection, as far as :class:`PlatformFake` needs it."""

    connection_id: str
    closed_at: float | None
    how_closed: str | None


class PlatformFake:
    """What every chat-platform fake shares: its server's life cycle (also as a context manager),
    the records it keeps under one condition, and waiting for them from the test's thread.

    A fake sets ``_server`` and ``_cond`` in its ``__init__`` and names its platform in ``NAME``
    (for timeouts); one with timers of its own cancels them in ``_cancel_timers``.
    """

    NAME = "platform"
    _server: AioServer
    _cond: threading.Condition
    _connections: dict[str, Any]  # the open connections, by id
    _connection_log: list[Any]  # every connection so far, oldest first

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server.running:
            with contextlib.suppress(Exception):
                self._server.call(self._cancel_timers)
        self._server.stop()

    def _cancel_timers(self) -> None:
        """On the server's loop, before it stops: cancel what the fake scheduled (none here)."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        """Block until ``predicate()`` (evaluated under the records' lock) holds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self.NAME} fake: no {what} within {timeout} s")
                self._cond.wait(min(remaining, 0.1))

    def _record(self, target: list[T], item: T) -> None:
        with self._cond:
            target.append(item)
            self._cond.notify_all()

    @contextlib.contextmanager
    def _connected(
        self, connection: _Socket, closed_by: Callable[[], str] = lambda: "client"
    ) -> Iterator[None]:
        """On the server's loop, while a connection is read: it is open and logged; at its end it
        is closed (``closed_by()`` says who closed it, unless the fake did) and waiters woken."""
        with self._cond:
            self._connections[connection.connection_id] = connection
        self._record(self._connection_log, connection)
        try:
            yield
        finally:
            with self._cond:
                connection.closed_at = time.time()
                if connection.how_closed is None:
                    connection.how_closed = closed_by()
                self._connections.pop(connection.connection_id, None)
                self._cond.notify_all()
