"""The dashboard's invitations section in a real browser (issue 6): invite one person,
bulk-upload a CSV with a bad row, resend, revoke; the user_invite role's limits; and
the list with its funnel chart, screenshotted for the README. Every page runs under
the strict CSP with no script: each test asserts the browser reported no violation.

Set UPDATE_SCREENSHOTS=1 to write the README's image (docs/images) as well as the
test artifacts."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import sign_in_page

README_IMAGE = Path(__file__).resolve().parents[2] / "docs" / "images" / "dashboard-invitations.png"
CLIENT = "demo-confidential"
GROUPS = ("staff", "beta-testers", "partners")

pytestmark = pytest.mark.browser


def watch_csp(page) -> list[str]:
    """Collects the console's Content Security Policy reports (there must be none)."""
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return violations


@pytest.fixture(scope="module")
def groups(chromium, live_vestibule):
    """The groups invitations may name, made by the back office through the admin API."""
    context = chromium.new_context()
    token = context.request.post(
        f"{live_vestibule.issuer}/token",
        form={"grant_type": "client_credentials"},
        headers=live_vestibule.back_office.basic_auth(),
    ).json()["access_token"]
    for name in GROUPS:
        response = context.request.post(
            f"{live_vestibule.issuer}/api/v1/groups",
            data={"name": name},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status == 201, response.text()
    context.close()
    return GROUPS


@pytest.fixture
def admin_page(page, live_vestibule, groups):
    """A page signed in as the administrator, on the invitations list."""
    sign_in_page(page, live_vestibule, live_vestibule.admin)
    page.goto(f"{live_vestibule.issuer}/admin/invitations")
    return page


def download_links(page) -> list[dict]:
    """Download the bulk result's links file (the button works once) and read its rows."""
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the links (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def open_invitation(page, address: str) -> None:
    """From the list, search for ``address`` and open its invitation."""
    page.get_by_label("Search", exact=True).fill(address)
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name=address, exact=True).click()


def test_invite_one_person_and_copy_the_link_once(admin_page, live_vestibule, artifacts):
    """The form (keyboard-submitted) creates the invitation; its link is shown once."""
    from playwright.sync_api import expect

    page, issuer = admin_page, live_vestibule.issuer
    violations = watch_csp(page)
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("Email", exact=True).fill("lin.wu@example.com")
    page.get_by_label("Given name").fill("Lin")
    page.get_by_label("Client", exact=True).select_option(CLIENT)
    page.get_by_label("staff", exact=True).check()
    page.get_by_label("Send the invitation now").uncheck()
    page.get_by_label("Expires in (days)").fill("14")
    page.screenshot(path=artifacts / "dashboard-invite-1-form.png", full_page=True)
    page.get_by_label("Family name").fill("Wu")
    page.get_by_label("Family name").press("Enter")

    expect(page.get_by_role("heading", name="The invitation link")).to_be_visible()
    short = page.get_by_label(re.compile(r"^Short link"))
    expect(short).to_have_value(re.compile(re.escape(issuer) + r"/i/\S+"))
    expect(short).not_to_be_editable()
    expect(page.get_by_label(re.compile(r"^Full link"))).to_have_value(
        re.compile(re.escape(issuer) + r"/playground/login\?.*invite_id=")
    )
    assert "invite_id" not in page.url and "/i/" not in page.url
    page.screenshot(path=artifacts / "dashboard-invite-2-link-once.png", full_page=True)

    page.goto(f"{issuer}/admin/invitations")
    open_invitation(page, "lin.wu@example.com")
    expect(page.get_by_role("heading", name="The invitation link")).to_have_count(0)
    expect(page.locator(".timeline")).to_contain_text("by Ada (ada.admin@example.com)")
    expect(page.locator(".timeline a", has_text="ada.admin@example.com")).to_have_count(1)
    assert violations == []


def test_bulk_upload_previews_then_creates_and_reports_the_bad_row(
    admin_page, live_vestibule, artifacts
):
    """Step 1 writes nothing and flags the bad row; step 2 creates the others."""
    from playwright.sync_api import expect

    page = admin_page
    violations = watch_csp(page)
    csv = (
        "email,given_name,family_name,client_id,groups,notify\n"
        f"max.muster@example.com,Max,Mustermann,{CLIENT},staff;partners,false\n"
        f"noor@example.com,Noor,Haddad,{CLIENT},no-such-group,false\n"
        f"oskar@example.com,Oskar,Berg,{CLIENT},beta-testers,false\n"
    )
    page.get_by_role("link", name="Invite from a CSV file").click()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_text("2 of 3 rows can be created")).to_be_visible()
    expect(page.locator("tr.bad")).to_have_count(1)
    expect(page.locator("tr.bad")).to_contain_text("unknown groups: no-such-group")
    page.screenshot(path=artifacts / "dashboard-bulk-1-preview.png", full_page=True)
    other_tab = page.context.new_page()  # the preview wrote nothing
    other_tab.goto(f"{live_vestibule.issuer}/admin/invitations?q=oskar")
    expect(other_tab.get_by_text("No invitation matches.")).to_be_visible()
    other_tab.close()

    page.get_by_role("button", name="Create 2 invitations").click()
    expect(page.get_by_text("2 created, 1 not created.")).to_be_visible()
    expect(page.locator("input.secret")).to_have_count(0)  # links are not on the page
    page.screenshot(path=artifacts / "dashboard-bulk-2-results.png", full_page=True)
    rows = download_links(page)  # notify=false: their links, in a file downloaded once
    assert [row["email"] for row in rows] == ["max.muster@example.com", "oskar@example.com"]
    assert all(row["link"].startswith(f"{live_vestibule.issuer}/") for row in rows)
    assert violations == []


def test_resend_then_revoke_after_confirming(admin_page, live_vestibule, artifacts):
    """Each action asks first; resend shows the new link once; revoke ends the invitation."""
    from playwright.sync_api import expect

    page, issuer = admin_page, live_vestibule.issuer
    violations = watch_csp(page)
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("Email", exact=True).fill("pat.resend@example.com")
    page.get_by_label("Send the invitation now").uncheck()
    page.get_by_role("button", name="Create the invitation").click()
    first_link = page.get_by_label(re.compile(r"^Short link")).input_value()

    page.goto(f"{issuer}/admin/invitations")
    open_invitation(page, "pat.resend@example.com")
    page.get_by_role("link", name="Resend").click()
    expect(page.get_by_role("heading", name=re.compile("Resend the invitation"))).to_be_visible()
    page.screenshot(path=artifacts / "dashboard-resend-1-confirm.png", full_page=True)
    page.get_by_role("button", name="Yes, resend").click()
    new_link = page.get_by_label(re.compile(r"^Short link")).input_value()
    assert new_link.startswith(f"{issuer}/i/") and new_link != first_link
    expect(page.locator(".chip.reinitiated").first).to_be_visible()
    page.screenshot(path=artifacts / "dashboard-resend-2-new-link.png", full_page=True)

    page.get_by_role("link", name="Revoke").click()
    page.screenshot(path=artifacts / "dashboard-revoke-1-confirm.png", full_page=True)
    page.get_by_role("button", name="Yes, revoke").click()
    expect(page.get_by_role("status")).to_contain_text("was revoked")
    expect(page.locator("h1 .chip.revoked")).to_be_visible()
    expect(page.get_by_role("link", name="Revoke")).to_have_count(0)
    expect(page.locator(".timeline li")).to_have_count(3)
    page.screenshot(path=artifacts / "dashboard-revoke-2-done.png", full_page=True)

    assert page.goto(first_link).status == 404  # replaced by the resend
    assert page.goto(new_link).status == 410  # revoked
    assert violations == []


def test_an_inviter_may_resend_but_not_revoke(page, live_vestibule, groups, artifacts):
    """user_invite: no revoke button, and the revoke page itself is a 403."""
    from playwright.sync_api import expect

    issuer = live_vestibule.issuer
    violations = watch_csp(page)
    sign_in_page(page, live_vestibule, live_vestibule.inviter)
    page.goto(f"{issuer}/admin/invitations/new")
    page.get_by_label("Email", exact=True).fill("quinn@example.com")
    page.get_by_role("button", name="Create the invitation").click()
    expect(page.get_by_role("status")).to_contain_text("is on its way")
    expect(page.get_by_role("link", name="Resend")).to_be_visible()
    expect(page.get_by_role("link", name="Revoke")).to_have_count(0)
    response = page.goto(page.url + "/revoke")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="You cannot open this page")).to_be_visible()
    assert violations == []


def register(chromium, link: str, *, decline: bool = False) -> None:
    """The invited person, in their own browser: register (or decline) from the link."""
    context = chromium.new_context()
    page = context.new_page()
    page.goto(link)
    if decline:
        page.get_by_text("Decline the invitation", exact=True).click()
        page.get_by_role("button", name="Yes, decline the invitation").click()
    else:
        page.fill("#password", "a sturdy passphrase")
        page.get_by_role("button", name="Create account", exact=True).click()
        page.wait_for_url(re.compile(r".*/playground/"))
    context.close()


PEOPLE = [
    ("amara.okafor@example.com", "Amara", "Okafor", "staff"),
    ("ben.schulz@example.com", "Ben", "Schulz", "beta-testers"),
    ("chloe.martin@example.com", "Chloé", "Martin", "staff;partners"),
    ("dev.patel@example.com", "Dev", "Patel", "beta-testers"),
    ("elena.rossi@example.com", "Elena", "Rossi", "partners"),
    ("farid.nasser@example.com", "Farid", "Nasser", "staff"),
]


def test_the_list_with_its_funnel_for_the_readme(chromium, admin_page, live_vestibule, artifacts):
    """Invitations in several states, the chart counting them, saved as the README image."""
    from playwright.sync_api import expect

    page, issuer = admin_page, live_vestibule.issuer
    violations = watch_csp(page)
    rows = "".join(f"{e},{g},{f},{CLIENT},{gr},false\n" for e, g, f, gr in PEOPLE)
    page.goto(f"{issuer}/admin/invitations/bulk")
    page.get_by_label("CSV file").set_input_files(
        files=[
            {
                "name": "team.csv",
                "mimeType": "text/csv",
                "buffer": (
                    "email,given_name,family_name,client_id,groups,notify\n" + rows
                ).encode(),
            }
        ]
    )
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name=f"Create {len(PEOPLE)} invitations").click()
    links = [row["link"] for row in download_links(page)]
    assert len(links) == len(PEOPLE)
    register(chromium, links[0])
    register(chromium, links[1])
    register(chromium, links[2])
    register(chromium, links[3], decline=True)

    page.goto(f"{issuer}/admin/invitations")
    open_invitation(page, "elena.rossi@example.com")
    page.get_by_role("link", name="Resend").click()
    page.get_by_role("button", name="Yes, resend").click()
    page.goto(f"{issuer}/admin/invitations")

    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{issuer}/admin/invitations")
    expect(page.locator(".chip.accepted").first).to_be_visible()
    for state in ("initiated", "reinitiated", "accepted", "rejected", "revoked"):
        expect(page.locator(f"tbody .chip.{state}").first).to_be_visible()
    expect(page.locator("svg.funnel rect.bar")).to_have_count(5)  # no expired bar
    expect(page.locator("dl.figures")).to_contain_text("%")
    page.get_by_label("Search", exact=True).focus()  # the focus ring is part of the picture
    shot = artifacts / "dashboard-invitations.png"
    page.screenshot(path=shot, full_page=True)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        README_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, README_IMAGE)
    assert violations == []
