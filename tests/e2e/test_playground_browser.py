"""The playground journey in a real browser, against Vestibule listening on a real port."""

from __future__ import annotations

import re

import pytest


@pytest.mark.browser
def test_playground_sign_in_and_out(page, live_vestibule, artifacts):
    """Sign in from the playground, see the verified claims, then sign out again."""
    from playwright.sync_api import expect

    issuer, person = live_vestibule.issuer, live_vestibule.person
    csp_violations: list[str] = []
    page.on(
        "console",
        lambda msg: (
            csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )

    page.goto(f"{issuer}/playground/")
    expect(page.get_by_role("heading", name="Playground")).to_be_visible()
    page.screenshot(path=artifacts / "playground-1-start.png", full_page=True)

    page.get_by_role("link", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(issuer) + r"/interaction/"))
    expect(page.get_by_text("Sign in to continue to Vestibule Playground")).to_be_visible()
    page.screenshot(path=artifacts / "playground-2-sign-in.png", full_page=True)

    page.fill("#email", person.email)
    page.fill("#password", person.password)
    page.screenshot(path=artifacts / "playground-3-filled.png", full_page=True)
    page.get_by_role("button", name="Sign in", exact=True).click()

    page.wait_for_url(f"{issuer}/playground/")
    expect(page.locator("#id-token-claims")).to_contain_text(person.sub)
    expect(page.locator("#id-token-claims")).to_contain_text(person.email)
    expect(page.locator("#id-token-claims")).to_contain_text(issuer)
    expect(page.locator("#userinfo")).to_contain_text(person.sub)
    expect(page.get_by_role("link", name="Sign in")).to_have_count(0)  # signed in already
    expect(page.locator("#id-token-claims time").first).to_contain_text("UTC")  # exp as a date
    page.screenshot(path=artifacts / "playground-4-signed-in.png", full_page=True)

    page.get_by_role("link", name="Sign out").click()
    page.wait_for_url(re.compile(re.escape(f"{issuer}/playground/?state=")))
    expect(page.get_by_role("status")).to_contain_text("You are signed out")
    expect(page.locator("#id-token-claims")).to_have_count(0)
    page.screenshot(path=artifacts / "playground-5-signed-out.png", full_page=True)
    assert csp_violations == []
