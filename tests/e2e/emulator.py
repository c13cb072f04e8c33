"""A local Telegram Bot API for end-to-end tests: start it, act as a user, read what the bot did.

The server is ``tests/e2e/emulator/server.js``: the npm package telegram-test-api 4.2.1 (pinned in
``package-lock.json``) behind a thin wrapper that makes it answer like Telegram for
python-telegram-bot 22, plus a control API under ``/control/``. A bot under test is pointed at it
with ``base_url`` / ``base_file_url`` (PTB's ``ApplicationBuilder`` or ``telegram.Bot``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import pytest

EMULATOR_DIR = Path(__file__).resolve().parent / "emulator"
# "<bot id>:<secret>", the shape of a real token; getMe answers with the id before the colon.
DEFAULT_TOKEN = "7000000001:AAFinewsE2eTestTokenNotARealOne"
BOT_USERNAME = "finews_test_bot"

Json = dict[str, Any]


class EmulatorError(RuntimeError):
    """The emulator did not start or answered a control call with an error."""


def ensure_installed(directory: Path = EMULATOR_DIR) -> None:
    """Install the emulator's npm packages when ``node_modules`` is missing or older than the lock.

    Skips the calling test when ``node`` or ``npm`` is not on PATH, except when ``CI`` is
    ``true``: there a missing Node.js fails the run instead of hiding the end-to-end tests.
    """
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        reason = (
            f"{' and '.join(missing)} not found on PATH: the Telegram emulator in "
            f"{directory} needs Node.js (>= 18) and npm"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: failing instead of skipping)", pytrace=False)
        pytest.skip(reason)
    lock = directory / "package-lock.json"
    installed = directory / "node_modules" / ".package-lock.json"  # written by every npm install
    package = directory / "node_modules" / "telegram-test-api" / "package.json"
    if package.is_file() and installed.is_file() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    assert npm is not None
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"npm ci in {directory} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}",
            pytrace=False,
        )


class Emulator:
    """A running emulator and the calls a test makes to it, as a user and as an observer."""

    def __init__(
        self,
        port: int,
        *,
        token: str = DEFAULT_TOKEN,
        process: subprocess.Popen[bytes] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.port = port
        self.token = token
        self.process = process
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{port}"
        # The emulator is local: never go through a proxy from the environment.
        self._http = httpx.Client(base_url=self.url, timeout=10.0, trust_env=False)

    # ------------------------------------------------------------------ process
    @classmethod
    def start(
        cls,
        log_path: Path,
        *,
        token: str = DEFAULT_TOKEN,
        startup_timeout: float = 20.0,
        directory: Path = EMULATOR_DIR,
    ) -> Emulator:
        """Start ``node server.js`` on a free port of 127.0.0.1 and wait until it answers.

        The server's stdout and stderr go to ``log_path``. The server picks the port itself
        (port 0) and writes it to a file beside the log, so there is no race for a free port.
        """
        node = shutil.which("node")
        if node is None:
            raise EmulatorError("node is not on PATH")
        port_file = log_path.with_name(log_path.name + ".port")
        port_file.unlink(missing_ok=True)
        command = [node, "server.js", "--port", "0", "--port-file", str(port_file)]
        command += ["--parent-pid", str(os.getpid())]
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command, cwd=directory, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + startup_timeout
        try:
            while not (port_file.is_file() and port_file.read_text().strip()):
                if process.poll() is not None:
                    raise EmulatorError(
                        f"the emulator exited with {process.returncode}:\n{log_path.read_text()}"
                    )
                if time.monotonic() > deadline:
                    raise EmulatorError(f"the emulator did not start in {startup_timeout} s")
                time.sleep(0.02)
            emulator = cls(int(port_file.read_text()), token=token, process=process, log_path=log_path)
            emulator._http.get("/control/health").raise_for_status()
        except BaseException:
            _stop_process(process)
            raise
        return emulator

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server by its PID (terminate, then kill after ``timeout``)."""
        self._http.close()
        if self.process is not None:
            _stop_process(self.process, timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def log(self) -> str:
        """What the server printed (one line per bot call and per user action)."""
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    # ------------------------------------------------------------ for the bot
    @property
    def base_url(self) -> str:
        """PTB's ``base_url``: the token and the method are appended to it."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":", 1)[0])

    @property
    def bot_username(self) -> str:
        return BOT_USERNAME

    # ------------------------------------------------------ a test as a user
    def send_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        chat_type: str | None = None,
        entities: list[Json] | None = None,
        first_name: str | None = None,
        username: str | None = None,
    ) -> Json:
        """A user's message. Returns ``{"update_id", "message_id"}``.

        ``chat_type`` defaults to what the id says (positive: private, -100…: supergroup, other
        negative: group). Text starting with ``/command`` gets a ``bot_command`` entity at 0.
        """
        chat: Json = {"id": chat_id}
        if chat_type is not None:
            chat["type"] = chat_type
        sender: Json = {"id": user_id, "is_bot": False}
        if first_name is not None:
            sender["first_name"] = first_name
        if username is not None:
            sender["username"] = username
        body: Json = {"botToken": self.token, "chat": chat, "from": sender, "text": text}
        if entities is not None:
            body["entities"] = entities
        ids: Json = self._post("/sendMessage", body)
        return ids

    def send_command(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        chat_type: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
    ) -> Json:
        """A user's command such as ``"/latest@finews_test_bot 株洲"``: its ``bot_command`` entity
        covers ``/latest@finews_test_bot`` (offset 0, length in UTF-16 units)."""
        command = text.split(maxsplit=1)[0] if text.strip() else ""
        if not command.startswith("/") or len(command) < 2:
            raise ValueError(f"a command starts with /name: {text!r}")
        entity = {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
        return self.send_text(
            chat_id,
            user_id,
            text,
            chat_type=chat_type,
            entities=[entity],
            first_name=first_name,
            username=username,
        )

    def press_button(self, chat_id: int, user_id: int, message_id: int, callback_data: str) -> Json:
        """A user pressing an inline button of the bot's message ``message_id``.

        Returns ``{"update_id", "callback_query_id"}``; the update carries the message as it is
        now and a ``chat_instance``.
        """
        body = {
            "botToken": self.token,
            "chat_id": chat_id,
            "message_id": message_id,
            "user_id": user_id,
            "data": callback_data,
        }
        ids: Json = self._post("/sendCallback", body)
        return ids

    # ------------------------------------------------ what the bot did
    def bot_messages(self, chat_id: int | None = None) -> list[Json]:
        """The bot's messages (all chats when ``chat_id`` is None), oldest first, as they are now.

        Each is the Telegram Message the bot got back (``message_id``, ``chat``, ``date``,
        ``text`` without HTML tags, ``entities``, ``reply_markup``, ``edit_date`` after an edit,
        ``document``/``photo``/``caption``) plus ``raw_text`` (as sent) and ``parse_mode``.
        Deleted messages are gone.
        """
        params: Json = {"token": self.token}
        if chat_id is not None:
            params["chat_id"] = chat_id
        result: list[Json] = self._get("/control/messages", params)
        return result

    def wait_for_messages(self, chat_id: int, count: int = 1, timeout: float = 5.0) -> list[Json]:
        """Poll until the bot has at least ``count`` messages in the chat; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.bot_messages(chat_id)
            if len(messages) >= count:
                return messages
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} bot message(s) in chat {chat_id} within {timeout} s, got "
                    f"{len(messages)}: {messages}\nbot calls: {self._summary()}"
                )
            time.sleep(0.05)

    def calls(self, method: str | None = None) -> list[Json]:
        """The bot API call log, oldest first: ``seq``, ``method``, ``params`` (decoded),
        ``time`` (epoch seconds), ``status`` (HTTP), ``response`` and ``fault`` when injected."""
        params: Json = {"token": self.token}
        if method is not None:
            params["method"] = method
        result: list[Json] = self._get("/control/calls", params)
        return result

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Json]:
        """Poll until the bot made at least ``count`` calls of ``method``; return them all."""
        deadline = time.monotonic() + timeout
        while len(found := self.calls(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} {method} call(s) within {timeout} s, got {len(found)}\n"
                    f"bot calls: {self._summary()}"
                )
            time.sleep(0.05)
        return found

    def commands(self, scope: Json | None = None, language_code: str = "") -> list[Json]:
        """The commands stored by setMyCommands for a scope (default: ``{"type": "default"}``)."""
        wanted = scope or {"type": "default"}
        for entry in self.command_sets():
            if entry["scope"] == wanted and entry["language_code"] == language_code:
                found: list[Json] = entry["commands"]
                return found
        return []

    def command_sets(self) -> list[Json]:
        """Every stored command list: ``{"scope", "language_code", "commands"}``."""
        result: list[Json] = self._get("/control/commands", {"token": self.token})
        return result

    def file_content(self, file_id: str) -> bytes:
        """The bytes of a document or photo the bot uploaded."""
        response = self._http.get(f"/control/files/{file_id}")
        response.raise_for_status()
        return response.content

    def history(self) -> list[Json]:
        """telegram-test-api's own record (/getUpdatesHistory): user and bot messages, raw."""
        result: list[Json] = self._post("/getUpdatesHistory", {"token": self.token})
        return result

    # ------------------------------------------------------------ set-up
    def set_admins(self, chat_id: int, user_ids: Iterable[int], *, creator_id: int | None = None) -> None:
        """getChatMember answers "administrator" for ``user_ids`` in the chat and "creator" for
        ``creator_id``; everyone else is a "member"."""
        body = {"chat_id": chat_id, "user_ids": list(user_ids), "creator_id": creator_id}
        self._post("/control/admins", body)

    def inject_fault(
        self,
        method: str,
        status: int | None = None,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        chat_id: int | None = None,
        parse_mode: str | None = None,
        count: int | None = 1,
        delay: float | None = None,
        drop: bool = False,
    ) -> None:
        """Make the next ``count`` matching bot calls (None: all until reset) fail like Telegram.

        ``method`` is a Bot API method or ``"*"``; ``chat_id`` and ``parse_mode`` narrow the match.
        The answer is ``{"ok": false, "error_code": status, "description", "parameters"}`` with
        that HTTP status (429 gets ``retry_after``, default description per status). ``delay``
        (seconds) answers late; ``drop`` closes the connection without an answer.
        """
        fault: Json = {"method": method, "count": count}
        optional = {
            "status": status,
            "description": description,
            "retry_after": retry_after,
            "migrate_to_chat_id": migrate_to_chat_id,
            "chat_id": chat_id,
            "parse_mode": parse_mode,
            "delay_ms": None if delay is None else int(delay * 1000),
            "drop": drop or None,
        }
        fault.update({key: value for key, value in optional.items() if value is not None})
        if status == 429 and retry_after is None:
            fault["retry_after"] = 1
        self._post("/control/faults", fault)

    def clear_faults(self) -> None:
        self._check(self._http.delete("/control/faults"))

    def reset(self) -> None:
        """Forget messages, updates, calls, faults, admins, commands and files (ids keep counting)."""
        self._post("/control/reset", {})

    # ------------------------------------------------------------ plumbing
    def _summary(self) -> list[str]:
        return [f"{call['method']} {call.get('status')}" for call in self.calls()]

    def _get(self, path: str, params: Json) -> Any:
        return self._check(self._http.get(path, params=params))

    def _post(self, path: str, body: Json) -> Any:
        return self._check(self._http.post(path, json=body))

    @staticmethod
    def _check(response: httpx.Response) -> Any:
        try:
            answer = response.json()
        except ValueError:
            answer = {"ok": False, "description": response.text}
        if response.status_code != 200 or not answer.get("ok"):
            raise EmulatorError(f"{response.request.url}: {response.status_code} {answer}")
        return answer.get("result")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _stop_process(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)
