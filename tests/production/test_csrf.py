"""CSRF over https, without a browser: a form POST that Fetch Metadata marks as
cross-site is refused even with a good token; the same POST from this origin (no
``Referer``, as our ``Referrer-Policy: no-referrer`` makes browsers send) signs in;
and a malformed ``Referer`` is never a 500."""

from __future__ import annotations

import pytest


def test_cross_site_form_post_is_refused(deployment):
    """A sign-in POST marked Sec-Fetch-Site: cross-site is a 400 and signs nobody in."""
    client = deployment.client()
    answer = client.sign_in(deployment.person, "cross-site")
    assert answer.status == 400, answer.text
    assert client.get("/account").status == 302


def test_same_origin_form_post_with_token_signs_in(deployment):
    """The same POST marked same-origin, with the token and no Referer, signs in."""
    client = deployment.client()
    answer = client.sign_in(deployment.person, "same-origin")
    assert answer.status == 303, answer.text
    assert answer.headers["Location"] == "/account"
    assert client.get("/account").status == 200


@pytest.mark.parametrize("with_token", [True, False], ids=["token", "no-token"])
def test_malformed_referer_is_never_a_500(deployment, with_token):
    """POST /password/forgot with Referer https://host:bad/ is a 303 with a token, a 400
    without, never a 500."""
    client = deployment.client()
    token = client.form_token("/password/forgot")
    form = {"email": f"nobody-{'token' if with_token else 'none'}@example.com"}
    if with_token:
        form["csrf_token"] = token
    answer = client.post("/password/forgot", form=form, headers={"Referer": "https://host:bad/"})
    assert answer.status == (303 if with_token else 400), answer.text
