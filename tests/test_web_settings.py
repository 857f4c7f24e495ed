"""Settings pages in Chromium: members (add, set role, remove, one owner kept) and channels
(create a webhook to a real local receiver, send it a test, delete it)."""

from __future__ import annotations

from playwright.sync_api import BrowserContext

import webapp
from browser import Watched
from receivers import webhook_receiver
from roost.domain.times import now_ms
from roost.services import users
from webapp import PASSWORD, WebWorld

# The shared fixtures (pytest looks them up by name in the test module).
browser = webapp.browser
owner_state = webapp.owner_state
signed_in = webapp.signed_in
web_world = webapp.web_world


def test_an_owner_adds_someone_changes_their_role_and_removes_them(
    signed_in: BrowserContext, web_world: WebWorld
) -> None:
    newcomer = f"new-{now_ms()}@example.com"
    web_world.store.write_now(
        lambda tx: users.create_user(tx, email=newcomer, password=PASSWORD, now=now_ms())
    )
    watched = Watched.on(signed_in.new_page(), allowed=[web_world.base_url])
    page = watched.page
    page.goto(f"{web_world.base_url}/settings/members")
    page.fill("#member-email", newcomer)
    page.select_option("#member-role", "viewer")
    page.click("form[action='/settings/members'] button[type=submit]")
    page.wait_for_selector(f"text={newcomer} added.")
    row = page.locator("tr", has_text=newcomer)
    assert row.locator("select").input_value() == "viewer"
    row.locator("select").select_option("member")  # submits itself
    page.wait_for_selector("text=Role changed.")
    assert page.locator("tr", has_text=newcomer).locator("select").input_value() == "member"
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr", has_text=newcomer).locator("button", has_text="Remove").click()
    page.wait_for_selector("text=Member removed.")
    assert page.locator("tr", has_text=newcomer).count() == 0
    # Someone without an account cannot be added; the page says how to make one.
    page.fill("#member-email", "nobody-here@example.com")
    page.click("form[action='/settings/members'] button[type=submit]")
    page.wait_for_selector("text=roost users create")
    # The last owner cannot leave the project without an owner.
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr", has_text=web_world.owner).locator("button", has_text="Remove").click()
    page.wait_for_selector("text=at least one owner")
    watched.assert_clean()


def test_an_owner_creates_tests_and_deletes_a_webhook_channel(
    signed_in: BrowserContext, web_world: WebWorld
) -> None:
    watched = Watched.on(signed_in.new_page(), allowed=[web_world.base_url])
    page = watched.page
    with webhook_receiver() as receiver:
        page.goto(f"{web_world.base_url}/settings/channels")
        page.fill("#channel-name", "on-call hook")
        page.fill("#channel-url", receiver.url)
        page.click("text=Create channel")
        receiver.secret = page.locator("#new-secret").inner_text().strip()
        assert receiver.secret
        row = page.locator("tr", has_text="on-call hook")
        assert row.locator("td").nth(1).inner_text() == "webhook"
        row.locator("button", has_text="Test").click()
        page.wait_for_selector("text=Test sent to “on-call hook”.")
        assert len(receiver.delivered) == 1
        assert receiver.delivered[0].signature_ok
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr", has_text="on-call hook").locator("button", has_text="Delete").click()
    page.wait_for_selector("text=Channel deleted.")
    assert page.locator("tr", has_text="on-call hook").count() == 0
    watched.assert_clean()
