"""Every page in German (issue 14): with German chosen, no page shows an English sentence.
Each test opens the pages of one area, in the states that change what they say (errors,
refusals, data), and checks them all with tests/web/german.py."""

from __future__ import annotations

from dataclasses import replace
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import TooManyRequests

from app.accounts import password_links, verification
from app.accounts.service import find
from app.errors import handle_http_error
from app.extensions import db
from app.models import Account, Group, Invitation, OutboxItem, Role, utcnow
from tests.helpers import (
    INITIATE_LOGIN_URI,
    PASSWORD,
    authorize_params,
    authorize_url,
    csrf_token,
    form_action,
    invite,
    pkce_pair,
    set_invitation_state,
    sign_in,
    start_authorization,
    update_rows,
)
from tests.web.german import english_left, visible_text

GERMAN = "de-DE,de;q=0.9"


@pytest.fixture
def german(app):
    """A browser that asks for German (Accept-Language: de)."""
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = GERMAN
    return browser


@pytest.fixture
def shop(factory):
    """A first-party client with a login route for invitations."""
    return factory.client(client_id="shop", name="Shop", initiate_login_uri=INITIATE_LOGIN_URI)


@pytest.fixture
def person(factory):
    return factory.account("ada@example.com")


def assert_german(pages: dict) -> None:
    """Each response is a German page: lang="de" and no English left."""
    problems = {}
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        left = english_left(html)
        if '<html lang="de">' not in html:
            left.append("not <html lang=de>")
        if left:
            problems[name] = [f"HTTP {response.status_code}", *left]
    assert pages and not problems, problems


def post_form(browser, path: str, token_from: str | None = None, **data):
    """POST ``data`` to ``path`` with the session's CSRF token, read from the page at
    ``token_from`` (by default ``path`` itself)."""
    html = browser.get(token_from or path).get_data(as_text=True)
    return browser.post(path, data={"csrf_token": csrf_token(html), **data})


def admin_post(browser, path: str, **data):
    """POST a dashboard form (its token read from the account page)."""
    return post_form(browser, path, "/account", **data)


def path(link: str) -> str:
    return urlsplit(link).path


def test_sign_in_password_and_account_pages_are_german(app, german, person, shop):
    """Sign-in (and its refusal), password forgot / sent / reset / unusable / changed,
    email verification, the account page, logout confirmation, signed-out."""
    pages = {"sign in": german.get("/login")}
    for _attempt in range(6):  # past the free failures (5 in testing): slowed down
        wrong = post_form(german, "/login", email="nobody@example.com", password="nope")
        pages.setdefault("wrong password", wrong)
    pages["too many failures"] = wrong
    pages["forgot"] = german.get("/password/forgot")
    pages["forgot, empty"] = post_form(german, "/password/forgot", email="")
    pages["sent"] = german.get("/password/forgot/sent")
    with app.app_context():
        _, set_link = password_links.issue_set_link(person.sub, "test", notify=False)
        row, verify_link = password_links.issue(find(person.sub), verification.PURPOSE, 60, "t")
        db.session.commit()
    pages["set password"] = german.get(path(set_link))
    pages["password too short"] = post_form(german, path(set_link), password="short")
    pages["link unusable"] = german.get("/password/reset/nope")
    pages["verify email"] = german.get(path(verify_link))
    pages["email verified"] = post_form(german, path(verify_link))
    pages["verify link unusable"] = german.get(path(verify_link))
    changed = post_form(german, path(set_link), password="a brand new passphrase")
    pages["changed"] = german.get(changed.location)
    sign_in(german, replace(person, password="a brand new passphrase"))
    pages["account"] = german.get("/account")
    pages["logout confirmation"] = german.get("/logout?client_id=shop")
    pages["signed out"] = german.get("/signed-out")
    assert_german(pages)


def test_invitation_and_registration_pages_are_german(app, german, factory, shop, monkeypatch):
    """Registration: invited (form, refused input, decline), hosted, self-service; every
    refusal (closed, invitation only, unknown, other client, expired, revoked, declined,
    used), the short link's pages, the sign-in instead, a failed submission."""
    invited = invite(app, email="grace@example.com", client_id="shop", given_name="Grace")
    started = start_authorization(german, shop, invite_id=invited.token, view_type="register")
    form = german.get(started.location)
    pages = {"invited form": form}
    html = form.get_data(as_text=True)
    pages["refused input"] = german.post(
        form_action(html, "registration"),
        data={"csrf_token": csrf_token(html), "email": "grace@", "password": "short"},
    )
    pages["failed submission"] = german.post(form_action(html, "registration"), data={})
    hosted = invite(app, email="hopper@example.com", given_name="Grace")
    pages["hosted"] = german.get(f"/register?invite_id={hosted.token}")
    pages["declined"] = german.post(
        form_action(pages["hosted"].get_data(as_text=True), "decline"),
        data={"csrf_token": csrf_token(pages["hosted"].get_data(as_text=True))},
    )
    monkeypatch.setitem(app.config, "SIGNUP_MODE", "public")
    pages["self-service"] = german.get(start_authorization(german, shop, prompt="create").location)
    for mode in ("closed", "restricted"):
        monkeypatch.setitem(app.config, "SIGNUP_MODE", mode)
        pages[f"sign-up {mode}"] = german.get(
            start_authorization(german, shop, prompt="create").location
        )
    pages["unknown invitation"] = german.get(f"/register?invite_id={'x' * 32}")
    pages["short link unknown"] = german.get("/i/nope")
    for state in ("expired", "revoked", "rejected", "accepted"):
        other = invite(app, email=f"{state}@example.com")
        set_invitation_state(app, other.id, state)
        pages[f"{state} invitation"] = german.get(f"/register?invite_id={other.token}")
        pages[f"{state} short link"] = german.get(path(other.short_link))
    used = invite(app, email="used@example.com", client_id="shop")
    started = start_authorization(german, shop, invite_id=used.token, view_type="register")
    set_invitation_state(app, used.id, "accepted")
    pages["sign in instead"] = german.get(started.location)
    lapsed = invite(app, email="lapsed@example.com", client_id="shop")
    update_rows(app, Invitation, {"public_id": lapsed.id}, short_link_expires_at=utcnow())
    pages["short link expired"] = german.get(path(lapsed.short_link))
    elsewhere = factory.client(client_id="elsewhere", name="Elsewhere")
    for_shop = invite(app, email="o@example.com", client_id="shop")
    started = start_authorization(german, elsewhere, invite_id=for_shop.token)
    pages["invitation for another client"] = german.get(started.location)
    pages["paused request gone"] = german.get("/interaction/nope")
    assert_german(pages)


def test_pages_of_an_invitation_for_an_existing_account_are_german(
    app, german, factory, person, shop
):
    """Invited with an existing account (issue 15): its sign-in page, a wrong password,
    the choice for another account, declined, the account gone, the hosted page."""
    invited = invite(app, email=person.email, client_id="shop", existing_account=True)
    started = start_authorization(german, shop, invite_id=invited.token, view_type="register")
    pages = {"join sign-in": german.get(started.location)}
    html = pages["join sign-in"].get_data(as_text=True)
    pages["join wrong password"] = german.post(
        form_action(html, "join"),
        data={"csrf_token": csrf_token(html), "email": person.email, "password": "wrong pass"},
    )
    hosted = invite(app, email=person.email, existing_account=True)
    pages["join hosted"] = german.get(f"/register?invite_id={hosted.token}")
    html = pages["join hosted"].get_data(as_text=True)
    pages["join declined"] = german.post(
        form_action(html, "decline"), data={"csrf_token": csrf_token(html)}
    )
    sign_in(german, factory.account("bob@example.com"))
    started = start_authorization(german, shop, invite_id=invited.token, view_type="register")
    pages["join for another account"] = german.get(started.location)
    gone = factory.account("gone@example.com")
    for_gone = invite(app, email=gone.email, existing_account=True)
    update_rows(app, Account, {"sub": gone.sub}, email="moved@example.com")
    pages["join account gone"] = german.get(f"/register?invite_id={for_gone.token}")
    assert_german(pages)


def test_consent_and_error_pages_are_german(app, german, factory, person, monkeypatch):
    """Consent for a third-party client, the OAuth error page, 404, 405, 503."""
    partner = factory.client(client_id="partner", name="Partner", first_party=False)
    sign_in(german, person)
    _, challenge = pkce_pair()
    consent = german.get(authorize_url(authorize_params(partner, challenge)))
    pages = {"consent": german.get(consent.location)}
    params = authorize_params(partner, challenge, redirect_uri="https://elsewhere.example/cb")
    pages["oauth error"] = german.get(authorize_url(params))
    pages["404"] = german.get("/no-such-page")
    pages["405"] = german.delete("/account")
    from app.web import views

    def database_down():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(views, "current_session", database_down)
    pages["503"] = german.get("/account")
    assert [pages[name].status_code for name in ("oauth error", "404", "405", "503")] == [
        400,
        404,
        405,
        503,
    ]
    assert_german(pages)


@pytest.fixture
def admin_browser(app, factory, german, shop):
    """The German browser, signed in as an admin, with data on every dashboard page."""
    admin = factory.account("root@example.com", roles=("admin",), given_name="Root")
    sign_in(german, admin)
    with app.app_context():
        db.session.add_all([Group(name="staff"), Role(name="editor")])
        db.session.commit()
    return german


def test_dashboard_pages_are_german(app, admin_browser, factory, person):
    """Every dashboard page with data: invitations (list, funnel, detail, invite form
    and its refusals, bulk upload, preview, results, resend, revoke), users (list,
    detail, disable, enable, set-password link), groups and roles, clients (list,
    detail, new, edit, rotate, secret), outbox (health, retry), the 403 page."""
    german = admin_browser
    sent = invite(app, "account:x", email="lin@example.com", client_id="shop", groups=["staff"])
    quiet = invite(app, email="quiet@example.com", notify=False)
    set_invitation_state(app, invite(app, email="gone@example.com").id, "revoked")
    set_invitation_state(app, invite(app, email="won@example.com").id, "accepted")
    update_rows(app, OutboxItem, {}, state="dead", dead_at=utcnow())
    pages = {
        "invitations": german.get("/admin/invitations"),
        "invitations filtered": german.get("/admin/invitations?state=revoked&q=gone"),
        "invitation": german.get(f"/admin/invitations/{sent.id}"),
        "resend": german.get(f"/admin/invitations/{sent.id}/resend"),
        "revoke": german.get(f"/admin/invitations/{quiet.id}/revoke"),
        "invitation not found": german.get("/admin/invitations/nope"),
        "invite form": german.get("/admin/invitations/new"),
    }
    pages["resent link"] = admin_post(german, f"/admin/invitations/{quiet.id}/resend")
    pages["invite refused"] = admin_post(
        german, "/admin/invitations/new", email="nope@", expires_in_days="0"
    )
    pages["invite duplicate"] = admin_post(
        german, "/admin/invitations/new", email="lin@example.com", client_id="shop"
    )
    pages["invite created"] = admin_post(
        german, "/admin/invitations/new", email="new@example.com", lang="de"
    )
    pages["bulk"] = german.get("/admin/invitations/bulk")
    csv = "email,groups,expires_in\nbulk@example.com,staff,\nbad@,nope,soon\n"
    page = german.get("/admin/invitations/bulk").get_data(as_text=True)
    preview = german.post(
        "/admin/invitations/bulk",
        data={"csrf_token": csrf_token(page), "file": (BytesIO(csv.encode()), "people.csv")},
    )
    pages["bulk preview"] = preview
    html = preview.get_data(as_text=True)
    payload = html.split('name="payload" type="hidden" value="')[1].split('"')[0]
    pages["bulk results"] = german.post(
        "/admin/invitations/bulk/create",
        data={"csrf_token": csrf_token(html), "payload": payload},
    )
    pages["bulk nothing"] = german.post(
        "/admin/invitations/bulk",
        data={"csrf_token": csrf_token(page), "file": (BytesIO(b"email\nx@\n"), "bad.csv")},
    )
    pages["users"] = german.get("/admin/users")
    pages["user"] = german.get(f"/admin/users/{person.sub}")
    pages["disable"] = german.get(f"/admin/users/{person.sub}/disable")
    pages["membership refused"] = admin_post(
        german, f"/admin/users/{person.sub}/memberships", kind="groups", name="nope"
    )
    pages["password link"] = admin_post(
        german, f"/admin/users/{person.sub}/password-link", show_link="1", lang="de"
    )
    admin_post(german, f"/admin/users/{person.sub}/disable", confirm="1")
    pages["enable"] = german.get(f"/admin/users/{person.sub}/enable")
    pages["disabled user"] = german.get(f"/admin/users/{person.sub}")
    pages["groups"] = german.get("/admin/groups")
    pages["group"] = german.get("/admin/groups/staff")
    pages["role"] = german.get("/admin/roles/editor")
    pages["group refused"] = admin_post(german, "/admin/groups", kind="groups", name="staff")
    pages["member refused"] = admin_post(german, "/admin/groups/staff/members", who="nobody")
    pages["clients"] = german.get("/admin/clients")
    pages["client"] = german.get("/admin/clients/shop")
    pages["client form"] = german.get("/admin/clients/new")
    pages["client refused"] = admin_post(
        german, "/admin/clients/new", name="", redirect_uris="ftp://x", client_id="a b"
    )
    pages["client edit"] = german.get("/admin/clients/shop/edit")
    pages["rotate"] = german.get("/admin/clients/shop/rotate-secret")
    pages["secret"] = admin_post(german, "/admin/clients/shop/rotate-secret", confirm="1")
    pages["outbox"] = german.get("/admin/outbox")
    pages["retry"] = german.get("/admin/outbox/retry?since=24h&kind=")
    assert pages["bulk preview"].status_code == 200, visible_text(html)
    assert_german(pages)


def test_the_rate_limit_page_is_german(app):
    """The page of a request over a rate limit (429) explains itself in German, without
    the limit's English ("1 per 1 minute")."""
    with app.test_request_context("/login", headers={"Accept-Language": GERMAN}):
        html, status, headers = handle_http_error(TooManyRequests("1 per 1 minute"))
    assert status == 429 and "Retry-After" in headers
    assert_german({"429": app.response_class(html, status)})


def test_the_playground_is_german(german):
    """The playground's page, its code page (a code, an error, nothing) and its error
    page (a callback that belongs to no sign-in)."""
    pages = {
        "playground": german.get("/playground/"),
        "code": german.get("/playground/code?code=abc&state=xyz&iss=http://localhost"),
        "code error": german.get("/playground/code?error=access_denied&state=xyz"),
        "no code": german.get("/playground/code"),
        "callback unknown": german.get("/playground/callback?state=nope&code=abc"),
    }
    assert_german(pages)


def test_the_forbidden_page_is_german(app, factory, german):
    """A person without a dashboard role gets the 403 page in German."""
    person = factory.account("kim@example.com", password=PASSWORD)
    sign_in(german, person)
    assert_german({"forbidden": german.get("/admin/users"), "home": german.get("/admin/")})
