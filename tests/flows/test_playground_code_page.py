"""The playground's code page /playground/code: where a flow started by hand lands."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuthorizationCode
from tests.helpers import (
    ClientInfo,
    authorize_params,
    authorize_url,
    pkce_pair,
    query,
    redeem,
    sign_in_at,
)

CODE_PAGE = "http://localhost/playground/code"


def test_code_page_shows_code_state_and_issuer_without_redeeming(app, client, factory):
    """A by-hand flow with the code page as redirect_uri lands there; the page shows the
    code, state and iss, redeems nothing, and the code then works once at /token."""
    rp = factory.client(
        client_id="demo-public", public=True, first_party=True, redirect_uris=[CODE_PAGE],
        allow_http=True,
    )  # fmt: skip
    person = factory.account()
    verifier, challenge = pkce_pair()
    params = authorize_params(rp, challenge, scope="openid profile email")
    started = client.get(authorize_url(params))
    landed = client.get(
        sign_in_at(client, started.location, person.email, person.password).location
    )
    assert landed.location.startswith(f"{CODE_PAGE}?")
    sent = query(landed.location)
    page = client.get(landed.location.removeprefix("http://localhost"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert f'<code id="code">{sent["code"]}</code>' in html
    assert f'<code id="state">{params["state"]}</code>' in html
    assert '<code id="iss">http://localhost</code>' in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuthorizationCode)) == 1
    public = ClientInfo(rp.client_id, None, CODE_PAGE)
    assert redeem(client, public, sent["code"], verifier).status_code == 200


def test_code_page_shows_an_error_response(client):
    """An error response is shown with its description, escaped, and no code."""
    page = client.get(
        "/playground/code?error=access_denied&error_description=%3Cb%3Enope%3C/b%3E&state=s1"
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<code>access_denied</code>: &lt;b&gt;nope&lt;/b&gt;" in html
    assert '<code id="state">s1</code>' in html and 'id="code"' not in html


def test_code_page_without_a_response_explains_itself(client):
    """Opened on its own, the page says what it is for."""
    html = client.get("/playground/code").get_data(as_text=True)
    assert "No authorization response" in html and 'id="code"' not in html
