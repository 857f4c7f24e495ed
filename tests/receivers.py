"""Real notification receivers on 127.0.0.1 for the channel tests: an HTTP webhook receiver
and an SMTP server (aiosmtpd). Both run in threads of the test process and stop when their
block ends."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from roostserver import HOST, free_port

WAIT_S = 10.0  # the longest any test waits for something to arrive


@dataclass
class Post:
    body: bytes
    headers: dict[str, str]
    signature_ok: bool
    answered: int


@dataclass
class WebhookReceiver:
    """Records every POST, checks its signature, and answers 500 while told to fail."""

    url: str = ""
    secret: str = ""
    fail_next: int = 0
    hang_seconds: float = 0.0  # stall before answering (a slow or dead receiver)
    posts: list[Post] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        if self.hang_seconds:
            time.sleep(self.hang_seconds)
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        signature_ok = hmac.compare_digest(headers.get("x-roost-signature", ""), expected)
        with self.lock:
            status = 500 if self.fail_next > 0 else 200
            self.fail_next = max(0, self.fail_next - 1)
            self.posts.append(Post(body, headers, signature_ok, status))
        return status

    @property
    def delivered(self) -> list[Post]:
        with self.lock:
            return [post for post in self.posts if post.answered == 200]


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {key.lower(): value for key, value in self.headers.items()}
            status = receiver.handle(body, headers)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:  # the sender gave up waiting
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://{HOST}:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Mailbox:
    port: int
    user: str
    password: str
    messages: list[bytes] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)

    def apprise_url(self, to: str = "ops@example.com") -> str:
        return (
            f"mailto://{self.user}:{self.password}@{HOST}:{self.port}"
            f"?to={to}&from=roost@example.com&smtp={HOST}&mode=insecure"
        )


@contextmanager
def smtp_server(user: str = "roost", password: str = "mail-s3cret") -> Iterator[Mailbox]:
    mailbox = Mailbox(free_port(), user, password)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            mailbox.messages.append(bytes(envelope.content))
            mailbox.recipients.extend(envelope.rcpt_tos)
            return "250 OK"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):  # type: ignore[no-untyped-def]
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok)

    controller = Controller(
        Handler(),
        hostname=HOST,
        port=mailbox.port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def wait_for(check: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    """Poll ``check`` until it returns something truthy (bounded), and return it."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
