"""The OpenAPI document is true to the code: schemathesis sends every operation of
/api/v1/openapi.json generated requests, valid and invalid ones, with an admin token,
and checks each answer against the spec: no 5xx; the status code, content type, body
and headers are documented ones; schema-invalid input is refused; nothing answers
without a token; a 405 names what is allowed.

One test per operation and backend, each with a fixed budget of derandomized
examples drawn from the documented examples, from schema-valid requests (some aimed
at rows that exist, so the success answers are checked too) and from schema-invalid
ones. "Schema-valid data must be accepted" is not checked: a request can match the
schema and still be refused by the domain (an unknown client or group, an address
that already has an account), which the spec documents as 400 and 409 answers.

The operations come from the spec an app serves at collection time, so none is left
out, the users, groups and clients ones included; the requests go to the ``app``
fixture, so they run on SQLite and on PostgreSQL (25 to 45 s per backend on two CPUs).
Each test drives hypothesis itself over ``operation.as_strategy``: schemathesis'
``pytest.from_fixture`` loader fails on pytest 9 (it rewrites ``Node._nodeid``).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app import create_app
from app.accounts.service import ensure_role
from app.extensions import db
from app.models import Group
from tests.helpers import invite

SPEC_PATH = "/api/v1/openapi.json"
EXAMPLES_PER_OPERATION = 25
METHODS = ("get", "put", "post", "delete", "patch")


def documented_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation an app documents (built without a database)."""
    spec = create_app("testing").test_client().get(SPEC_PATH).json
    return [
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    ]


@pytest.fixture
def admin_token(admin_headers) -> dict:
    """schemathesis' bearerAuth setting: a client-credentials token with every API scope."""
    return {"bearer": admin_headers["Authorization"].removeprefix("Bearer ")}


@pytest.fixture
def existing(app, factory, invite_client) -> dict[str, str]:
    """Path parameter values naming rows that exist: an invitation, an account, a
    group and a role, a client."""
    invitation = invite(app, email="invited@example.com", client_id=invite_client.client_id)
    member = factory.account(email="member@example.com")
    with app.app_context():
        db.session.add(Group(name="staff"))
        ensure_role("staff")
        db.session.commit()
    return {
        "invitation_id": invitation.id,
        "sub": member.sub,
        "name": "staff",
        "client_id": invite_client.client_id,
    }


@pytest.mark.parametrize(("method", "path"), documented_operations(), ids=str)
def test_operation_answers_as_documented(app, admin_token, existing, method, path):
    """Generated requests to one operation get only the answers its spec documents."""
    load_all_checks()
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"bearerAuth": admin_token}}})
    operation = schemathesis.openapi.from_wsgi(SPEC_PATH, app, config=config)[path][method]
    names = [parameter.name for parameter in operation.path_parameters]
    cases = st.one_of(
        *operation.get_strategies_from_examples(),
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
        *(
            [operation.as_strategy(path_parameters={name: existing[name] for name in names})]
            if names and set(names) <= set(existing)
            else []
        ),
    )
    statuses: list[int] = []

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case):
        response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
        statuses.append(response.status_code)

    answers_as_documented()
    assert set(statuses) - {401}, "every request was refused: the token was not sent"
