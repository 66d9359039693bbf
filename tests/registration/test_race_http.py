"""Twenty browsers submit the registration form of one invitation at the same moment,
over real HTTP to a threaded server on PostgreSQL: exactly one account is created.

Unlike test_invited_journey.py this does not run on the parametrised ``app``: SQLite
serialises writers on its own, so only PostgreSQL (row locks, READ COMMITTED) shows
whether the guard on the invitation's state holds under real concurrency.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import urlencode, urljoin, urlsplit
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.invitations import service
from app.models import Account, Event
from tests.conftest import postgres_url_or_skip, private_schema
from tests.e2e.conftest import free_port, serving
from tests.helpers import (
    INITIATE_LOGIN_URI,
    NEW_PASSWORD,
    ClientInfo,
    Factory,
    InvitationInfo,
    authorize_params,
    csrf_token,
    form_action,
    invite,
    pkce_pair,
    query,
)

BROWSERS = 20
#: Seconds any one HTTP request, or the wait for all browsers at the start line, may take.
TIMEOUT = 30


@dataclass
class Live:
    """The served app, its address, the client and the one invitation."""

    app: Flask
    base: str
    rp: ClientInfo
    invitation: InvitationInfo


@dataclass
class Reply:
    """An HTTP answer: status, Location (of a redirect) and body."""

    status: int
    location: str
    body: str


class _NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # each redirect is looked at (and followed) by the test itself


class Browser:
    """One person's browser: its own cookie jar; redirects are not followed."""

    def __init__(self, base: str):
        self.base = base
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()), _NoRedirects())

    def get(self, url: str) -> Reply:
        return self._send(Request(urljoin(self.base, url)))

    def post(self, url: str, form: dict[str, str]) -> Reply:
        body = urlencode(form).encode()
        return self._send(Request(urljoin(self.base, url), data=body, method="POST"))

    def _send(self, request: Request) -> Reply:
        try:
            with self.opener.open(request, timeout=TIMEOUT) as response:
                return Reply(response.status, "", response.read().decode())
        except HTTPError as exc:
            with exc:
                location = exc.headers.get("Location") or ""
                return Reply(exc.code, location, exc.read().decode())


@pytest.fixture
def live() -> Iterator[Live]:
    """The app on a private PostgreSQL schema, served on 127.0.0.1, with one invitation."""
    with private_schema(postgres_url_or_skip(), "vestibule_race") as url:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, ISSUER=base)
        with app.app_context():
            db.create_all()
        rp = Factory(app).client(client_id="shop", initiate_login_uri=INITIATE_LOGIN_URI)
        invitation = invite(app, email="ada@example.com", client_id="shop", given_name="Ada")
        try:
            with serving(app, port):
                yield Live(app, base, rp, invitation)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@dataclass
class Ready:
    """A browser with the registration form open, about to submit it."""

    browser: Browser
    action: str
    form: dict[str, str]


def _open_form(live: Live, number: int) -> Ready:
    """GET /authorize with the invitation, follow to the interaction page, read its form."""
    browser = Browser(live.base)
    _, challenge = pkce_pair()
    params = authorize_params(
        live.rp, challenge, invite_id=live.invitation.token, view_type="register"
    )
    paused = browser.get("/authorize?" + urlencode(params))
    assert paused.status == 303 and "/interaction/" in paused.location, paused
    page = browser.get(paused.location)
    assert page.status == 200, page.body[:500]
    form = {
        "csrf_token": csrf_token(page.body),
        "email": f"p{number}@example.com",
        "given_name": f"Person {number}",
        "password": NEW_PASSWORD,
    }
    return Ready(browser, form_action(page.body, "registration"), form)


def _submit_together(ready: list[Ready]) -> list[Reply]:
    """POST every form at once: all threads wait at a barrier, then send."""
    start_line = threading.Barrier(len(ready), timeout=TIMEOUT)

    def submit(one: Ready) -> Reply:
        start_line.wait()
        return one.browser.post(one.action, one.form)

    with ThreadPoolExecutor(max_workers=len(ready)) as pool:
        futures = [pool.submit(submit, one) for one in ready]
        return [future.result(timeout=2 * TIMEOUT) for future in futures]


def test_concurrent_submits_create_one_account(live):
    """Of 20 simultaneous registrations with one invitation, one wins and 19 get 409."""
    ready = [_open_form(live, number) for number in range(BROWSERS)]
    replies = _submit_together(ready)

    statuses = Counter(reply.status for reply in replies)
    assert statuses == {303: 1, 409: BROWSERS - 1}, statuses
    winner = next(i for i, reply in enumerate(replies) if reply.status == 303)
    # The winner's paused request carries on to the client with a code.
    finished = ready[winner].browser.get(replies[winner].location)
    assert finished.status == 302, finished.body[:500]
    assert finished.location.startswith(live.rp.redirect_uri + "?"), finished.location
    assert query(finished.location)["code"]
    assert urlsplit(replies[winner].location).path.startswith("/interaction/")

    with live.app.app_context():
        accounts = list(db.session.scalars(select(Account)))
        assert [a.email for a in accounts] == [f"p{winner}@example.com"]
        stored = service.find(live.invitation.id)
        assert stored.state == "accepted"
        assert stored.accepted_sub == accounts[0].sub
        events = dict(
            db.session.execute(select(Event.type, func.count()).group_by(Event.type)).all()
        )
        assert events.get("invitation.accepted") == 1, events
        assert events.get("user.created") == 1, events
