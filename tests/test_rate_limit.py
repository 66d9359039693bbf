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
    codes = [
        browser.post(
            "/login", data={"email": "a@example.com", "password": "wrong pass"}
        ).status_code
        for _ in range(11)
    ]
    assert codes == [400] * 10 + [429]
    last = browser.post("/login", data={"email": "a@example.com", "password": "wrong pass"})
    assert last.status_code == 429 and last.mimetype == "text/html"
    with app.app_context():
        db.engine.dispose()
