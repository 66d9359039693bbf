"""Two-step sign-in in a real browser (issue 16): set it up on the account page, sign
out, sign in to the playground with the password and a code from the app; the ID
token says ``otp``."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import sign_in_page
from tests.mfa import code_for


@pytest.mark.browser
def test_set_up_on_the_account_page_then_sign_in_with_a_code(page, live_vestibule, artifacts):
    """QR code and key on the account page, a first code, the recovery codes; then the
    playground's sign-in asks for a code after the password."""
    from playwright.sync_api import expect

    issuer, person = live_vestibule.issuer, live_vestibule.person
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    sign_in_page(page, live_vestibule, person)
    page.get_by_role("button", name="Set up two-step sign-in").click()
    page.wait_for_url(re.compile(re.escape(f"{issuer}/account")))
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 0  # the SVG drew under the CSP
    page.screenshot(path=artifacts / "totp-1-set-up.png", full_page=True)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.fill("#code", code_for(secret))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.screenshot(path=artifacts / "totp-2-recovery-codes.png", full_page=True)
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page.get_by_text("10 recovery codes left.")).to_be_visible()

    page.locator("#data").get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(re.escape(issuer) + r"/(signed-out|logout)"))

    page.goto(f"{issuer}/playground/")
    page.get_by_role("link", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(issuer) + r"/interaction/"))
    page.fill("#email", person.email)
    page.fill("#password", person.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("Enter the code from your authenticator app")).to_be_visible()
    page.screenshot(path=artifacts / "totp-3-code.png", full_page=True)
    page.fill("#code", code_for(secret, steps_ahead=1))
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url(f"{issuer}/playground/")
    claims = page.locator("#id-token-claims")
    expect(claims).to_contain_text(person.sub)
    expect(claims).to_contain_text("otp")
    expect(claims).to_contain_text("urn:vestibule:acr:mfa")
    page.screenshot(path=artifacts / "totp-4-signed-in.png", full_page=True)
    assert problems == []
