"""Who may grant power (issue 10, item 6): a machine needs the scope roles:grant to
grant, take away or act on the built-in roles; nobody writes to an account whose roles
are beyond their own; an invitation granting a built-in role is bound to its email."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.access import ROLE_ACTIONS
from app.accounts.service import ensure_role
from app.extensions import db
from app.invitations import service
from app.models import Group, Invitation
from tests.api.conftest import API_SCOPES
from tests.helpers import invite, row_counts

INVITATIONS = "/api/v1/invitations"
USERS = "/api/v1/users"
GRANT = f"{API_SCOPES} roles:grant"
#: The roles that carry admin powers (spec §3.6).
BUILT_IN_ROLES = ("admin", "secondary_admin", "user_invite")


@pytest.fixture
def roles(app):
    """The built-in roles, a custom role ``editor`` and a group ``staff`` exist."""
    with app.app_context():
        for name in (*BUILT_IN_ROLES, "editor"):
            ensure_role(name)
        db.session.add(Group(name="staff"))
        db.session.commit()


@pytest.fixture
def people(factory, roles) -> dict[str, str]:
    """Subs of an admin and of a plain user."""
    return {
        "admin": factory.account("top@example.com", roles=("admin",)).sub,
        "plain": factory.account("plain@example.com").sub,
    }


def assert_needs_grant(response) -> None:
    """403 insufficient_scope whose description names the scope roles:grant."""
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.json["error"] == "insufficient_scope"
    assert "roles:grant" in response.json["error_description"]
    assert response.json["scope"] == "roles:grant"


def test_built_in_roles_are_the_roles_with_powers():
    """The accounts package's BUILT_IN_ROLES are exactly the roles ROLE_ACTIONS empowers."""
    from app.accounts.groups import BUILT_IN_ROLES as built_in

    assert set(built_in) == set(ROLE_ACTIONS) == set(BUILT_IN_ROLES)


# -- machines and the scope roles:grant ---------------------------------------------------


@pytest.mark.parametrize("role", BUILT_IN_ROLES)
def test_machine_without_roles_grant_cannot_invite_into_a_built_in_role(
    app, client, machine_headers, invite_client, roles, role
):
    """invitations:write alone: an invitation granting a built-in role is 403 naming
    roles:grant, single or bulk (that row only); nothing written."""
    headers = machine_headers()
    body = {"email": "mallory@example.com", "client_id": "shop", "roles": [role]}
    before = row_counts(app)
    assert_needs_grant(client.post(INVITATIONS, headers=headers, json=body))
    assert row_counts(app) == before
    bulk = client.post(
        f"{INVITATIONS}/bulk",
        headers=headers,
        json={"invitations": [body, {"email": "ok@example.com", "client_id": "shop"}]},
    )
    rows = bulk.json["results"]
    assert [row["status"] for row in rows] == [403, 201]
    assert (
        rows[0]["error"] == "insufficient_scope" and "roles:grant" in rows[0]["error_description"]
    )


def test_machine_may_invite_into_a_custom_role_without_roles_grant(
    client, machine_headers, invite_client, roles
):
    """A role without admin powers needs no more than invitations:write."""
    body = {"email": "ed@example.com", "client_id": "shop", "roles": ["editor"]}
    response = client.post(INVITATIONS, headers=machine_headers(), json=body)
    assert response.status_code == 201, response.json


def test_machine_with_roles_grant_may_invite_an_admin(
    client, machine_headers, invite_client, roles
):
    """A client registered with roles:grant may grant admin."""
    body = {"email": "boss@example.com", "client_id": "shop", "roles": ["admin"]}
    response = client.post(INVITATIONS, headers=machine_headers(GRANT), json=body)
    assert response.status_code == 201, response.json
    assert response.json["roles"] == ["admin"]


def test_machine_without_roles_grant_cannot_make_or_unmake_admins(
    app, client, machine_headers, people
):
    """users:write alone: creating an admin, PATCHing roles to or from admin, or role
    membership of admin is 403 naming roles:grant; nothing written."""
    headers = machine_headers()
    before = row_counts(app)
    attempts = [
        client.post(USERS, headers=headers, json={"email": "new@example.com", "roles": ["admin"]}),
        client.patch(f"{USERS}/{people['plain']}", headers=headers, json={"roles": ["admin"]}),
        client.patch(f"{USERS}/{people['admin']}", headers=headers, json={"roles": []}),
        client.put(f"/api/v1/roles/admin/members/{people['plain']}", headers=headers),
        client.delete(f"/api/v1/roles/admin/members/{people['admin']}", headers=headers),
    ]
    for response in attempts:
        assert_needs_grant(response)
    assert row_counts(app) == before


def test_machine_without_roles_grant_cannot_act_on_an_admin_account(
    app, client, machine_headers, people
):
    """Editing, disabling, enabling, regrouping or issuing a password link for an admin
    is acting on a built-in role: 403 naming roles:grant; nothing written."""
    headers = machine_headers()
    admin = people["admin"]
    before = row_counts(app)
    attempts = [
        client.patch(f"{USERS}/{admin}", headers=headers, json={"given_name": "Eve"}),
        client.post(f"{USERS}/{admin}/disable", headers=headers),
        client.post(f"{USERS}/{admin}/enable", headers=headers),
        client.post(f"{USERS}/{admin}/password-link", headers=headers, json={"notify": False}),
        client.put(f"/api/v1/groups/staff/members/{admin}", headers=headers),
        client.delete(f"/api/v1/groups/staff/members/{admin}", headers=headers),
    ]
    for response in attempts:
        assert_needs_grant(response)
    assert row_counts(app) == before


def test_machine_with_roles_grant_may_make_an_admin(client, machine_headers, people):
    """With roles:grant the same PATCH succeeds."""
    response = client.patch(
        f"{USERS}/{people['plain']}", headers=machine_headers(GRANT), json={"roles": ["admin"]}
    )
    assert response.status_code == 200, response.json
    assert response.json["roles"] == ["admin"]


def test_machine_without_roles_grant_cannot_resend_or_revoke_an_admin_invitation(
    app, client, machine_headers, invite_client, roles
):
    """Resending (new link) or revoking an invitation granting admin is acting on the
    role: 403 naming roles:grant; the invitation is unchanged."""
    issued = invite(app, email="boss@example.com", client_id="shop", roles=["admin"], notify=False)
    headers = machine_headers()
    before = row_counts(app)
    for response in (
        client.post(f"{INVITATIONS}/{issued.id}/resend", headers=headers),
        client.post(f"{INVITATIONS}/{issued.id}/revoke", headers=headers),
        client.patch(f"{INVITATIONS}/{issued.id}", headers=headers, json={"state": "reinitiated"}),
        client.patch(f"{INVITATIONS}/{issued.id}", headers=headers, json={"state": "revoked"}),
    ):
        assert_needs_grant(response)
    assert row_counts(app) == before
    with app.app_context():
        assert service.find(issued.id).state == "initiated"


def test_roles_grant_is_a_known_scope_held_by_no_client_by_default(app, client, factory):
    """roles:grant is listed in the discovery document and the OpenAPI spec; a client
    registered without it cannot get it."""
    assert "roles:grant" in client.get("/.well-known/openid-configuration").json["scopes_supported"]
    spec = client.get("/api/v1/openapi.json").json
    assert "roles:grant" in spec["components"]["securitySchemes"]["bearerAuth"]["description"]
    assert "roles:grant" in spec["paths"]["/api/v1/invitations"]["post"]["description"]
    rp = factory.client(grant_types=["client_credentials"], scope=API_SCOPES)
    response = client.post(
        "/token",
        headers=rp.basic_auth(),
        data={"grant_type": "client_credentials", "scope": "roles:grant"},
    )
    assert response.status_code == 400 and response.json["error"] == "invalid_scope"


# -- people: nobody writes to an account beyond their own roles ----------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"given_name": "Eve"},
        {"family_name": "Evil"},
        {"email_verified": False},
        {"phone_number": "+4915112345678"},
        {"phone_number_verified": True},
        {"public_metadata": {"owned": True}},
        {"custom_fields": {"team": "red"}},
        {"groups": ["staff"]},
    ],
    ids=lambda change: next(iter(change)),
)
def test_secondary_admin_cannot_edit_an_admin(app, client, person_headers, people, change):
    """Any PATCH of an admin's account by a secondary_admin is 403; nothing written."""
    headers = person_headers(roles=("secondary_admin",))
    before = row_counts(app)
    response = client.patch(f"{USERS}/{people['admin']}", headers=headers, json=change)
    assert response.status_code == 403, response.json
    assert response.json["error"] == "insufficient_role"
    assert row_counts(app) == before


def test_secondary_admin_cannot_regroup_or_recover_an_admin(app, client, person_headers, people):
    """Group membership, enable and password links of an admin: 403, nothing written."""
    headers = person_headers(roles=("secondary_admin",))
    admin = people["admin"]
    before = row_counts(app)
    attempts = [
        client.put(f"/api/v1/groups/staff/members/{admin}", headers=headers),
        client.delete(f"/api/v1/groups/staff/members/{admin}", headers=headers),
        client.put(f"/api/v1/roles/editor/members/{admin}", headers=headers),
        client.post(f"{USERS}/{admin}/enable", headers=headers),
        client.post(f"{USERS}/{admin}/password-link", headers=headers, json={"notify": False}),
    ]
    assert [(r.status_code, r.json["error"]) for r in attempts] == [(403, "insufficient_role")] * 5
    assert row_counts(app) == before


def test_secondary_admin_still_edits_plain_accounts(client, person_headers, people):
    """Within their powers nothing changes: a plain user's names and groups."""
    headers = person_headers(roles=("secondary_admin",))
    plain = people["plain"]
    patched = client.patch(f"{USERS}/{plain}", headers=headers, json={"given_name": "P"})
    assert patched.status_code == 200, patched.json
    response = client.put(f"/api/v1/groups/staff/members/{plain}", headers=headers)
    assert response.status_code == 204


# -- an invitation granting a built-in role is bound to its email -------------------------


def test_admin_invitation_forces_allow_same_email(
    app, client, machine_headers, invite_client, roles
):
    """allow_same_email false in the request comes back true, and the invitee must use
    the invited address; a custom role leaves it as asked."""
    body = {"client_id": "shop", "allow_same_email": False, "notify": False}
    headers = machine_headers(GRANT)
    bound = client.post(
        INVITATIONS, headers=headers, json={**body, "email": "a@example.com", "roles": ["admin"]}
    )
    assert bound.status_code == 201, bound.json
    assert bound.json["allow_same_email"] is True
    free = client.post(
        INVITATIONS, headers=headers, json={**body, "email": "e@example.com", "roles": ["editor"]}
    )
    assert free.json["allow_same_email"] is False
    with app.app_context():
        assert service.find(bound.json["id"]).allow_same_email is True


@pytest.mark.parametrize("role", BUILT_IN_ROLES)
def test_built_in_role_invitation_without_email_is_a_400(
    app, client, machine_headers, invite_client, roles, role
):
    """A mobile-only invitation granting a built-in role has no address to bind to:
    400 naming the email field; nothing written."""
    body = {"mobile_number": "+4915112345678", "client_id": "shop", "roles": [role]}
    headers = machine_headers(GRANT)
    before = row_counts(app)
    response = client.post(INVITATIONS, headers=headers, json=body)
    assert response.status_code == 400, response.json
    assert response.json["field"] == "email" and role in response.json["error_description"]
    assert row_counts(app) == before


def test_the_schema_documents_the_forced_allow_same_email(client):
    """The OpenAPI description of allow_same_email says when it is forced on."""
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    for name in ("InvitationCreate", "Invitation"):
        description = schemas[name]["properties"]["allow_same_email"]["description"]
        assert "built-in role" in description


def test_person_admin_invitation_is_bound_too(app, client, person_headers, invite_client, roles):
    """A person's invitation into admin is bound to the invited email as well."""
    body = {"email": "b@example.com", "client_id": "shop", "roles": ["secondary_admin"]}
    response = client.post(INVITATIONS, headers=person_headers(roles=("admin",)), json=body)
    assert response.status_code == 201, response.json
    assert response.json["allow_same_email"] is True
    with app.app_context():
        stored = db.session.scalar(select(Invitation).where(Invitation.email == "b@example.com"))
        assert stored.allow_same_email is True
