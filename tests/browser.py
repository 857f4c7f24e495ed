"""The web tests' browser: Debian's Chromium driven by Playwright, and the checks every page gets.

One Chromium per test session (``executable_path=/usr/bin/chromium``, headless; Playwright
never downloads a browser here). ``Watched`` records a page's console errors and every request
to a host other than the allowed origins; ``axe_violations`` runs axe-core (from npm, read from
node_modules and evaluated in the page) and keeps the serious and critical findings.

Usage::

    with chromium() as browser:
        context = browser.new_context()
        watched = Watched.on(context.new_page(), allowed=[base_url])
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

from roostserver import HOST, STOP_TIMEOUT_S, free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "screenshots"
# Every wait in the browser is bounded by this (Playwright's default is 30 s).
TIMEOUT_MS = 10_000

__all__ = [
    "CHROMIUM",
    "SCREENSHOTS",
    "TIMEOUT_MS",
    "Watched",
    "axe_violations",
    "canvas_is_drawn",
    "chromium",
    "other_origin",
    "sign_in",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Watched:
    """A page and what it did wrong: console errors, page errors, requests elsewhere."""

    page: Page
    allowed: set[str]
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    @classmethod
    def on(cls, page: Page, allowed: list[str]) -> Watched:
        watched = cls(page, {_origin(url) for url in allowed})
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", watched._console)
        page.on("pageerror", lambda error: watched.errors.append(f"pageerror: {error}"))
        page.on("request", watched._request)
        return watched

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def _request(self, request: Request) -> None:
        if request.url.startswith(("data:", "blob:", "about:")):
            return
        if _origin(request.url) not in self.allowed:
            self.outside.append(request.url)

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.outside == [], self.outside


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now.

    Evaluated through the DevTools protocol, so the page's CSP (no inline script) stays on.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
        }"""
    )
    return found


def canvas_is_drawn(page: Page, selector: str = "[data-chart] canvas") -> bool:
    """True when the chart's canvas has pixels of more than one colour (not blank)."""
    result: bool = page.eval_on_selector(
        selector,
        """canvas => {
            const {width, height} = canvas;
            if (!width || !height) return false;
            const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
            const seen = new Set();
            for (let i = 0; i < pixels.length; i += 4 * 97) {
                seen.add(pixels.slice(i, i + 4).join(","));
                if (seen.size > 2) return true;
            }
            return false;
        }""",
    )
    return result


@contextmanager
def other_origin(html: str) -> Iterator[str]:
    """A second small server on another port of 127.0.0.1 (another origin) serving ``html``."""
    body = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((HOST, free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, name="other-origin", daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(STOP_TIMEOUT_S)
