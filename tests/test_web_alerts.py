"""Settings → alerts in Chromium: create threshold, delta, deadman and run alerts through the
form, see them listed in words, evaluate them, silence one, disable and delete; a bad field
is named next to the form (422); a viewer sees no form and cannot post one."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

import webapp
from browser import SCREENSHOTS, Watched, axe_violations, sign_in
from roost.alerting.evaluator import Evaluator
from webapp import PASSWORD, WebWorld

# The shared fixtures (pytest looks them up by name in the test module).
browser = webapp.browser
owner_state = webapp.owner_state
signed_in = webapp.signed_in
web_world = webapp.web_world

PROCESS = "nightly-report"


@pytest.fixture(scope="module", autouse=True)
def a_process(web_world: WebWorld) -> None:
    """One HawkFlow run in Acme, sent through the real API, for the run alerts."""
    headers = {"x-hawkflow-api-key": web_world.acme.key}
    with httpx.Client(base_url=web_world.base_url, headers=headers, timeout=30) as http:
        for path in ("/v1/start", "/v1/end"):
            sent = http.post(path, json={"process": PROCESS, "uid": "r1"})
            assert sent.status_code == 201, sent.text


@pytest.fixture
def watched(signed_in: BrowserContext, web_world: WebWorld) -> Iterator[Watched]:
    found = Watched.on(signed_in.new_page(), allowed=[web_world.base_url])
    yield found
    found.assert_clean()


def _evaluate(world: WebWorld) -> Any:
    """One pass of the live server's evaluator, on its own store (and its writer); in a thread
    of its own, since Playwright's sync API keeps an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, Evaluator(world.store).run_pass()).result(timeout=60)


def _new_alert(page: Page, world: WebWorld, name: str, kind: str) -> None:
    page.goto(f"{world.base_url}/settings/alerts")
    page.fill("#alert-name", name)
    page.select_option("#alert-kind", kind)


def _create(page: Page) -> int:
    page.click("text=Create alert")
    page.wait_for_url(re.compile(r"/settings/alerts/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_a_threshold_alert_is_created_listed_evaluated_silenced_and_deleted(
    watched: Watched, web_world: WebWorld
) -> None:
    page = watched.page
    _new_alert(page, web_world, "latency high", "threshold")
    # Only the chosen kind's fields show.
    assert page.locator("#alert-value").is_visible()
    assert not page.locator("#alert-percentage").is_visible()
    assert not page.locator("#alert-process").is_visible()
    page.select_option("#alert-stat", label="api.latency_ms (value)")
    page.fill("#alert-window", "1h")
    page.select_option("#alert-operator", ">")
    page.fill("#alert-value", "1")
    alert_id = _create(page)
    page.wait_for_selector("text=Alert “latency high” created.")
    assert "mean over 1h > 1" in page.inner_text(".page-head")
    assert page.inner_text("text=No state change yet.")

    page.goto(f"{web_world.base_url}/settings/alerts")
    row = page.locator("tr", has_text="latency high")
    assert "api.latency_ms: mean over 1h > 1" in row.inner_text()
    assert row.locator("td").nth(1).inner_text() == "threshold"

    report = _evaluate(web_world)
    assert report is not None
    page.goto(f"{web_world.base_url}/settings/alerts/{alert_id}")
    assert page.locator(".facts .status-firing").inner_text() == "firing"
    history = page.locator("table", has_text="History").locator("tbody tr")
    assert history.count() == 1
    assert "ok → firing" in history.first.inner_text()
    page.goto(f"{web_world.base_url}/settings/alerts")
    row = page.locator("tr", has_text="latency high")
    assert row.locator(".status-firing").count() == 1
    assert row.locator("td").nth(4).inner_text() not in ("", "—")  # the last value
    assert row.locator("td").nth(5).inner_text() != "—"

    for scheme in ("light", "dark"):  # firing, with its history: photographed, axe-clean
        page.goto(f"{web_world.base_url}/settings/alerts/{alert_id}")
        page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        page.screenshot(path=str(SCREENSHOTS / f"alert-firing-{scheme}.png"), full_page=True)
        assert axe_violations(page) == []

    # Silence it for four hours, then take the silence away.
    page.select_option("#silence-for", "4h")
    page.fill("#silence-reason", "deploy window")
    page.click("button:text-is('Silence')")
    page.wait_for_selector("text=Silenced for 4h.")
    assert "This alert silenced until" in page.inner_text("#silences-title + p + ul")
    assert "deploy window" in page.inner_text("#silences-title + p + ul")
    page.click("button:text-is('Remove')")
    page.wait_for_selector("text=Silence removed.")
    assert page.locator("text=Not silenced.").count() == 1

    # Disable (from its page: back to it), enable from the list, then delete.
    page.click("button:text-is('Disable')")
    page.wait_for_selector("text=Alert “latency high” disabled.")
    assert page.url.endswith(f"/settings/alerts/{alert_id}")
    assert page.locator(".facts dd").first.inner_text() == "disabled"
    page.goto(f"{web_world.base_url}/settings/alerts")
    page.locator("tr", has_text="latency high").locator("button", has_text="Enable").click()
    page.wait_for_selector("text=Alert “latency high” enabled.")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr", has_text="latency high").locator("button", has_text="Delete").click()
    page.wait_for_selector("text=Alert deleted.")
    assert page.locator("tr", has_text="latency high").count() == 0
    page.goto(f"{web_world.base_url}/settings/alerts/{alert_id}")
    assert page.locator("h1").inner_text() == "Not found"
    # Chromium logs the page's own 404 status; nothing else may be logged.
    watched.errors.remove(
        "console: Failed to load resource: the server responded with a status of 404 (Not Found)"
    )


def test_delta_deadman_and_run_alerts_come_from_the_same_form(
    watched: Watched, web_world: WebWorld
) -> None:
    page = watched.page
    _new_alert(page, web_world, "jobs drop", "delta")
    page.select_option("#alert-stat", label="jobs.processed (counter)")
    page.fill("#alert-window", "1h")
    page.select_option("#alert-delta-operator", "<")
    page.fill("#alert-percentage", "50")
    page.fill("#alert-compare", "1d")
    _create(page)
    assert "sum over 1h falls by more than 50% against 1d earlier" in page.inner_text(".page-head")

    _new_alert(page, web_world, "latency silent", "deadman")
    assert not page.locator("#alert-operator").is_visible()
    page.select_option("#alert-stat", label="api.latency_ms (value)")
    page.fill("#alert-window", "30m")
    _create(page)
    assert "no point within 30m" in page.inner_text(".page-head")

    _new_alert(page, web_world, "report missing", "run")
    assert not page.locator("#alert-stat").is_visible()
    page.select_option("#alert-process", PROCESS)
    page.select_option("#alert-condition", "missing")
    assert page.locator("#alert-every").is_visible()
    assert not page.locator("#alert-max-duration").is_visible()
    page.fill("#alert-every", "86400")
    page.fill("#alert-grace", "600")
    _create(page)
    assert f"no run of '{PROCESS}' within 1d (grace 10m)" in page.inner_text(".page-head")

    _new_alert(page, web_world, "report slow", "run")
    page.select_option("#alert-condition", "too_long")
    page.fill("#alert-max-duration", "3600")
    _create(page)
    assert "lasts over 1h" in page.inner_text(".page-head")

    page.goto(f"{web_world.base_url}/settings/alerts")
    for name in ("jobs drop", "latency silent", "report missing", "report slow"):
        assert page.locator("tr", has_text=name).count() == 1


def test_a_bad_field_is_named_next_to_the_form_and_the_input_is_kept(
    watched: Watched, web_world: WebWorld
) -> None:
    page = watched.page
    _new_alert(page, web_world, "typo", "threshold")
    page.fill("#alert-window", "5 parsecs")
    page.fill("#alert-value", "9")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("text=Create alert")
    assert answer.value.status == 422
    error = page.locator("#alert-error").inner_text()
    assert error.startswith("window:"), error
    assert page.input_value("#alert-name") == "typo"
    assert page.input_value("#alert-window") == "5 parsecs"
    assert page.input_value("#alert-value") == "9"
    # A missing value, and a run alert without the field its condition needs.
    page.fill("#alert-window", "5m")
    page.fill("#alert-value", "")
    page.click("text=Create alert")
    assert page.locator("#alert-error").inner_text().startswith("value:")
    page.select_option("#alert-kind", "run")
    page.select_option("#alert-condition", "too_short")
    page.click("text=Create alert")
    assert page.locator("#alert-error").inner_text().startswith("min_duration:")
    page.goto(f"{web_world.base_url}/settings/alerts")
    assert page.locator("tr", has_text="typo").count() == 0
    # Chromium logs each 422 page's status; nothing else may be logged.
    status = "console: Failed to load resource: the server responded with a status of 422"
    assert [e for e in watched.errors if e.startswith(status)] == watched.errors
    assert len(watched.errors) == 3
    watched.errors.clear()


def test_a_viewer_sees_alerts_but_no_form_and_cannot_post(
    browser: Browser, signed_in: BrowserContext, web_world: WebWorld
) -> None:
    owner = signed_in.new_page()
    _new_alert(owner, web_world, "for viewers", "deadman")
    owner.select_option("#alert-stat", label="api.latency_ms (value)")
    alert_id = _create(owner)

    context = browser.new_context()
    try:
        watched = Watched.on(context.new_page(), allowed=[web_world.base_url])
        page = watched.page
        sign_in(page, web_world.base_url, web_world.viewer, PASSWORD)
        page.goto(f"{web_world.base_url}/settings/alerts")
        assert page.locator("tr", has_text="for viewers").count() == 1
        assert page.locator("main form").count() == 0
        assert page.locator("text=members and owners create and change them").count() == 1
        page.goto(f"{web_world.base_url}/settings/alerts/{alert_id}")
        assert "no point within 5m" in page.inner_text(".page-head")
        assert page.locator("main form").count() == 0
        # Posting anyway, with the viewer's own CSRF token, is refused.
        token = json.loads(page.get_attribute("body", "hx-headers") or "{}")["X-CSRF-Token"]
        for path in ("/delete", "/silences"):
            refused = page.request.post(
                f"{web_world.base_url}/settings/alerts/{alert_id}{path}",
                form={"csrf": token, "for": "1h"},
            )
            assert refused.status == 403
        refused = page.request.post(
            f"{web_world.base_url}/settings/alerts",
            form={"csrf": token, "name": "x", "kind": "deadman", "window": "5m"},
        )
        assert refused.status == 403
        watched.assert_clean()
    finally:
        context.close()
    # And without the token, even the owner is refused.
    refused = owner.request.post(f"{web_world.base_url}/settings/alerts/{alert_id}/delete")
    assert refused.status == 403
    owner.goto(f"{web_world.base_url}/settings/alerts")
    assert owner.locator("tr", has_text="for viewers").count() == 1
