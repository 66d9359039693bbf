"""The dashboard as deployed, in Chromium: an administrator sets up two-step sign-in at
their first sign-in (MFA_FOR_ADMIN_ROLES is on in production), invites someone (the
worker emails the link), resends (a second email, a new link) and revokes, each action
after its confirmation form."""

from __future__ import annotations

import re

import pytest

from tests.mfa import code_for
from tests.production.deployment import PLAYGROUND_ID

pytestmark = pytest.mark.browser


def test_invite_resend_revoke(walk, deployment):
    """Invite (emailed) → Resend, confirmed (emailed again, new link) → Revoke, confirmed."""
    from playwright.sync_api import expect

    page, issuer = walk.page, deployment.issuer
    invitee = f"pat.{deployment.variant}@example.com"
    _sign_in_setting_up_two_step(walk, deployment)
    page.goto(f"{issuer}/admin/invitations")
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("Email", exact=True).fill(invitee)
    page.get_by_label("Client", exact=True).select_option(PLAYGROUND_ID)
    expect(page.get_by_label("Send the invitation now")).to_be_checked()
    page.get_by_role("button", name="Create the invitation").click()
    expect(page.get_by_role("status")).to_contain_text("is on its way")
    first = deployment.link_in(deployment.wait_for_mail(invitee), "/i/")

    page.get_by_role("link", name="Resend").click()
    expect(page.get_by_role("heading", name=re.compile("Resend the invitation"))).to_be_visible()
    walk.screenshot("dashboard-resend-confirm")
    page.get_by_role("button", name="Yes, resend").click()
    expect(page.get_by_role("status")).to_contain_text("was sent again")
    second = deployment.link_in(deployment.wait_for_mail(invitee, seen=1), "/i/")
    assert second != first

    page.get_by_role("link", name="Revoke").click()
    walk.screenshot("dashboard-revoke-confirm")
    page.get_by_role("button", name="Yes, revoke").click()
    expect(page.get_by_role("status")).to_contain_text("was revoked")
    expect(page.locator("h1 .chip.revoked")).to_be_visible()
    walk.finish("dashboard-revoked")


#: The recovery codes of the administrator's authenticator, once set up (the variants
#: share one database: the later ones sign in with a recovery code).
_RECOVERY_CODES: list[str] = []


def _sign_in_setting_up_two_step(walk, deployment) -> None:
    """The administrator's password leads to setting up an authenticator app (QR code,
    key, first code, recovery codes) before anything else, over TLS; once it is set
    up, to the code page, where a recovery code does."""
    from playwright.sync_api import expect

    page, issuer, admin = walk.page, deployment.issuer, deployment.admin
    page.goto(f"{issuer}/admin/invitations")
    page.fill("#email", admin.email)
    page.fill("#password", admin.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(re.escape(f"{issuer}/login/second-factor")))
    if _RECOVERY_CODES:
        page.fill("#code", _RECOVERY_CODES.pop())
        page.get_by_role("button", name="Continue").click()
    else:
        expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
        walk.screenshot("dashboard-two-step-set-up")
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        page.fill("#code", code_for(secret))
        page.get_by_role("button", name="Turn on two-step sign-in").click()
        expect(page.locator("#recovery-codes li")).to_have_count(10)
        _RECOVERY_CODES.extend(page.locator("#recovery-codes code").all_inner_texts())
        page.get_by_role("link", name="I have saved them: continue").click()
    page.wait_for_url(f"{issuer}/admin/invitations")
