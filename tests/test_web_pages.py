"""The web app's pages in Chromium: project home, stat chart, CSV, annotations, API keys."""

from __future__ import annotations

import csv
import io

import httpx
from playwright.sync_api import Browser, BrowserContext, expect

import webapp
from browser import Watched, canvas_is_drawn, sign_in
from webapp import PASSWORD, WebWorld

# The shared fixtures (pytest looks them up by name in the test module).
browser = webapp.browser
owner_state = webapp.owner_state
signed_in = webapp.signed_in
web_world = webapp.web_world


def test_home_lists_stats_with_sparklines_and_filters_them_as_you_type(
    signed_in: BrowserContext, web_world: WebWorld
) -> None:
    watched = Watched.on(signed_in.new_page(), allowed=[web_world.base_url])
    page = watched.page
    page.goto(f"{web_world.base_url}/")
    rows = page.locator("table.stats tbody tr")
    assert rows.count() == 2
    assert page.locator("svg.spark polyline").count() == 2
    assert "counter" in rows.filter(has_text="jobs.processed").inner_text()
    page.fill("#q", "latency")
    expect(rows).to_have_count(1)
    assert "api.latency_ms" in rows.first.inner_text()
    assert "q=latency" in page.url  # the search is bookmarkable
    page.select_option("#kind", "counter")
    page.wait_for_selector("text=No stat matches.")
    watched.assert_clean()


def test_an_empty_project_shows_how_to_send_a_first_point(
    browser: Browser, web_world: WebWorld
) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, web_world.base_url, web_world.loner, PASSWORD)
    example = page.locator("#first-point").inner_text()
    assert f'curl -X POST "{web_world.base_url}/v1/ingest"' in example
    assert '"stat": "jobs.processed"' in example
    context.close()


def test_the_stat_chart_is_drawn_and_follows_a_range_change(
    signed_in: BrowserContext, web_world: WebWorld
) -> None:
    watched = Watched.on(signed_in.new_page(), allowed=[web_world.base_url])
    page = watched.page
    stat = web_world.acme.stats["api.latency_ms"]
    page.goto(f"{web_world.base_url}/stats/{stat}")
    page.wait_for_selector("[data-chart][data-drawn]")
    assert canvas_is_drawn(page)
    assert page.locator(".u-legend").inner_text().count("max") == 1  # min/max shading series
    with page.expect_response(lambda r: "/data?" in r.url and "range=1h" in r.url) as answer:
        page.click(".presets >> text=1h")
    shown = answer.value.json()
    assert 3600 <= shown["end"] - shown["start"] <= 3600 + 2 * shown["resolution_ms"] // 1000
    page.wait_for_selector("[data-chart][data-drawn]")
    assert "range=1h" in page.url
    assert page.locator(".preset[aria-current]").inner_text() == "1h"
    assert canvas_is_drawn(page)
    # A custom range from the form, then a chosen resolution.
    page.fill("#range-from", "2020-01-01T00:00")
    page.fill("#range-to", "2020-01-02T00:00")
    page.click(".custom-range button")
    page.wait_for_selector("[data-chart][data-drawn]")
    assert "from=2020-01-01" in page.url or "from=2019-12-31" in page.url
    assert page.locator(".chart-status").inner_text() == "No data in this range."
    page.goto(f"{web_world.base_url}/stats/{stat}?range=24h")
    page.select_option("#res", "1h")
    page.wait_for_url("**res=1h**")
    page.wait_for_selector("[data-chart][data-drawn]")
    assert canvas_is_drawn(page)
    watched.assert_clean()


def test_the_utc_toggle_redraws_the_axis_in_utc(
    signed_in: BrowserContext, web_world: WebWorld
) -> None:
    page = signed_in.new_page()
    stat = web_world.acme.stats["jobs.processed"]
    page.goto(f"{web_world.base_url}/stats/{stat}?range=1h")
    page.wait_for_selector("[data-chart][data-drawn]")
    page.check("input[data-utc-toggle]")
    assert page.evaluate("localStorage.getItem('roost.utc')") == "1"
    page.reload()
    page.wait_for_selector("[data-chart][data-drawn]")
    assert page.is_checked("input[data-utc-toggle]")
    assert canvas_is_drawn(page)


def test_the_csv_holds_the_buckets_shown(signed_in: BrowserContext, web_world: WebWorld) -> None:
    page = signed_in.new_page()
    stat = web_world.acme.stats["jobs.processed"]
    page.goto(f"{web_world.base_url}/stats/{stat}?range=24h&res=1h")
    with page.expect_download() as download:
        page.click("text=Download CSV")
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert rows[0] == ["time", "value", "count"]
    data = page.evaluate(f"fetch('/stats/{stat}/data?range=24h&res=1h').then(r => r.json())")
    assert len(rows) - 1 == len(data["t"])
    assert [float(row[1]) for row in rows[1:]] == [float(v) for v in data["v"]]


def test_an_annotation_added_on_the_stat_page_is_a_marker_with_its_text(
    signed_in: BrowserContext, web_world: WebWorld
) -> None:
    watched = Watched.on(signed_in.new_page(), allowed=[web_world.base_url])
    page = watched.page
    stat = web_world.acme.stats["jobs.processed"]
    page.goto(f"{web_world.base_url}/stats/{stat}?range=1h")
    page.fill("#note-text", "Deployed v9")
    page.click("form[data-annotation-form] button[type=submit]")
    page.wait_for_selector("text=Annotation added.")
    page.wait_for_selector("[data-chart][data-drawn]")
    marker = page.locator(".note-mark").first
    assert "Deployed v9" in (marker.get_attribute("title") or "")
    assert "Deployed v9" in page.locator(".notes").inner_text()
    watched.assert_clean()


def test_a_new_key_is_shown_once_works_and_can_be_revoked(
    signed_in: BrowserContext, web_world: WebWorld
) -> None:
    watched = Watched.on(signed_in.new_page(), allowed=[web_world.base_url])
    page = watched.page
    page.goto(f"{web_world.base_url}/settings/keys")
    page.fill("#key-name", "browser-made")
    page.uncheck("input[name=scopes][value=read]")
    page.click("text=Create key")
    secret = page.locator("#new-key").inner_text().strip()
    assert secret.startswith("rk_")
    sent = httpx.post(
        f"{web_world.base_url}/v1/ingest",
        json={"stat": "from.new.key", "value": 1},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert sent.status_code in (200, 201, 202), sent.text
    page.goto(f"{web_world.base_url}/settings/keys")
    assert secret not in page.content()  # shown that once only
    row = page.locator("tr", has_text="browser-made")
    assert "write" in row.inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button", has_text="Revoke").click()
    page.wait_for_selector("text=Key revoked.")
    refused = httpx.post(
        f"{web_world.base_url}/v1/ingest",
        json={"stat": "from.new.key", "value": 1},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert refused.status_code == 401
    watched.assert_clean()
