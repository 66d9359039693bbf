"""The sample CSV the dashboard's bulk page shows works as shown against `make run`."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Invitation
from tests.helpers import csrf_token, sign_in

BULK = "/admin/invitations/bulk"


@pytest.fixture
def seeded(app, monkeypatch):
    """What `vestibule seed` makes for `make run` (its demo settings on the test app)."""
    monkeypatch.setitem(app.config, "DEMO_ADMIN_EMAIL", "admin@example.com")
    monkeypatch.setitem(app.config, "DEMO_ADMIN_PASSWORD", "vestibule-admin")
    monkeypatch.setitem(app.config, "DEMO_CLIENT_SECRET", "demo-client-secret")
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of a page's forms, by name."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if 'type="hidden"' in tag and name and value:
            fields[name.group(1)] = html.unescape(value.group(1))
    return fields


def test_bulk_page_sample_creates_every_row(app, factory, seeded):
    """The sample shown on the bulk page, uploaded as it is by the seeded admin, creates
    one invitation per row: every column and value it uses is valid."""
    admin = app.test_client()
    sign_in(admin, factory.account("root@example.com", roles=("admin",)))
    page = admin.get(BULK).get_data(as_text=True)
    sample = html.unescape(re.search(r'<pre class="example">(.*?)</pre>', page, re.S).group(1))
    rows = len(sample.strip().splitlines()) - 1
    assert rows >= 2
    preview = admin.post(
        BULK,
        data={"csrf_token": csrf_token(page), "file": (io.BytesIO(sample.encode()), "sample.csv")},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200, preview.data
    created = admin.post(f"{BULK}/create", data=hidden_fields(preview.get_data(as_text=True)))
    assert created.status_code == 200, created.data
    with app.app_context():
        assert len(db.session.scalars(select(Invitation)).all()) == rows
