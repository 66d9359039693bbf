"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0)."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.helpers import csrf_token, is_signed_in, obtain_tokens, sign_in

BYE = "https://rp.example.com/bye"


def logout_url(**params) -> str:
    return "/logout?" + urlencode(params)


def test_logout_with_valid_hint_redirects_with_state_and_ends_the_session(client, factory):
    """A valid id_token_hint + registered URI → redirect there with state; session ended."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    assert is_signed_in(client)
    response = client.get(
        logout_url(id_token_hint=tokens["id_token"], post_logout_redirect_uri=BYE, state="s t~._-")
    )
    assert response.status_code == 302
    assert response.location == BYE + "?state=s+t~._-"
    assert not is_signed_in(client)


def test_logout_post_with_valid_hint_answers_303(client, factory):
    """RP-initiated logout by form POST with a valid hint → 303 to the registered URI."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    response = client.post(
        "/logout", data={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": BYE}
    )
    assert response.status_code == 303
    assert response.location == BYE
    assert not is_signed_in(client)


def test_bad_post_logout_redirect_uri_is_an_error_page_and_keeps_the_session(client, factory):
    """An unregistered post_logout_redirect_uri → 400 page, no redirect, session NOT ended."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    for uri in (
        "https://evil.example.com/bye",
        BYE + "/",
        BYE + "?x=1",
        "https://RP.example.com/bye",
    ):
        response = client.get(
            logout_url(id_token_hint=tokens["id_token"], post_logout_redirect_uri=uri)
        )
        assert response.status_code == 400, uri
        assert "Location" not in response.headers
        assert response.mimetype == "text/html"
        assert is_signed_in(client), uri


def test_post_logout_redirect_uri_without_client_is_refused(client, factory):
    """A post_logout_redirect_uri with neither hint nor client_id cannot be checked → 400."""
    factory.client()
    assert sign_in(client, factory.account()).status_code == 303
    response = client.get(logout_url(post_logout_redirect_uri=BYE))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert is_signed_in(client)


def test_logout_without_hint_asks_for_confirmation(client, factory):
    """Without id_token_hint a signed-in person sees a confirmation page; nothing ends yet."""
    rp = factory.client()
    assert sign_in(client, factory.account()).status_code == 303
    response = client.get(
        logout_url(client_id=rp.client_id, post_logout_redirect_uri=BYE, state="abc")
    )
    assert response.status_code == 200
    assert b'name="csrf_token"' in response.data and b'name="confirm"' in response.data
    assert is_signed_in(client)


def test_confirmation_without_csrf_token_is_refused(client, factory):
    """The confirmation POST without its CSRF token → 400 and the session survives."""
    rp = factory.client()
    assert sign_in(client, factory.account()).status_code == 303
    client.get(logout_url(client_id=rp.client_id, post_logout_redirect_uri=BYE))
    response = client.post(
        "/logout/confirm",
        data={"client_id": rp.client_id, "post_logout_redirect_uri": BYE, "confirm": "1"},
    )
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert is_signed_in(client)


def test_confirmation_with_csrf_token_signs_out_and_redirects(client, factory):
    """Confirming on the page ends the session and returns (303) to the RP with state."""
    rp = factory.client()
    assert sign_in(client, factory.account()).status_code == 303
    page = client.get(logout_url(client_id=rp.client_id, post_logout_redirect_uri=BYE, state="abc"))
    response = client.post(
        "/logout/confirm",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "client_id": rp.client_id,
            "post_logout_redirect_uri": BYE,
            "state": "abc",
            "confirm": "1",
        },
    )
    assert response.status_code == 303
    assert response.location == BYE + "?state=abc"
    assert not is_signed_in(client)


def test_confirmation_cannot_smuggle_an_unregistered_uri(client, factory):
    """The confirmation form re-validates post_logout_redirect_uri: a swapped URI → 400."""
    rp = factory.client()
    assert sign_in(client, factory.account()).status_code == 303
    page = client.get(logout_url(client_id=rp.client_id, post_logout_redirect_uri=BYE))
    response = client.post(
        "/logout/confirm",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "client_id": rp.client_id,
            "post_logout_redirect_uri": "https://evil.example.com/",
            "confirm": "1",
        },
    )
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert is_signed_in(client)


def test_cancelling_keeps_the_session(client, factory):
    """Choosing to stay signed in keeps the session and goes to the account page."""
    assert sign_in(client, factory.account()).status_code == 303
    page = client.get("/logout")
    response = client.post(
        "/logout/confirm",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "cancel": "1"},
    )
    assert response.status_code == 303
    assert response.location.endswith("/account")
    assert is_signed_in(client)


def test_hint_for_another_person_asks_for_confirmation(client, factory, app):
    """A hint naming someone other than the signed-in person does not end the session."""
    rp = factory.client()
    ada_token = obtain_tokens(app.test_client(), rp, factory.account())["id_token"]
    assert sign_in(client, factory.account(email="bob@example.com")).status_code == 303
    response = client.get(logout_url(id_token_hint=ada_token, post_logout_redirect_uri=BYE))
    assert response.status_code == 200
    assert is_signed_in(client)


def test_invalid_id_token_hint_is_refused(client, factory):
    """A hint that is not an ID token issued here → 400 page; the session survives."""
    assert sign_in(client, factory.account()).status_code == 303
    response = client.get(logout_url(id_token_hint="not.a.token", post_logout_redirect_uri=BYE))
    assert response.status_code == 400
    assert is_signed_in(client)


def test_hint_and_client_id_must_agree(client, factory):
    """An id_token_hint issued to one client with another client's client_id → 400."""
    rp = factory.client()
    other = factory.client(name="Other")
    tokens = obtain_tokens(client, rp, factory.account())
    response = client.get(
        logout_url(
            id_token_hint=tokens["id_token"],
            client_id=other.client_id,
            post_logout_redirect_uri=BYE,
        )
    )
    assert response.status_code == 400
    assert is_signed_in(client)


def test_unknown_client_id_is_refused(client, factory):
    """An unknown client_id on the logout request → 400 page."""
    response = client.get(logout_url(client_id="no-such-client", post_logout_redirect_uri=BYE))
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_logout_when_not_signed_in_goes_to_signed_out_page(client, factory):
    """Nobody signed in and no URI → the signed-out page."""
    response = client.get("/logout")
    assert response.status_code == 302
    assert response.location.endswith("/signed-out")
    page = client.get(response.location)
    assert page.status_code == 200 and b"signed out" in page.data


def test_logout_ends_the_session_server_side(client, factory, app):
    """A copy of the session cookie taken before logout no longer signs anyone in."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    copy = app.test_client()
    cookie = client.get_cookie("vestibule_session")
    copy.set_cookie("vestibule_session", cookie.value)
    assert is_signed_in(copy)
    client.get(logout_url(id_token_hint=tokens["id_token"]))
    assert not is_signed_in(client)
    assert not is_signed_in(copy)


def test_after_logout_authorize_needs_sign_in_again(client, factory):
    """After logout, prompt=none gets login_required instead of a code."""
    from tests.helpers import authorize_params, authorize_url, pkce_pair, query

    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    client.get(logout_url(id_token_hint=tokens["id_token"]))
    response = client.get(authorize_url(authorize_params(rp, pkce_pair()[1], prompt="none")))
    assert query(response.location)["error"] == "login_required"


def test_logout_confirmation_page_lets_its_form_redirect_to_the_client(client, factory):
    """The confirmation page's CSP form-action allows the post-logout URI's origin only."""
    rp = factory.client()
    sign_in(client, factory.account())
    page = client.get(logout_url(client_id=rp.client_id, post_logout_redirect_uri=BYE))
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    directive = next(d.strip() for d in csp.split(";") if d.strip().startswith("form-action"))
    assert directive == "form-action 'self' https://rp.example.com"
