"""The dashboard as deployed, in Chromium: an administrator invites someone (the worker
emails the link), resends (a second email, a new link) and revokes, each action after
its confirmation form."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import sign_in_page
from tests.production.deployment import PLAYGROUND_ID

pytestmark = pytest.mark.browser


def test_invite_resend_revoke(walk, deployment):
    """Invite (emailed) → Resend, confirmed (emailed again, new link) → Revoke, confirmed."""
    from playwright.sync_api import expect

    page, issuer = walk.page, deployment.issuer
    invitee = f"pat.{deployment.variant}@example.com"
    sign_in_page(page, deployment, deployment.admin)
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
