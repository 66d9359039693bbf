"""POST /registration from custom UIs (JSON, invite_id header) and bad input: each
refusal is a clear page or JSON error, and nothing is written."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.invitations import service
from app.models import Account, Interaction
from app.models.base import utcnow
from tests.helpers import (
    ISSUER,
    NEW_PASSWORD,
    csrf_token,
    finish_at_client,
    form_action,
    post_registration_form,
    redeem,
    registration_page,
    row_counts,
    start_authorization,
    update_rows,
)


@pytest.fixture
def started(client, shop, invitation):
    return start_authorization(client, shop, invite_id=invitation.token, view_type="register")


def _page(client, started) -> str:
    page = registration_page(client, started)
    assert page.status_code == 200, page.data
    return page.get_data(as_text=True)


# -- JSON ------------------------------------------------------------------------------


def test_json_with_header_continues_the_request(app, client, shop, invitation, started):
    """A custom UI posts JSON with the invitation in a header and follows continue_url."""
    response = client.post(
        f"/registration?interaction={started.uid}",
        json={"password": NEW_PASSWORD, "given_name": "Ada"},
        headers={"invite_id": invitation.token},
    )
    assert response.status_code == 201, response.json
    assert response.json["continue_url"] == f"{ISSUER}/interaction/{started.uid}"
    resumed = client.get(response.json["continue_url"].removeprefix(ISSUER))
    assert resumed.status_code == 302
    code = resumed.location.split("code=")[1].split("&")[0]
    tokens = redeem(client, shop, code, started.verifier)
    assert tokens.status_code == 200
    with app.app_context():
        account = db.session.scalar(select(Account))
        assert account.sub == response.json["sub"]
        assert service.find(invitation.id).accepted_sub == account.sub


def test_json_with_query_invite_id(app, client, invitation, started):
    response = client.post(
        f"/registration?interaction={started.uid}&invite_id={invitation.token}",
        json={"password": NEW_PASSWORD},
    )
    assert response.status_code == 201


def test_json_errors_are_json(app, client, invitation, started):
    """A weak password: 400 JSON naming the field; nothing written."""
    before = row_counts(app)
    response = client.post(
        f"/registration?interaction={started.uid}",
        json={"password": "short"},
        headers={"invite_id": invitation.token},
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"
    assert "password" in response.json["errors"]
    assert row_counts(app) == before


def test_json_from_another_origin_is_refused(app, client, invitation, started):
    before = row_counts(app)
    response = client.post(
        f"/registration?interaction={started.uid}",
        json={"password": NEW_PASSWORD},
        headers={"invite_id": invitation.token, "Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert response.json["error"] == "invalid_origin"
    assert row_counts(app) == before


@pytest.mark.parametrize(
    "body",
    [
        ["password"],
        {"password": {"x": 1}},
        {"password": ["a", "b"]},
        {"password": "ab\u0000cdefgh"},
        {"password": "a sturdy passphrase", "given_name": "\ud800"},
        {"password": "a sturdy passphrase", "\udfff": "x"},
    ],
)
def test_json_body_shapes_are_checked(app, client, invitation, started, body):
    before = row_counts(app)
    response = client.post(
        f"/registration?interaction={started.uid}",
        json=body,
        headers={"invite_id": invitation.token},
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"
    assert row_counts(app) == before


def test_json_loser_of_a_used_invitation_gets_409(app, client, invitation, started, shop):
    """Registered meanwhile from another browser: a clear 409, nothing more written."""
    other = app.test_client()
    second = start_authorization(other, shop, invite_id=invitation.token, view_type="register")
    first = client.post(
        f"/registration?interaction={started.uid}",
        json={"password": NEW_PASSWORD},
        headers={"invite_id": invitation.token},
    )
    assert first.status_code == 201
    before = row_counts(app)
    late = other.post(
        f"/registration?interaction={second.uid}",
        json={"password": NEW_PASSWORD, "email": "other@example.com"},
        headers={"invite_id": invitation.token},
    )
    assert late.status_code == 409
    assert late.json["error"] == "invite_accepted"
    assert row_counts(app) == before


# -- bad input from the browser ---------------------------------------------------------


def test_missing_csrf_is_a_clear_page(app, client, started):
    html = _page(client, started)
    before = row_counts(app)
    response = client.post(form_action(html, "registration"), data={"password": NEW_PASSWORD})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_tampered_invite_id_is_refused(app, client, shop, invitation, started):
    """A token other than the one the request started with: refused, nothing written."""
    from tests.helpers import invite

    other = invite(app, email="eve@example.com", client_id="shop")
    html = _page(client, started)
    before = row_counts(app)
    response = client.post(
        f"/registration?interaction={started.uid}&invite_id={other.token}",
        data={"csrf_token": csrf_token(html), "password": NEW_PASSWORD},
    )
    assert response.status_code == 404
    assert row_counts(app) == before
    with app.app_context():
        assert service.find(other.id).state == "initiated"


def test_weak_password_shows_the_form_again(app, client, started):
    html = _page(client, started)
    before = row_counts(app)
    response = post_registration_form(client, html, email="ada@example.com", password="short")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "at least 8 characters" in text
    assert 'id="registration"' in text and 'value="ada@example.com"' in text
    assert row_counts(app) == before


def test_overlong_password_is_refused(app, client, started):
    html = _page(client, started)
    before = row_counts(app)
    response = post_registration_form(client, html, password="x" * 300)
    assert response.status_code == 400
    assert row_counts(app) == before


def test_email_changed_when_locked(app, client, shop):
    from tests.helpers import invite

    locked = invite(app, email="ada@example.com", client_id="shop", allow_same_email=True)
    started = start_authorization(client, shop, invite_id=locked.token, view_type="register")
    html = _page(client, started)
    assert "readonly" in html
    before = row_counts(app)
    response = post_registration_form(client, html, email="else@example.com")
    assert response.status_code == 400
    assert "must be the invited address" in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_changed_email_is_not_verified(app, client, shop, started):
    """Without allow_same_email another address may be used, but it is not verified."""
    html = _page(client, started)
    response = post_registration_form(client, html, email="mine@example.com")
    finish_at_client(client, response, shop, started)
    with app.app_context():
        account = db.session.scalar(select(Account))
        assert account.email == "mine@example.com" and not account.email_verified


def test_email_taken_by_another_account(app, client, started, factory):
    html = _page(client, started)
    factory.account("taken@example.com")
    before = row_counts(app)
    response = post_registration_form(client, html, email="taken@example.com")
    assert response.status_code == 409
    assert "already exists" in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_expired_pause_is_a_clear_page(app, client, started):
    html = _page(client, started)
    update_rows(app, Interaction, {"uid": started.uid}, expires_at=utcnow() - timedelta(seconds=1))
    before = row_counts(app)
    response = post_registration_form(client, html)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_pause_from_another_browser_is_refused(app, client, started, invitation):
    """The interaction is bound to the browser that started it."""
    html = _page(client, started)
    stranger = app.test_client()
    stranger_page = stranger.get(started.location)
    assert stranger_page.status_code == 400
    before = row_counts(app)
    response = stranger.post(
        f"/registration?interaction={started.uid}&invite_id={invitation.token}",
        json={"password": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert response.json["error"] == "interaction_expired"
    assert row_counts(app) == before
    assert html  # the owner's page was fine


def test_posting_twice_in_one_request(app, client, shop, started):
    """A second submit after success (back button) does not create a second account."""
    html = _page(client, started)
    data = {"csrf_token": csrf_token(html), "password": NEW_PASSWORD}
    first = client.post(form_action(html, "registration"), data=data)
    assert first.status_code == 303
    again = client.post(form_action(html, "registration"), data=data)
    assert again.status_code == 409
    with app.app_context():
        assert len(list(db.session.scalars(select(Account)))) == 1


def test_json_callers_get_json_for_http_errors_too(client):
    """A custom UI that gets the method wrong still reads a JSON error."""
    response = client.put("/registration", json={"password": NEW_PASSWORD})
    assert response.status_code == 405
    assert response.json["error"] == "method_not_allowed"


def test_double_click_does_not_strand_the_person(app, client, shop, started):
    """The browser drops the winning answer (and its cookie) and shows the second:
    the page offers to continue the same request, which then asks for sign-in."""
    html = _page(client, started)
    twin = app.test_client()  # the same browser without the winner's session cookie
    twin.set_cookie("vestibule_session", client.get_cookie("vestibule_session").value)
    assert post_registration_form(client, html).status_code == 303
    lost = post_registration_form(twin, html)
    assert lost.status_code == 409
    text = lost.get_data(as_text=True)
    continue_url = re.search(r'<a class="button" href="([^"]+)"', text).group(1)
    page = twin.get(html_lib.unescape(continue_url).removeprefix(ISSUER))
    assert page.status_code == 200
    assert 'autocomplete="current-password"' in page.get_data(as_text=True)
    response = twin.post(
        f"/interaction/{started.uid}/login",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "email": "ada@example.com",
            "password": NEW_PASSWORD,
        },
    )
    finish_at_client(twin, response, shop, started)


def test_loser_in_another_browser_is_offered_sign_in(app, client, shop, invitation, started):
    """Registered meanwhile elsewhere: 409 with a way on to sign in for this request."""
    other = app.test_client()
    second = start_authorization(other, shop, invite_id=invitation.token, view_type="register")
    second_html = registration_page(other, second).get_data(as_text=True)
    assert post_registration_form(client, _page(client, started)).status_code == 303
    lost = post_registration_form(other, second_html, email="late@example.com")
    assert lost.status_code == 409
    continue_url = re.search(r'<a class="button" href="([^"]+)"', lost.get_data(as_text=True))
    page = other.get(html_lib.unescape(continue_url.group(1)).removeprefix(ISSUER))
    assert "It was accepted already. Sign in to continue." in page.get_data(as_text=True)


def test_invitee_signed_in_opening_the_link_again_carries_on(
    app, client, shop, invitation, started
):
    """Registered and still signed in: one button leads straight back into the client."""
    finish_at_client(client, post_registration_form(client, _page(client, started)), shop, started)
    again = start_authorization(client, shop, invite_id=invitation.token, view_type="register")
    before = row_counts(app)
    page = client.get(again.location)
    assert page.status_code == 409 and "already been used" in page.get_data(as_text=True)
    assert row_counts(app) == before  # opening it wrote nothing
    response = client.post(
        f"/interaction/{again.uid}/view",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "view": "login"},
    )
    assert response.status_code == 303
    done = client.get(response.location)
    assert done.status_code == 302 and done.location.startswith(shop.redirect_uri)
    assert f"state={again.params['state']}" in done.location


def test_deeply_nested_json_is_a_400(app, client, signup_mode):
    """A body the JSON parser cannot descend into is the caller's mistake, not a 500."""
    signup_mode("public")
    before = row_counts(app)
    response = client.post(
        "/registration", data="[" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"
    assert row_counts(app) == before


def test_the_invite_id_header_may_be_spelled_with_a_dash(app, client, invitation, started):
    """``Invite-Id`` survives proxies that drop header names with underscores."""
    response = client.post(
        f"/registration?interaction={started.uid}",
        json={"password": NEW_PASSWORD},
        headers={"Invite-Id": invitation.token},
    )
    assert response.status_code == 201, response.json
