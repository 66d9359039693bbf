"""Invitations for people who already have an account, in Chromium (issue 15): the back
office invites an existing account into a group through the admin API
(``existing_account: "join"``) for the playground client; the person opens the link,
signs in on the invited sign-in page (or is signed in already), lands in the
playground, and the ID token's ``groups`` claim shows the new group. Someone signed in
as another account gets the choice page: declining works, and so does signing out and
continuing."""

from __future__ import annotations

import re

import pytest

from tests.e2e import test_invitation_browser as journey
from tests.e2e.conftest import sign_in_page
from tests.helpers import PASSWORD, AccountInfo

#: The back office of the new-person journey: admin API calls with its token.
admin_api = journey.admin_api
_claims, _watch_csp = journey._claims, journey._watch_csp

pytestmark = pytest.mark.browser


def _member(admin_api, name: str, groups: list[str] | None = None) -> AccountInfo:
    """A new account (through the admin API), in ``groups``."""
    email = f"{name}@example.com"
    body = {"email": email, "password": PASSWORD, "given_name": name.title(), "groups": groups}
    created = admin_api.call("POST", "/users", {k: v for k, v in body.items() if v}, expect=201)
    return AccountInfo(created["sub"], email, PASSWORD)


def _group(admin_api, name: str) -> str:
    admin_api.call("POST", "/groups", {"name": name}, expect=201)
    return name


def _invite(admin_api, member: AccountInfo, group: str) -> dict:
    """The back office's invitation of ``member``'s account into ``group``."""
    invitation = admin_api.invite(email=member.email, groups=[group], existing_account="join")
    assert invitation["existing_account"] == "join" and invitation["accepted_sub"] is None
    return invitation


def _invited_while_other_signed_in(page, live_vestibule, admin_api, names, group):
    """``names[0]`` invited to join ``group``; this browser signed in as ``names[1]``."""
    member = _member(admin_api, names[0])
    invitation = _invite(admin_api, member, _group(admin_api, group))
    other = _member(admin_api, names[1])
    sign_in_page(page, live_vestibule, other)
    return member, invitation, other


def _groups_shown(page) -> list[str]:
    """The ID token's groups claim, as the playground shows it."""
    return re.findall(r'"([^"]+)"', _claims(page, "id-token-claims")["groups"])


def test_signing_in_from_the_link_lands_in_the_playground_with_the_group(
    page, live_vestibule, admin_api, artifacts
):
    """Link → invited sign-in page (email fixed, who invited to what, decline) →
    password → the playground, whose ID token shows the new group."""
    from playwright.sync_api import expect

    issuer = live_vestibule.issuer
    member = _member(admin_api, "mara", groups=[_group(admin_api, "readers")])
    invitation = _invite(admin_api, member, _group(admin_api, "editors"))
    csp_violations = _watch_csp(page)

    page.goto(invitation["short_link"])
    page.wait_for_url(re.compile(re.escape(issuer) + r"/interaction/[^/?]+\?invite_id="))
    expect(page.get_by_role("heading", name="Sign in to accept the invitation")).to_be_visible()
    expect(page.locator("#invited-by")).to_have_text(
        "E2E back office invited you to Vestibule Playground"
    )
    expect(page.locator("#email")).to_have_value(member.email)
    expect(page.locator("#email")).not_to_be_editable()
    expect(page.locator("form#registration")).to_have_count(0)
    expect(page.get_by_text("Decline the invitation", exact=True)).to_be_visible()
    page.screenshot(path=artifacts / "join-1-sign-in.png", full_page=True)

    page.fill("#password", member.password)
    page.get_by_role("button", name="Sign in and accept").click()

    page.wait_for_url(f"{issuer}/playground/")
    claims = _claims(page, "id-token-claims")
    assert claims["sub"] == member.sub and claims["email"] == member.email
    assert _groups_shown(page) == ["editors", "readers"]
    expect(page.locator("#memberships")).to_contain_text("editors")
    page.screenshot(path=artifacts / "join-2-playground.png", full_page=True)

    stored = admin_api.call("GET", f"/invitations/{invitation['id']}")
    assert (stored["state"], stored["accepted_sub"]) == ("accepted", member.sub)
    assert csp_violations == []


def test_already_signed_in_is_accepted_at_once(page, live_vestibule, admin_api):
    """Signed in as the invited account already: no password, straight to the
    playground with the group."""
    issuer = live_vestibule.issuer
    member = _member(admin_api, "nils")
    invitation = _invite(admin_api, member, _group(admin_api, "auditors"))
    sign_in_page(page, live_vestibule, member)

    page.goto(invitation["link"])
    page.wait_for_url(f"{issuer}/playground/")
    assert _claims(page, "id-token-claims")["sub"] == member.sub
    assert _groups_shown(page) == ["auditors"]
    stored = admin_api.call("GET", f"/invitations/{invitation['id']}")
    assert stored["accepted_sub"] == member.sub


def test_another_account_can_decline(page, live_vestibule, admin_api, artifacts):
    """Signed in as someone else: the choice page, nothing granted; declining sends the
    playground access_denied and the invitation is rejected."""
    from playwright.sync_api import expect

    issuer = live_vestibule.issuer
    member, invitation, other = _invited_while_other_signed_in(
        page, live_vestibule, admin_api, ("olga", "piet"), "owners"
    )

    page.goto(invitation["link"])
    expect(
        page.get_by_role("heading", name="This invitation is for another account")
    ).to_be_visible()
    expect(page.get_by_text(f"You are signed in as {other.email}")).to_be_visible()
    page.screenshot(path=artifacts / "join-3-other-account.png", full_page=True)
    page.get_by_text("Decline the invitation", exact=True).click()
    page.get_by_role("button", name="Yes, decline the invitation").click()

    page.wait_for_url(re.compile(re.escape(issuer) + r"/playground/callback\?"))
    expect(page.get_by_text("access_denied")).to_be_visible()
    stored = admin_api.call("GET", f"/invitations/{invitation['id']}")
    assert stored["state"] == "rejected"
    for person in (member, other):
        assert admin_api.call("GET", f"/users/{person.sub}")["groups"] == []


def test_another_account_can_sign_out_and_continue(page, live_vestibule, admin_api):
    """Signed in as someone else: "Sign out and continue" → the invited sign-in page →
    password → the playground as the invited account, with the group."""
    from playwright.sync_api import expect

    issuer = live_vestibule.issuer
    member, invitation, other = _invited_while_other_signed_in(
        page, live_vestibule, admin_api, ("quinn", "rosa"), "quality"
    )

    page.goto(invitation["link"])
    page.get_by_role("button", name="Sign out and continue").click()
    expect(page.get_by_role("heading", name="Sign in to accept the invitation")).to_be_visible()
    expect(page.locator("#email")).to_have_value(member.email)
    page.fill("#password", member.password)
    page.get_by_role("button", name="Sign in and accept").click()

    page.wait_for_url(f"{issuer}/playground/")
    assert _claims(page, "id-token-claims")["sub"] == member.sub
    assert _groups_shown(page) == ["quality"]
    assert admin_api.call("GET", f"/users/{other.sub}")["groups"] == []
