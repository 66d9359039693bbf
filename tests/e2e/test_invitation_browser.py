"""The invitation journey in a real browser: the back office invites someone through the
admin API over HTTP, the invited person opens the short link, lands on the pre-filled
registration form, chooses a password and arrives signed in at the playground."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from app.playground.client import SCOPE

INVITEE = "lin@example.com"
PUBLIC_METADATA = {"plan": "pro", "seats": 5}


class AdminApi:
    """The back office: admin API calls over HTTP with a client-credentials token."""

    def __init__(self, request, issuer: str, headers: dict[str, str]):
        self.request, self.issuer, self.headers = request, issuer, headers

    def call(self, method: str, path: str, body: dict | None = None, expect: int = 200) -> dict:
        """One API call; asserts the status and returns the JSON body."""
        response = self.request.fetch(
            f"{self.issuer}/api/v1{path}", method=method, data=body, headers=self.headers
        )
        assert response.status == expect, (response.status, response.text())
        return response.json()

    def invite(self, **fields) -> dict:
        """POST /invitations to the playground client, without sending a message."""
        body = {"client_id": "demo-confidential", "notify": False, **fields}
        return self.call("POST", "/invitations", body, expect=201)


@pytest.fixture
def admin_api(chromium, live_vestibule):
    """An AdminApi in its own browser context (its cookies never reach the invitee's)."""
    context = chromium.new_context()
    response = context.request.post(
        f"{live_vestibule.issuer}/token",
        form={"grant_type": "client_credentials"},
        headers=live_vestibule.back_office.basic_auth(),
    )
    assert response.status == 200, response.text()
    token = response.json()["access_token"]
    yield AdminApi(context.request, live_vestibule.issuer, {"Authorization": f"Bearer {token}"})
    context.close()


def _claims(page, list_id: str) -> dict[str, str]:
    """The playground's ``<dl id=list_id>`` as name -> shown text."""
    names = page.locator(f"#{list_id} > dt").all_inner_texts()
    values = page.locator(f"#{list_id} > dd").all_inner_texts()
    assert len(names) == len(values)
    return dict(zip(names, values, strict=True))


def _watch_csp(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return violations


@pytest.mark.browser
def test_invitation_short_link_to_signed_in_playground(page, live_vestibule, admin_api, artifacts):
    """Short link → pre-filled form (email locked) → password → verified claims at the RP."""
    from playwright.sync_api import expect

    issuer = live_vestibule.issuer
    admin_api.call("POST", "/groups", {"name": "beta-testers"}, expect=201)
    invitation = admin_api.invite(
        email=INVITEE,
        given_name="Lin",
        family_name="Wu",
        groups=["beta-testers"],
        public_metadata=PUBLIC_METADATA,
        allow_same_email=True,
    )
    assert invitation["short_link"].startswith(f"{issuer}/i/")
    csp_violations = _watch_csp(page)
    authorize_requests: list[str] = []
    page.on(
        "request",
        lambda req: authorize_requests.append(req.url) if "/authorize?" in req.url else None,
    )

    page.goto(invitation["short_link"])
    page.wait_for_url(re.compile(re.escape(issuer) + r"/interaction/[^/?]+\?invite_id="))
    # The playground handed the invitation on to /authorize unchanged.
    assert len(authorize_requests) == 1
    sent = parse_qs(urlsplit(authorize_requests[0]).query)
    assert sent["client_id"] == ["demo-confidential"]
    assert sent["view_type"] == ["register"]
    assert sent["invite_id"] == [invitation["short_link"].rsplit("/", 1)[-1]]
    assert sent["scope"] == [SCOPE]

    form = page.locator("form#registration")
    expect(form).to_be_visible()
    expect(page.locator("#email")).to_have_value(INVITEE)
    expect(page.locator("#email")).not_to_be_editable()
    expect(page.locator("#given_name")).to_have_value("Lin")
    expect(page.locator("#family_name")).to_have_value("Wu")
    expect(page.locator("#password")).to_have_value("")
    expect(page.locator("form#decline")).to_be_hidden()  # declining asks first
    expect(page.get_by_text("Decline the invitation", exact=True)).to_be_visible()
    page.screenshot(path=artifacts / "invitation-1-form.png", full_page=True)

    page.fill("#password", "a sturdy passphrase")
    page.screenshot(path=artifacts / "invitation-2-filled.png", full_page=True)
    page.get_by_role("button", name="Create account", exact=True).click()

    page.wait_for_url(f"{issuer}/playground/")
    claims = _claims(page, "id-token-claims")
    assert claims["iss"] == issuer
    assert claims["email"] == INVITEE
    # The back office handed the link over itself (notify=false): holding it proves no
    # address, so the email waits for its verification link.
    assert claims["email_verified"] == "false"
    assert claims["given_name"] == "Lin" and claims["family_name"] == "Wu"
    assert json.loads(claims["public_metadata"]) == PUBLIC_METADATA
    userinfo = _claims(page, "userinfo")
    assert userinfo["sub"] == claims["sub"]
    assert json.loads(userinfo["public_metadata"]) == PUBLIC_METADATA
    page.screenshot(path=artifacts / "invitation-3-signed-in.png", full_page=True)

    stored = admin_api.call("GET", f"/invitations/{invitation['id']}")
    assert stored["state"] == "accepted"
    assert stored["accepted_sub"] == claims["sub"]
    assert csp_violations == []


@pytest.mark.browser
@pytest.mark.parametrize("link", ["short_link", "link"])
def test_revoked_invitation_link_explains_instead_of_a_form(
    page, live_vestibule, admin_api, artifacts, link
):
    """A revoked invitation's short or long link shows why it no longer works, no form."""
    from playwright.sync_api import expect

    invitation = admin_api.invite(email=f"withdrawn-{link}@example.com")
    revoked = admin_api.call("PATCH", f"/invitations/{invitation['id']}", {"state": "revoked"})
    assert revoked["state"] == "revoked"

    response = page.goto(invitation[link])
    assert response is not None and response.status == 410
    expect(page.get_by_role("heading", name="This invitation was withdrawn")).to_be_visible()
    expect(page.locator("form#registration")).to_have_count(0)
    expect(page.locator("#password")).to_have_count(0)
    page.screenshot(path=artifacts / f"invitation-revoked-{link}.png", full_page=True)
