"""The links of a bulk upload's silent invitations (issue 14, item 4): downloaded once as a
CSV file by the person who made them, kept sealed until then, gone afterwards."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Invitation, LinkExport, utcnow
from tests.dashboard.test_invitations_pages import signed_in, upload
from tests.helpers import csrf_token

LINKS = "/admin/invitations/bulk/links"
CSV = (
    "email,mobile_number,given_name,family_name,notify\n"
    "ada@example.com,,Ada,Lovelace,false\n"
    ",+4915112345678,Radia,Perlman,false\n"
    "grace@example.com,,Grace,Hopper,true\n"
    "cy@example.com,,=SUM(1),,false\n"
)


@pytest.fixture
def admin(app, factory):
    """A browser signed in as an administrator."""
    return signed_in(app, factory, "root@example.com", ("admin",))


@pytest.fixture
def other_admin(app, factory):
    """A second administrator, in a browser of their own."""
    return signed_in(app, factory, "second@example.com", ("admin",))


def create_rows(browser, text: str = CSV):
    """Upload ``text``, create its rows; the results page."""
    preview = upload(browser, text)
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', preview.text).group(1)
    response = browser.post(
        "/admin/invitations/bulk/create",
        data={"csrf_token": csrf_token(preview.text), "payload": payload},
    )
    assert response.status_code == 200, response.data
    return response


def export_id(results) -> str:
    """The secret id the results page's download button posts."""
    return re.search(r'name="export" type="hidden" value="([^"]+)"', results.text).group(1)


def download(browser, results, export: str | None = None):
    """Press the results page's download button (in ``browser``, with its own CSRF token)."""
    token = csrf_token(browser.get("/admin/invitations/bulk").text)
    return browser.post(LINKS, data={"csrf_token": token, "export": export or export_id(results)})


def test_links_download_once_as_a_csv_attachment(app, client, admin):
    """The download is a no-store CSV attachment with a row per invitation that sends no
    message (email, name, link, short link, expiry), each link working; the second press
    of the button gets a refusal page and no link."""
    results = create_rows(admin)
    assert "http://localhost/i/" not in results.text
    response = download(admin, results)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(
        r'attachment; filename="invitation-links-[0-9-]+\.csv"',
        response.headers["Content-Disposition"],
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "email",
        "mobile_number",
        "name",
        "link",
        "short_link",
        "expires_at",
        "short_link_expires_at",
        "id",
    ]
    assert [(r["email"], r["mobile_number"], r["name"]) for r in rows] == [
        ("ada@example.com", "", "Ada Lovelace"),
        ("", "+4915112345678", "Radia Perlman"),
        ("cy@example.com", "", "'=SUM(1)"),  # a formula stays text
    ]
    for row in rows:
        landing = client.get(urlsplit(row["short_link"]).path)
        assert landing.status_code == 302 and landing.location == row["link"]
        assert "invite_id=" in row["link"]
        assert row["expires_at"].endswith("Z") and row["short_link_expires_at"] < row["expires_at"]

    again = download(admin, results)
    assert again.status_code == 410
    assert "no longer available" in again.text and "/i/" not in again.text


def test_another_person_cannot_download_them(app, admin, other_admin):
    """A second administrator posting the export's id gets the refusal; the links stay
    for the person who made them."""
    results = create_rows(admin)
    stolen = download(other_admin, results, export_id(results))
    assert stolen.status_code == 410 and "/i/" not in stolen.text
    assert download(admin, results).status_code == 200


def test_links_are_kept_sealed_and_removed_after_the_download(app, admin):
    """At rest the file is encrypted (no link, no address, no id in clear) and stored
    under its id's hash; after the download no row is left."""
    results = create_rows(admin)
    with app.app_context():
        [row] = db.session.scalars(select(LinkExport)).all()
        sealed, token_hash = row.sealed_csv, row.token_hash
        tokens = [i.public_id for i in db.session.scalars(select(Invitation))]
    assert export_id(results) not in token_hash
    for clear in ("/i/", "invite_id", "ada@example.com", "Lovelace", *tokens):
        assert clear not in sealed
    links = download(admin, results).text
    assert "ada@example.com" in links
    with app.app_context():
        assert db.session.scalars(select(LinkExport)).all() == []


def test_expired_links_are_refused(app, admin):
    """Past their short lifetime the links are refused like taken ones."""
    results = create_rows(admin)
    with app.app_context():
        db.session.execute(update(LinkExport).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert download(admin, results).status_code == 410


def test_no_download_when_every_invitation_sends_its_message(app, admin):
    """Rows that notify send their own link: nothing is kept, no button is shown."""
    results = create_rows(admin, "email,notify\nada@example.com,true\n")
    assert 'name="export"' not in results.text
    with app.app_context():
        assert db.session.scalars(select(LinkExport)).all() == []


def test_a_download_without_the_forms_token_is_refused(app, admin):
    """The button's form needs its CSRF token: without it nothing is handed out or used."""
    results = create_rows(admin)
    response = admin.post(LINKS, data={"export": export_id(results)})
    assert response.status_code in (400, 410) and "/i/" not in response.text
    assert download(admin, results).status_code == 200
