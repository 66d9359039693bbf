"""The TOTP second factor (issue 16): the service (codes from pyotp at the test's clock,
once each, recovery codes once each, secrets sealed and codes hashed at rest, wrong
codes slowed down) and the account page's "Two-step sign-in" section."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.accounts import totp
from app.accounts.service import find
from app.accounts.throttle import TooManyFailures
from app.extensions import db
from app.models.factors import RecoveryCode, TotpFactor
from tests.accounts.conftest import event_types
from tests.helpers import PASSWORD, csrf_token
from tests.mfa import (
    code_for,
    enrol,
    form_action_of,
    shown_recovery_codes,
    shown_secret,
    stored_secret,
)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _verify(app, sub: str, code: str) -> None:
    with app.app_context():
        totp.verify(find(sub), code)


# -- the service ---------------------------------------------------------------------------


def test_a_code_from_the_app_is_accepted_once(app, person):
    """The current code works; the same code again (a replay) does not."""
    secret, _ = enrol(app, person.sub)
    code = code_for(secret, steps_ahead=1)  # the confirmation used the current step
    _verify(app, person.sub, code)
    with pytest.raises(totp.CodeRefused):
        _verify(app, person.sub, code)


def test_a_code_from_an_older_step_is_refused_after_a_newer_one(app, person):
    """Once a code of a later step was used, a code of an earlier step is refused even
    within the window."""
    secret, _ = enrol(app, person.sub)
    _verify(app, person.sub, code_for(secret, steps_ahead=1))
    with pytest.raises(totp.CodeRefused):
        _verify(app, person.sub, code_for(secret, steps_ahead=0))


@pytest.mark.parametrize("code", ["000000", "12345", "abcdef", "", "1234567"])
def test_wrong_codes_are_refused(app, person, code):
    """Codes that are not the app's are refused (unless one happens to be right)."""
    secret, _ = enrol(app, person.sub)
    if code in {code_for(secret, s) for s in (-1, 0, 1)}:
        pytest.skip("the made-up code is today's code")
    with pytest.raises(totp.CodeRefused):
        _verify(app, person.sub, code)


def test_codes_outside_the_window_are_refused(app, person):
    """Two steps away (a minute) is too far."""
    secret, _ = enrol(app, person.sub)
    for steps in (-2, 3):
        with pytest.raises(totp.CodeRefused):
            _verify(app, person.sub, code_for(secret, steps_ahead=steps))


def test_recovery_codes_work_once_each(app, person):
    """Ten codes; each signs in once, typed with or without its dash or in capitals."""
    _, codes = enrol(app, person.sub)
    assert len(codes) == 10 and len(set(codes)) == 10
    _verify(app, person.sub, codes[0])
    _verify(app, person.sub, codes[1].replace("-", "").upper())
    with pytest.raises(totp.CodeRefused):
        _verify(app, person.sub, codes[0])
    with app.app_context():
        assert totp.recovery_codes_left(find(person.sub)) == 8


def test_new_recovery_codes_replace_the_old_ones(app, person):
    """Making new codes ends every earlier one."""
    _, old = enrol(app, person.sub)
    with app.app_context():
        new = totp.new_recovery_codes(find(person.sub))
    with pytest.raises(totp.CodeRefused):
        _verify(app, person.sub, old[2])
    _verify(app, person.sub, new[2])


def test_secrets_and_codes_are_not_stored_in_clear(app, person):
    """The secret is sealed, the recovery codes are keyed hashes."""
    secret, codes = enrol(app, person.sub)
    with app.app_context():
        sealed = db.session.scalar(select(TotpFactor.sealed_secret))
        hashes = list(db.session.scalars(select(RecoveryCode.code_hash)))
    assert secret not in sealed
    assert stored_secret(app, person.sub) == secret
    assert not set(hashes) & {c for code in codes for c in (code, code.replace("-", ""))}


def test_an_enrolment_is_confirmed_only_with_its_own_secret(app, person):
    """A first code confirms the enrolment it was begun for, not another one."""
    with app.app_context():
        first = totp.begin(find(person.sub))
        second = totp.begin(find(person.sub))
        with pytest.raises(totp.CodeRefused):
            totp.confirm(find(person.sub), first.sealed, code_for(second.secret))
        assert totp.authenticator(find(person.sub)) is None
        totp.confirm(find(person.sub), second.sealed, code_for(second.secret))
        assert totp.authenticator(find(person.sub)) is not None
    assert stored_secret(app, person.sub) == second.secret


def test_beginning_a_set_up_writes_nothing(app, person):
    """Only a confirmed authenticator is stored: a set-up begun and given up leaves no
    row (the page that shows it changes nothing)."""
    with app.app_context():
        started = totp.begin(find(person.sub))
        assert db.session.scalar(select(func.count(TotpFactor.id))) == 0
        assert totp.enrolment(find(person.sub), started.sealed).secret == started.secret
    assert stored_secret(app, person.sub) is None


def test_an_enrolment_sealed_for_another_account_is_nothing(app, factory, person):
    """What one account's set-up keeps in its browser confirms nothing for another, nor
    do values that are not an enrolment."""
    other = factory.account(email="grace@example.com")
    with app.app_context():
        started = totp.begin(find(other.sub))
        for kept in (started.sealed, None, 7, "not sealed", "é"):
            assert totp.enrolment(find(person.sub), kept) is None
            with pytest.raises(totp.CodeRefused):
                totp.confirm(find(person.sub), kept, code_for(started.secret))
        assert totp.authenticator(find(person.sub)) is None


def test_of_two_set_ups_the_first_confirmed_wins(app, person):
    """Two browsers set up at once: the second confirmation is refused (409) and keeps
    the first authenticator and its recovery codes."""
    with app.app_context():
        first = totp.begin(find(person.sub))
        second = totp.begin(find(person.sub))
        codes = totp.confirm(find(person.sub), first.sealed, code_for(first.secret))
        with pytest.raises(totp.AlreadyEnrolled):
            totp.confirm(find(person.sub), second.sealed, code_for(second.secret))
    assert stored_secret(app, person.sub) == first.secret
    _verify(app, person.sub, codes[0])


def test_wrong_codes_are_slowed_down_and_a_password_does_not_clear_them(app, client, person):
    """After SIGN_IN_FREE_FAILURES wrong codes, codes are not checked for a while, and a
    correct password in between does not start the count afresh."""
    secret, _ = enrol(app, person.sub)
    free = app.config["SIGN_IN_FREE_FAILURES"]
    for attempt in range(free):
        with pytest.raises(totp.CodeRefused):
            _verify(app, person.sub, "999999" if code_for(secret) != "999999" else "888888")
        if attempt == 1:
            from app.accounts.authentication import authenticate

            with app.app_context():
                assert authenticate(person.email, PASSWORD) is not None
    with pytest.raises(TooManyFailures):
        _verify(app, person.sub, code_for(secret, steps_ahead=1))


def test_removing_ends_the_authenticator_and_its_codes(app, person):
    """Removed: no authenticator, no recovery codes, and an event."""
    enrol(app, person.sub)
    with app.app_context():
        assert totp.remove(find(person.sub), "test") is True
        assert db.session.scalar(select(RecoveryCode.id)) is None
        assert totp.authenticator(find(person.sub)) is None
    assert event_types(app)[-2:] == ["user.mfa_enrolled", "user.mfa_removed"]


# -- the account page ----------------------------------------------------------------------


def _set_up_on_the_page(browser) -> tuple[str, list[str]]:
    """Press "Set up", read the secret off the page, confirm with a code; returns the
    secret and the recovery codes shown."""
    assert browser.post("/account/two-step/begin").status_code == 303
    page = browser.page()
    text = _text(page)
    assert 'src="data:image/svg+xml' in text  # the QR code, drawn here
    secret = shown_secret(text)
    answer = browser.client.post(
        form_action_of(text, "two-step/confirm"),
        data={"csrf_token": csrf_token(text), "code": code_for(secret)},
    )
    assert answer.status_code == 200, _text(answer)
    return secret, shown_recovery_codes(_text(answer))


def test_setting_up_on_the_account_page(app, browser, person):
    """QR code and secret, a first code, ten recovery codes shown once; the section
    then says it is on."""
    assert "Set up two-step sign-in" in _text(browser.page())
    secret, codes = _set_up_on_the_page(browser)
    assert stored_secret(app, person.sub) == secret
    assert len(codes) == 10
    page = _text(browser.page())
    assert "10 recovery codes left." in page
    assert codes[0] not in page and secret not in page.replace(" ", "")
    assert "user.mfa_enrolled" in event_types(app)


def test_a_wrong_first_code_is_refused_on_the_page(app, browser, person):
    """The section comes back with the error, and nothing is set up."""
    browser.post("/account/two-step/begin")
    secret = shown_secret(_text(browser.page()))
    wrong = "000000" if code_for(secret) != "000000" else "111111"
    answer = browser.post("/account/two-step/confirm", code=wrong)
    assert answer.status_code == 400
    assert "this code is not right" in _text(answer)
    with app.app_context():
        assert totp.authenticator(find(person.sub)) is None


def test_another_browser_cannot_confirm_this_browsers_set_up(app, browser, other_browser):
    """The secret shown in one browser is confirmed in that browser only."""
    browser.post("/account/two-step/begin")
    secret = shown_secret(_text(browser.page()))
    answer = other_browser.post("/account/two-step/confirm", code=code_for(secret))
    assert answer.status_code == 400
    with app.app_context():
        assert totp.authenticator(find(browser.person.sub)) is None


def test_a_set_up_can_be_cancelled_on_the_page(app, browser, person):
    """ "Cancel setting up": the section offers to set up again, its code no longer
    confirms anything, and nothing was ever stored."""
    browser.post("/account/two-step/begin")
    page = _text(browser.page())
    secret = shown_secret(page)
    assert "Cancel setting up" in page
    answer = browser.post(form_action_of(page, "two-step/cancel"))
    assert answer.status_code == 303 and answer.location.endswith("#two-step")
    page = _text(browser.page())
    assert "Two-step sign-in was not set up." in page
    assert "Set up two-step sign-in" in page and secret not in page.replace(" ", "")
    refused = browser.post("/account/two-step/confirm", code=code_for(secret))
    assert refused.status_code == 400
    assert stored_secret(app, person.sub) is None


def test_after_turning_it_off_a_new_set_up_shows_a_new_secret(app, browser):
    """The set-up this browser confirmed is forgotten: once turned off, the section
    offers to set up again, and then shows a fresh secret."""
    secret, _ = _set_up_on_the_page(browser)
    assert browser.post("/account/two-step/remove", password=PASSWORD).status_code == 303
    assert "Set up two-step sign-in" in _text(browser.page())
    browser.post("/account/two-step/begin")
    assert shown_secret(_text(browser.page())) != secret


def test_a_set_up_finished_in_another_browser_meanwhile(app, browser, other_browser):
    """Both browsers of one person began a set-up and one confirmed it: the other's
    pages now ask for a code from the authenticator the first set up."""
    browser.post("/account/two-step/begin")
    mine = shown_secret(_text(browser.page()))
    other_browser.post("/account/two-step/begin")
    theirs = shown_secret(_text(other_browser.page()))
    assert other_browser.post("/account/two-step/confirm", code=code_for(theirs)).status_code == 200
    late = browser.client.get("/account")
    assert late.status_code == 303 and "/login/second-factor" in late.location
    asked = browser.client.get(late.location)
    assert "Enter the code from your authenticator app" in _text(asked)
    refused = browser.client.post(
        late.location, data={"csrf_token": csrf_token(_text(asked)), "code": code_for(mine)}
    )
    assert refused.status_code == 400  # the code of the set-up it began counts for nothing
    assert stored_secret(app, browser.person.sub) == theirs


def test_a_confirmation_that_lost_the_race_forgets_its_set_up(app, person):
    """Confirmed by another browser between this request's checks and its own
    confirmation: refused (409), and this browser's set-up is forgotten."""
    from flask import session

    from app.web import mfa

    with app.test_request_context():
        mine = mfa.browser_enrolment(find(person.sub), begin=True)
        assert session[mfa._ENROLMENT] == mine.sealed
        enrol(app, person.sub)  # the other browser
        with pytest.raises(totp.AlreadyEnrolled):
            mfa.confirm_browser_enrolment(find(person.sub), code_for(mine.secret))
        assert mfa._ENROLMENT not in session


def test_new_recovery_codes_on_the_page(app, browser):
    """The button shows ten new codes; the old ones stop working."""
    _, old = _set_up_on_the_page(browser)
    answer = browser.post("/account/two-step/recovery-codes")
    new = shown_recovery_codes(_text(answer))
    assert len(new) == 10 and not set(new) & set(old)
    with pytest.raises(totp.CodeRefused):
        _verify(app, browser.person.sub, old[0])


@pytest.mark.parametrize("proof", ["password", "code"])
def test_turning_it_off_takes_the_password_or_a_code(app, browser, proof):
    """A wrong password is refused; the right password, or a code, turns it off."""
    secret, _ = _set_up_on_the_page(browser)
    refused = browser.post("/account/two-step/remove", password="not the password")
    assert refused.status_code == 400
    assert "the current password is not right" in _text(refused)
    nothing = browser.post("/account/two-step/remove")
    assert nothing.status_code == 400
    given = {"password": PASSWORD} if proof == "password" else {"code": code_for(secret, 1)}
    answer = browser.post("/account/two-step/remove", **given)
    assert answer.status_code == 303 and answer.location.endswith("#two-step")
    assert "Two-step sign-in is off." in _text(browser.page())
    with app.app_context():
        assert totp.authenticator(find(browser.person.sub)) is None
    assert "user.mfa_removed" in event_types(app)


@pytest.mark.parametrize(
    "path",
    [
        "/account/two-step/begin",
        "/account/two-step/confirm",
        "/account/two-step/cancel",
        "/account/two-step/recovery-codes",
        "/account/two-step/remove",
    ],
)
def test_every_form_needs_its_csrf_token(browser, path):
    """A form posted without the page's token is refused."""
    assert browser.client.post(path, data={"code": "123456"}).status_code == 400


def test_the_section_in_german(app, browser):
    """The section speaks the browser's language."""
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    page = _text(browser.page())
    assert "Anmeldung in zwei Schritten" in page
    browser.post("/account/two-step/begin")
    assert "Authenticator-App" in _text(browser.page())
