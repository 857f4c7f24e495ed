"""Every page, light and dark: no console error, no request elsewhere, no serious or critical
axe-core violation; a screenshot of each is saved to screenshots/ (git-ignored)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page

import webapp
from browser import SCREENSHOTS, Watched, axe_violations, sign_in
from webapp import PASSWORD, WebWorld

# The shared fixtures (pytest looks them up by name in the test module).
browser = webapp.browser
owner_state = webapp.owner_state
web_world = webapp.web_world


def _share(page: Page, world: WebWorld, board_url: str) -> str:
    page.goto(board_url)
    page.click("text=Share: create a public link")
    page.wait_for_selector("text=Public link created.")
    return page.locator("[data-share-url]").first.inner_text()


@pytest.fixture(scope="module")
def tour(browser: Browser, web_world: WebWorld, owner_state: dict[str, Any]) -> dict[str, str]:
    """Names → URLs of every page, with a dashboard and a share made for the tour."""
    context = browser.new_context(storage_state=owner_state)
    page = context.new_page()
    base = web_world.base_url
    page.goto(f"{base}/dashboards")
    page.fill("#board-name", "Tour")
    page.select_option("#board-stat", label="jobs.processed")
    page.click("text=Create dashboard")
    page.wait_for_selector("h1:has-text('Tour')")
    page.select_option("#panel-stat", label="api.latency_ms")
    page.click("button[value=add]")
    page.wait_for_selector("text=Chart added.")
    board = page.url.split("?")[0]
    share = _share(page, web_world, board)
    page.goto(f"{base}/settings/alerts")
    page.fill("#alert-name", "Latency high")
    page.select_option("#alert-stat", label="api.latency_ms (value)")
    page.fill("#alert-value", "100")
    page.click("text=Create alert")
    page.wait_for_selector("text=Alert “Latency high” created.")
    alert = page.url
    context.close()
    return {
        "home": f"{base}/",
        "stat": f"{base}/stats/{web_world.acme.stats['api.latency_ms']}?range=7d",
        "counter": f"{base}/stats/{web_world.acme.stats['jobs.processed']}",
        "dashboards": f"{base}/dashboards",
        "dashboard": board,
        "keys": f"{base}/settings/keys",
        "members": f"{base}/settings/members",
        "channels": f"{base}/settings/channels",
        "alerts": f"{base}/settings/alerts",
        "alert": alert,
        "import": f"{base}/settings/import",
        "share": share,
        "embed": f"{share}/embed",
        "not-found": f"{base}/stats/999999",
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_is_clean_accessible_and_photographed(
    browser: Browser,
    web_world: WebWorld,
    owner_state: dict[str, Any],
    tour: dict[str, str],
    scheme: str,
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    viewport = {"width": 1280, "height": 860}
    problems: dict[str, Any] = {}

    anonymous = browser.new_context(color_scheme=scheme, viewport=viewport)  # type: ignore[arg-type]
    watched = Watched.on(anonymous.new_page(), allowed=[web_world.base_url])
    watched.page.goto(f"{web_world.base_url}/login")
    _check(watched, "login", scheme, problems)
    anonymous.close()

    context = browser.new_context(
        storage_state=owner_state,
        color_scheme=scheme,  # type: ignore[arg-type]
        viewport=viewport,
    )
    for name, url in tour.items():
        watched = Watched.on(context.new_page(), allowed=[web_world.base_url])
        watched.page.goto(url)
        if watched.page.locator("[data-chart]").count():
            watched.page.wait_for_selector("[data-chart][data-drawn]")
        _check(watched, name, scheme, problems)
        watched.page.close()
    context.close()

    loner = browser.new_context(color_scheme=scheme, viewport=viewport)  # type: ignore[arg-type]
    watched = Watched.on(loner.new_page(), allowed=[web_world.base_url])
    sign_in(watched.page, web_world.base_url, web_world.loner, PASSWORD)
    _check(watched, "empty-project", scheme, problems)
    loner.close()
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())


def _check(watched: Watched, name: str, scheme: str, problems: dict[str, Any]) -> None:
    page = watched.page
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{scheme}.png"), full_page=True)
    found = axe_violations(page)
    if name == "not-found":  # Chromium logs the page's own 404 status; nothing else may be
        watched.errors.remove(
            "console: Failed to load resource: the server responded with a status of 404 "
            "(Not Found)"
        )
    if found or watched.errors or watched.outside:
        problems[name] = {"axe": found, "errors": watched.errors, "outside": watched.outside}
