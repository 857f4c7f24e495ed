"""Channels: which URLs are accepted, how they are shown, and how one message is sent.

An ``http``/``https`` URL is Roost's own webhook: the payload as a JSON body, signed with the
channel's secret. Any other URL is handed to Apprise, which knows over 100 services.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import warnings
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import orjson

from roost import __version__
from roost.domain.errors import InvalidInput

WEBHOOK = "webhook"
APPRISE = "apprise"
SIGNATURE_HEADER = "X-Roost-Signature"
DELIVERY_HEADER = "X-Roost-Delivery"  # the outbox id, the same on every retry: dedupe by it
ATTEMPT_HEADER = "X-Roost-Attempt"
MASK = "****"
SECRET_BYTES = 32
MAX_ERROR_CHARS = 500
# Query parameters of a webhook URL that look like credentials are masked when shown.
_SECRET_WORDS = ("key", "token", "secret", "pass", "sig", "auth")


@dataclass(frozen=True, slots=True)
class Target:
    """A validated channel URL: its kind, the URL itself, and how it may be shown."""

    kind: str
    url: str
    masked_url: str


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    error: str | None = None


def parse_url(url: str) -> Target:
    """Validate ``url`` for its scheme; ``InvalidInput("url", …)`` names what is wrong."""
    url = url.strip()
    scheme, sep, _ = url.partition("://")
    if not sep or not scheme:
        raise InvalidInput("url", "must be a URL such as https://… or an Apprise URL (slack://…)")
    scheme = scheme.lower()
    if scheme in ("http", "https"):
        parts = urlsplit(url)
        if not parts.hostname:
            raise InvalidInput("url", "a webhook URL needs a host")
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError as exc:
            raise InvalidInput("url", f"invalid port: {exc}") from None
        return Target(WEBHOOK, url, mask_webhook_url(url))
    return _parse_apprise(url, scheme)


def mask_webhook_url(url: str) -> str:
    """The URL with its password and credential-like query values replaced by ``****``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        netloc = f"{user}:{MASK}@{hostport}"
    query = urlencode(
        [
            (key, MASK if any(word in key.lower() for word in _SECRET_WORDS) else value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def new_secret() -> str:
    return secrets.token_hex(SECRET_BYTES)


def sign(secret: str, body: bytes) -> str:
    """The ``X-Roost-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_body(payload: dict[str, Any]) -> bytes:
    return orjson.dumps(payload)


def render_text(payload: dict[str, Any]) -> tuple[str, str]:
    """Title and body of a notification for services that take text (mail, chat …)."""
    if "alert_name" in payload:
        state = str(payload.get("state", "")).upper()
        title = f"[{state}] {payload['alert_name']}" if state else str(payload["alert_name"])
    else:
        title = str(payload.get("title") or "Roost notification")
    if payload.get("message"):
        body = str(payload["message"])
    else:
        body = "\n".join(
            f"{key}: {value}" for key, value in payload.items() if key not in ("title", "message")
        )
    return title, body


# -- Apprise --


@cache
def _apprise() -> Any:
    """Apprise, its plugins loaded once.

    Its e-mail plugin imports the standard library's ``imghdr``, which warns that it is
    deprecated; the warning says nothing about Roost and would fail the test suite.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise
        from apprise.plugins import N_MGR

        N_MGR.load_modules()
    logging.getLogger("apprise").addHandler(_ContextMessages())
    return apprise


# The messages of the Apprise call running in this context. Apprise runs its sends in worker
# threads but copies the caller's context into them, so this follows the call there and keeps
# concurrent sends from mixing their reasons.
_CAPTURE: ContextVar[list[str] | None] = ContextVar("roost_apprise_messages", default=None)


class _ContextMessages(logging.Handler):
    """Apprise explains failures only in its log: keep the current call's warnings and errors."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        messages = _CAPTURE.get()
        if messages is not None:
            messages.append(record.getMessage())


@contextmanager
def _apprise_messages() -> Iterator[list[str]]:
    messages: list[str] = []
    token = _CAPTURE.set(messages)
    try:
        yield messages
    finally:
        _CAPTURE.reset(token)


def _reason(messages: list[str], fallback: str) -> str:
    text = "; ".join(dict.fromkeys(message.strip() for message in messages if message.strip()))
    return (text or fallback)[:MAX_ERROR_CHARS]


def _parse_apprise(url: str, scheme: str) -> Target:
    apprise = _apprise()
    from apprise.plugins import N_MGR

    if scheme not in N_MGR:
        raise InvalidInput(
            "url",
            f"unknown scheme {scheme!r}: use http(s):// for Roost's webhook or an Apprise URL",
        )
    with _apprise_messages() as messages:
        plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise InvalidInput("url", _reason(messages, f"not a valid {scheme}:// URL"))
    return Target(APPRISE, url, str(plugin.url(privacy=True)))


def _send_apprise(url: str, title: str, body: str) -> Outcome:
    apprise = _apprise()
    with _apprise_messages() as messages:
        sender = apprise.Apprise()
        if not sender.add(url):
            return Outcome(False, _reason(messages, "the Apprise URL no longer loads"))
        if sender.notify(body=body, title=title):
            return Outcome(True)
    return Outcome(False, _reason(messages, "Apprise reported a failure"))


# -- sending --


async def send(
    *,
    kind: str,
    url: str,
    secret: str | None,
    payload: dict[str, Any],
    delivery: str,
    attempt: int,
    time_limit: float,
    client: httpx.AsyncClient,
    executor: Executor | None = None,
) -> Outcome:
    """Send one notification; never raises for a failure of the channel, and never takes
    much longer than ``time_limit`` (an Apprise call still running then is abandoned to its
    thread, which its own socket timeouts end)."""
    try:
        if kind == WEBHOOK:
            # httpx's timeout bounds each phase; wait_for bounds the whole exchange.
            return await asyncio.wait_for(
                _post_webhook(url, secret or "", payload, delivery, attempt, time_limit, client),
                time_limit,
            )
        title, body = render_text(payload)
        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(
            loop.run_in_executor(executor, _send_apprise, url, title, body), time_limit
        )
    except TimeoutError:
        return Outcome(False, f"timed out after {time_limit:g} s")
    except Exception as exc:  # a channel's failure is recorded, never raised into the loop
        return Outcome(False, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS])


async def _post_webhook(
    url: str,
    secret: str,
    payload: dict[str, Any],
    delivery: str,
    attempt: int,
    time_limit: float,
    client: httpx.AsyncClient,
) -> Outcome:
    body = webhook_body(payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"Roost/{__version__}",
        SIGNATURE_HEADER: sign(secret, body),
        DELIVERY_HEADER: delivery,
        ATTEMPT_HEADER: str(attempt),
    }
    try:
        response = await client.post(url, content=body, headers=headers, timeout=time_limit)
    except httpx.TimeoutException:
        return Outcome(False, f"timed out after {time_limit:g} s")
    except httpx.HTTPError as exc:
        return Outcome(False, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS])
    if 200 <= response.status_code < 300:
        return Outcome(True)
    return Outcome(False, f"HTTP {response.status_code}")
