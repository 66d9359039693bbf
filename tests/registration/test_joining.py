"""An invitation for a person who already has an account (issue 15, existing_account
join), through real HTTP requests: the same link leads to sign-in instead of
registration; signing in (or being signed in already) accepts it and the paused request
resumes with a code; another account signed in gets a choice, never a silent grant."""

from __future__ import annotations

import html as html_lib

import pytest
from joserfc import jwt
from sqlalchemy import func, select

from app.extensions import db
from app.invitations import service
from app.models import Account, Event, Group, Interaction, Role
from app.oauth import keys
from tests.helpers import (
    ISSUER,
    PASSWORD,
    csrf_token,
    form_action,
    invite,
    query,
    redeem,
    registration_page,
    row_counts,
    set_invitation_state,
    sign_in,
    start_authorization,
)

MEMBER = "grace@example.com"


@pytest.fixture
def member(app, factory):
    """The person with an account, already in the group ``beta``."""
    with app.app_context():
        db.session.add_all([Group(name="staff"), Group(name="beta"), Role(name="editor")])
        db.session.commit()
    person = factory.account(MEMBER, given_name="Grace", family_name="Hopper")
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.sub == person.sub))
        account.groups = [db.session.scalar(select(Group).where(Group.name == "beta"))]
        account.custom_fields = {"team": "red", "desk": "12"}
        account.public_metadata = {"tier": "free", "since": 2020}
        db.session.commit()
    return person


@pytest.fixture
def joining(app, shop, member):
    """A pending invitation to ``shop`` for the member's account."""
    return invite(
        app,
        email=MEMBER,
        client_id="shop",
        given_name="Someone",
        family_name="Else",
        groups=["staff", "beta"],
        roles=["editor"],
        custom_fields={"team": "blue"},
        public_metadata={"tier": "pro"},
        existing_account=True,
    )


def _open(browser, shop, invitation, **extra):
    return start_authorization(
        browser, shop, invite_id=invitation.token, view_type="register", **extra
    )


def _page(browser, started) -> tuple[int, str]:
    page = registration_page(browser, started)
    return page.status_code, html_lib.unescape(page.get_data(as_text=True))


def _sign_in_on(browser, html: str, password: str = PASSWORD, email: str = MEMBER):
    """Submit the invitation's sign-in form (its email is fixed to the invited one)."""
    data = {"csrf_token": csrf_token(html), "email": email, "password": password}
    return browser.post(form_action(html, "join"), data=data)


def _account(app, sub: str) -> dict:
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.sub == sub))
        return {
            "groups": sorted(g.name for g in account.groups),
            "roles": sorted(r.name for r in account.roles),
            "custom_fields": account.custom_fields,
            "public_metadata": account.public_metadata,
            "given_name": account.given_name,
            "password_hash": account.password_hash,
        }


def _event_types(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Event.type).order_by(Event.id)))


def test_the_link_shows_sign_in_not_registration(app, client, shop, joining):
    """Email fixed to the invited account's, who invited them to what, decline; no
    registration form, and opening it changes nothing."""
    before = row_counts(app)
    status, html = _page(client, _open(client, shop, joining))
    assert status == 200
    assert 'id="join"' in html and 'id="registration"' not in html
    assert f'value="{MEMBER}"' in html and "readonly" in html
    assert "invited you to Test RP" in html or "You are invited to Test RP" in html
    assert 'id="decline"' in html
    assert row_counts(app)["invitations"] == before["invitations"]
    with app.app_context():
        assert service.find(joining.id).state == "initiated"


def test_signing_in_accepts_and_resumes_with_a_code(app, client, shop, member, joining):
    """Password → one transaction grants groups, roles, fields and metadata (never the
    profile or password) → accepted with accepted_sub → the client gets a code whose
    ID token is the member's."""
    before = _account(app, member.sub)
    started = _open(client, shop, joining)
    _, html = _page(client, started)
    response = _sign_in_on(client, html)
    assert response.status_code == 303, response.data
    response = client.get(response.location)
    if "/interaction/" in (response.location or ""):
        response = client.get(response.location)
    assert response.status_code == 302, response.data
    got = query(response.location)
    assert (
        response.location.startswith(shop.redirect_uri) and got["state"] == started.params["state"]
    )
    assert got["iss"] == ISSUER
    tokens = redeem(client, shop, got["code"], started.verifier)
    assert tokens.status_code == 200, tokens.json
    with app.app_context():
        claims = jwt.decode(tokens.json["id_token"], keys.verification_keys()).claims
    assert claims["sub"] == member.sub

    after = _account(app, member.sub)
    assert after["groups"] == ["beta", "staff"] and after["roles"] == ["editor"]
    assert after["custom_fields"] == {"team": "blue", "desk": "12"}
    assert after["public_metadata"] == {"tier": "pro", "since": 2020}
    assert after["given_name"] == before["given_name"] == "Grace"
    assert after["password_hash"] == before["password_hash"]
    with app.app_context():
        stored = service.find(joining.id)
        assert stored.state == "accepted" and stored.accepted_sub == member.sub
        accepted = db.session.scalar(select(Event).where(Event.type == "invitation.accepted"))
        assert accepted.data == {
            "invitation_id": joining.id,
            "sub": member.sub,
            "existing_account": True,
        }
        updated = db.session.scalar(select(Event).where(Event.type == "user.updated"))
        assert updated.data["fields"] == ["groups", "roles", "custom_fields", "public_metadata"]
        assert db.session.scalar(select(Interaction)) is None
    assert _event_types(app).count("user.created") == 1  # the member's own, long ago


def test_already_signed_in_accepts_at_once(app, client, shop, member, joining):
    """The invitee signed in in this browser: no password, accepted, a code."""
    assert sign_in(client, member).status_code == 303
    started = _open(client, shop, joining)
    response = client.get(started.location)
    assert response.status_code == 303, response.data
    response = client.get(response.location)
    assert response.status_code == 302
    assert query(response.location)["code"]
    assert _account(app, member.sub)["groups"] == ["beta", "staff"]
    with app.app_context():
        assert service.find(joining.id).accepted_sub == member.sub


def test_another_account_signed_in_gets_a_choice(app, client, shop, member, joining, factory):
    """Signed in as someone else: the choice page; opening it grants nothing; signing
    out leads to the invited sign-in page; signing in there accepts for the member."""
    other = factory.account("bob@example.com", given_name="Bob")
    assert sign_in(client, other).status_code == 303
    started = _open(client, shop, joining)
    status, html = _page(client, started)
    assert status == 200
    assert "This invitation is for another account" in html
    assert "bob@example.com" in html and MEMBER in html
    assert _account(app, other.sub)["groups"] == []
    with app.app_context():
        assert service.find(joining.id).state == "initiated"

    response = client.post(
        form_action(html, "switch-account"), data={"csrf_token": csrf_token(html)}
    )
    assert response.status_code == 303
    page = client.get(response.location)
    html = html_lib.unescape(page.get_data(as_text=True))
    assert 'id="join"' in html and f'value="{MEMBER}"' in html
    response = _sign_in_on(client, html)
    response = client.get(response.location)
    response = client.get(response.location) if response.status_code == 303 else response
    assert response.status_code == 302 and query(response.location)["code"]
    assert _account(app, member.sub)["groups"] == ["beta", "staff"]
    assert _account(app, other.sub)["groups"] == []


def test_signing_in_as_someone_else_from_the_page_grants_them_nothing(
    app, client, shop, member, joining, factory
):
    """An email changed in the form signs that person in, who then gets the choice."""
    other = factory.account("bob@example.com")
    started = _open(client, shop, joining)
    _, html = _page(client, started)
    response = _sign_in_on(client, html, email=other.email)
    assert response.status_code == 303
    status, html = _page(client, started)
    assert "This invitation is for another account" in html
    assert _account(app, other.sub)["groups"] == []
    with app.app_context():
        assert service.find(joining.id).state == "initiated"


def test_decline_from_the_choice_page(app, client, shop, joining, factory):
    """Declining (from another account too) rejects the invitation and the client hears
    access_denied; nobody is given anything."""
    other = factory.account("bob@example.com")
    sign_in(client, other)
    started = _open(client, shop, joining)
    _, html = _page(client, started)
    response = client.post(form_action(html, "decline"), data={"csrf_token": csrf_token(html)})
    assert response.status_code == 303, response.data
    assert query(response.location)["error"] == "access_denied"
    with app.app_context():
        assert service.find(joining.id).state == "rejected"
    assert "invitation.accepted" not in _event_types(app)


def test_decline_from_the_sign_in_page(app, client, shop, joining):
    """The sign-in page's decline works like registration's."""
    started = _open(client, shop, joining)
    _, html = _page(client, started)
    response = client.post(form_action(html, "decline"), data={"csrf_token": csrf_token(html)})
    assert response.status_code == 303
    assert query(response.location)["error"] == "access_denied"
    with app.app_context():
        assert service.find(joining.id).state == "rejected"


def test_wrong_password_shows_the_invitation_page_again(app, client, shop, member, joining):
    """A wrong password: the same page with the error, nothing accepted, the failure
    counted by the sign-in back-off."""
    started = _open(client, shop, joining)
    _, html = _page(client, started)
    response = _sign_in_on(client, html, password="not the password")
    assert response.status_code == 400
    html = html_lib.unescape(response.get_data(as_text=True))
    assert 'id="join"' in html and "do not match an account" in html
    with app.app_context():
        assert service.find(joining.id).state == "initiated"
    assert _account(app, member.sub)["groups"] == ["beta"]


def test_the_sign_in_back_off_applies(app, client, shop, member, joining, monkeypatch):
    """After the free failures the address is slowed down: 429, even with the right
    password, and nothing is accepted."""
    monkeypatch.setitem(app.config, "SIGN_IN_FREE_FAILURES", 1)
    started = _open(client, shop, joining)
    for _ in range(2):
        _, html = _page(client, started)
        _sign_in_on(client, html, password="wrong wrong wrong")
    _, html = _page(client, started)
    response = _sign_in_on(client, html)
    assert response.status_code == 429
    with app.app_context():
        assert service.find(joining.id).state == "initiated"


@pytest.mark.parametrize("state", ["expired", "revoked", "rejected"])
def test_unusable_invitation_explains_as_registration_does(
    app, client, shop, member, joining, state
):
    """Expired, withdrawn or declined: registration's explanation, no sign-in form."""
    set_invitation_state(app, joining.id, state)
    status, html = _page(client, _open(client, shop, joining))
    titles = {
        "expired": "This invitation has expired",
        "revoked": "This invitation was withdrawn",
        "rejected": "This invitation was declined",
    }
    assert status == 410 and titles[state] in html
    assert 'id="join"' not in html and "Register without the invitation" not in html


def test_accepted_invitation_opened_again_by_the_member(app, client, shop, member, joining):
    """Opened again after accepting, signed in: straight on, nothing granted twice."""
    sign_in(client, member)
    started = _open(client, shop, joining)
    client.get(client.get(started.location).location)
    again = _open(client, shop, joining)
    response = client.get(again.location)
    assert response.status_code == 303
    response = client.get(response.location)
    assert response.status_code == 302 and query(response.location)["code"]
    assert _event_types(app).count("invitation.accepted") == 1


def test_registration_cannot_use_it(app, client, shop, joining):
    """Posting the registration form with it creates no account (409)."""
    started = _open(client, shop, joining)
    _, html = _page(client, started)
    action = f"/registration?interaction={started.uid}&invite_id={joining.token}"
    response = client.post(
        action,
        data={"csrf_token": csrf_token(html), "email": "new@example.com", "password": "x" * 12},
    )
    assert response.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 1
        assert service.find(joining.id).state == "initiated"


def test_prompt_none_is_login_required(app, client, shop, joining):
    """prompt=none cannot show the page: login_required, nothing accepted."""
    from tests.helpers import authorize_params, authorize_url, pkce_pair

    _, challenge = pkce_pair()
    params = authorize_params(
        shop, challenge, invite_id=joining.token, view_type="register", prompt="none"
    )
    response = client.get(authorize_url(params))
    assert response.status_code == 302
    assert query(response.location)["error"] == "login_required"


def test_hosted_link_without_a_client(app, client, member):
    """A client-less invitation for an existing account: /register shows its sign-in;
    signing in accepts and lands on the account page."""
    invitation = invite(app, email=MEMBER, groups=["staff"], existing_account=True)
    page = client.get(f"/register?invite_id={invitation.token}")
    html = html_lib.unescape(page.get_data(as_text=True))
    assert page.status_code == 200 and 'id="join"' in html
    response = _sign_in_on(client, html)
    assert response.status_code == 303
    response = client.get(response.location)  # back on the hosted page, signed in
    assert response.status_code == 303 and response.location.endswith("/account")
    assert _account(app, member.sub)["groups"] == ["beta", "staff"]
    with app.app_context():
        assert service.find(invitation.id).state == "accepted"


def test_consent_as_usual_for_a_third_party_client(app, client, member, factory):
    """A third-party client still asks for consent after the invitation is accepted."""
    rp = factory.client(
        client_id="partner", first_party=False, initiate_login_uri="https://p.example/login"
    )
    invitation = invite(app, email=MEMBER, client_id="partner", existing_account=True)
    started = start_authorization(client, rp, invite_id=invitation.token, view_type="register")
    _, html = _page(client, started)
    response = _sign_in_on(client, html)
    response = client.get(response.location)
    while response.status_code == 303:
        response = client.get(response.location)
    assert response.status_code == 200
    assert "wants to access your account" in response.get_data(as_text=True)
    with app.app_context():
        assert service.find(invitation.id).state == "accepted"


def test_two_tabs_accept_once(app, client, shop, member, joining):
    """Two tabs with the invitation, both signed in: one acceptance, one event, both
    requests end with a code."""
    first = _open(client, shop, joining)
    second = _open(client, shop, joining)
    _, html = _page(client, first)
    _sign_in_on(client, html)
    for started in (first, second):
        response = client.get(started.location)
        while response.status_code == 303:
            response = client.get(response.location)
        assert response.status_code == 302 and query(response.location)["code"]
    assert _event_types(app).count("invitation.accepted") == 1
    with app.app_context():
        groups = db.session.scalar(
            select(func.count()).select_from(Account).where(Account.groups.any(name="staff"))
        )
        assert groups == 1


def test_a_second_factor_comes_before_the_grant(app, client, member, factory):
    """The password goes through the ordinary sign-in: an enrolled person is asked for
    the authenticator code, and the invitation is accepted only after it."""
    from tests.mfa import code_for, enrol, post_code

    rp = factory.client(client_id="secure", mfa="required", initiate_login_uri="https://s.example/")
    invitation = invite(app, email=MEMBER, client_id="secure", existing_account=True)
    secret, _ = enrol(app, member.sub)
    started = start_authorization(client, rp, invite_id=invitation.token, view_type="register")
    _, html = _page(client, started)
    response = _sign_in_on(client, html)
    page = client.get(response.location)
    assert "Enter the code from your authenticator app" in page.get_data(as_text=True)
    with app.app_context():
        assert service.find(invitation.id).state == "initiated"
    response = post_code(client, page, code_for(secret, 1))
    while response.status_code == 303:
        response = client.get(response.location)
    assert response.status_code == 302 and query(response.location)["code"]
    with app.app_context():
        assert service.find(invitation.id).accepted_sub == member.sub
