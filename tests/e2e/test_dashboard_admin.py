"""The dashboard's users and clients sections in a real browser (spec §7.4): an admin
registers a client and sees its secret once, disables a person with the keyboard,
and a person who may only invite is turned away."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def console(page) -> list[str]:
    """CSP violations and script errors the page reports (failed loads such as the
    missing favicon or a 403 status are not problems of the page)."""
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


@pytest.mark.browser
def test_admin_registers_a_client_and_sees_its_secret_once(
    page, live_vestibule, artifacts, console
):
    """Register a confidential client; its secret shows on the result page only: not
    on the client's page, and not when the form is sent again by a reload."""
    from playwright.sync_api import expect

    from tests.e2e.conftest import sign_in_page

    issuer = live_vestibule.issuer
    sign_in_page(page, live_vestibule, live_vestibule.admin)
    page.goto(f"{issuer}/admin/clients")
    expect(page.get_by_role("link", name="Clients")).to_have_attribute("aria-current", "page")
    page.screenshot(path=artifacts / "dashboard-clients-1-list.png", full_page=True)

    page.get_by_role("link", name="Register a client").click()
    page.get_by_label("Name", exact=True).fill("Shop")
    page.get_by_label("Redirect URIs", exact=True).fill(
        "https://shop.example/cb\nhttps://shop.example/cb2"
    )
    page.get_by_label("Initiate login URI").fill("https://shop.example/login")
    page.get_by_label("offline_access").check()
    page.get_by_label("First-party: skip the consent screen").check()
    page.get_by_label("Sign-up mode").select_option("restricted")
    page.screenshot(path=artifacts / "dashboard-clients-2-new.png", full_page=True)
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", name="The secret of Shop")).to_be_visible()
    secret = page.locator("#client-secret").inner_text().strip()
    client_id = page.locator("#client-id").inner_text().strip()
    assert len(secret) >= 32
    assert secret not in page.url
    page.screenshot(path=artifacts / "dashboard-clients-3-secret.png", full_page=True)

    # A reload sends the same form again: refused as taken, no second client, no secret.
    page.reload()
    expect(page.get_by_text(f"client_id '{client_id}' is taken")).to_be_visible()
    assert secret not in page.content()

    page.goto(f"{issuer}/admin/clients/{client_id}")
    expect(page.get_by_role("heading", name="Shop")).to_be_visible()
    expect(page.get_by_text("https://shop.example/cb2")).to_be_visible()
    assert secret not in page.content()
    page.screenshot(path=artifacts / "dashboard-clients-4-detail.png", full_page=True)
    page.goto(f"{issuer}/admin/clients")
    assert page.get_by_role("link", name="Shop").count() == 1
    assert console == []


@pytest.mark.browser
def test_admin_disables_a_person_with_the_keyboard(page, live_vestibule, artifacts, console):
    """Search, open the person, Disable, confirm: all by keyboard; the page then says so."""
    from playwright.sync_api import expect

    from tests.e2e.conftest import sign_in_page

    issuer, person = live_vestibule.issuer, live_vestibule.person
    sign_in_page(page, live_vestibule, live_vestibule.admin)
    page.goto(f"{issuer}/admin/users")
    page.get_by_label("Email or name").fill("hopper")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/admin/users\?q=hopper.*"))
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    page.screenshot(path=artifacts / "dashboard-users-1-search.png", full_page=True)

    page.get_by_role("link", name=person.email).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{issuer}/admin/users/{person.sub}")
    expect(page.locator("h1 .chip")).to_have_text("Enabled")
    page.screenshot(path=artifacts / "dashboard-users-2-detail.png", full_page=True)

    page.get_by_role("link", name="Disable").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Disable {person.email}?")).to_be_visible()
    page.screenshot(path=artifacts / "dashboard-users-3-confirm.png", full_page=True)
    page.get_by_role("button", name="Disable").focus()
    page.keyboard.press("Enter")

    page.wait_for_url(f"{issuer}/admin/users/{person.sub}")
    expect(page.get_by_role("status")).to_have_text(f"{person.email} is disabled.")
    expect(page.locator("h1 .chip")).to_have_text("Disabled")
    expect(page.get_by_role("link", name="Enable")).to_be_visible()
    page.screenshot(path=artifacts / "dashboard-users-4-disabled.png", full_page=True)
    assert console == []


@pytest.mark.browser
@pytest.mark.parametrize("section", ["users", "clients"])
def test_a_person_who_may_only_invite_sees_403(page, live_vestibule, artifacts, console, section):
    """user_invite opens neither users nor clients: a clear 403 page."""
    from playwright.sync_api import expect

    from tests.e2e.conftest import sign_in_page

    sign_in_page(page, live_vestibule, live_vestibule.inviter)
    response = page.goto(f"{live_vestibule.issuer}/admin/{section}")
    assert response.status == 403
    expect(page.get_by_role("heading", name="You cannot open this page")).to_be_visible()
    expect(page.get_by_text(live_vestibule.inviter.email)).to_be_visible()
    page.screenshot(path=artifacts / f"dashboard-{section}-403.png", full_page=True)
    assert console == []
