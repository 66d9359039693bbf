"""Admin API: searching invitations (filters, sort, cursor pagination) and their
statistics (spec §3.3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.invitations import service
from app.models import Group, Invitation, utcnow
from tests.helpers import invite, update_rows

URL = "/api/v1/invitations"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def staff(app):
    """A group named staff."""
    with app.app_context():
        db.session.add(Group(name="staff"))
        db.session.commit()
    return "staff"


def set_times(app, invitation_id: str, **times) -> None:
    """Overwrite an invitation's timestamps (created_at, expires_at, accepted_at ...)."""
    update_rows(app, Invitation, {"public_id": invitation_id}, **times)


def search(client, admin_headers, **params) -> list[str]:
    """The ids of one page of GET /invitations with these query parameters."""
    response = client.get(URL, headers=admin_headers, query_string=params)
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def all_pages(client, admin_headers, **params) -> list[str]:
    """The ids of every page, following next_cursor."""
    ids: list[str] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        body = client.get(URL, headers=admin_headers, query_string=query).json
        ids += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids


@pytest.fixture
def population(app, invite_client, staff):
    """Five invitations with known fields, states and times."""
    ada = invite(
        app,
        "client:backoffice",
        email="ada@example.com",
        given_name="Ada",
        family_name="Lovelace",
        client_id="shop",
        groups=["staff"],
    )
    phone = invite(app, "account:alice", mobile_number="+4915112345678", given_name="Bo")
    grace = invite(app, "client:backoffice", email="grace@example.com", client_id="shop")
    lapsed = invite(app, "client:backoffice", email="old@example.com")
    joined = invite(app, "client:backoffice", email="joined@example.com", given_name="Ella_")
    with app.app_context():
        service.revoke(grace.id, "test")
        service.accept(service.find(joined.id), "sub-1", "invitee")
        db.session.commit()
    for days, invitation in enumerate([ada, phone, grace, lapsed, joined]):
        set_times(
            app,
            invitation.id,
            created_at=T0 + timedelta(days=days),
            expires_at=utcnow() + timedelta(days=30 - days),
        )
    set_times(app, lapsed.id, expires_at=utcnow() - timedelta(minutes=1))
    return {
        "ada": ada.id,
        "phone": phone.id,
        "grace": grace.id,
        "lapsed": lapsed.id,
        "joined": joined.id,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["joined", "lapsed", "grace", "phone", "ada"]),
        ({"state": "initiated"}, ["phone", "ada"]),
        ({"state": "expired"}, ["lapsed"]),
        ({"state": "revoked"}, ["grace"]),
        ({"state": "accepted"}, ["joined"]),
        ({"state": "reinitiated"}, []),
        ({"email": "ADA@example.com"}, ["ada"]),
        ({"mobile_number": "+49 151 12345678"}, ["phone"]),
        ({"group": "staff"}, ["ada"]),
        ({"group": "nobody"}, []),
        ({"client_id": "shop"}, ["grace", "ada"]),
        ({"client_id": "unknown"}, []),
        ({"invited_by": "account:alice"}, ["phone"]),
        ({"q": "LOVE"}, ["ada"]),
        ({"q": "grace@"}, ["grace"]),
        ({"q": "5112345"}, ["phone"]),
        ({"q": "bo"}, ["phone"]),
        ({"q": "a_"}, ["joined"]),
        ({"q": "%"}, []),
        ({"created_after": "2026-01-02T00:00:00Z"}, ["joined", "lapsed", "grace", "phone"]),
        ({"created_before": "2026-01-02T00:00:00Z"}, ["ada"]),
        (
            {"created_after": "2026-01-02T00:00:00+00:00", "created_before": "2026-01-04"},
            ["grace", "phone"],
        ),
        ({"created_after": "2026-01-02T01:00:00+01:00"}, ["joined", "lapsed", "grace", "phone"]),
        ({"state": "initiated", "client_id": "shop", "q": "ada"}, ["ada"]),
    ],
)
def test_filters(client, admin_headers, population, params, expected):
    """Each filter narrows the result (states are effective; text is case-insensitive)."""
    assert search(client, admin_headers, **params) == [population[name] for name in expected]


def test_expiry_range(app, client, admin_headers, population):
    """expires_after and expires_before bound expires_at."""
    now = utcnow()
    got = search(
        client,
        admin_headers,
        expires_after=(now + timedelta(days=27)).isoformat(),
        expires_before=(now + timedelta(days=29, hours=12)).isoformat(),
    )
    assert got == [population["grace"], population["phone"]]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("created_at", ["ada", "phone", "grace", "lapsed", "joined"]),
        ("-created_at", ["joined", "lapsed", "grace", "phone", "ada"]),
        ("expires_at", ["lapsed", "joined", "grace", "phone", "ada"]),
        ("-expires_at", ["ada", "phone", "grace", "joined", "lapsed"]),
    ],
)
def test_sort_orders(client, admin_headers, population, sort, expected):
    """Four sort orders; -created_at is the default."""
    assert search(client, admin_headers, sort=sort) == [population[name] for name in expected]


@pytest.fixture
def thirty(app, invite_client):
    """Thirty invitations, with ties: groups of three share a created_at and expires_at."""
    ids = [invite(app, email=f"p{n}@example.com", client_id="shop").id for n in range(30)]
    for n, invitation_id in enumerate(ids):
        set_times(
            app,
            invitation_id,
            created_at=T0 + timedelta(hours=n // 3),
            expires_at=T0 + timedelta(days=60, hours=(n * 7) % 10),
        )
    return ids


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "expires_at", "-expires_at"])
def test_cursor_pages_cover_every_row_once(client, admin_headers, thirty, sort):
    """Pages of 7 follow the single-page order: no row repeated or missing, ties included."""
    paged = all_pages(client, admin_headers, sort=sort, limit=7)
    assert paged == search(client, admin_headers, sort=sort, limit=200)
    assert sorted(paged) == sorted(thirty)


def test_rows_added_while_paging_do_not_shift_pages(app, client, admin_headers, thirty):
    """A row created between two pages neither repeats nor hides rows of the next page."""
    first = client.get(
        URL, headers=admin_headers, query_string={"limit": 10, "sort": "created_at"}
    ).json
    invite(app, email="late@example.com")
    rest = all_pages(
        client, admin_headers, sort="created_at", limit=10, cursor=first["next_cursor"]
    )
    seen = [item["id"] for item in first["items"]] + rest
    assert len(seen) == len(set(seen)) == 31


def test_last_page_has_no_cursor(client, admin_headers, population):
    """next_cursor is null when nothing follows."""
    body = client.get(URL, headers=admin_headers, query_string={"limit": 5}).json
    assert len(body["items"]) == 5 and body["next_cursor"] is None


def test_tampered_or_foreign_cursor_is_400(client, admin_headers, thirty):
    """A cursor changed by a character, made up, or issued for another sort is a 400."""
    cursor = client.get(URL, headers=admin_headers, query_string={"limit": 7}).json["next_cursor"]
    # The first character: the last one of a signature may only carry padding bits.
    flipped = ("A" if cursor[0] != "A" else "B") + cursor[1:]
    for params in (
        {"cursor": flipped},
        {"cursor": "eyJpZCI6IDF9"},
        {"cursor": cursor, "sort": "expires_at"},
    ):
        response = client.get(URL, headers=admin_headers, query_string=params)
        assert response.status_code == 400, params
        assert response.json["error"] == "invalid_request" and response.json["field"] == "cursor"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 201},
        {"limit": "ten"},
        {"sort": "email"},
        {"state": "lost"},
        {"created_after": "yesterday"},
        {"created_after": "0001-01-01T00:00:00+01:00"},
        {"expires_before": "9999-12-31T23:59:59-01:00"},
        {"q": "x" * 201},
    ],
)
def test_invalid_query_is_422(client, admin_headers, params):
    """Out-of-range or unknown query values are 422 with per-field messages."""
    response = client.get(URL, headers=admin_headers, query_string=params)
    assert response.status_code == 422
    assert response.json["errors"]["query"]


def test_list_needs_the_read_scope(client, machine_headers):
    """A token without invitations:read is refused."""
    response = client.get(URL, headers=machine_headers("users:read"))
    assert response.status_code == 403


# -- stats -------------------------------------------------------------------------------


@pytest.fixture
def outcomes(app, invite_client, staff):
    """Seven invitations: to the shop two accepted (after 100 s and 300 s), one revoked,
    one pending; client-less one rejected, one lapsed, one pending; staff on three."""
    shop = {"client_id": "shop"}
    accepted_fast = invite(app, email="a1@example.com", groups=["staff"], **shop).id
    accepted_slow = invite(app, email="a2@example.com", **shop).id
    revoked = invite(app, email="r@example.com", groups=["staff"], **shop).id
    invite(app, email="p@example.com", **shop)
    rejected = invite(app, email="j@example.com", groups=["staff"]).id
    lapsed = invite(app, email="l@example.com").id
    invite(app, email="q@example.com")
    with app.app_context():
        for number, invitation_id in enumerate([accepted_fast, accepted_slow]):
            service.accept(service.find(invitation_id), f"sub-{number}", "invitee")
        db.session.commit()
        service.revoke(revoked, "test")
        service.reject(service.find(rejected), "invitee")
    for invitation_id, seconds in [(accepted_fast, 100), (accepted_slow, 300)]:
        set_times(app, invitation_id, created_at=T0, accepted_at=T0 + timedelta(seconds=seconds))
    set_times(app, lapsed, expires_at=utcnow() - timedelta(minutes=1))


def counts(**nonzero) -> dict[str, int]:
    states = ["accepted", "expired", "initiated", "reinitiated", "rejected", "revoked"]
    return {state: nonzero.get(state, 0) for state in states}


def test_stats_on_a_known_set(client, admin_headers, outcomes):
    """Counts by effective state, acceptance rate over decided ones, median time to accept."""
    response = client.get(f"{URL}/stats", headers=admin_headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["total"] == 7
    assert body["by_state"] == counts(initiated=2, accepted=2, revoked=1, rejected=1, expired=1)
    assert body["acceptance_rate"] == pytest.approx(2 / 5)
    assert body["median_seconds_to_accept"] == pytest.approx(200)
    assert body["by_client"] == [
        {
            "client_id": None,
            "total": 3,
            "by_state": counts(initiated=1, rejected=1, expired=1),
            "acceptance_rate": 0.0,
            "median_seconds_to_accept": None,
        },
        {
            "client_id": "shop",
            "total": 4,
            "by_state": counts(initiated=1, accepted=2, revoked=1),
            "acceptance_rate": pytest.approx(2 / 3),
            "median_seconds_to_accept": pytest.approx(200),
        },
    ]
    assert body["by_group"] == [
        {
            "group": "staff",
            "total": 3,
            "by_state": counts(accepted=1, revoked=1, rejected=1),
            "acceptance_rate": pytest.approx(1 / 3),
            "median_seconds_to_accept": pytest.approx(100),
        }
    ]


def test_stats_of_nothing(client, admin_headers):
    """With no invitations: zero counts, no rate, no median (not a 500)."""
    body = client.get(f"{URL}/stats", headers=admin_headers).json
    assert body["total"] == 0 and body["by_state"] == counts()
    assert body["acceptance_rate"] is None and body["median_seconds_to_accept"] is None
    assert body["by_client"] == [] and body["by_group"] == []
