"""Sign-in, sessions, CSRF, roles and tenancy of the web app (Chromium and plain HTTP)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from playwright.sync_api import Browser, BrowserContext

import webapp
from browser import Watched, sign_in
from webapp import PASSWORD, WebWorld

# The shared fixtures (pytest looks them up by name in the test module).
browser = webapp.browser
owner_state = webapp.owner_state
signed_in = webapp.signed_in
web_world = webapp.web_world

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


@contextmanager
def http_session(world: WebWorld, email: str) -> Iterator[tuple[httpx.Client, str]]:
    """A plain HTTP client signed in through the form, and its CSRF token."""
    with httpx.Client(base_url=world.base_url, timeout=30, headers={"Accept": "text/html"}) as http:
        token = CSRF_FIELD.search(http.get("/login").text)
        assert token
        done = http.post("/login", data={"email": email, "password": PASSWORD, "csrf": token[1]})
        assert done.status_code == 303, done.text
        match = CSRF_FIELD.search(http.get("/").text)
        assert match
        yield http, match[1]


def test_sign_in_lands_on_the_project_home_and_sign_out_ends_the_session(
    browser: Browser, web_world: WebWorld
) -> None:
    context = browser.new_context()
    watched = Watched.on(context.new_page(), allowed=[web_world.base_url])
    page = watched.page
    page.goto(f"{web_world.base_url}/dashboards")
    assert page.url.startswith(f"{web_world.base_url}/login")
    sign_in(page, web_world.base_url, web_world.owner, PASSWORD)
    assert page.locator("h1").inner_text() == "Acme"
    cookie = next(c for c in context.cookies() if c["name"] == "roost_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.click("text=Sign out")
    page.wait_for_url(f"{web_world.base_url}/login")
    page.goto(f"{web_world.base_url}/")
    assert page.url.startswith(f"{web_world.base_url}/login")
    watched.assert_clean()
    context.close()


def test_a_wrong_password_is_refused_and_repeated_failures_are_limited(
    web_world: WebWorld,
) -> None:
    with httpx.Client(base_url=web_world.base_url, timeout=30) as http:
        token = CSRF_FIELD.search(http.get("/login").text)
        assert token
        form = {"email": web_world.loner, "password": "not the password", "csrf": token[1]}
        statuses = [http.post("/login", data=form).status_code for _ in range(11)]
        assert statuses[:10] == [401] * 10
        assert statuses[10] == 429
        # Even the right password waits now: guessing cannot continue by luck.
        limited = http.post("/login", data={**form, "password": PASSWORD})
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) > 0


def test_every_page_but_sign_in_and_shares_needs_a_session(web_world: WebWorld) -> None:
    with httpx.Client(base_url=web_world.base_url, timeout=30) as http:
        for path in (
            "/",
            "/dashboards",
            "/settings/keys",
            f"/stats/{web_world.acme.stats['jobs.processed']}",
        ):
            response = http.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next=")
        assert http.get("/login").status_code == 200


def test_a_form_without_its_csrf_token_is_refused(
    signed_in: BrowserContext, web_world: WebWorld
) -> None:
    with http_session(web_world, web_world.owner) as (http, token):
        refused = http.post("/dashboards", data={"name": "forged"})
        assert refused.status_code == 403
        assert "expired" in refused.text
        wrong = http.post("/dashboards", data={"name": "forged", "csrf": token + "x"})
        assert wrong.status_code == 403
        accepted = http.post("/dashboards", data={"name": "real", "csrf": token})
        assert accepted.status_code == 303
    # In the browser: a form whose token was tampered with shows the refusal page.
    page = signed_in.new_page()
    page.goto(f"{web_world.base_url}/dashboards")
    page.eval_on_selector(
        "form[action='/dashboards'] input[name=csrf]", "el => el.value = 'forged'"
    )
    page.fill("#board-name", "Forged board")
    page.click("form[action='/dashboards'] button[type=submit]")
    assert page.locator("h1").inner_text() == "Not allowed"


def test_another_projects_pages_are_not_found(web_world: WebWorld) -> None:
    with http_session(web_world, web_world.owner) as (http, _):
        foreign = web_world.beta.stats["beta.secret"]
        for path in (f"/stats/{foreign}", f"/stats/{foreign}/data", f"/stats/{foreign}/export.csv"):
            response = http.get(path)
            assert response.status_code == 404, path
            assert "beta.secret" not in response.text
        page = http.get(f"/stats/{foreign}")
        assert page.headers["content-type"].startswith("text/html")
        assert "beta.secret" not in http.get("/").text
        assert "Beta" not in http.get("/").text  # not even in the project switcher


def test_unknown_paths_are_html_for_browsers_and_json_for_api_clients(web_world: WebWorld) -> None:
    with httpx.Client(base_url=web_world.base_url, timeout=30) as http:
        page = http.get("/no/such/page", headers={"Accept": "text/html"})
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["x-frame-options"] == "DENY"
        api = http.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
        assert api.status_code == 404 and api.json() == {"error": "not found"}
        plain = http.get("/no/such/page")
        assert plain.json() == {"error": "not found"}


def test_pages_refuse_to_be_framed(web_world: WebWorld) -> None:
    with httpx.Client(base_url=web_world.base_url, timeout=30) as http:
        asset = http.get("/static/app.js?v=1")
        assert asset.headers["x-frame-options"] == "DENY"
        assert "immutable" in asset.headers["cache-control"]
        for path in ("/login", "/"):
            response = http.get(path)
            assert response.headers["x-frame-options"] == "DENY"
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_a_viewer_sees_the_project_and_changes_nothing(web_world: WebWorld) -> None:
    with http_session(web_world, web_world.viewer) as (http, token):
        home = http.get("/")
        assert "jobs.processed" in home.text
        keys = http.get("/settings/keys")
        assert keys.status_code == 200 and "Create key" not in keys.text
        stat = http.get(f"/stats/{web_world.acme.stats['jobs.processed']}")
        assert "Add to dashboard" not in stat.text
        for path, form in (
            ("/settings/keys", {"name": "x", "scopes": "read"}),
            ("/dashboards", {"name": "x"}),
            ("/annotations", {"text": "x"}),
        ):
            assert http.post(path, data={**form, "csrf": token}).status_code == 403, path


def test_only_owners_manage_keys(web_world: WebWorld) -> None:
    with http_session(web_world, web_world.member) as (http, token):
        assert (
            http.post(
                "/settings/keys", data={"name": "x", "scopes": "read", "csrf": token}
            ).status_code
            == 403
        )
        made = http.post("/dashboards", data={"name": "member's board", "csrf": token})
        assert made.status_code == 303  # members do edit dashboards
