"""The account page as deployed, in Chromium over https: its forms (profile, password)
post with the session-bound CSRF token and Fetch Metadata only, as every form does
behind TLS, and the data download comes back; nothing on the way is an error page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.production.test_sign_in import sign_in_on

pytestmark = pytest.mark.browser


def test_profile_password_and_export(walk, deployment):
    """Sign in at /login → the account page → save the profile → change the password
    and change it back (both variants share one installation) → download the data."""
    from playwright.sync_api import expect

    page, issuer, person = walk.page, deployment.issuer, deployment.person
    page.goto(f"{issuer}/login?next=/account")
    sign_in_on(page, person)
    page.wait_for_url(f"{issuer}/account")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Nothing has changed.")

    interim = f"{person.password} for a moment"
    for current, new in ((person.password, interim), (interim, person.password)):
        page.fill("#current-password", current)
        page.fill("#new-password", new)
        page.get_by_role("button", name="Change the password").click()
        expect(page.get_by_role("status")).to_contain_text("Your password is changed")
    walk.screenshot("account-password-changed")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download your data (JSON)").click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert person.email in json.dumps(data)
    walk.finish("account-page")


def test_setting_up_two_step_and_cancelling(walk, deployment):
    """The account page's set-up over https: the key waits in the session cookie (a
    reload shows the same one), "Cancel setting up" posts with its CSRF token and
    forgets it, and the next set-up shows a new key. Nothing is stored, so both variants
    start alike."""
    from playwright.sync_api import expect

    page, issuer, person = walk.page, deployment.issuer, deployment.person
    page.goto(f"{issuer}/login?next=/account")
    sign_in_on(page, person)
    page.wait_for_url(f"{issuer}/account")

    page.get_by_role("button", name="Set up two-step sign-in").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    first = page.locator("#totp-secret").inner_text()
    page.reload()
    assert page.locator("#totp-secret").inner_text() == first
    walk.screenshot("account-two-step-set-up")

    page.get_by_role("button", name="Cancel setting up").click()
    expect(page.get_by_role("status")).to_contain_text("Two-step sign-in was not set up.")
    expect(page.locator("#totp-secret")).to_have_count(0)
    page.get_by_role("button", name="Set up two-step sign-in").click()
    assert page.locator("#totp-secret").inner_text() != first
    page.get_by_role("button", name="Cancel setting up").click()
    expect(page.get_by_role("status")).to_contain_text("Two-step sign-in was not set up.")
    walk.finish("account-two-step-cancelled")
