"""Mobile numbers verified by an SMS code (issue 15, item 3): six digits texted through
the outbox, stored as a keyed hash, working once, for a while, for a few tries, and
only for the number they were sent to."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.service import find
from app.extensions import db
from app.models import PhoneCode, utcnow
from tests.accounts.conftest import account_values, event_types, outbox_messages
from tests.helpers import row_counts, update_rows

NUMBER = "+4915112345678"


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def with_number(app, browser, person):
    """Ada's browser, her account holding an unverified mobile number."""
    with app.app_context():
        find(person.sub).phone_number = NUMBER
        db.session.commit()
    return browser


def _texted_codes(app) -> list[str]:
    """The codes of every verification SMS queued, oldest first."""
    return [
        re.search(r"\b\d{6}\b", payload["text"]).group(0)
        for to, payload in outbox_messages(app, "verify_phone")
        if to == NUMBER
    ]


def _verified(app, sub: str) -> bool:
    return account_values(app, sub, "phone_number_verified")["phone_number_verified"]


def test_the_texted_code_verifies_the_number(app, with_number, person):
    """Send a code, type it: the number is verified, once, with an event."""
    sent = with_number.post("/account/phone/code")
    assert sent.status_code == 303
    assert f"We sent a code to {NUMBER}" in _text(with_number.page())
    (code,) = _texted_codes(app)
    answer = with_number.post("/account/phone/verify", code=f" {code[:3]} {code[3:]} ")
    assert answer.status_code == 303 and _verified(app, person.sub)
    assert "user.phone_number_verified" in event_types(app)
    again = with_number.post("/account/phone/verify", code=code)
    assert again.status_code == 409 and "verified already" in _text(again)


def test_only_a_keyed_hash_of_the_code_is_stored(app, with_number):
    """Neither the code nor its plain SHA-256 is in the row (six digits are easy to
    try offline)."""
    with_number.post("/account/phone/code")
    (code,) = _texted_codes(app)
    with app.app_context():
        row = db.session.scalar(select(PhoneCode))
        assert row.phone_number == NUMBER
        assert code not in row.code_hash
        assert row.code_hash != hashlib.sha256(code.encode()).hexdigest()


def test_wrong_codes_spend_the_tries_then_the_code_stops_working(app, with_number, person):
    """Each wrong code is a 400; after PHONE_CODE_ATTEMPTS of them even the right code
    is refused and nothing is verified."""
    with_number.post("/account/phone/code")
    (code,) = _texted_codes(app)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(app.config["PHONE_CODE_ATTEMPTS"]):
        answer = with_number.post("/account/phone/verify", code=wrong)
        assert answer.status_code == 400 and "not the one we sent" in _text(answer)
    late = with_number.post("/account/phone/verify", code=code)
    assert late.status_code == 400 and "no longer works" in _text(late)
    assert not _verified(app, person.sub)


def test_an_expired_code_is_refused(app, with_number, person):
    """Past PHONE_CODE_LIFETIME the code works no more."""
    with_number.post("/account/phone/code")
    (code,) = _texted_codes(app)
    update_rows(app, PhoneCode, {"phone_number": NUMBER}, expires_at=utcnow() - timedelta(1))
    answer = with_number.post("/account/phone/verify", code=code)
    assert answer.status_code == 400 and not _verified(app, person.sub)


def test_a_new_code_or_a_new_number_ends_the_old_code(app, with_number, person):
    """The earlier code stops working when a new one is sent, and a code sent to the old
    number does not verify a new one."""
    with_number.post("/account/phone/code")
    with_number.post("/account/phone/code")
    first, second = _texted_codes(app)
    if first != second:  # one time in a million they are the same six digits
        assert with_number.post("/account/phone/verify", code=first).status_code == 400
    with_number.post("/account/profile", given_name="Ada", phone_number="+4915187654321")
    answer = with_number.post("/account/phone/verify", code=second)
    assert answer.status_code == 400 and not _verified(app, person.sub)


@pytest.mark.parametrize(
    "setup, shown",
    [
        ("no number", "has no mobile number"),
        ("verified", "verified already"),
        ("sms off", "not available on this server"),
    ],
)
def test_a_code_is_sent_only_where_there_is_something_to_verify(
    app, with_number, person, monkeypatch, setup, shown
):
    """No number, a verified one, or no SMS on this server: 409 with the reason, nothing
    queued."""
    with app.app_context():
        account = find(person.sub)
        if setup == "no number":
            account.phone_number = None
        elif setup == "verified":
            account.phone_number_verified = True
        db.session.commit()
    if setup == "sms off":
        monkeypatch.setitem(app.config, "SMS_BACKEND", "off")
    counts = row_counts(app)
    answer = with_number.post("/account/phone/code")
    assert answer.status_code == 409 and shown in _text(answer)
    assert row_counts(app) == counts
