"""The invitation flow of spec §2, steps 4–8, through real HTTP requests to the app:
/authorize with invite_id → pre-filled form → POST /registration → code → /token."""

from __future__ import annotations

import html as html_lib

from joserfc import jwt
from sqlalchemy import select

from app.extensions import db
from app.invitations import service
from app.models import Account, Event, Interaction
from app.oauth import keys
from app.outbox.worker import Worker
from tests.helpers import (
    NEW_PASSWORD,
    bearer,
    finish_at_client,
    redeem,
    registration_page,
    start_authorization,
    submit_registration,
)


def _deliver_invitation(app) -> None:
    """The worker sends the invitation's message: its address is then proven."""
    with app.app_context():
        Worker(name="test").run_once()


def _invited(browser, rp, invitation, **extra):
    return start_authorization(
        browser, rp, invite_id=invitation.token, view_type="register", **extra
    )


def test_invitation_link_to_signed_in_client(app, client, shop, invitation):
    """The whole story: the invitation email delivered, pre-filled form, one account with
    the invited email verified, accepted invitation, code, tokens."""
    _deliver_invitation(app)
    started = _invited(client, shop, invitation)
    page = registration_page(client, started)
    html = html_lib.unescape(page.get_data(as_text=True))
    assert page.status_code == 200
    assert 'value="ada@example.com"' in html
    assert 'value="Ada"' in html and 'value="Lovelace"' in html

    response = submit_registration(client, started)
    got = finish_at_client(client, response, shop, started)

    tokens = redeem(client, shop, got["code"], started.verifier)
    assert tokens.status_code == 200, tokens.json
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.email == "ada@example.com"))
        claims = jwt.decode(tokens.json["id_token"], keys.verification_keys()).claims
        assert claims["sub"] == account.sub
        assert claims["nonce"] == started.params["nonce"]
        assert account.email_verified
        assert [g.name for g in account.groups] == ["staff"]
        assert [r.name for r in account.roles] == ["editor"]
        assert account.custom_fields == {"team": "blue"}
        stored = service.find(invitation.id)
        assert stored.state == "accepted" and stored.accepted_sub == account.sub
        types = list(db.session.scalars(select(Event.type).order_by(Event.id)))
        assert types[-2:] == ["invitation.accepted", "user.created"]
        # The paused request is gone once answered.
        assert db.session.scalar(select(Interaction)) is None
    userinfo = client.get("/userinfo", headers=bearer(tokens.json["access_token"]))
    assert userinfo.json["sub"] == claims["sub"]


def test_prompt_create_works_like_view_type(app, client, shop, invitation):
    """prompt=create with the invitation shows the same registration form."""
    started = start_authorization(client, shop, invite_id=invitation.token, prompt="create")
    response = submit_registration(client, started)
    finish_at_client(client, response, shop, started)


def test_pause_keeps_only_the_hash_of_the_invitation(app, client, shop, invitation):
    """The interactions table never holds the invitation token in clear."""
    _invited(client, shop, invitation)
    with app.app_context():
        row = db.session.scalar(select(Interaction))
        assert invitation.token not in str(row.params)
        assert "invite_id" not in row.params and row.params["invite_hash"]


def test_opening_the_page_changes_nothing(app, client, shop, invitation):
    """Mail scanners open links: the invitation stays pending however often it is opened."""
    for _ in range(3):
        started = _invited(client, shop, invitation)
        assert registration_page(client, started).status_code == 200
    with app.app_context():
        assert service.find(invitation.id).state == "initiated"
        assert db.session.scalar(select(Account)) is None


def test_two_tabs_keep_their_own_requests(app, client, shop, invitation, factory):
    """Two pending requests in one browser do not clobber each other."""
    first = _invited(client, shop, invitation)
    second = start_authorization(client, shop, scope="openid")
    assert first.uid != second.uid
    response = submit_registration(client, first)
    got = finish_at_client(client, response, shop, first)
    assert got["state"] == first.params["state"]
    # The other tab's request is still there and, now signed in, goes straight through.
    response = client.get(second.location)
    assert response.status_code == 302
    assert f"state={second.params['state']}" in response.location


def test_third_party_client_asks_for_consent_after_registration(app, client, factory):
    """Consent is skipped for first-party clients only."""
    rp = factory.client(
        client_id="partner",
        first_party=False,
        initiate_login_uri="https://partner.example.com/login",
    )
    invitation = service_invite(app, email="bo@example.com", client_id="partner")
    started = start_authorization(client, rp, invite_id=invitation.token, view_type="register")
    response = submit_registration(client, started)
    assert response.status_code == 303
    page = client.get(response.location)
    assert page.status_code == 200
    assert "wants to access your account" in page.get_data(as_text=True)


def service_invite(app, **fields):
    from tests.helpers import invite

    return invite(app, **fields)


def test_public_metadata_is_a_claim(app, client, shop, invitation):
    """public_metadata from the invitation is released in the ID token and userinfo."""
    started = _invited(client, shop, invitation)
    got = finish_at_client(client, submit_registration(client, started), shop, started)
    tokens = redeem(client, shop, got["code"], started.verifier).json
    with app.app_context():
        claims = jwt.decode(tokens["id_token"], keys.verification_keys()).claims
    assert claims["public_metadata"] == {"plan": "pro"}
    userinfo = client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert userinfo.json["public_metadata"] == {"plan": "pro"}


def test_registered_password_signs_in_later(app, client, shop, invitation):
    """The password chosen on the form is the account's password (argon2id)."""
    started = _invited(client, shop, invitation)
    finish_at_client(client, submit_registration(client, started), shop, started)
    other = app.test_client()
    from tests.helpers import AccountInfo, is_signed_in, sign_in

    response = sign_in(other, AccountInfo("", "ada@example.com", NEW_PASSWORD))
    assert response.status_code == 303
    assert is_signed_in(other)


def test_invitation_by_mobile_number(app, client, shop):
    """Invited by phone only: the number is pre-filled and, unchanged and with the SMS
    delivered, verified."""
    from tests.helpers import invite

    issued = invite(app, mobile_number="+4915112345678", client_id="shop", given_name="Bo")
    _deliver_invitation(app)
    started = start_authorization(client, shop, invite_id=issued.token, view_type="register")
    html = registration_page(client, started).get_data(as_text=True)
    assert 'value="+4915112345678"' in html
    response = submit_registration(client, started, phone_number="+4915112345678")
    finish_at_client(client, response, shop, started)
    with app.app_context():
        account = db.session.scalar(select(Account))
        assert account.phone_number == "+4915112345678" and account.phone_number_verified
        assert account.email is None
