"""The authorization endpoint: redirect_uri and client validation, unsupported
parameters, RFC 9207 ``iss`` and exact ``state`` on every response."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.helpers import (
    ISSUER,
    REDIRECT_URI,
    assert_error_redirect,
    authorize_params,
    authorize_url,
    pkce_pair,
    query,
    sign_in,
    sign_in_at,
)


def assert_error_page(response) -> None:
    """An HTML error page: 400, never a redirect."""
    assert response.status_code == 400, response.data
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers


BAD_REDIRECT_URIS = {
    "unregistered": "https://evil.example.com/callback",
    "extra-path": REDIRECT_URI + "/extra",
    "extra-query": REDIRECT_URI + "?next=1",
    "trailing-slash": REDIRECT_URI + "/",
    "host-case": "https://RP.example.com/callback",
    "path-case": "https://rp.example.com/Callback",
    "scheme": "http://rp.example.com/callback",
    "port": "https://rp.example.com:443/callback",
    "fragment": REDIRECT_URI + "#frag",
}


@pytest.mark.parametrize("bad_uri", BAD_REDIRECT_URIS.values(), ids=BAD_REDIRECT_URIS.keys())
def test_redirect_uri_must_match_exactly(client, factory, bad_uri):
    """A redirect_uri that is not byte-for-byte registered gets an error page, no Location."""
    rp = factory.client()
    params = authorize_params(rp, pkce_pair()[1], redirect_uri=bad_uri)
    response = client.get(authorize_url(params))
    assert_error_page(response)


def test_bad_redirect_uri_is_not_followed_for_a_signed_in_person(client, factory):
    """A signed-in person is not redirected to an unregistered URI either."""
    rp = factory.client()
    assert sign_in(client, factory.account()).status_code == 303
    params = authorize_params(rp, pkce_pair()[1], redirect_uri="https://evil.example.com/cb")
    assert_error_page(client.get(authorize_url(params)))


def test_redirect_uri_is_required(client, factory):
    """A request without redirect_uri gets an error page (no default URI is used)."""
    rp = factory.client()
    params = authorize_params(rp, pkce_pair()[1], redirect_uri=None)
    assert_error_page(client.get(authorize_url(params)))


def test_repeated_redirect_uri_is_refused(client, factory):
    """Two redirect_uri parameters get an error page, not a redirect to either."""
    rp = factory.client()
    params = authorize_params(rp, pkce_pair()[1])
    url = authorize_url(params) + "&" + urlencode({"redirect_uri": REDIRECT_URI})
    assert_error_page(client.get(url))


def test_unknown_client_gets_an_error_page(client, factory):
    """An unknown client_id gets an error page and no redirect, even to a plausible URI."""
    rp = factory.client()
    params = authorize_params(rp, pkce_pair()[1], client_id="no-such-client")
    assert_error_page(client.get(authorize_url(params)))


def test_missing_client_id_gets_an_error_page(client, factory):
    """A request without client_id gets an error page."""
    rp = factory.client()
    params = authorize_params(rp, pkce_pair()[1], client_id=None)
    assert_error_page(client.get(authorize_url(params)))


def test_second_registered_redirect_uri_is_accepted(client, factory):
    """Any of the registered redirect URIs (exact match) receives the response."""
    other = "https://rp.example.com/other-callback"
    rp = factory.client(redirect_uris=[REDIRECT_URI, other])
    assert sign_in(client, factory.account()).status_code == 303
    params = authorize_params(rp, pkce_pair()[1], redirect_uri=other)
    response = client.get(authorize_url(params))
    assert response.status_code == 302
    assert response.location.startswith(other + "?code=")


@pytest.mark.parametrize(
    ("name", "error"),
    [("request", "request_not_supported"), ("request_uri", "request_uri_not_supported")],
)
def test_request_objects_are_answered_not_supported(client, factory, name, error):
    """request / request_uri → redirect with request(_uri)_not_supported, state and iss."""
    rp = factory.client()
    value = "eyJhbGciOiJub25lIn0.e30." if name == "request" else "https://rp.example.com/r/1"
    params = authorize_params(rp, pkce_pair()[1], **{name: value})
    assert_error_redirect(client.get(authorize_url(params)), rp, params, error)


#: Run in fresh interpreters: Authlib's hook order followed object addresses, which
#: differ between processes and between apps in one process.
_REQUEST_OBJECT_PROBE = """
import sys
from urllib.parse import parse_qs, urlsplit, urlencode
from app import create_app
from app.extensions import db
from app.clients.service import create_client
for _ in range(int(sys.argv[1])):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.app_context():
        db.create_all()
        client, _ = create_client("RP", ["https://rp.example.com/cb"], public=True)
        client_id = client.client_id
    for name in ("request", "request_uri"):
        query = urlencode({"response_type": "code", "client_id": client_id, "state": "s",
                           "redirect_uri": "https://rp.example.com/cb", "scope": "openid",
                           "nonce": "n", name: "https://rp.example.com/r"})
        location = app.test_client().get("/authorize?" + query).location
        print(parse_qs(urlsplit(location).query)["error"][0])
"""


def test_request_objects_get_the_same_answer_in_every_fresh_process():
    """Without PKCE and with request / request_uri, every process and app answers
    request(_uri)_not_supported (OIDC Core), never the PKCE error first."""
    import subprocess
    import sys

    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _REQUEST_OBJECT_PROBE, "4"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    answers = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        answers.extend(out.split())
    assert len(answers) == 32
    assert set(answers[0::2]) == {"request_not_supported"}
    assert set(answers[1::2]) == {"request_uri_not_supported"}


@pytest.mark.parametrize("name", ["request", "request_uri"])
def test_request_objects_with_bad_redirect_uri_get_an_error_page(client, factory, name):
    """The redirect_uri is validated before request / request_uri: a bad one → error page."""
    rp = factory.client()
    params = authorize_params(
        rp,
        pkce_pair()[1],
        redirect_uri="https://evil.example.com/cb",
        **{name: "https://rp.example.com/r/1"},
    )
    assert_error_page(client.get(authorize_url(params)))


def test_response_type_token_is_unsupported(client, factory):
    """response_type=token (implicit) → unsupported_response_type redirect."""
    rp = factory.client()
    params = authorize_params(rp, pkce_pair()[1], response_type="token")
    assert_error_redirect(
        client.get(authorize_url(params)), rp, params, "unsupported_response_type"
    )


@pytest.mark.parametrize("response_type", ["code id_token", "id_token", "code token"])
def test_hybrid_response_types_are_unsupported(client, factory, response_type):
    """Hybrid and implicit OIDC response types are refused with a redirect."""
    rp = factory.client()
    params = authorize_params(rp, pkce_pair()[1], response_type=response_type)
    assert_error_redirect(
        client.get(authorize_url(params)), rp, params, "unsupported_response_type"
    )


def test_missing_response_type_is_refused(client, factory):
    """A request without response_type gets an error, not a code."""
    rp = factory.client()
    params = authorize_params(rp, pkce_pair()[1], response_type=None)
    response = client.get(authorize_url(params))
    assert response.status_code == 302, response.data
    got = query(response.location)
    assert got["error"] in ("invalid_request", "unsupported_response_type")
    assert got["state"] == params["state"] and got["iss"] == ISSUER
    assert "code" not in got


@pytest.mark.parametrize("mode", ["fragment", "form_post", "query.jwt"])
def test_response_mode_other_than_query_is_refused(client, factory, mode):
    """response_mode=fragment (or any but query) → invalid_request redirect."""
    rp = factory.client()
    params = authorize_params(rp, pkce_pair()[1], response_mode=mode)
    response = client.get(authorize_url(params))
    assert_error_redirect(response, rp, params, "invalid_request")
    assert "#" not in response.location


def test_client_without_code_grant_is_unauthorized(client, factory):
    """A client registered only for client_credentials cannot use response_type=code."""
    rp = factory.client(grant_types=["client_credentials"], scope="profile")
    params = authorize_params(rp, pkce_pair()[1], scope="profile")
    assert_error_redirect(client.get(authorize_url(params)), rp, params, "unauthorized_client")


def test_scope_outside_the_client_allowance_is_invalid(client, factory):
    """A request naming only scopes the client may not have → invalid_scope redirect."""
    rp = factory.client(scope="openid profile")
    params = authorize_params(rp, pkce_pair()[1], scope="phone")
    assert_error_redirect(client.get(authorize_url(params)), rp, params, "invalid_scope")


def test_unknown_prompt_value_is_refused(client, factory):
    """An unknown prompt value → invalid_request redirect."""
    rp = factory.client()
    params = authorize_params(rp, pkce_pair()[1], prompt="teleport")
    assert_error_redirect(client.get(authorize_url(params)), rp, params, "invalid_request")


def test_success_response_after_sign_in_carries_iss_and_exact_state(client, factory):
    """After signing in, the code response has iss=http://localhost and the 200-char state."""
    rp = factory.client()
    person = factory.account()
    state = ("~._- " * 40)[:199] + "Z"
    assert len(state) == 200
    params = authorize_params(rp, pkce_pair()[1], state=state)
    start = client.get(authorize_url(params))
    signed_in = sign_in_at(client, start.location, person.email, person.password)
    response = client.get(signed_in.location)
    assert response.status_code == 302
    assert response.location.startswith(REDIRECT_URI + "?code=")
    got = query(response.location)
    assert got["state"] == state
    assert got["iss"] == ISSUER


def test_success_redirect_location_has_exact_prefix_and_iss(client, factory):
    """A signed-in person's request redirects to exactly redirect_uri?code=...&iss=..."""
    rp = factory.client()
    assert sign_in(client, factory.account()).status_code == 303
    state = "a b~c.d_e-f" * 18 + "é/+&=%"
    params = authorize_params(rp, pkce_pair()[1], state=state)
    response = client.get(authorize_url(params))
    assert response.status_code == 302
    assert response.location.startswith(REDIRECT_URI + "?code=")
    got = query(response.location)
    assert got["state"] == state
    assert got["iss"] == ISSUER
    assert set(got) == {"code", "state", "iss"}


@pytest.mark.parametrize(
    "extra",
    [
        {"response_type": "token"},
        {"code_challenge": None, "code_challenge_method": None},
        {"request": "x.y.z"},
        {"max_age": "abc"},
        {"scope": "unknown-scope"},
        {"prompt": "none"},
    ],
    ids=["unsupported", "pkce", "request", "max_age", "scope", "login_required"],
)
def test_error_responses_echo_a_long_state_byte_for_byte(client, factory, extra):
    """Error redirects carry iss and a 200-character state with ~._- and spaces unchanged."""
    rp = factory.client()
    state = ("Az09 ~._-" * 30)[:200]
    params = authorize_params(rp, pkce_pair()[1], state=state)
    params.update(extra)
    params = {k: v for k, v in params.items() if v is not None}
    response = client.get(authorize_url(params))
    assert response.status_code == 302, response.data
    got = query(response.location)
    assert "error" in got
    assert got["state"] == state
    assert got["iss"] == ISSUER


def test_authorize_accepts_post(client, factory):
    """The authorization endpoint accepts a form POST and answers it like a GET."""
    rp = factory.client()
    assert sign_in(client, factory.account()).status_code == 303
    params = authorize_params(rp, pkce_pair()[1])
    response = client.post("/authorize", data=params)
    assert response.status_code in (302, 303)
    assert response.location.startswith(REDIRECT_URI + "?code=")
    got = query(response.location)
    assert got["state"] == params["state"] and got["iss"] == ISSUER


def test_post_error_redirect_also_carries_iss(client, factory):
    """An error answered to a POSTed request still redirects with state and iss."""
    rp = factory.client()
    params = authorize_params(rp, None)
    response = client.post("/authorize", data=params)
    assert response.status_code in (302, 303)
    got = query(response.location)
    assert got["error"] == "invalid_request"
    assert got["state"] == params["state"] and got["iss"] == ISSUER


def test_post_with_bad_redirect_uri_gets_an_error_page(client, factory):
    """A POSTed request with an unregistered redirect_uri gets an error page."""
    rp = factory.client()
    params = authorize_params(rp, pkce_pair()[1], redirect_uri="https://evil.example.com/")
    assert_error_page(client.post("/authorize", data=params))


def test_first_party_request_without_session_pauses_for_sign_in(client, factory):
    """Without a session the browser is sent (303) to an interaction page, not the client."""
    rp = factory.client()
    response = client.get(authorize_url(authorize_params(rp, pkce_pair()[1])))
    assert response.status_code == 303
    assert response.location.startswith("/interaction/")
