"""The telemetry pages in Chromium: processes, runs, exceptions and trace sessions, with data
sent through the real HawkFlow and HoneyHive APIs; another project's records are 404s."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

import webapp
from browser import SCREENSHOTS, Watched, axe_violations, canvas_is_drawn
from webapp import WebWorld
from webtelemetry import Telemetry, send_telemetry

# The shared fixtures (pytest looks them up by name in the test module).
browser = webapp.browser
owner_state = webapp.owner_state
signed_in = webapp.signed_in
web_world = webapp.web_world


@pytest.fixture(scope="module")
def telemetry(web_world: WebWorld) -> Telemetry:
    return send_telemetry(web_world.base_url, web_world.acme, web_world.beta)


@pytest.fixture
def watched(signed_in: BrowserContext, web_world: WebWorld) -> Iterator[Watched]:
    found = Watched.on(signed_in.new_page(), allowed=[web_world.base_url])
    yield found
    found.assert_clean()


def test_processes_list_their_last_run_and_filter_by_status(
    watched: Watched, web_world: WebWorld, telemetry: Telemetry
) -> None:
    page = watched.page
    page.goto(f"{web_world.base_url}/processes")
    rows = page.locator("table.processes tbody tr")
    expect(rows).to_have_count(3)
    etl = rows.filter(has_text="nightly-etl")
    assert "running" in etl.inner_text() and "eu-west" in etl.inner_text()
    assert "orphan end" in rows.filter(has_text="backup").inner_text()
    assert etl.locator("td.num a").inner_text() == "1"  # one open exception group
    assert rows.filter(has_text="busy").locator("svg.spark").count() == 1
    assert "beta-secret-job" not in page.content()
    page.select_option("#status", "orphan_end")
    page.wait_for_url("**status=orphan_end**")
    expect(rows).to_have_count(1)
    page.fill("#q", "nothing-like-this")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("text=No process matches.")


def test_a_process_page_draws_its_timeline_durations_runs_metrics_and_alerts(
    watched: Watched, web_world: WebWorld, telemetry: Telemetry
) -> None:
    page = watched.page
    page.goto(f"{web_world.base_url}/processes/{telemetry.etl_id}")
    bars = page.locator("svg.timeline rect.bar")
    expect(bars).to_have_count(3)
    classes = {bar.get_attribute("class") for bar in bars.all()}
    assert classes == {"bar status-ok", "bar status-failed", "bar status-running"}
    assert "Run run-2: failed" in page.locator("svg.timeline").inner_html()
    # Locator waits, not wait_for_function: the page's CSP forbids the eval that one needs.
    expect(page.locator("[data-chart][data-drawn]").nth(1)).to_be_attached()
    assert canvas_is_drawn(page)
    assert page.locator("[data-chart] .chart-title", has_text="rows_loaded").count() == 1
    table = page.locator("table.runs tbody tr")
    expect(table).to_have_count(3)
    assert "failed half way" in table.filter(has_text="run-2").inner_text()
    assert "etl failed" in page.locator("#alerts-title + ul").inner_text()
    assert "KeyError" in page.locator("#groups-title + ul").inner_text()


def test_the_runs_table_is_paginated(
    watched: Watched, web_world: WebWorld, telemetry: Telemetry
) -> None:
    page = watched.page
    page.goto(f"{web_world.base_url}/processes/{telemetry.busy_id}")
    rows = page.locator("table.runs tbody tr")
    expect(rows).to_have_count(50)
    assert "b59" in rows.first.inner_text()
    page.click("text=Older runs")
    expect(rows).to_have_count(10)
    assert "b9" in rows.first.inner_text() and "b0" in rows.last.inner_text()
    assert page.locator("text=Older runs").count() == 0
    page.click("text=Newest runs")
    expect(rows).to_have_count(50)


def test_a_run_shows_its_exceptions_and_sessions_and_the_session_links_back(
    watched: Watched, web_world: WebWorld, telemetry: Telemetry
) -> None:
    page = watched.page
    page.goto(f"{web_world.base_url}/runs/{telemetry.failed_run_id}")
    assert "failed" in page.locator("h1").inner_text()
    assert "KeyError" in page.locator("#run-exceptions + ul").inner_text()
    page.click("#run-sessions ~ ul >> text=support-chat")
    page.wait_for_url(f"**/sessions/{telemetry.session_id}")
    page.click(".run-link a")
    page.wait_for_url(f"**/runs/{telemetry.failed_run_id}")
    page.click("#run-exceptions + ul a")
    page.wait_for_url(f"**/exceptions/{telemetry.group_id}")


def test_an_exception_group_shows_its_traceback_and_is_triaged(
    watched: Watched, web_world: WebWorld, telemetry: Telemetry
) -> None:
    page = watched.page
    page.goto(f"{web_world.base_url}/exceptions")
    row = page.locator("table.groups tbody tr", has_text="KeyError")
    assert "nightly-etl" in row.inner_text()
    assert "ValueError" not in page.content()  # Beta's group
    row.locator("a").first.click()
    frame = page.locator("ol.frames li").first
    assert "etl/load.py" in frame.inner_text() and "load" in frame.inner_text()
    assert "row = customers[key]" in frame.locator(".frame-code").inner_text()
    assert page.locator("svg.histogram rect.hbar").count() == 1
    page.click("button:has-text('Resolve')")
    page.wait_for_selector("text=Resolved.")
    assert "resolved" in page.locator("h1 .status").inner_text()
    page.goto(f"{web_world.base_url}/exceptions")
    page.wait_for_selector("text=No open exception group.")
    page.select_option("#status", "resolved")
    page.click("form.filters button[type=submit]")
    expect(page.locator("table.groups tbody tr")).to_have_count(1)
    page.click("table.groups tbody a")
    page.click("button:has-text('Ignore')")
    page.wait_for_selector("text=Ignored.")
    page.click("button:has-text('Reopen')")
    page.wait_for_selector("text=Reopened.")
    assert "open" in page.locator("h1 .status").inner_text()


def test_a_triage_form_without_the_csrf_token_is_refused(
    signed_in: BrowserContext, web_world: WebWorld, telemetry: Telemetry
) -> None:
    page = signed_in.new_page()
    refused = page.request.post(
        f"{web_world.base_url}/exceptions/{telemetry.group_id}/status",
        form={"status": "ignored"},
    )
    assert refused.status == 403
    page.goto(f"{web_world.base_url}/exceptions/{telemetry.group_id}")
    assert "ignored" not in page.locator("h1 .status").inner_text()


def test_sessions_list_newest_first_and_filter(
    watched: Watched, web_world: WebWorld, telemetry: Telemetry
) -> None:
    page = watched.page
    base = web_world.base_url
    page.goto(f"{base}/sessions")
    rows = page.locator("table.sessions tbody tr")
    expect(rows).to_have_count(2)
    assert "quiet-chat" in rows.first.inner_text()  # newest first
    chat = rows.filter(has_text="support-chat").inner_text()
    assert "ada" in chat and "42" in chat  # the user and the tokens
    assert "beta-session" not in page.content()
    page.select_option("#error", "yes")
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(1)
    page.goto(f"{base}/sessions?prop=user_id:bob")
    expect(rows).to_have_count(1)
    assert "quiet-chat" in rows.first.inner_text()
    page.goto(f"{base}/sessions?q=where+is+my+order")
    expect(rows).to_have_count(1)
    assert "support-chat" in rows.first.inner_text()
    page.goto(f"{base}/sessions?q=beta")
    page.wait_for_selector("text=No session matches.")


def test_a_session_is_a_waterfall_with_folded_json_of_the_chosen_event(
    watched: Watched, web_world: WebWorld, telemetry: Telemetry
) -> None:
    page = watched.page
    page.goto(f"{web_world.base_url}/sessions/{telemetry.session_id}")
    rows = page.locator("ol.waterfall li")
    expect(rows).to_have_count(4)  # the session, the chain, the model and the tool
    model = rows.filter(has_text="draft reply")
    assert "gpt-test" in model.inner_text() and "42 tok" in model.inner_text()
    assert model.locator("a").get_attribute("class") == "wf-name i2"
    assert "wf-error" in (rows.filter(has_text="order lookup").get_attribute("class") or "")
    with page.expect_response(lambda r: "/events/" in r.url):
        rows.filter(has_text="order lookup").locator("a").click()
    detail = page.locator("#event-detail")
    expect(detail.locator("h2")).to_contain_text("order lookup")
    assert "event=" in page.url
    assert "lookup timed out" in detail.inner_text()
    assert rows.filter(has_text="order lookup").locator("a").get_attribute("aria-current")
    show = detail.locator("details.show-all > summary", has_text="1,200 characters")
    show.click()
    assert "x" * 1200 in detail.locator("pre.j-full").first.inner_text()
    assert detail.locator("summary", has_text="30 more").count() == 1  # 80 rows, 50 shown
    page.reload()  # the chosen event is in the URL
    expect(page.locator("#event-detail h2")).to_contain_text("order lookup")


def test_agents_list_their_type_messages_and_workflows(
    watched: Watched, web_world: WebWorld, telemetry: Telemetry
) -> None:
    page = watched.page
    page.goto(f"{web_world.base_url}/agents")
    rows = page.locator("table.agents tbody tr")
    etl = rows.filter(has_text="nightly-etl")
    assert "Agents::Process" in etl.inner_text()
    assert etl.locator("time").count() == 1  # its last message
    assert "beta-secret-job" not in page.content()
    page.click("#workflows-title + ul >> text=ETL flow")
    page.wait_for_url(f"**/workflows/{telemetry.workflow_id}")


def test_a_workflow_is_drawn_as_a_layered_graph_with_recent_messages(
    watched: Watched, web_world: WebWorld, telemetry: Telemetry
) -> None:
    page = watched.page
    page.goto(f"{web_world.base_url}/workflows/{telemetry.workflow_id}")
    nodes = page.locator("svg.graph rect.node")
    expect(nodes).to_have_count(3)
    assert page.locator("svg.graph line.link").count() == 2
    xs = [float(node.get_attribute("x") or 0) for node in nodes.all()]
    assert len(set(xs)) == 3  # three layers, one agent each
    names = page.locator("svg.graph text.node-name").all_text_contents()
    order = sorted(zip(xs, names, strict=True))
    assert [name for _, name in order] == ["nightly-etl [eu-west]", "answer", "draft reply"]
    etl = page.locator("section.card", has=page.locator("h2", has_text="nightly-etl"))
    assert etl.locator("ol.messages li").count() >= 1
    assert "run-2" in etl.inner_text()  # a run's message, as folded JSON
    # A trace event's message, stored as a reference, is shown with the event's fields.
    answer = page.locator("section.card", has=page.locator("h2", has_text="answer"))
    assert "session_id" in answer.locator("ol.messages").inner_text()


def test_the_home_overview_shows_what_needs_a_look(
    watched: Watched, web_world: WebWorld, telemetry: Telemetry
) -> None:
    page = watched.page
    page.goto(f"{web_world.base_url}/")
    overview = page.locator("[aria-label='Needs a look']")
    failing = overview.locator("section", has_text="Runs failing")
    assert "backup" in failing.inner_text() and "orphan end" in failing.inner_text()
    assert "KeyError" in overview.locator("section", has_text="New exceptions").inner_text()
    errors = overview.locator("section", has_text="Sessions with errors")
    errors.locator("a", has_text="support-chat").click()
    page.wait_for_url(f"**/sessions/{telemetry.session_id}")
    page.go_back()
    page.click("text=All sessions with errors")
    expect(page.locator("table.sessions tbody tr")).to_have_count(1)


@pytest.mark.parametrize(
    "path",
    [
        "/processes/{beta_process_id}",
        "/runs/{beta_run_id}",
        "/exceptions/{beta_group_id}",
        "/sessions/{beta_session_id}",
        "/processes/99999999",
        "/runs/x",
        "/sessions/no-such-session",
        "/workflows/{beta_workflow_id}",
    ],
)
def test_another_projects_record_is_a_404(
    signed_in: BrowserContext, web_world: WebWorld, telemetry: Telemetry, path: str
) -> None:
    page = signed_in.new_page()
    answer = page.goto(web_world.base_url + path.format(**telemetry.__dict__))
    assert answer is not None and answer.status == 404
    assert "There is no such page in your projects." in page.content()
    assert "beta" not in page.content().lower().replace("roost", "")


def test_another_projects_event_cannot_be_opened_in_a_session(
    signed_in: BrowserContext, web_world: WebWorld, telemetry: Telemetry
) -> None:
    page = signed_in.new_page()
    url = f"/sessions/{telemetry.session_id}/events/{telemetry.beta_session_id}"
    answer = page.request.get(web_world.base_url + url)
    assert answer.status == 404
    own = page.request.get(
        f"{web_world.base_url}/sessions/{telemetry.session_id}/events/{telemetry.other_session_id}"
    )
    assert own.status == 404  # in the project, but not in this session


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_telemetry_pages_are_clean_accessible_and_photographed(
    browser: Browser,
    web_world: WebWorld,
    owner_state: dict[str, Any],
    telemetry: Telemetry,
    scheme: str,
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    base = web_world.base_url
    tour = {
        "processes": f"{base}/processes",
        "process": f"{base}/processes/{telemetry.etl_id}",
        "run": f"{base}/runs/{telemetry.failed_run_id}",
        "exceptions": f"{base}/exceptions?status=all",
        "exception": f"{base}/exceptions/{telemetry.group_id}",
        "sessions": f"{base}/sessions",
        "session": f"{base}/sessions/{telemetry.session_id}",
        "home-overview": f"{base}/",
        "agents": f"{base}/agents",
        "workflow": f"{base}/workflows/{telemetry.workflow_id}",
    }
    context = browser.new_context(
        storage_state=owner_state,
        color_scheme=scheme,  # type: ignore[arg-type]
        viewport={"width": 1280, "height": 860},
    )
    problems: dict[str, Any] = {}
    for name, url in tour.items():
        watched = Watched.on(context.new_page(), allowed=[base])
        watched.page.goto(url)
        charts = watched.page.locator("[data-chart]").count()
        if charts:
            drawn = watched.page.locator("[data-chart][data-drawn]")
            expect(drawn.nth(charts - 1)).to_be_attached()
        watched.page.screenshot(path=str(SCREENSHOTS / f"{name}-{scheme}.png"), full_page=True)
        found = axe_violations(watched.page)
        if found or watched.errors or watched.outside:
            problems[name] = {"axe": found, "errors": watched.errors, "outside": watched.outside}
        watched.page.close()
    context.close()
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
