"""The other entry points of spec §2: invitations that cannot be used, decline,
self-service by sign-up mode (global and per client), hosted registration."""

from __future__ import annotations

import html as html_lib

import pytest
from sqlalchemy import select

from app.extensions import db
from app.invitations import service
from app.models import Account, Client, Invitation
from app.models.base import utcnow
from tests.helpers import (
    ISSUER,
    NEW_PASSWORD,
    csrf_token,
    finish_at_client,
    form_action,
    invite,
    post_registration_form,
    query,
    registration_page,
    row_counts,
    start_authorization,
    submit_registration,
    update_rows,
)


def _invited(browser, rp, token):
    return start_authorization(browser, rp, invite_id=token, view_type="register")


def _text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def _set_client_mode(app, client_id: str, mode: str | None) -> None:
    from tests.helpers import update_rows

    update_rows(app, Client, {"client_id": client_id}, signup_mode=mode)


# -- invitations that cannot be used ---------------------------------------------------


@pytest.mark.parametrize(
    ("change", "status", "heading"),
    [
        ({"state": "revoked", "pending_key": None}, 410, "This invitation was withdrawn"),
        ({"state": "rejected", "pending_key": None}, 410, "This invitation was declined"),
        ({"expires_at": utcnow()}, 410, "This invitation has expired"),
    ],
)
def test_unusable_invitation_explains_and_writes_nothing(
    app, client, shop, invitation, change, status, heading
):
    """Expired, revoked or declined: a page that says so, no form, nothing written."""
    update_rows(app, Invitation, {"public_id": invitation.id}, **change)
    started = _invited(client, shop, invitation.token)
    before = row_counts(app)
    page = registration_page(client, started)
    assert page.status_code == status
    assert heading in _text(page)
    assert 'id="registration"' not in _text(page)
    assert row_counts(app) == before


def test_unusable_invitation_offers_registration_when_sign_up_is_public(
    app, client, shop, invitation, signup_mode
):
    """Where sign-up is open the page offers normal registration; the email is then
    not verified and the invitation stays as it was."""
    signup_mode("public")
    update_rows(app, Invitation, {"public_id": invitation.id}, state="revoked", pending_key=None)
    started = _invited(client, shop, invitation.token)
    page = registration_page(client, started)
    assert "Register without the invitation" in _text(page)
    switched = client.post(
        f"/interaction/{started.uid}/view",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "view": "register"},
    )
    assert switched.status_code == 303
    form = client.get(switched.location)
    assert form.status_code == 200 and 'id="registration"' in _text(form)
    html = form.get_data(as_text=True)
    response = post_registration_form(client, html, email="ada@example.com")
    finish_at_client(client, response, shop, started)
    with app.app_context():
        account = db.session.scalar(select(Account))
        assert account.email == "ada@example.com" and not account.email_verified
        assert account.groups == [] and account.public_metadata == {}
        assert service.find(invitation.id).state == "revoked"


def test_unusable_invitation_offers_no_registration_when_restricted(app, client, shop, invitation):
    """Restricted (the default): no self-service offer, and the switch is refused."""
    update_rows(app, Invitation, {"public_id": invitation.id}, expires_at=utcnow())
    started = _invited(client, shop, invitation.token)
    page = registration_page(client, started)
    assert "Register without the invitation" not in _text(page)
    switched = client.post(
        f"/interaction/{started.uid}/view",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "view": "register"},
    )
    assert switched.status_code == 400


def test_accepted_invitation_offers_sign_in(app, client, shop, invitation, factory):
    """Opened again after use: the sign-in form, which continues the same request."""
    first = _invited(client, shop, invitation.token)
    finish_at_client(client, submit_registration(client, first), shop, first)
    other = app.test_client()
    started = _invited(other, shop, invitation.token)
    page = registration_page(other, started)
    assert page.status_code == 200
    assert "already been used" in _text(page) or "accepted already" in _text(page)
    html = page.get_data(as_text=True)
    response = other.post(
        f"/interaction/{started.uid}/login",
        data={"csrf_token": csrf_token(html), "email": "ada@example.com", "password": NEW_PASSWORD},
    )
    finish_at_client(other, response, shop, started)


def test_invitation_for_another_client_is_refused(app, client, shop, invitation, factory):
    """A valid token sent by another client: a clear error page, nothing consumed."""
    other = factory.client(client_id="other", initiate_login_uri="https://other.example/login")
    started = _invited(client, other, invitation.token)
    page = registration_page(client, started)
    assert page.status_code == 400
    assert "another application" in _text(page)
    assert 'id="registration"' not in _text(page)
    with app.app_context():
        assert service.find(invitation.id).state == "initiated"


@pytest.mark.parametrize("token", ["not-a-token", "x" * 500, "P0iRNrQSMCqlHBq9Cg6RAuGoD9llS1Cf"])
def test_unknown_invitation_token_is_a_clear_page(app, client, shop, token):
    """Tampered or unknown invite_id: the link is not valid; nothing written."""
    started = _invited(client, shop, token)
    before = row_counts(app)
    page = registration_page(client, started)
    assert page.status_code == 404
    assert "not valid" in _text(page)
    assert row_counts(app) == before


def test_interaction_page_without_the_token_shows_no_form(app, client, shop, invitation):
    """The pause keeps only a hash: a page URL without the token cannot show the
    invitation's details."""
    started = _invited(client, shop, invitation.token)
    page = client.get(f"/interaction/{started.uid}")
    assert page.status_code == 404
    assert "ada@example.com" not in _text(page)


def test_oauth_errors_come_before_the_invitation(app, client, shop, invitation):
    """A bad redirect_uri is refused on Vestibule's page, whatever the invitation."""
    from tests.helpers import authorize_params, authorize_url, pkce_pair

    _, challenge = pkce_pair()
    params = authorize_params(shop, challenge, invite_id=invitation.token, view_type="register")
    params["redirect_uri"] = "https://evil.example/cb"
    response = client.get(authorize_url(params))
    assert response.status_code == 400
    assert "evil.example" not in (response.location or "")


def test_missing_pkce_redirects_with_the_error(app, client, shop, invitation):
    """PKCE is checked as always: invalid_request back to the client with state and iss."""
    from tests.helpers import assert_error_redirect, authorize_params, authorize_url

    params = authorize_params(shop, None, invite_id=invitation.token, view_type="register")
    response = client.get(authorize_url(params))
    assert_error_redirect(response, shop, params, "invalid_request")


def test_unknown_view_type_is_invalid_request(app, client, shop):
    from tests.helpers import assert_error_redirect, authorize_params, authorize_url, pkce_pair

    _, challenge = pkce_pair()
    params = authorize_params(shop, challenge, view_type="wizard")
    assert_error_redirect(client.get(authorize_url(params)), shop, params, "invalid_request")


def test_prompt_none_with_registration_is_login_required(app, client, shop, invitation):
    from tests.helpers import assert_error_redirect, authorize_params, authorize_url, pkce_pair

    _, challenge = pkce_pair()
    params = authorize_params(
        shop, challenge, invite_id=invitation.token, view_type="register", prompt="none"
    )
    assert_error_redirect(client.get(authorize_url(params)), shop, params, "login_required")


def test_discovery_lists_prompt_create(client):
    assert (
        "create" in client.get("/.well-known/openid-configuration").json["prompt_values_supported"]
    )


# -- decline ---------------------------------------------------------------------------


def test_decline_rejects_and_tells_the_client(app, client, shop, invitation):
    """Decline: the invitation is rejected and the client gets access_denied."""
    started = _invited(client, shop, invitation.token)
    html = registration_page(client, started).get_data(as_text=True)
    response = client.post(form_action(html, "decline"), data={"csrf_token": csrf_token(html)})
    assert response.status_code == 303
    got = query(response.location)
    assert response.location.startswith(shop.redirect_uri)
    assert got["error"] == "access_denied" and got["state"] == started.params["state"]
    assert got["iss"] == ISSUER
    with app.app_context():
        stored = service.find(invitation.id)
        assert stored.state == "rejected" and stored.rejected_at is not None
        assert db.session.scalar(select(Account)) is None
    # The link now explains that it was declined.
    again = _invited(app.test_client(), shop, invitation.token)
    assert registration_page(client, again).status_code in (400, 410)


def test_decline_without_csrf_changes_nothing(app, client, shop, invitation):
    started = _invited(client, shop, invitation.token)
    html = registration_page(client, started).get_data(as_text=True)
    before = row_counts(app)
    response = client.post(form_action(html, "decline"), data={})
    assert response.status_code == 400
    assert row_counts(app) == before
    with app.app_context():
        assert service.find(invitation.id).state == "initiated"


# -- sign-up modes ---------------------------------------------------------------------


def test_self_service_registration_when_public(app, client, shop, signup_mode):
    """view_type=register without an invitation: self-service when the mode is public."""
    signup_mode("public")
    started = start_authorization(client, shop, view_type="register")
    response = submit_registration(client, started, email="new@example.com", given_name="Nia")
    finish_at_client(client, response, shop, started)
    with app.app_context():
        account = db.session.scalar(select(Account))
        assert account.email == "new@example.com" and not account.email_verified
        assert account.given_name == "Nia"


@pytest.mark.parametrize(
    ("mode", "heading"),
    [
        ("restricted", "Registration is by invitation only"),
        ("closed", "Registration is closed"),
    ],
)
def test_self_service_refused_unless_public(app, client, shop, signup_mode, mode, heading):
    signup_mode(mode)
    started = start_authorization(client, shop, prompt="create")
    page = registration_page(client, started)
    assert page.status_code == 403
    assert heading in _text(page)
    assert 'id="registration"' not in _text(page)


def test_closed_refuses_invitations_too(app, client, shop, invitation, signup_mode):
    """closed: no registration at all, invitations included (spec §3.5)."""
    signup_mode("closed")
    started = _invited(client, shop, invitation.token)
    assert registration_page(client, started).status_code == 403


def test_client_override_beats_the_global_mode(app, client, shop, factory, signup_mode):
    """A client's own mode wins over the global one, both ways."""
    signup_mode("closed")
    _set_client_mode(app, "shop", "public")
    started = start_authorization(client, shop, view_type="register")
    assert registration_page(client, started).status_code == 200
    signup_mode("public")
    _set_client_mode(app, "shop", "restricted")
    started = start_authorization(client, shop, view_type="register")
    assert registration_page(client, started).status_code == 403


def test_posting_self_service_when_restricted_writes_nothing(app, client, shop, signup_mode):
    """The mode is checked again on submit, not only when the page is shown."""
    signup_mode("public")
    started = start_authorization(client, shop, view_type="register")
    html = registration_page(client, started).get_data(as_text=True)
    signup_mode("restricted")
    before = row_counts(app)
    response = post_registration_form(client, html, email="x@example.com")
    assert response.status_code == 403
    assert row_counts(app) == before


def test_sign_in_instead(app, client, shop, invitation, factory):
    """From the registration page the person may sign in to an existing account."""
    person = factory.account("bob@example.com")
    started = _invited(client, shop, invitation.token)
    html = registration_page(client, started).get_data(as_text=True)
    switched = client.post(
        f"/interaction/{started.uid}/view", data={"csrf_token": csrf_token(html), "view": "login"}
    )
    assert switched.status_code == 303
    page = client.get(switched.location)
    assert 'autocomplete="current-password"' in page.get_data(as_text=True)
    response = client.post(
        f"/interaction/{started.uid}/login",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "email": person.email,
            "password": person.password,
        },
    )
    finish_at_client(client, response, shop, started)
    with app.app_context():
        assert service.find(invitation.id).state == "initiated"


# -- hosted registration (client-less invitations) ---------------------------------------


def test_client_less_invitation_registers_on_the_hosted_page(app, client):
    """No client: /register, then the account page."""
    issued = invite(app, email="cy@example.com", given_name="Cy")
    assert issued.link.startswith(f"{ISSUER}/register?")
    page = client.get(issued.link.removeprefix(ISSUER))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="cy@example.com"' in html
    response = post_registration_form(client, html)
    assert response.status_code == 303
    assert response.location == f"{ISSUER}/account"
    assert client.get("/account").status_code == 200
    with app.app_context():
        assert service.find(issued.id).state == "accepted"


def test_client_less_invitation_goes_to_its_redirect_url(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "INVITATION_REDIRECT_ALLOWLIST", ("https://intranet.example",))
    issued = invite(app, email="cy@example.com", redirect_url="https://intranet.example/welcome")
    page = client.get(issued.link.removeprefix(ISSUER))
    html = page.get_data(as_text=True)
    assert "https://intranet.example" in page.headers["Content-Security-Policy"]
    response = post_registration_form(client, html)
    assert response.location == "https://intranet.example/welcome"


def test_redirect_url_removed_from_the_allow_list_is_not_followed(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "INVITATION_REDIRECT_ALLOWLIST", ("https://intranet.example",))
    issued = invite(app, email="cy@example.com", redirect_url="https://intranet.example/welcome")
    monkeypatch.setitem(app.config, "INVITATION_REDIRECT_ALLOWLIST", ())
    html = client.get(issued.link.removeprefix(ISSUER)).get_data(as_text=True)
    response = post_registration_form(client, html)
    assert response.location == f"{ISSUER}/account"


def test_client_invitation_on_the_hosted_page_is_refused(app, client, invitation):
    page = client.get(f"/register?invite_id={invitation.token}&view_type=register")
    assert page.status_code == 400
    assert 'id="registration"' not in _text(page)


def test_hosted_decline(app, client):
    issued = invite(app, email="cy@example.com")
    html = client.get(issued.link.removeprefix(ISSUER)).get_data(as_text=True)
    response = client.post(form_action(html, "decline"), data={"csrf_token": csrf_token(html)})
    assert response.status_code == 200
    assert "You declined the invitation" in _text(response)
    with app.app_context():
        assert service.find(issued.id).state == "rejected"


def test_hosted_self_service_follows_the_global_mode(app, client, signup_mode):
    assert client.get("/register").status_code == 403
    signup_mode("public")
    html = client.get("/register").get_data(as_text=True)
    response = post_registration_form(client, html, email="dee@example.com")
    assert response.status_code == 303 and response.location == f"{ISSUER}/account"


def test_prompt_none_with_create_is_invalid_request(app, client, shop):
    """prompt=none cannot be combined with another value (OIDC Core §3.1.2.1)."""
    from tests.helpers import assert_error_redirect, authorize_params, authorize_url, pkce_pair

    _, challenge = pkce_pair()
    params = authorize_params(shop, challenge, prompt="none create")
    assert_error_redirect(client.get(authorize_url(params)), shop, params, "invalid_request")


def test_signed_in_person_opening_an_invitation_sees_the_form(
    app, client, shop, invitation, factory
):
    """Someone else signed in on this browser: the invitation still shows the form, and
    registering signs the new person in instead."""
    from tests.helpers import sign_in

    other = factory.account("admin@example.com")
    assert sign_in(client, other).status_code == 303
    started = _invited(client, shop, invitation.token)
    page = registration_page(client, started)
    assert page.status_code == 200 and 'id="registration"' in _text(page)
    finish_at_client(client, submit_registration(client, started), shop, started)
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.email == "ada@example.com"))
        assert account is not None
    assert "ada@example.com" in _text(client.get("/account"))
