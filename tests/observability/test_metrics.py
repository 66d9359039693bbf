"""/metrics: who may read it, and what the counters count (requests, tokens, sign-ins,
registrations, invitation states, the outbox)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from app import create_app, events
from app.extensions import db
from app.invitations import service as invitations
from app.models import OutboxItem, utcnow
from app.outbox import queue
from app.outbox.senders import Outcome
from app.outbox.worker import Worker
from tests.helpers import (
    PASSWORD,
    ClientInfo,
    invite,
    sign_in,
    start_authorization,
    submit_registration,
)
from tests.observability.conftest import sample
from tests.outbox.conftest import Recorder

METRICS_SCOPE = "metrics:read"


def series(body: str) -> dict[tuple[str, frozenset], float]:
    """The samples of an exposition, by (name, labels)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def test_metrics_refuses_callers_without_a_token(client):
    """No token, no allowed network: 401 with a Bearer challenge."""
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_metrics_refuses_tokens_without_the_scope(client, machine_headers):
    """A machine token for the admin API does not read the metrics: 403."""
    response = client.get("/metrics", headers=machine_headers("invitations:read"))
    assert response.status_code == 403
    assert "insufficient_scope" in response.headers["WWW-Authenticate"]


def test_metrics_refuses_a_persons_token(client, person_headers):
    """Even holding metrics:read, a person's token is refused: machines only."""
    response = client.get("/metrics", headers=person_headers(scope=METRICS_SCOPE))
    assert response.status_code == 403
    assert response.json["error"] == "access_denied"


def test_metrics_for_a_machine_token_with_the_scope(client, machine_headers):
    """A client-credentials token with metrics:read gets the text exposition."""
    response = client.get("/metrics", headers=machine_headers(METRICS_SCOPE))
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {"vestibule_http_requests", "vestibule_outbox_items"} <= names


def test_metrics_for_an_allowed_network_without_a_token(tmp_path):
    """METRICS_ALLOW_FROM lets its networks scrape without a token; others still need one."""
    database = f"sqlite:///{tmp_path / 'allow.db'}"
    allowed = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=database, METRICS_ALLOW_FROM="127.0.0.0/8"
    )
    other = create_app("testing", SQLALCHEMY_DATABASE_URI=database, METRICS_ALLOW_FROM="10.0.0.0/8")
    with allowed.app_context():
        db.create_all()
    assert allowed.test_client().get("/metrics").status_code == 200
    assert other.test_client().get("/metrics").status_code == 401
    for app in (allowed, other):
        with app.app_context():
            db.engine.dispose()


def test_metrics_allow_list_must_parse():
    """A METRICS_ALLOW_FROM that is not a list of networks stops start-up."""
    from config import ConfigurationError

    with pytest.raises(ConfigurationError, match="METRICS_ALLOW_FROM"):
        create_app("testing", METRICS_ALLOW_FROM="10.0.0.0/8 not-a-network")


def test_requests_are_counted_by_endpoint_name_not_path(client, machine_headers):
    """A short link's secret never becomes a label: requests count under the endpoint's
    name and status, and the latency histogram under the endpoint."""
    labels = {"endpoint": "invite_links.short_link", "method": "GET"}
    before = sample("vestibule_http_requests_total", **labels, status="404")
    secret = "s3cr3t-short-link-token"
    assert client.get(f"/i/{secret}").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    assert sample("vestibule_http_requests_total", **labels, status="404") == before + 1
    body = client.get("/metrics", headers=machine_headers(METRICS_SCOPE)).text
    assert secret not in body and "/no/such/page" not in body
    got = series(body)
    key = frozenset({"endpoint": "invite_links.short_link"}.items())
    assert got[("vestibule_http_request_duration_seconds_count", key)] >= 1
    unmatched = frozenset({"endpoint": "unmatched", "method": "GET", "status": "404"}.items())
    assert got[("vestibule_http_requests_total", unmatched)] >= 1


def test_tokens_are_counted_by_grant_type(client, factory):
    """A client-credentials token issued counts once under its grant; a refused request
    counts nothing."""
    rp = factory.client(grant_types=["client_credentials"], scope=METRICS_SCOPE)
    before = sample("vestibule_tokens_issued_total", grant_type="client_credentials")
    data = {"grant_type": "client_credentials"}
    assert client.post("/token", headers=rp.basic_auth(), data=data).status_code == 200
    wrong = ClientInfo(rp.client_id, "wrong-secret", rp.redirect_uri)
    assert client.post("/token", headers=wrong.basic_auth(), data=data).status_code == 401
    assert sample("vestibule_tokens_issued_total", grant_type="client_credentials") == before + 1


def test_sign_ins_are_counted_by_outcome(client, factory):
    """A wrong password counts a failure; the right one a success."""
    account = factory.account()
    success = sample("vestibule_sign_ins_total", outcome="success")
    failure = sample("vestibule_sign_ins_total", outcome="failure")
    wrong = type(account)(account.sub, account.email, "not the password")
    assert sign_in(client, wrong).status_code == 400
    assert sign_in(client, account).status_code == 303
    assert sample("vestibule_sign_ins_total", outcome="failure") == failure + 1
    assert sample("vestibule_sign_ins_total", outcome="success") == success + 1


def test_invited_registration_and_invitation_states_are_counted(app, client, factory):
    """An invitation created counts ``initiated``; registering with it counts an invited
    registration and ``accepted``; an administrator's account is no registration."""
    rp = factory.client(client_id="shop", initiate_login_uri="https://rp.example.com/login")
    initiated = sample("vestibule_invitation_transitions_total", state="initiated")
    accepted = sample("vestibule_invitation_transitions_total", state="accepted")
    invited = sample("vestibule_registrations_total", invited="true")
    created = sample("vestibule_events_total", type="user.created")

    invitation = invite(app, email="grace@example.com", client_id="shop")
    factory.account(email="made.by.admin@example.com")  # not a registration
    started = start_authorization(client, rp, invite_id=invitation.token, view_type="register")
    assert submit_registration(client, started).status_code == 303

    assert sample("vestibule_invitation_transitions_total", state="initiated") == initiated + 1
    assert sample("vestibule_invitation_transitions_total", state="accepted") == accepted + 1
    assert sample("vestibule_registrations_total", invited="true") == invited + 1
    # Both accounts are user.created events; only one of them is a registration.
    assert sample("vestibule_events_total", type="user.created") == created + 2


def test_revoking_counts_the_new_state(app):
    """A revoked invitation counts ``revoked`` once."""
    invitation = invite(app, email="revoked@example.com")
    before = sample("vestibule_invitation_transitions_total", state="revoked")
    with app.app_context():
        invitations.revoke(invitation.id, "test")
    assert sample("vestibule_invitation_transitions_total", state="revoked") == before + 1


def test_events_rolled_back_count_nothing(app):
    """An event whose transaction (or savepoint) rolls back is not counted."""
    before = sample("vestibule_events_total", type="test.rolled_back")
    with app.app_context():
        events.record("test.rolled_back", "test")
        db.session.flush()
        db.session.rollback()
        with db.session.begin_nested():
            events.record("test.rolled_back", "test")
            db.session.flush()
            db.session.rollback()
        events.record("test.committed", "test")
        db.session.commit()
    assert sample("vestibule_events_total", type="test.rolled_back") == before


def test_outbox_depth_and_age_by_kind(app, client, machine_headers):
    """Pending and dead items by kind, and the age of the oldest pending one, as of now."""
    with app.app_context():
        for recipient in ("a@example.com", "b@example.com"):
            queue.enqueue("email", "test", recipient, {"text": "hi"})
        dead = queue.enqueue("sms", "test", "+4915112345678", {"text": "hi"})
        db.session.flush()
        dead.state = queue.DEAD
        db.session.commit()
        db.session.execute(
            update(OutboxItem)
            .where(OutboxItem.kind == "email")
            .values(created_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
    got = series(client.get("/metrics", headers=machine_headers(METRICS_SCOPE)).text)

    def value(name: str, **labels: str) -> float:
        return got[(name, frozenset(labels.items()))]

    assert value("vestibule_outbox_items", kind="email", state="pending") == 2
    assert value("vestibule_outbox_items", kind="sms", state="dead") == 1
    assert value("vestibule_outbox_items", kind="webhook", state="pending") == 0
    assert value("vestibule_outbox_oldest_pending_age_seconds", kind="email") >= 3600
    assert value("vestibule_outbox_oldest_pending_age_seconds", kind="sms") == 0


def test_delivery_outcomes_are_counted(app, monkeypatch):
    """One item sent, one scheduled for a retry, one dead at once: each counted by kind."""
    from app.outbox import senders

    recorder = Recorder(
        script=[
            Outcome(ok=True),
            Outcome(ok=False, error="busy"),
            Outcome(ok=False, permanent=True),
        ]
    )
    monkeypatch.setitem(senders._SENDERS, "sms", recorder)
    monkeypatch.delitem(senders._AFTER_SENT, "sms", raising=False)
    before = {
        o: sample("vestibule_outbox_deliveries_total", kind="sms", outcome=o)
        for o in ("sent", "retry", "dead")
    }
    with app.app_context():
        for number in ("+4915100000001", "+4915100000002", "+4915100000003"):
            queue.enqueue("sms", "test", number, {"text": "hi"})
        db.session.commit()
        assert Worker(name="metrics-test").run_once() == 3
    for outcome in ("sent", "retry", "dead"):
        assert (
            sample("vestibule_outbox_deliveries_total", kind="sms", outcome=outcome)
            == before[outcome] + 1
        )


def test_labels_carry_no_personal_data(app, client, factory, machine_headers):
    """After sign-ins and registrations, no email address or sub appears in a scrape."""
    account = factory.account(email="private.person@example.com")
    sign_in(client, account)
    sign_in(client, type(account)(account.sub, account.email, PASSWORD + "x"))
    body = client.get("/metrics", headers=machine_headers(METRICS_SCOPE)).text
    assert "private.person" not in body and account.sub not in body
