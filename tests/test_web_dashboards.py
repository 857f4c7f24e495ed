"""Dashboards and public links in Chromium: build one, share it, embed it elsewhere, revoke."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, expect

import webapp
from browser import Watched, canvas_is_drawn, other_origin
from webapp import WebWorld

# The shared fixtures (pytest looks them up by name in the test module).
browser = webapp.browser
owner_state = webapp.owner_state
signed_in = webapp.signed_in
web_world = webapp.web_world


def panel_titles(page: Page) -> list[str]:
    return [title.strip() for title in page.locator(".panel .chart-title").all_inner_texts()]


def make_board(page: Page, world: WebWorld, name: str) -> str:
    """A dashboard with both of Acme's stats, made through the forms; returns its URL."""
    page.goto(f"{world.base_url}/dashboards")
    page.fill("#board-name", name)
    page.select_option("#board-stat", label="jobs.processed")
    page.click("text=Create dashboard")
    page.wait_for_selector(f"h1:has-text('{name}')")
    page.select_option("#panel-stat", label="api.latency_ms")
    page.fill("#panel-title", "Latency")
    page.click("button[value=add]")
    page.wait_for_selector("text=Chart added.")
    return page.url.split("?")[0]


def test_a_dashboard_is_created_edited_and_reordered_in_the_browser(
    signed_in: BrowserContext, web_world: WebWorld
) -> None:
    watched = Watched.on(signed_in.new_page(), allowed=[web_world.base_url])
    page = watched.page
    make_board(page, web_world, "Operations")
    assert panel_titles(page) == ["jobs.processed", "Latency"]
    expect(page.locator("[data-chart][data-drawn]")).to_have_count(2)
    assert canvas_is_drawn(page, ".panel:nth-child(2) canvas")
    page.click("button[aria-label='Move Latency up']")
    page.wait_for_selector("text=Chart moved.")
    assert panel_titles(page) == ["Latency", "jobs.processed"]
    # One range for every chart.
    page.click(".presets >> text=7d")
    page.wait_for_url("**range=7d**")
    sources = page.eval_on_selector_all("[data-chart]", "els => els.map(e => e.dataset.src)")
    assert all("range=7d" in src for src in sources)
    page.fill("#rename", "Ops overview")
    page.click("button[value=rename]")
    page.wait_for_selector("h1:has-text('Ops overview')")
    page.click("button[aria-label='Remove Latency']")
    page.wait_for_selector("text=Chart removed.")
    assert panel_titles(page) == ["jobs.processed"]
    page.goto(f"{web_world.base_url}/dashboards")
    assert page.locator(".boards", has_text="Ops overview").count() == 1
    watched.assert_clean()


def test_a_dashboard_refreshes_every_30_seconds_without_reloading(
    signed_in: BrowserContext, web_world: WebWorld
) -> None:
    page = signed_in.new_page()
    page.clock.install()
    url = make_board(page, web_world, "Live")
    page.goto(url)
    expect(page.locator("[data-chart][data-drawn]")).to_have_count(2)
    page.evaluate("window.__notReloaded = true")
    with page.expect_response(lambda r: "/data?" in r.url):
        page.clock.run_for(31_000)
    assert page.evaluate("window.__notReloaded") is True
    expect(page.locator("[data-refreshed]")).to_contain_text("updated")


def test_an_annotation_from_the_dashboard_shows_on_every_chart(
    signed_in: BrowserContext, web_world: WebWorld
) -> None:
    page = signed_in.new_page()
    make_board(page, web_world, "Noted")
    page.fill("#note-text", "Incident 42")
    page.click("form[data-annotation-form] button[type=submit]")
    page.wait_for_selector("text=Annotation added.")
    expect(page.locator("[data-chart][data-drawn]")).to_have_count(2)
    assert page.locator(".note-mark[title^='Incident 42']").count() == 2


def test_a_shared_dashboard_is_public_embeddable_elsewhere_and_revoked_at_once(
    browser: Browser, signed_in: BrowserContext, web_world: WebWorld
) -> None:
    page = signed_in.new_page()
    make_board(page, web_world, "Shared board")
    page.click("text=Share: create a public link")
    page.wait_for_selector("text=Public link created.")
    share_url = page.locator("[data-share-url]").first.inner_text()
    assert share_url.startswith(f"{web_world.base_url}/share/")
    snippet = page.locator("#sharing code").first.inner_text()
    assert f'<iframe src="{share_url}/embed"' in snippet

    # The public page, in a fresh context with no cookie at all.
    public = browser.new_context()
    assert public.cookies() == []
    watched = Watched.on(public.new_page(), allowed=[web_world.base_url])
    watched.page.goto(share_url)
    expect(watched.page.locator("h1")).to_have_text("Shared board")
    expect(watched.page.locator("[data-chart][data-drawn]")).to_have_count(2)
    assert canvas_is_drawn(watched.page)
    assert watched.page.locator("text=Sign out").count() == 0
    watched.assert_clean()

    # The embed, framed by a page of another origin (another port).
    frame_page = (
        f'<!doctype html><title>Wiki</title><iframe src="{share_url}/embed" width="700" '
        'height="360"></iframe>'
    )
    with other_origin(frame_page) as elsewhere:
        outer = Watched.on(public.new_page(), allowed=[web_world.base_url, elsewhere])
        outer.page.goto(elsewhere)
        frame = outer.page.frame_locator("iframe")
        expect(frame.locator("[data-chart][data-drawn]")).to_have_count(2)
        embedded = next(f for f in outer.page.frames if f.url.startswith(f"{share_url}/embed"))
        assert canvas_is_drawn(embedded)  # type: ignore[arg-type]
        outer.assert_clean()

    # The SVG image, for READMEs.
    svg = httpx.get(f"{share_url}/chart.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in svg.text

    # Revoke: all three addresses are 404 at once.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=Revoke link")
    page.wait_for_selector("text=Public link revoked.")
    for url in (share_url, f"{share_url}/embed", f"{share_url}/chart.svg"):
        assert httpx.get(url).status_code == 404, url
    public.close()


def test_only_share_pages_may_be_framed(signed_in: BrowserContext, web_world: WebWorld) -> None:
    page = signed_in.new_page()
    stat = web_world.acme.stats["jobs.processed"]
    page.goto(f"{web_world.base_url}/stats/{stat}")
    page.click("text=Share: create a public link")
    page.wait_for_selector("text=Public link created.")
    share_url = page.locator("[data-share-url]").first.inner_text()
    for url in (share_url, f"{share_url}/embed"):
        headers = httpx.get(url).headers
        assert "x-frame-options" not in headers
        assert "frame-ancestors *" in headers["content-security-policy"]
    # A signed-in page inside another origin's iframe is refused by the browser.
    framing = (
        f'<!doctype html><title>Evil</title><iframe src="{web_world.base_url}/login"></iframe>'
    )
    with other_origin(framing) as elsewhere:
        outer = signed_in.new_page()
        outer.goto(elsewhere)
        outer.wait_for_timeout(300)
        framed = [f for f in outer.frames if f.url.startswith(f"{web_world.base_url}/login")]
        assert not framed or framed[0].locator("form").count() == 0


def test_a_stat_is_added_to_a_dashboard_from_its_page(
    signed_in: BrowserContext, web_world: WebWorld
) -> None:
    page = signed_in.new_page()
    stat = web_world.acme.stats["api.latency_ms"]
    page.goto(f"{web_world.base_url}/stats/{stat}")
    page.select_option("#dashboard-choice", label="New dashboard…")
    page.fill("#new-dashboard-name", "From the stat page")
    page.click("form[action$='add-to-dashboard'] button[type=submit]")
    page.wait_for_selector("h1:has-text('From the stat page')")
    assert panel_titles(page) == ["api.latency_ms"]
