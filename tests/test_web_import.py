"""Settings → StatHat import in Chromium. The source is a Roost: the same test server's
StatHat export API (``/x/``) read with Beta's key, so Beta's stat is copied into Acme while
the page follows the job live (htmx, every 2 s). A wrong token fails the job, and the page
says why; bad fields are named (422); members and viewers see no form."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

import webapp
from browser import SCREENSHOTS, Watched, axe_violations, sign_in
from roost.domain.times import now_ms
from roost.services import stathat_import
from roost.services import stats as stat_service
from webapp import PASSWORD, WebWorld

# The shared fixtures (pytest looks them up by name in the test module).
browser = webapp.browser
owner_state = webapp.owner_state
signed_in = webapp.signed_in
web_world = webapp.web_world

JOB_TIMEOUT_MS = 60_000


@pytest.fixture
def watched(signed_in: BrowserContext, web_world: WebWorld) -> Iterator[Watched]:
    found = Watched.on(signed_in.new_page(), allowed=[web_world.base_url])
    yield found
    found.assert_clean()


def _start(page: Page, world: WebWorld, token: str) -> None:
    page.goto(f"{world.base_url}/settings/import")
    assert page.input_value("#import-url") == "https://www.stathat.com"
    page.fill("#import-url", world.base_url)
    page.fill("#import-token", token)
    page.click("text=Start import")
    page.wait_for_selector("text=/Import \\d+ started\\./")


def _polls(page: Page) -> list[str]:
    seen: list[str] = []
    page.on(
        "request",
        lambda request: (
            seen.append(request.url) if "/settings/import/progress" in request.url else None
        ),
    )
    return seen


def test_an_import_runs_and_its_progress_is_followed_live_until_done(
    watched: Watched, web_world: WebWorld
) -> None:
    page = watched.page
    polls = _polls(page)
    _start(page, web_world, web_world.beta.key)
    # No reload: htmx asks for the progress panel until the job has ended.
    page.wait_for_selector("[data-import-state=done]", timeout=JOB_TIMEOUT_MS)
    progress = page.inner_text("#import-progress")
    assert "1 of 1" in progress, progress
    points = page.locator(".facts dt:text-is('Points') + dd").inner_text()
    assert int(points.replace(",", "")) > 0
    assert page.locator("#import-progress[hx-trigger]").count() == 0  # polling stopped
    assert page.locator("#import-submit button").is_enabled()  # and another may start
    assert page.locator("#import-progress .errors").count() == 0
    # The job was followed by polling unless it had ended before the page was drawn.
    assert polls or page.locator("[data-import-state=done]").count() == 1
    count = len(polls)
    page.wait_for_timeout(2500)
    assert len(polls) == count  # and it stays stopped
    # The finished job, light and dark: photographed and checked by axe-core.
    SCREENSHOTS.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        page.screenshot(path=str(SCREENSHOTS / f"import-done-{scheme}.png"), full_page=True)
        assert axe_violations(page) == []
    with web_world.store.read() as conn:  # Beta's stat is Acme's now too
        names = {row.name for row in stat_service.list_stats(conn, project_id=web_world.acme.id)}
    assert "beta.secret" in names, names


def test_a_wrong_token_fails_the_import_and_the_page_shows_why(
    watched: Watched, web_world: WebWorld
) -> None:
    page = watched.page
    _start(page, web_world, "not-a-real-key")
    page.wait_for_selector("[data-import-state=failed]", timeout=JOB_TIMEOUT_MS)
    errors = page.locator("#import-progress .errors li")
    assert errors.count() >= 1
    assert errors.first.inner_text().strip()


def test_bad_fields_are_named_with_422(watched: Watched, web_world: WebWorld) -> None:
    page = watched.page
    page.goto(f"{web_world.base_url}/settings/import")
    for url, token, named in (
        ("ftp://127.0.0.1/", "abc", "base_url:"),
        (web_world.base_url, "has spaces in it", "access_token:"),
    ):
        page.fill("#import-url", url)
        page.fill("#import-token", token)
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.click("text=Start import")
        assert answer.value.status == 422
        assert page.locator("p.error").inner_text().startswith(named)
        assert page.input_value("#import-url") == url
    status = "console: Failed to load resource: the server responded with a status of 422"
    assert len(watched.errors) == 2 and all(e.startswith(status) for e in watched.errors)
    watched.errors.clear()


@pytest.mark.parametrize("who", ["member", "viewer"])
def test_only_owners_start_imports(browser: Browser, web_world: WebWorld, who: str) -> None:
    context = browser.new_context()
    try:
        watched = Watched.on(context.new_page(), allowed=[web_world.base_url])
        page = watched.page
        sign_in(page, web_world.base_url, getattr(web_world, who), PASSWORD)
        page.goto(f"{web_world.base_url}/settings/import")
        assert page.locator("main form").count() == 0
        assert page.locator("text=Only the project's owners start imports.").count() == 1
        assert page.locator("#import-progress").count() == 1
        token = page.evaluate(
            "JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']"
        )
        refused = page.request.post(
            f"{web_world.base_url}/settings/import",
            form={"csrf": token, "base_url": web_world.base_url, "access_token": "abc"},
        )
        assert refused.status == 403
        watched.assert_clean()
    finally:
        context.close()


def test_a_page_opened_while_an_import_waits_polls_until_it_ends(
    watched: Watched, web_world: WebWorld
) -> None:
    """Queued straight in the store (the runner finds it at its next poll, within 5 s), so
    the page is drawn while the job has not ended and must follow it by polling alone."""
    page = watched.page
    polls = _polls(page)
    web_world.store.write_now(
        partial(
            stathat_import.create_import,
            project_id=web_world.acme.id,
            access_token=web_world.beta.key,
            base_url=web_world.base_url,
            now=now_ms(),
        )
    )
    page.goto(f"{web_world.base_url}/settings/import")
    state = page.get_attribute("[data-import-state]", "data-import-state")
    if state not in ("queued", "running"):
        pytest.skip(f"the runner finished the job before the page was drawn ({state})")
    assert page.locator("#import-submit button").is_disabled()
    assert page.locator("#import-progress[hx-trigger='every 2s']").count() == 1
    page.wait_for_selector("[data-import-state=done]", timeout=JOB_TIMEOUT_MS)
    assert polls, "the panel changed without htmx asking for it"
    assert page.locator("#import-submit button").is_enabled()
    assert page.locator("#import-progress[hx-trigger]").count() == 0
