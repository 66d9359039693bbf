"""The short link /i/<token>: redirect while usable, a clear page otherwise, no writes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.invitations import service
from app.models import Invitation, utcnow
from tests.helpers import (
    INITIATE_LOGIN_URI,
    ISSUER,
    invite,
    row_counts,
    set_invitation_state,
    update_rows,
)


@pytest.fixture
def rp(factory):
    """A relying party whose initiate_login_uri already carries a query."""
    return factory.client(client_id="shop", initiate_login_uri=INITIATE_LOGIN_URI)


@pytest.fixture
def invitation(app, rp):
    """A pending invitation to ``rp``."""
    return invite(app, email="invitee@example.com", client_id=rp.client_id)


def path_of(short_link: str) -> str:
    assert short_link.startswith(f"{ISSUER}/i/")
    return short_link.removeprefix(ISSUER)


def snapshot(app) -> tuple:
    """Every table's row count and every invitation's columns, to compare around a visit."""
    with app.app_context():
        rows = db.session.execute(select(Invitation.__table__).order_by(Invitation.id)).all()
        return row_counts(app), [tuple(row) for row in rows]


def past():
    return utcnow() - timedelta(minutes=1)


def test_short_link_redirects_to_the_landing_url(client, invitation):
    """A pending invitation's short link answers 302 to initiate_login_uri + invite_id."""
    response = client.get(path_of(invitation.short_link))
    assert response.status_code == 302
    assert response.location == (
        f"https://rp.example.com/login?from=invite&invite_id={invitation.token}&view_type=register"
    )
    assert response.location == invitation.link
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_short_link_without_client_lands_on_hosted_registration(app, client):
    """A client-less invitation's short link leads to Vestibule's own registration page."""
    invitation = invite(app, email="solo@example.com")
    response = client.get(path_of(invitation.short_link))
    assert response.status_code == 302
    assert response.location == (
        f"{ISSUER}/register?invite_id={invitation.token}&view_type=register"
    )


def test_resent_invitation_short_link_redirects(app, client, invitation):
    """After a resend the new short link redirects (state reinitiated) and the old is dead."""
    with app.app_context():
        issued = service.resend(invitation.id, "test")
        new_path, new_link = path_of(issued.short_link), issued.link
    response = client.get(new_path)
    assert response.status_code == 302 and response.location == new_link
    assert client.get(path_of(invitation.short_link)).status_code == 404


def test_opening_the_link_changes_nothing(app, client, invitation):
    """GET and HEAD on the short link leave every row and the event count as they were."""
    before = snapshot(app)
    for _ in range(3):
        assert client.get(path_of(invitation.short_link)).status_code == 302
    assert client.head(path_of(invitation.short_link)).status_code == 302
    assert client.get("/i/unknown-token").status_code == 404
    assert snapshot(app) == before
    assert before[0]["invitations"] == 1 and before[0]["events"] == 1  # and its creation


def test_opening_an_expired_pending_invitation_does_not_expire_it(app, client, invitation):
    """A pending invitation past its expiry shows the page but stays stored as it was."""
    set_invitation_state(app, invitation.id, "expired")
    before = snapshot(app)
    assert client.get(path_of(invitation.short_link)).status_code == 410
    assert snapshot(app) == before
    with app.app_context():
        assert service.find(invitation.id).state == "initiated"


def test_unknown_token_is_404_with_a_clear_page(client, invitation):
    """A token that matches nothing answers 404 'This invitation link is not valid'."""
    response = client.get("/i/" + invitation.token[:-2] + "xx")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "This invitation link is not valid" in page
    assert response.mimetype == "text/html"


def test_expired_short_link_of_valid_invitation_is_410(app, client, invitation):
    """Past short_link_expires_at the link says it expired and to ask for a new one."""
    update_rows(app, Invitation, {"public_id": invitation.id}, short_link_expires_at=past())
    response = client.get(path_of(invitation.short_link))
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "This invitation link has expired" in page
    assert "send it again" in page
    assert invitation.token not in page


@pytest.mark.parametrize(
    ("state", "heading", "explanation"),
    [
        ("revoked", "This invitation was withdrawn", "cancelled it"),
        ("rejected", "This invitation was declined", "ask for a new invitation"),
        ("expired", "This invitation has expired", "not used in time"),
    ],
)
def test_terminal_invitation_link_is_410_with_its_explanation(
    app, client, invitation, state, heading, explanation
):
    """Revoked, rejected and expired invitations answer 410 with a page that says so."""
    set_invitation_state(app, invitation.id, state)
    response = client.get(path_of(invitation.short_link))
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert heading in page and explanation in page
    assert "rp.example.com" not in page


def test_stored_expired_invitation_link_is_410(app, client, invitation):
    """An invitation marked expired by the sweep shows the expired page too."""
    set_invitation_state(app, invitation.id, "expired")
    with app.app_context():
        assert service.expire_due() == 1
        assert service.find(invitation.id).state == "expired"
    response = client.get(path_of(invitation.short_link))
    assert response.status_code == 410
    assert "This invitation has expired" in response.get_data(as_text=True)


def test_accepted_invitation_offers_sign_in_at_the_client(app, client, invitation):
    """An accepted invitation's link says it was used and links to the client's login route."""
    set_invitation_state(app, invitation.id, "accepted")
    response = client.get(path_of(invitation.short_link))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This invitation has already been used" in page
    assert 'href="https://rp.example.com/login?from=invite"' in page
    assert "invite_id" not in page


def test_accepted_client_less_invitation_offers_vestibule_sign_in(app, client):
    """Without a client, the accepted invitation's page links to /login."""
    invitation = invite(app, email="solo@example.com")
    set_invitation_state(app, invitation.id, "accepted")
    response = client.get(path_of(invitation.short_link))
    assert response.status_code == 200
    assert 'href="/login"' in response.get_data(as_text=True)


def test_pages_in_german_with_accept_language(app, client, invitation):
    """Accept-Language: de renders the page in German."""
    update_rows(app, Invitation, {"public_id": invitation.id}, short_link_expires_at=past())
    response = client.get(path_of(invitation.short_link), headers={"Accept-Language": "de"})
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert '<html lang="de">' in page
    assert "Dieser Einladungslink ist abgelaufen" in page
    unknown = client.get("/i/nope", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert "Dieser Einladungslink ist ungültig" in unknown.get_data(as_text=True)


def test_pages_carry_the_security_headers(app, client, invitation):
    """The explanation pages are not cacheable and not frameable."""
    set_invitation_state(app, invitation.id, "revoked")
    response = client.get(path_of(invitation.short_link))
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/i/" + "a" * 5000,
        "/i/%C3%BC%E2%9C%93%F0%9F%98%80",
        "/i/%FF%FE",
        "/i/abc%00def",
        "/i/a/b/c",
        "/i/%2e%2e",
    ],
)
def test_odd_tokens_never_fail(client, invitation, path):
    """Very long, unicode, invalid UTF-8, NUL and slashed tokens get 4xx pages, never 500."""
    for response in (client.get(path), client.head(path)):
        assert 400 <= response.status_code < 500, (path, response.status_code)


def test_head_on_unknown_token_is_404(client):
    """HEAD answers like GET, without a body."""
    response = client.head("/i/does-not-exist")
    assert response.status_code == 404 and response.data == b""
