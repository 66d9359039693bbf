"""The dashboard's outbox page (issue 12): health per lane and per webhook endpoint,
in English and German, for the roles the admin API lets manage the outbox, and the
bulk retry of dead items behind a confirmation step and CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxItem, WebhookEndpoint, utcnow
from app.outbox import queue
from tests.helpers import csrf_token, row_counts, sign_in

PAGE = "/admin/outbox"


@pytest.fixture
def browser(app, factory):
    """A test client signed in as a person holding the role ``admin``."""
    person = factory.account("root@example.com", roles=("admin",))
    browser = app.test_client()
    sign_in(browser, person)
    return browser


@pytest.fixture
def item(app):
    """``item(kind, state, minutes_ago, endpoint_id=None)``: an outbox item queued (and,
    when dead, died) that long ago; its public id."""

    def make(kind: str, state: str, minutes_ago: int, endpoint_id: int | None = None) -> str:
        with app.app_context():
            row = queue.enqueue(kind, "t", "somewhere", {"text": "hi"}, endpoint_id=endpoint_id)
            row.created_at = utcnow() - timedelta(minutes=minutes_ago)
            row.state = state
            if state == "dead":
                row.dead_at = row.created_at
            db.session.commit()
            return row.public_id

    return make


def lane_row(html: str, kind: str) -> list[str]:
    """The cells of one lane's row, as text."""
    row = re.search(rf'<tr id="lane-{kind}">(.*?)</tr>', html, re.S).group(1)
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    ]


def test_admin_sees_each_lanes_health(app, browser, item):
    """Pending count, the oldest pending item's wait, and dead count, per lane."""
    item("email", "pending", 125)
    item("email", "pending", 3)
    item("email", "dead", 30)
    item("sms", "sent", 5)
    page = browser.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert lane_row(html, "email") == ["Email", "2", "2 h 5 min", "1"]
    assert lane_row(html, "sms") == ["SMS", "0", "–", "0"]
    assert lane_row(html, "webhook") == ["Webhooks", "0", "–", "0"]
    assert f'href="{PAGE}"' in html  # the section is in the navigation


def test_a_parked_endpoint_is_shown(app, browser, item, factory):
    """A webhook endpoint parked by its circuit breaker is listed with its deliveries."""
    with app.app_context():
        endpoint = WebhookEndpoint(
            url="https://hooks.example/secret-path?token=abc",
            secret_sealed="x",
            event_types=["invitation.created"],
            created_by="test",
            parked_until=utcnow() + timedelta(minutes=5),
        )
        db.session.add(endpoint)
        db.session.commit()
        endpoint_id, public_id = endpoint.id, endpoint.public_id
    item("webhook", "pending", 10, endpoint_id)
    html = browser.get(PAGE).get_data(as_text=True)
    assert public_id in html and "https://hooks.example" in html
    assert "secret-path" not in html and "token=abc" not in html
    assert "Parked until" in html
    assert lane_row(html, "webhook")[1] == "1"


def test_the_page_speaks_german(browser, item):
    """The strings go through the dashboard's translations."""
    item("email", "pending", 90)
    html = browser.get(PAGE, headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Postausgang" in html and "Aufgegeben" in html
    assert lane_row(html, "email")[:3] == ["E-Mail", "1", "1 Std. 30 Min."]


def test_only_roles_that_manage_the_outbox_see_it(app, factory):
    """A person who may only invite gets the dashboard's 403 page and no link to it."""
    person = factory.account("inviter@example.com", roles=("user_invite",))
    browser = app.test_client()
    sign_in(browser, person)
    assert browser.get(PAGE).status_code == 403
    assert browser.get(f"{PAGE}/retry?since=24h").status_code == 403
    assert f'href="{PAGE}"' not in browser.get("/admin/invitations").get_data(as_text=True)


def test_bulk_retry_asks_first_then_retries(app, browser, item):
    """The review page says how many dead items match and changes nothing; its POST
    (with CSRF) makes them pending again and goes back to the health page."""
    recent, old = item("email", "dead", 30), item("email", "dead", 60 * 48)
    before = row_counts(app)
    review = browser.get(f"{PAGE}/retry?since=24h&kind=email")
    assert review.status_code == 200
    html = review.get_data(as_text=True)
    assert "Retry 1 dead item?" in html
    assert row_counts(app) == before and _state(app, recent) == "dead"

    retried = browser.post(
        f"{PAGE}/retry", data={"csrf_token": csrf_token(html), "since": "24h", "kind": "email"}
    )
    assert retried.status_code == 303 and retried.location.endswith(PAGE)
    assert _state(app, recent) == "pending" and _state(app, old) == "dead"
    assert "1 dead item is pending again." in browser.get(PAGE).get_data(as_text=True)


def test_bulk_retry_refuses_without_csrf_or_with_an_unknown_choice(app, browser, item):
    """No CSRF token, or a period the page does not offer: 400, nothing changes."""
    dead = item("sms", "dead", 30)
    before = row_counts(app)
    assert browser.post(f"{PAGE}/retry", data={"since": "24h"}).status_code == 400
    assert browser.get(f"{PAGE}/retry?since=99y").status_code == 400
    assert browser.get(f"{PAGE}/retry?since=24h&kind=fax").status_code == 400
    assert row_counts(app) == before and _state(app, dead) == "dead"


def _state(app, public_id: str) -> str:
    with app.app_context():
        return db.session.scalar(select(OutboxItem.state).where(OutboxItem.public_id == public_id))
