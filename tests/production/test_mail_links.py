"""Links that arrive by email, in Chromium, as deployed: the outbox worker really sends
them over SMTP. A forgotten password reset through its link; an invitation made with
the admin API opened from the answer or from the email, through the playground's
initiate_login_uri and /authorize to the registration form and back, signed in; an
invitation for an existing account, accepted by signing in (issue 15)."""

from __future__ import annotations

import re

import pytest

from tests.helpers import NEW_PASSWORD, bearer
from tests.production.deployment import PLAYGROUND_ID

pytestmark = pytest.mark.browser


def test_password_reset_by_email(walk, deployment):
    """Forgot → the email → its link → a new password → sign in with it."""
    from playwright.sync_api import expect

    page, issuer, person = walk.page, deployment.issuer, deployment.forgetful
    new_password = f"{NEW_PASSWORD} {deployment.variant}"
    seen = len(deployment.mails_to(person.email))
    page.goto(f"{issuer}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_url(f"{issuer}/password/forgot")
    page.fill("#email", person.email)
    page.get_by_role("button", name="Send the link").click()
    page.wait_for_url(f"{issuer}/password/forgot/sent")

    link = deployment.link_in(deployment.wait_for_mail(person.email, seen), "/password/reset/")
    page.goto(link)
    page.fill("#password", new_password)
    page.get_by_role("button", name="Save the password").click()
    page.wait_for_url(f"{issuer}/password/changed")
    expect(page.get_by_text("Your password was changed")).to_be_visible()
    page.fill("#email", person.email)
    page.fill("#password", new_password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{issuer}/account")
    expect(page.get_by_text(person.email)).to_be_visible()
    walk.finish("password-reset-signed-in")


def back_office_headers(deployment) -> dict[str, str]:
    """A client-credentials access token of the back office, as a header."""
    answer = deployment.client().post(
        "/token",
        form={"grant_type": "client_credentials"},
        headers=deployment.back_office.basic_auth(),
    )
    assert answer.status == 200, answer.text
    return bearer(answer.json()["access_token"])


@pytest.mark.parametrize("delivery", ["returned", "emailed"])
def test_invitation_to_the_playground(walk, deployment, delivery):
    """Admin API invitation → its link (from the answer, or the email) → the playground's
    initiate_login_uri → /authorize → registration → back at the playground, signed in."""
    from playwright.sync_api import expect

    page, issuer = walk.page, deployment.issuer
    invitee = f"lin.{delivery}.{deployment.variant}@example.com"
    headers = back_office_headers(deployment)
    api = deployment.client()
    created = api.post(
        "/api/v1/invitations",
        json_body={
            "client_id": PLAYGROUND_ID,
            "email": invitee,
            "given_name": "Lin",
            "notify": delivery == "emailed",
        },
        headers=headers,
    )
    assert created.status == 201, created.text
    invitation = created.json()
    if delivery == "emailed":
        link = deployment.link_in(deployment.wait_for_mail(invitee), "/i/")
    else:
        link = invitation["link"]
    navigations: list[str] = []
    page.on("request", lambda r: navigations.append(r.url) if r.is_navigation_request() else None)

    page.goto(link)
    page.wait_for_url(re.compile(re.escape(issuer) + r"/interaction/"))
    paths = [url.removeprefix(issuer).split("?")[0] for url in navigations]
    assert "/playground/login" in paths and "/authorize" in paths, navigations
    expect(page.locator("#email")).to_have_value(invitee)
    walk.screenshot(f"invitation-{delivery}-form")
    page.fill("#password", NEW_PASSWORD)
    page.get_by_role("button", name="Create account", exact=True).click()

    page.wait_for_url(f"{issuer}/playground/")
    claims = page.locator("#id-token-claims")
    expect(claims).to_contain_text(invitee)
    expect(claims).to_contain_text(issuer)
    walk.finish(f"invitation-{delivery}-signed-in")
    stored = api.get(f"/api/v1/invitations/{invitation['id']}", headers=headers)
    assert stored.json()["state"] == "accepted", stored.text


def test_existing_account_joins_a_group_by_signing_in(walk, deployment):
    """Admin API invitation of an existing account into a group (existing_account join)
    → the emailed link → the invited sign-in page → password → the playground, whose ID
    token shows the group."""
    from playwright.sync_api import expect

    page, issuer, person = walk.page, deployment.issuer, deployment.person
    headers = back_office_headers(deployment)
    api = deployment.client()
    group = f"joined-{deployment.variant}"
    made = api.post("/api/v1/groups", json_body={"name": group}, headers=headers)
    assert made.status == 201, made.text
    seen = len(deployment.mails_to(person.email))
    created = api.post(
        "/api/v1/invitations",
        json_body={
            "client_id": PLAYGROUND_ID,
            "email": person.email,
            "groups": [group],
            "existing_account": "join",
        },
        headers=headers,
    )
    assert created.status == 201, created.text
    link = deployment.link_in(deployment.wait_for_mail(person.email, seen), "/i/")

    page.goto(link)
    page.wait_for_url(re.compile(re.escape(issuer) + r"/interaction/"))
    expect(page.locator("#email")).to_have_value(person.email)
    walk.screenshot("join-sign-in")
    page.fill("#password", person.password)
    page.get_by_role("button", name="Sign in and accept").click()

    page.wait_for_url(f"{issuer}/playground/")
    expect(page.locator("#memberships")).to_contain_text(group)
    walk.finish("join-signed-in")
    stored = api.get(f"/api/v1/invitations/{created.json()['id']}", headers=headers)
    assert stored.json()["accepted_sub"] == person.sub, stored.text
