"""The ``groups`` and ``roles`` scopes: the person's group and role names reach the
client in the ID token, userinfo and introspection, and only with their scope."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from app.extensions import db
from app.models import Account, Group
from tests.helpers import bearer, obtain_code, post_as, redeem


def _tokens(client, rp, person, scope: str) -> tuple[dict, dict]:
    code, verifier, _ = obtain_code(client, rp, person, scope=scope)
    body = redeem(client, rp, code, verifier).json
    keys = KeySet.import_key_set(client.get("/jwks.json").json)
    return body, jwt.decode(body["id_token"], keys, algorithms=["RS256"]).claims


def _member(factory):
    """A person in the groups staff and beta, holding the role user_invite."""
    person = factory.account(roles=("user_invite",))
    with factory.app.app_context():
        account = db.session.scalar(select(Account).where(Account.sub == person.sub))
        account.groups = [Group(name="staff"), Group(name="beta")]
        db.session.commit()
    return person


def test_groups_and_roles_reach_the_client_with_their_scopes(client, factory):
    """ID token, userinfo and introspection name the person's groups and roles."""
    rp = factory.client(scope="openid profile groups roles")
    body, claims = _tokens(client, rp, _member(factory), "openid groups roles")
    assert claims["groups"] == ["beta", "staff"] and claims["roles"] == ["user_invite"]
    info = client.get("/userinfo", headers=bearer(body["access_token"])).json
    assert info["groups"] == ["beta", "staff"] and info["roles"] == ["user_invite"]
    introspected = post_as(client, rp, "/introspect", {"token": body["access_token"]}).json
    assert introspected["groups"] == ["beta", "staff"]
    assert introspected["roles"] == ["user_invite"]


def test_without_their_scopes_no_membership_claims(client, factory):
    """openid profile alone releases neither groups nor roles, anywhere."""
    rp = factory.client(scope="openid profile groups roles")
    body, claims = _tokens(client, rp, _member(factory), "openid profile")
    assert "groups" not in claims and "roles" not in claims
    info = client.get("/userinfo", headers=bearer(body["access_token"])).json
    assert "groups" not in info and "roles" not in info
    introspected = post_as(client, rp, "/introspect", {"token": body["access_token"]}).json
    assert "groups" not in introspected and "roles" not in introspected


def test_a_client_not_allowed_the_scopes_gets_none(client, factory):
    """A client registered without groups/roles asking for them gets neither scope."""
    rp = factory.client(scope="openid profile")
    body, claims = _tokens(client, rp, _member(factory), "openid groups roles")
    assert "groups" not in body["scope"].split() and "groups" not in claims
    assert "roles" not in claims


def test_someone_without_groups_gets_empty_lists(client, factory):
    """Asked for and allowed, the claims are present even when empty."""
    rp = factory.client(scope="openid groups roles")
    _, claims = _tokens(client, rp, factory.account(), "openid groups roles")
    assert claims["groups"] == [] and claims["roles"] == []


def test_discovery_advertises_the_scopes_and_claims(client):
    """scopes_supported and claims_supported list groups and roles."""
    document = client.get("/.well-known/openid-configuration").json
    assert {"groups", "roles"} <= set(document["scopes_supported"])
    assert {"groups", "roles"} <= set(document["claims_supported"])


def test_consent_words_the_groups_and_roles_scopes(client, factory):
    """A third-party client asking for groups and roles: the consent page says what
    they give in words (and in German for a German browser), not as scope names."""
    from tests.helpers import authorize_params, authorize_url, pkce_pair, sign_in_at

    rp = factory.client(first_party=False, scope="openid groups roles")
    person = _member(factory)
    expected = {
        "en": ("The groups you belong to", "Your roles"),
        "de": ("Die Gruppen, zu denen Sie gehören", "Ihre Rollen"),
    }
    for lang, words in expected.items():
        browser = factory.app.test_client()
        browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        _, challenge = pkce_pair()
        params = authorize_params(rp, challenge, scope="openid groups roles")
        paused = browser.get(authorize_url(params))
        signed = sign_in_at(browser, paused.location, person.email, person.password)
        consent = browser.get(signed.location)
        page = consent.get_data(as_text=True)
        assert all(f"<li>{text}</li>" in page for text in words), page
        assert "<li>groups</li>" not in page and "<li>roles</li>" not in page
