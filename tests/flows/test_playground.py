"""The playground relying party (spec §7.4), driven with the Flask test client.

Its back-channel calls (/token, /jwks.json, /userinfo) normally go over real HTTP;
here ``back_channel`` answers them with a test client of the same app, so the whole
flow runs on every database backend. tests/e2e drives it over real sockets.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from datetime import UTC, datetime
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

import pytest
from babel.dates import format_datetime
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import Account, Group
from app.playground import client as playground_client
from app.seed import PLAYGROUND_SCOPE
from config import ConfigurationError, ProductionConfig
from tests.helpers import query, sign_in_at

ISSUER = "http://localhost"  # TestingConfig.ISSUER

CALLBACK = f"{ISSUER}/playground/callback"


class BackChannel:
    """Stands in for ``urlopen``: answers with the app's test client and logs each call."""

    def __init__(self, app):
        self.app = app
        self.calls: list[tuple[str, str]] = []

    def __call__(self, request, timeout):
        parts = urlsplit(request.full_url)
        assert f"{parts.scheme}://{parts.netloc}" == ISSUER and timeout
        self.calls.append((request.get_method(), parts.path))
        response = self.app.test_client().open(
            parts.path,
            query_string=parts.query,
            method=request.get_method(),
            data=request.data,
            headers=dict(request.header_items()),
        )
        body = io.BytesIO(response.get_data())
        if response.status_code >= 400:
            raise HTTPError(
                request.full_url, response.status_code, response.status, response.headers, body
            )
        return body


@pytest.fixture
def back_channel(app, monkeypatch) -> BackChannel:
    """The playground's HTTP calls, answered in-process."""
    channel = BackChannel(app)
    monkeypatch.setattr(playground_client, "urlopen", channel)
    return channel


@pytest.fixture
def demo_client(app, factory):
    """The playground's client, registered as ``vestibule seed`` registers it."""
    return factory.client(
        client_id=app.config["PLAYGROUND_CLIENT_ID"],
        secret=app.config["PLAYGROUND_CLIENT_SECRET"],
        redirect_uris=[CALLBACK],
        post_logout_redirect_uris=[f"{ISSUER}/playground/"],
        initiate_login_uri=f"{ISSUER}/playground/login",
        allow_http=True,
        scope=PLAYGROUND_SCOPE,
    )


def _start(browser, login_query: str = "") -> dict[str, str]:
    response = browser.get("/playground/login" + login_query)
    assert response.status_code == 302
    assert response.location.startswith(f"{ISSUER}/authorize?")
    return query(response.location)


def _through_sign_in(browser, person) -> str:
    """Start at the playground, sign in at Vestibule; returns the callback URL."""
    params = _start(browser)
    authorize = browser.get("/authorize", query_string=params)
    assert authorize.status_code == 303, authorize.data
    signed_in = sign_in_at(browser, authorize.location, person.email, person.password)
    back = browser.get(signed_in.location)
    assert back.status_code == 302 and back.location.startswith(CALLBACK + "?")
    return back.location


def test_login_redirects_to_authorize_with_pkce(client, app):
    """/playground/login sends the browser to /authorize with state, nonce and an S256 challenge."""
    params = _start(client)
    assert params["response_type"] == "code"
    assert params["client_id"] == app.config["PLAYGROUND_CLIENT_ID"]
    assert params["redirect_uri"] == CALLBACK
    assert params["scope"] == "openid profile email groups roles"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) >= 43 and params["state"] and params["nonce"]
    assert "invite_id" not in params and "view_type" not in params
    with client.session_transaction() as session:
        flow = session["playground"]["flows"][params["state"]]
    assert 43 <= len(flow["code_verifier"]) <= 128 and flow["nonce"] == params["nonce"]
    digest = hashlib.sha256(flow["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == params["code_challenge"]


def test_login_passes_invitation_through(client):
    """invite_id and view_type given to the login route reach /authorize unchanged."""
    params = _start(client, "?invite_id=inv%2Babc_123&view_type=register")
    assert params["invite_id"] == "inv+abc_123" and params["view_type"] == "register"


def test_concurrent_flows_each_keep_their_state(client):
    """Two sign-ins started in one browser are both recognised at the callback."""
    first, second = _start(client), _start(client)
    assert first["state"] != second["state"]
    for params in (second, first):
        page = client.get(
            "/playground/callback",
            query_string={"state": params["state"], "iss": ISSUER, "error": "access_denied"},
        )
        assert page.status_code == 200


def test_callback_with_unknown_state_is_refused(client):
    """A callback whose state was never issued here gets a clear 400 page."""
    _start(client)
    page = client.get(
        "/playground/callback", query_string={"state": "forged", "iss": ISSUER, "code": "abc"}
    )
    assert page.status_code == 400 and "unknown or expired state" in page.text


def test_callback_with_wrong_issuer_is_refused(client):
    """RFC 9207: an iss other than ours (or none) is refused before the code is used."""
    for iss in ({"iss": "https://evil.example"}, {}):
        params = _start(client)
        page = client.get(
            "/playground/callback", query_string={"state": params["state"], "code": "abc", **iss}
        )
        assert page.status_code == 400 and "iss" in page.text


def test_callback_shows_error_response(client):
    """error=access_denied is shown on a page, and the state cannot be used again."""
    params = _start(client)
    answer = {
        "state": params["state"],
        "iss": ISSUER,
        "error": "access_denied",
        "error_description": "The person declined",
    }
    page = client.get("/playground/callback", query_string=answer)
    assert page.status_code == 200
    assert "access_denied" in page.text and "The person declined" in page.text
    again = client.get("/playground/callback", query_string=answer)
    assert again.status_code == 400


def test_sign_in_shows_verified_claims(client, factory, demo_client, back_channel):
    """Sign in through the playground: code redeemed, ID token verified, claims shown."""
    person = factory.account()
    callback = client.get(_through_sign_in(client, person))
    assert callback.status_code == 303 and callback.location == "/playground/"
    assert back_channel.calls == [("POST", "/token"), ("GET", "/jwks.json"), ("GET", "/userinfo")]
    page = client.get("/playground/")
    assert page.status_code == 200
    assert person.sub in page.text and person.email in page.text
    assert "Sign out" in page.text and "Verified ID-token claims" in page.text
    assert 'href="/playground/login"' not in page.text  # signed in: no "Sign in" button


def test_groups_and_roles_are_shown(app, client, factory, demo_client, back_channel):
    """The playground asks for groups and roles; their claims are shown apart."""
    with app.app_context():
        db.session.add_all([Group(name="staff"), Group(name="beta")])
        db.session.commit()
    person = factory.account(roles=("editor",))
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.sub == person.sub))
        account.groups = list(db.session.scalars(select(Group)))
        db.session.commit()
    client.get(_through_sign_in(client, person))
    page = client.get("/playground/").text
    shown = re.search(r'<dl class="claims" id="memberships">(.*?)</dl>', page, re.DOTALL)
    assert shown, page
    assert "<dt>groups</dt><dd><code>beta</code>, <code>staff</code></dd>" in shown.group(1)
    assert "<dt>roles</dt><dd><code>editor</code></dd>" in shown.group(1)


def test_groups_and_roles_need_the_clients_permission(app, client, factory, back_channel):
    """A playground client not allowed the scopes gets neither claim (nor the section)."""
    factory.client(
        client_id=app.config["PLAYGROUND_CLIENT_ID"],
        secret=app.config["PLAYGROUND_CLIENT_SECRET"],
        redirect_uris=[CALLBACK],
        allow_http=True,
        scope="openid profile email",
    )
    client.get(_through_sign_in(client, factory.account(roles=("editor",))))
    page = client.get("/playground/").text
    assert 'id="memberships"' not in page and "<dt>roles</dt>" not in page


def test_time_claims_show_their_date(client, factory, demo_client, back_channel):
    """exp, iat and auth_time are shown with their date and time in UTC, not only as
    seconds since 1970; other numbers are shown as they are."""
    client.get(_through_sign_in(client, factory.account()))
    page = client.get("/playground/").text
    dates = re.findall(r"<dt>(\w+)</dt><dd><code>(\d+)</code> <time[^>]*>([^<]+)</time>", page)
    assert {name for name, _, _ in dates} >= {"exp", "iat", "auth_time"}
    for _name, seconds, shown in dates:
        moment = datetime.fromtimestamp(int(seconds), UTC)
        assert shown == format_datetime(moment, "medium", locale="en") + " UTC"
        assert f"{moment.year}" in shown and f":{moment:%M:%S}" in shown


def test_sign_out_returns_to_playground(client, factory, demo_client, back_channel):
    """The Sign out link ends the session at Vestibule and comes back with its state."""
    person = factory.account()
    client.get(_through_sign_in(client, person))
    stranger = client.get("/playground/", query_string={"state": "é-not-ours"})
    assert stranger.status_code == 200 and person.sub in stranger.text
    page = client.get("/playground/")
    link = next(part for part in page.text.split('"') if part.startswith(f"{ISSUER}/logout?"))
    params = query(link.replace("&amp;", "&"))
    assert params["id_token_hint"] and params["post_logout_redirect_uri"] == f"{ISSUER}/playground/"
    bye = client.get("/logout", query_string=params)
    assert bye.status_code == 302
    assert bye.location == f"{ISSUER}/playground/?state={params['state']}"
    after = client.get(bye.location)
    assert "You are signed out" in after.text and person.sub not in after.text
    assert client.get("/account").status_code == 302


def test_tampered_nonce_fails_verification(client, factory, demo_client, back_channel):
    """An ID token whose nonce differs from the flow's is rejected with a clear page."""
    person = factory.account()
    callback = _through_sign_in(client, person)
    with client.session_transaction() as session:
        data = session["playground"]
        data["flows"][query(callback)["state"]]["nonce"] = "another-nonce"
        session["playground"] = data
    page = client.get(callback)
    assert page.status_code == 400 and "nonce" in page.text
    assert "Verified ID-token claims" not in client.get("/playground/").text


def test_wrong_client_secret_is_reported(app, client, factory, back_channel):
    """When /token refuses the playground's credentials, the page says invalid_client."""
    factory.client(
        client_id=app.config["PLAYGROUND_CLIENT_ID"],
        secret="some-other-secret",
        redirect_uris=[CALLBACK],
        allow_http=True,
    )
    page = client.get(_through_sign_in(client, factory.account()))
    assert page.status_code == 502 and "invalid_client" in page.text
    assert back_channel.calls == [("POST", "/token")]


def test_unreachable_server_is_reported(client, factory, demo_client, monkeypatch):
    """A token endpoint that cannot be reached gives a 502 page, not a stack trace."""

    def refuse(request, timeout):
        raise URLError(ConnectionRefusedError(111, "Connection refused"))

    monkeypatch.setattr(playground_client, "urlopen", refuse)
    page = client.get(_through_sign_in(client, factory.account()))
    assert page.status_code == 502 and "Could not reach" in page.text


def test_production_playground_is_opt_in():
    """Production serves no /playground/ by default and refuses it without a client secret."""
    settings = {"SECRET_KEY": "s" * 32, "ISSUER": "https://id.example"}
    settings["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    settings["MAIL_SERVER"] = "smtp.example.com"
    app = create_app(type("Prod", (ProductionConfig,), settings))
    assert app.test_client().get("/playground/login").status_code == 404
    with pytest.raises(ConfigurationError, match="PLAYGROUND_CLIENT_SECRET"):
        create_app(type("Prod", (ProductionConfig,), {**settings, "PLAYGROUND_ENABLED": True}))
