"""Failed passwords count per address across every sign-in form, with a back-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import SignInFailure, utcnow
from tests.helpers import (
    AccountInfo,
    authorize_params,
    authorize_url,
    pkce_pair,
    sign_in,
    sign_in_at,
    update_rows,
)

#: The testing config's defaults: 5 free failures, then 30 s doubling up to 15 min.
FREE = 5


def _wrong(person: AccountInfo) -> AccountInfo:
    return AccountInfo(person.sub, person.email, "not the password at all")


def _interaction_sign_in(client, factory_client, person: AccountInfo):
    _, challenge = pkce_pair()
    started = client.get(authorize_url(authorize_params(factory_client, challenge)))
    return sign_in_at(client, started.location, person.email, person.password)


def test_failures_on_different_forms_add_up_then_even_the_right_password_waits(
    client, factory, app
):
    """Failures at /login and at a paused request's sign-in count together; past the
    free ones the right password is refused too (429, Retry-After) and not checked."""
    person = factory.account()
    rp = factory.client()
    for attempt in range(FREE):
        form = sign_in if attempt % 2 else lambda c, p: _interaction_sign_in(c, rp, p)
        assert form(client, _wrong(person)).status_code == 400
    refused = sign_in(client, person)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 30
    assert "Too many failed attempts" in refused.get_data(as_text=True)
    assert _interaction_sign_in(client, rp, person).status_code == 429


def test_the_back_off_doubles_and_ends(client, factory, app):
    """Each failure after the back-off ends doubles it; once over, the password works
    and clears the count."""
    person = factory.account()
    for _ in range(FREE):
        sign_in(client, _wrong(person))
    _end_back_off(app)
    assert sign_in(client, _wrong(person)).status_code == 400
    assert 30 < int(sign_in(client, person).headers["Retry-After"]) <= 60
    _end_back_off(app)
    assert sign_in(client, person).status_code == 303
    with app.app_context():
        assert db.session.scalars(select(SignInFailure)).all() == []


def test_unknown_addresses_are_slowed_down_alike(client, factory):
    """An address without an account gets the same answers: nobody learns which exist."""
    ghost = AccountInfo("", "nobody@example.com", "whatever it is")
    answers = [sign_in(client, ghost).status_code for _ in range(FREE + 1)]
    assert answers == [400] * FREE + [429]


def test_a_success_resets_the_count(client, factory):
    """Fewer failures than the free ones, then the right password: the count starts over."""
    person = factory.account()
    for _ in range(FREE - 1):
        sign_in(client, _wrong(person))
    assert sign_in(client, person).status_code == 303
    for _ in range(FREE - 1):
        assert sign_in(client, _wrong(person)).status_code == 400
    assert sign_in(client, person).status_code == 303


def test_failures_from_many_client_addresses_count_for_one_account(client, factory, app):
    """The count is per address typed, not per client address (X-Forwarded-For or not)."""
    person = factory.account()
    for n in range(FREE):
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        assert sign_in(other, _wrong(person)).status_code == 400
    assert sign_in(client, person).status_code == 429


def test_an_old_failure_does_not_count_after_a_quiet_day(client, factory, app):
    """Failures older than the window are forgotten."""
    person = factory.account()
    for _ in range(FREE - 1):
        sign_in(client, _wrong(person))
    update_rows(app, SignInFailure, {}, last_failed_at=utcnow() - timedelta(days=2))
    assert sign_in(client, _wrong(person)).status_code == 400
    assert sign_in(client, person).status_code == 303


@pytest.mark.parametrize("email", ["Ada@Example.com ", "ada@example.com"])
def test_the_address_is_compared_lower_cased(client, factory, email):
    """Case and surrounding spaces do not give an attacker fresh attempts."""
    person = factory.account()
    for _ in range(FREE):
        sign_in(client, AccountInfo(person.sub, email, "wrong password"))
    assert sign_in(client, person).status_code == 429


def _end_back_off(app) -> None:
    update_rows(app, SignInFailure, {}, blocked_until=utcnow() - timedelta(seconds=1))
