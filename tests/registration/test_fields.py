"""Operator-configured registration fields (spec §3.4): rendered, validated, stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import create_app
from app.accounts.fields import parse_fields
from app.extensions import db
from app.models import Account
from config import ConfigurationError
from tests.helpers import (
    NEW_PASSWORD,
    finish_at_client,
    post_registration_form,
    registration_page,
    row_counts,
    start_authorization,
)

FIELDS = [
    {"name": "department", "label": {"en": "Department", "de": "Abteilung"}, "required": True},
    {"name": "desk", "label": "Desk number", "type": "number"},
    {"name": "team", "label": "Team", "type": "select", "choices": ["blue", "red"]},
    {"name": "terms", "label": "I accept the terms", "type": "checkbox", "required": True},
    {"name": "start", "label": "Start date", "type": "date"},
]


@pytest.fixture
def started(client, shop, invitation, registration_fields):
    registration_fields(FIELDS)
    return start_authorization(client, shop, invite_id=invitation.token, view_type="register")


def _post(client, started, **fields):
    html = registration_page(client, started).get_data(as_text=True)
    return post_registration_form(client, html, **fields)


def test_fields_are_rendered_with_labels_and_prefill(client, started):
    """Each field appears with its label; the invitation's custom_fields pre-fill them."""
    html = registration_page(client, started).get_data(as_text=True)
    for label in ("Department", "Desk number", "Team", "I accept the terms", "Start date"):
        assert label in html
    assert '<option selected value="blue">' in html  # the invitation says team=blue
    assert 'type="date"' in html and 'type="checkbox"' in html and 'type="number"' in html


def test_labels_follow_the_language(client, shop, invitation, registration_fields):
    registration_fields(FIELDS)
    started = start_authorization(
        client, shop, invite_id=invitation.token, view_type="register", ui_locales="de"
    )
    assert "Abteilung" in registration_page(client, started).get_data(as_text=True)


def test_values_are_validated_and_stored(app, client, shop, started):
    response = _post(
        client, started, department="Research", desk="42", team="red", terms="y", start="2027-01-04"
    )
    finish_at_client(client, response, shop, started)
    with app.app_context():
        account = db.session.scalar(select(Account))
        assert account.custom_fields == {
            "department": "Research",
            "desk": 42,
            "team": "red",
            "terms": True,
            "start": "2027-01-04",
        }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"terms": "y"}, "department"),  # required text missing
        ({"department": "R"}, "terms"),  # required checkbox unticked
        ({"department": "R", "terms": "y", "desk": "forty"}, "desk"),
        ({"department": "R", "terms": "y", "team": "green"}, "team"),
        ({"department": "R", "terms": "y", "start": "04/01/2027"}, "start"),
        ({"department": "R" * 257, "terms": "y"}, "department"),
    ],
)
def test_bad_values_are_refused(app, client, started, fields, field):
    before = row_counts(app)
    response = _post(client, started, **fields)
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_json_posts_use_the_same_rules(app, client, invitation, started):
    before = row_counts(app)
    response = client.post(
        f"/registration?interaction={started.uid}",
        json={"password": NEW_PASSWORD, "department": "R", "terms": False},
        headers={"invite_id": invitation.token},
    )
    assert response.status_code == 400
    assert "terms" in response.json["errors"]
    assert row_counts(app) == before
    ok = client.post(
        f"/registration?interaction={started.uid}",
        json={"password": NEW_PASSWORD, "department": "R", "terms": True, "desk": 7},
        headers={"invite_id": invitation.token},
    )
    assert ok.status_code == 201, ok.json
    with app.app_context():
        stored = db.session.scalar(select(Account)).custom_fields
        assert stored["desk"] == 7 and stored["terms"] is True
        assert stored["team"] == "blue"  # from the invitation, not overridden by a blank


@pytest.mark.parametrize(
    "bad",
    [
        {"fields": "department"},
        [{"name": "Department"}],
        [{"name": "email"}],
        [{"name": "x", "type": "colour"}],
        [{"name": "x", "type": "select"}],
        [{"name": "x", "choices": ["a"]}],
        [{"name": "x", "required": "yes"}],
        [{"name": "x", "label": ""}],
        [{"name": "x", "colour": "red"}],
        [{"name": "x"}, {"name": "x"}],
        [{"name": "x", "max_length": 0}],
    ],
)
def test_bad_configuration_stops_start_up(bad):
    with pytest.raises(ConfigurationError):
        parse_fields(bad)
    with pytest.raises(ConfigurationError):
        create_app("testing", REGISTRATION_FIELDS=bad)


def test_good_configuration_parses():
    specs = parse_fields(FIELDS)
    assert [s.name for s in specs] == ["department", "desk", "team", "terms", "start"]
    assert specs[2].choices == ("blue", "red")
