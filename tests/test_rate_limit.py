"""Sign-in attempts are rate limited per client address."""

from __future__ import annotations

from app import create_app
from app.extensions import db


def test_sign_in_attempts_are_limited(tmp_path):
    """The 11th sign-in POST within a minute is answered 429 with an HTML page."""
    app = create_app(
        "testing",
        RATELIMIT_ENABLED=True,
        SIGN_IN_RATE_LIMIT="10 per minute",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'rl.db'}",
        WTF_CSRF_ENABLED=False,
    )
    with app.app_context():
        db.create_all()
    browser = app.test_client()
    # A new address each time: failures per address have their own back-off.
    codes = [
        browser.post(
            "/login", data={"email": f"a{n}@example.com", "password": "wrong pass"}
        ).status_code
        for n in range(11)
    ]
    assert codes == [400] * 10 + [429]
    last = browser.post("/login", data={"email": "b@example.com", "password": "wrong pass"})
    assert last.status_code == 429 and last.mimetype == "text/html"
    assert 0 < int(last.headers["Retry-After"]) <= 60  # RFC 6585: when to come back
    with app.app_context():
        db.engine.dispose()


def test_forged_x_forwarded_for_does_not_escape_the_limit_without_a_proxy(tmp_path):
    """With no trusted proxy (PROXY_FIX_HOPS=0, the default), a new X-Forwarded-For on
    every request does not give fresh attempts; with one proxy hop it names the client."""
    codes = {}
    for hops in (0, 1):
        app = create_app(
            "testing",
            RATELIMIT_ENABLED=True,
            SIGN_IN_RATE_LIMIT="3 per minute",
            PROXY_FIX_HOPS=hops,
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / f'xff{hops}.db'}",
            WTF_CSRF_ENABLED=False,
        )
        with app.app_context():
            db.create_all()
        browser = app.test_client()
        codes[hops] = [
            browser.post(
                "/login",
                data={"email": f"a{n}@example.com", "password": "wrong pass"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            for n in range(5)
        ]
        with app.app_context():
            db.engine.dispose()
    assert codes[0] == [400, 400, 400, 429, 429]
    assert codes[1] == [400] * 5
