"""The webhook operations answer as documented when their path names rows that exist
(tests/api/test_openapi.py covers every operation, but only with unknown webhook and
delivery ids there, so only with 404s)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxItem
from tests.api.test_openapi import SPEC_PATH, documented_operations
from tests.helpers import invite

OPERATIONS = [
    (method, path)
    for method, path in documented_operations()
    if path.startswith("/api/v1/webhooks/{") or path.startswith("/api/v1/webhooks/deliveries/{")
]


@pytest.fixture
def existing(app, shop, receiver, register_endpoint, run_worker) -> dict[str, str]:
    """An endpoint with one sent delivery."""
    endpoint = register_endpoint(receiver.url, ["invitation.created"])
    invite(app, email="ada@example.com", client_id=shop.client_id, notify=False)
    run_worker()
    with app.app_context():
        delivery = db.session.scalar(select(OutboxItem.public_id))
    return {"webhook_id": endpoint["id"], "delivery_id": delivery}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=str)
def test_operation_on_existing_rows_answers_as_documented(
    app, webhook_headers, existing, method, path
):
    """Schema-valid requests aimed at an existing endpoint or delivery get documented
    answers (bodies included)."""
    load_all_checks()
    token = webhook_headers["Authorization"].removeprefix("Bearer ")
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"bearerAuth": {"bearer": token}}}})
    operation = schemathesis.openapi.from_wsgi(SPEC_PATH, app, config=config)[path][method]
    names = [parameter.name for parameter in operation.path_parameters]
    statuses: list[int] = []

    @given(case=operation.as_strategy(path_parameters={name: existing[name] for name in names}))
    @settings(
        max_examples=10,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case):
        response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
        statuses.append(response.status_code)

    answers_as_documented()
    assert any(200 <= status < 300 for status in statuses), statuses
