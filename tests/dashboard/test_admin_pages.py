"""The dashboard's users, groups and roles, and clients pages (spec §7.4): each page's
main action, validation and refusals that write nothing, CSRF, roles (spec §3.6)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.accounts import groups as named
from app.accounts import service as accounts
from app.crypto import secret_matches
from app.dashboard import clients as clients_pages
from app.dashboard import groups as groups_pages
from app.dashboard import users as users_pages
from app.extensions import db
from app.models import Client, Event, Group, OutboxItem, PasswordToken, Role
from app.outbox.queue import payload_of
from tests.helpers import AccountInfo, csrf_token, row_counts, sign_in

# -- fixtures and helpers --------------------------------------------------------------


@pytest.fixture
def admin(factory) -> AccountInfo:
    """A person holding the role ``admin``."""
    return factory.account("root@example.com", roles=("admin",), given_name="Root")


@pytest.fixture
def browser(client, admin):
    """A test client signed in as ``admin``."""
    sign_in(client, admin)
    return client


def signed_in(app, factory, email: str, roles: tuple[str, ...]):
    """A fresh test client signed in as a new person holding ``roles``."""
    person = factory.account(email, roles=roles)
    browser = app.test_client()
    sign_in(browser, person)
    return browser, person


def token(browser) -> str:
    """This browser's CSRF token (the same for every form of its session)."""
    return csrf_token(browser.get("/account").get_data(as_text=True))


def post(browser, url: str, **data):
    """POST a form with this browser's CSRF token."""
    return browser.post(url, data={"csrf_token": token(browser), **data})


def text(response) -> str:
    return response.get_data(as_text=True)


def make_group(app, name: str, *members: str, model=Group) -> None:
    with app.app_context():
        named.create(model, name, "test")
        for sub in members:
            named.add_member(model, name, sub, "test")


def account_row(app, sub: str) -> dict:
    """What the database holds about an account (to compare before and after)."""
    with app.app_context():
        account = accounts.find(sub)
        return {
            "disabled": account.disabled,
            "groups": sorted(g.name for g in account.groups),
            "roles": sorted(r.name for r in account.roles),
        }


def client_row(app, client_id: str) -> dict:
    with app.app_context():
        client = db.session.scalar(select(Client).where(Client.client_id == client_id))
        return {
            column.key: getattr(client, column.key)
            for column in Client.__table__.columns
            if column.key != "id"
        }


class _Labels(HTMLParser):
    """Collects form controls and the ids labels point at."""

    def __init__(self):
        super().__init__()
        self.controls: list[tuple[str, str | None]] = []
        self.label_for: set[str] = set()
        self.label_depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self.label_depth += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea"):
            if attrs.get("type") in ("hidden", "submit"):
                return
            if self.label_depth == 0:
                self.controls.append((tag, attrs.get("id")))

    def handle_endtag(self, tag):
        if tag == "label":
            self.label_depth -= 1


def unlabelled(html: str) -> list:
    """Form controls that have neither a <label for> nor an enclosing <label>."""
    parser = _Labels()
    parser.feed(html)
    return [c for c in parser.controls if c[1] is None or c[1] not in parser.label_for]


# -- who may open what -----------------------------------------------------------------

USER_PAGES = ["/admin/users", "/admin/groups", "/admin/roles/secondary_admin"]
CLIENT_PAGES = ["/admin/clients", "/admin/clients/new"]


def test_signed_out_goes_to_sign_in(client):
    """A browser without a session is sent to sign in, and back afterwards."""
    response = client.get("/admin/users?q=x")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


@pytest.mark.parametrize("url", USER_PAGES + CLIENT_PAGES)
@pytest.mark.parametrize("roles", [(), ("user_invite",)])
def test_people_without_a_managing_role_get_403(app, factory, url, roles):
    """No role, or only user_invite: users, groups and clients pages are 403."""
    browser, _ = signed_in(app, factory, "ivy@example.com", roles)
    response = browser.get(url)
    assert response.status_code == 403
    assert "You cannot open this page" in text(response)


@pytest.mark.parametrize(
    "url, data",
    [
        ("/admin/groups", {"kind": "groups", "name": "new-team"}),
        ("/admin/clients/new", {"name": "RP", "redirect_uris": "https://rp.example/cb"}),
    ],
)
def test_user_invite_cannot_write_either(app, factory, url, data):
    """A user_invite person's posts are refused with 403 and write nothing."""
    browser, _ = signed_in(app, factory, "ivy@example.com", ("user_invite",))
    before = row_counts(app)
    assert post(browser, url, **data).status_code == 403
    assert row_counts(app) == before


def test_secondary_admin_manages_people_but_not_clients(app, factory):
    """secondary_admin: users and groups open, clients 403 and not in the navigation."""
    browser, _ = signed_in(app, factory, "sam@example.com", ("secondary_admin",))
    for url in USER_PAGES:
        assert browser.get(url).status_code == 200, url
    for url in CLIENT_PAGES:
        assert browser.get(url).status_code == 403, url
    nav = text(browser.get("/admin/users"))
    assert 'href="/admin/groups"' in nav and 'href="/admin/clients"' not in nav


def test_admin_sees_every_section(browser):
    """The navigation of an admin links users, groups and clients."""
    html = text(browser.get("/admin/users"))
    for href in ("/admin/users", "/admin/groups", "/admin/clients"):
        assert f'href="{href}"' in html


# -- CSRF ------------------------------------------------------------------------------


def _csrf_targets(app, factory) -> list[tuple[str, dict]]:
    person = factory.account("pat@example.com")
    make_group(app, "staff")
    rp = factory.client()
    return [
        (f"/admin/users/{person.sub}/disable", {}),
        (f"/admin/users/{person.sub}/memberships", {"kind": "groups", "name": "staff"}),
        (f"/admin/users/{person.sub}/password-link", {"show_link": "1"}),
        ("/admin/groups", {"kind": "groups", "name": "other"}),
        ("/admin/groups/staff/members", {"who": person.email}),
        ("/admin/groups/staff/rename", {"name": "renamed"}),
        ("/admin/clients/new", {"name": "RP", "redirect_uris": "https://rp.example/cb"}),
        (f"/admin/clients/{rp.client_id}/edit", {"name": "Renamed"}),
        (f"/admin/clients/{rp.client_id}/rotate-secret", {}),
    ]


@pytest.mark.parametrize("csrf", [None, "wrong"])
def test_posts_without_a_good_csrf_token_are_400_and_write_nothing(app, browser, factory, csrf):
    """Every form post needs this session's CSRF token; without it nothing changes."""
    targets = _csrf_targets(app, factory)
    watched = client_row(app, factory.client(client_id="watched").client_id)
    before = row_counts(app)
    for url, data in targets:
        if csrf:
            data = {**data, "csrf_token": csrf}
        response = browser.post(url, data=data)
        assert response.status_code == 400, url
        assert "The form expired" in text(response)
    assert row_counts(app) == before
    assert client_row(app, "watched") == watched


# -- users -----------------------------------------------------------------------------


def _emails(response) -> list[str]:
    return re.findall(r'<a href="/admin/users/[^"]+">([^<]+)</a>', text(response))


def test_users_search_by_text_group_role_and_state(app, browser, factory, admin):
    """q, group, role and state each narrow the list, as in the admin API."""
    ada = factory.account("ada@example.com")
    alan = factory.account("alan@example.com", given_name="Alan", family_name="Turing")
    make_group(app, "staff", ada.sub)
    make_group(app, "editor", alan.sub, model=Role)
    with app.app_context():
        accounts.disable(alan.sub, "test")

    def search(**query):
        response = browser.get("/admin/users", query_string=query)
        assert response.status_code == 200
        return sorted(_emails(response))

    assert search() == ["ada@example.com", "alan@example.com", "root@example.com"]
    assert search(q="TURING") == ["alan@example.com"]
    assert search(group="staff") == ["ada@example.com"]
    assert search(role="editor") == ["alan@example.com"]
    assert search(role="admin") == ["root@example.com"]
    assert search(disabled="yes") == ["alan@example.com"]
    assert search(disabled="no", q="a") == ["ada@example.com", "root@example.com"]
    html = text(browser.get("/admin/users", query_string={"disabled": "yes"}))
    assert 'class="chip disabled"' in html


def test_users_list_pages_with_a_cursor(app, browser, factory, monkeypatch):
    """Next-page links carry a cursor and the filters; every account shows up once."""
    monkeypatch.setattr(users_pages, "PAGE_SIZE", 2)
    for name in ("b1", "b2", "b3", "b4"):
        factory.account(f"{name}@example.com")
    seen, url = [], "/admin/users?q=example.com"
    while url:
        response = browser.get(url)
        assert response.status_code == 200
        seen += _emails(response)
        found = re.search(r'href="([^"]+)" rel="next"', text(response))
        url = found.group(1).replace("&amp;", "&") if found else None
        assert url is None or "q=example.com" in url
    assert sorted(seen) == sorted(
        ["root@example.com", "b1@example.com", "b2@example.com", "b3@example.com", "b4@example.com"]
    )


def _walk(browser, url: str, row: str, next_link: str = r'href="([^"]+)" rel="next"') -> list:
    """The ``row`` matches of every page from ``url`` on, following the next links."""
    seen = []
    while url:
        response = browser.get(url)
        assert response.status_code == 200
        seen += re.findall(row, text(response))
        found = re.search(next_link, text(response))
        url = found.group(1).replace("&amp;", "&") if found else None
    return seen


def test_groups_roles_members_and_clients_page_with_cursors(app, browser, factory, monkeypatch):
    """Each list of the groups and clients pages shows every row once over its pages;
    the groups' and the roles' pagers move independently."""
    monkeypatch.setattr(groups_pages, "PAGE_SIZE", 2)
    monkeypatch.setattr(clients_pages, "PAGE_SIZE", 2)
    members = [factory.account(f"m{n}@example.com").sub for n in range(3)]
    for n in range(3):
        make_group(app, f"g{n}", *members)
        make_group(app, f"r{n}", model=Role)
        factory.client(name=f"RP {n}")
    # Each pager's next link keeps the other list's place: follow the one naming only its own.
    group_link = r'href="(/admin/groups\?groups_after=[^"&]+)" rel="next"'
    role_link = r'href="(/admin/groups\?roles_after=[^"&]+)" rel="next"'
    named_row = r'<a href="/admin/{}/([^"]+)">'
    assert _walk(browser, "/admin/groups", named_row.format("groups"), group_link) == [
        "g0",
        "g1",
        "g2",
    ]
    roles = _walk(browser, "/admin/groups", named_row.format("roles"), role_link)
    assert roles == ["admin", "r0", "r1", "r2"]
    assert _walk(browser, "/admin/groups/g1", r'<a href="/admin/users/[^"]+">([^<]+)</a>') == [
        "m0@example.com",
        "m1@example.com",
        "m2@example.com",
    ]
    clients = _walk(browser, "/admin/clients", r'<a href="/admin/clients/[^"]+">([^<]+)</a>')
    assert [name for name in clients if name.startswith("RP")] == ["RP 0", "RP 1", "RP 2"]


def test_a_cursor_from_another_list_is_400_on_the_dashboard(app, browser, factory, monkeypatch):
    """A next link's cursor works on its own list only: on another one it is a 400."""
    monkeypatch.setattr(clients_pages, "PAGE_SIZE", 1)
    for n in range(2):
        factory.client(name=f"RP {n}")
    found = re.search(r'href="[^"]+after=([^"&]+)" rel="next"', text(browser.get("/admin/clients")))
    cursor = found.group(1)
    make_group(app, "staff")
    assert browser.get(f"/admin/clients?after={cursor}").status_code == 200
    assert browser.get(f"/admin/groups/staff?after={cursor}").status_code == 400
    assert browser.get(f"/admin/groups?roles_after={cursor}").status_code == 400
    assert browser.get("/admin/users", query_string={"cursor": cursor}).status_code == 400


@pytest.mark.parametrize(
    "query", [{"cursor": "not-a-cursor"}, {"disabled": "maybe"}, {"q": "x" * 201}]
)
def test_users_list_refuses_bad_filters_with_400(browser, query):
    """A malformed cursor or filter re-renders the search form with 400."""
    response = browser.get("/admin/users", query_string=query)
    assert response.status_code == 400
    assert 'role="alert"' in text(response)


def test_user_page_shows_the_whole_account(app, browser):
    """Email and phone with their verification, names, groups, roles, custom fields and
    public metadata as key/value lists, dates, state."""
    with app.app_context():
        named.create(Group, "staff", "test")
        named.create(Role, "editor", "test")
        account = accounts.create(
            accounts.AccountInput(
                email="kay@example.com",
                email_verified=True,
                phone_number="+4915112345678",
                given_name="Kay",
                family_name="Ko",
                groups=["staff"],
                roles=["editor"],
                custom_fields={"company": "ACME", "newsletter": True},
                public_metadata={"tier": "gold", "limits": {"seats": 3}},
            ),
            "test",
        )
        sub = account.sub
    response = browser.get(f"/admin/users/{sub}")
    assert response.status_code == 200
    html = text(response)
    for fact in (
        "kay@example.com · verified",
        "+4915112345678 · not verified",
        "Kay",
        "Ko",
        sub,
        "<dt>company</dt>",
        "<dd>ACME</dd>",
        "<dt>tier</dt>",
        "<dd>gold</dd>",
        '{"seats": 3}',
        ">staff</a>",
        ">editor</a>",
        'class="chip enabled"',
        " UTC</time>",
    ):
        assert fact in html, fact
    assert unlabelled(html) == []


def test_unknown_user_is_404(browser):
    assert browser.get("/admin/users/nobody").status_code == 404


def test_disable_then_enable_with_confirmation(app, browser, factory):
    """GET asks, POST disables (303, flash), and enabling works the same way."""
    person = factory.account("pat@example.com")
    confirm = browser.get(f"/admin/users/{person.sub}/disable")
    assert confirm.status_code == 200 and "Disable pat@example.com?" in text(confirm)
    assert account_row(app, person.sub)["disabled"] is False

    response = post(browser, f"/admin/users/{person.sub}/disable")
    assert response.status_code == 303
    assert response.location == f"/admin/users/{person.sub}"
    assert account_row(app, person.sub)["disabled"] is True
    page = browser.get(response.location)
    assert "pat@example.com is disabled." in text(page)
    assert 'class="chip disabled"' in text(page)

    assert browser.get(f"/admin/users/{person.sub}/enable").status_code == 200
    assert post(browser, f"/admin/users/{person.sub}/enable").status_code == 303
    assert account_row(app, person.sub)["disabled"] is False
    with app.app_context():
        kinds = db.session.scalars(select(Event.type).where(Event.type.like("user.%abled")))
        assert sorted(kinds) == ["user.disabled", "user.enabled"]


def test_nobody_can_disable_themself(app, browser, admin):
    """The service refuses it (409); the page says so and nothing is written."""
    page = text(browser.get(f"/admin/users/{admin.sub}"))
    assert "This is you." in page and f"/admin/users/{admin.sub}/disable" not in page
    before = row_counts(app)
    response = post(browser, f"/admin/users/{admin.sub}/disable")
    assert response.status_code == 409
    assert "you cannot disable your own account" in text(response)
    assert row_counts(app) == before and account_row(app, admin.sub)["disabled"] is False


def test_the_service_refuses_self_disable_for_the_api_too(app, admin):
    """accounts.disable(sub, "account:<sub>") raises: the API and the CLI share the rule."""
    with app.app_context():
        with pytest.raises(accounts.CannotDisableSelf):
            accounts.disable(admin.sub, f"account:{admin.sub}")
        assert accounts.find(admin.sub).disabled is False


def test_secondary_admin_cannot_disable_an_admin(app, factory, admin):
    """Acting on an account with roles beyond one's own is 403 and writes nothing."""
    browser, _ = signed_in(app, factory, "sam@example.com", ("secondary_admin",))
    before = row_counts(app)
    response = post(browser, f"/admin/users/{admin.sub}/disable")
    assert response.status_code == 403
    assert "your roles do not allow" in text(response)
    assert row_counts(app) == before and account_row(app, admin.sub)["disabled"] is False


def test_add_and_remove_groups_and_roles_on_the_user_page(app, browser, factory):
    """The user page adds and removes groups and roles through the groups service."""
    person = factory.account("pat@example.com")
    make_group(app, "staff")
    make_group(app, "user_invite", model=Role)
    url = f"/admin/users/{person.sub}/memberships"
    for kind, name in (("groups", "staff"), ("roles", "user_invite")):
        response = post(browser, url, kind=kind, name=name)
        assert response.status_code == 303, text(response)
    assert account_row(app, person.sub) == {
        "disabled": False,
        "groups": ["staff"],
        "roles": ["user_invite"],
    }
    assert "pat@example.com now belongs to user_invite." in text(browser.get(response.location))
    for kind, name in (("groups", "staff"), ("roles", "user_invite")):
        assert post(browser, url + "/remove", kind=kind, name=name).status_code == 303
    assert account_row(app, person.sub)["groups"] == []
    assert account_row(app, person.sub)["roles"] == []


@pytest.mark.parametrize(
    "data, status, message",
    [
        ({"kind": "groups", "name": "nope"}, 400, "no group &#39;nope&#39;"),
        ({"kind": "groups", "name": ""}, 400, "This field is required."),
        ({"kind": "teams", "name": "staff"}, 400, "Not a valid choice"),
        ({"kind": "groups", "name": "x" * 65}, 400, "Field cannot be longer"),
    ],
)
def test_bad_membership_input_is_400_and_writes_nothing(
    app, browser, factory, data, status, message
):
    """Unknown names, empty or long input re-render the user page with the error."""
    person = factory.account("pat@example.com")
    make_group(app, "staff")
    before = row_counts(app)
    response = post(browser, f"/admin/users/{person.sub}/memberships", **data)
    assert response.status_code == status
    assert message in text(response)
    assert row_counts(app) == before


def test_secondary_admin_cannot_grant_or_take_admin(app, factory, admin):
    """Granting admin, or taking it away, is beyond a secondary_admin: 403, no change."""
    browser, _ = signed_in(app, factory, "sam@example.com", ("secondary_admin",))
    person = factory.account("pat@example.com")
    before = row_counts(app)
    grant = post(browser, f"/admin/users/{person.sub}/memberships", kind="roles", name="admin")
    assert grant.status_code == 403 and "your roles do not allow" in text(grant)
    take = post(browser, f"/admin/users/{admin.sub}/memberships/remove", kind="roles", name="admin")
    assert take.status_code == 403
    assert row_counts(app) == before


def queued_emails(application) -> list[tuple[str, str, str]]:
    """(topic, recipient, sealed payload as text) of every email in the outbox."""
    with application.app_context():
        items = db.session.scalars(select(OutboxItem).where(OutboxItem.kind == "email"))
        return [(item.topic, item.recipient, str(payload_of(item))) for item in items]


def _password_links(application, sub: str) -> list[tuple[str, str]]:
    with application.app_context():
        account = accounts.find(sub)
        rows = db.session.scalars(
            select(PasswordToken).where(PasswordToken.account_id == account.id)
        )
        return [(row.purpose, row.created_by) for row in rows]


def test_email_a_set_password_link(app, browser, factory, admin):
    """'Email the link' issues a set-password link, queues its email and comes back
    with a flash; the link itself is not on the page."""
    person = factory.account("pat@example.com")
    response = post(
        browser,
        f"/admin/users/{person.sub}/password-link",
        lang="de",
        expires_in=str(24 * 3600),
        email_link="1",
    )
    assert response.status_code == 303
    assert _password_links(app, person.sub) == [("set", f"account:{admin.sub}")]
    [(topic, recipient, payload)] = queued_emails(app)
    assert (topic, recipient) == ("set_password", "pat@example.com")
    link = re.search(r"http://localhost/password/reset/[A-Za-z0-9_-]+", payload).group(0)
    page = text(browser.get(response.location))
    assert "A set-password link is on its way to pat@example.com." in page
    assert link not in page


def test_show_a_set_password_link_once(app, browser, factory):
    """'Show the link here' renders it in the POST's response only: no email, no redirect."""
    person = factory.account("pat@example.com")
    response = post(browser, f"/admin/users/{person.sub}/password-link", show_link="1")
    assert response.status_code == 200 and queued_emails(app) == []
    link = re.search(r'id="password-link">([^<]+)<', text(response)).group(1)
    assert link.startswith("http://localhost/password/reset/")
    assert response.headers["Cache-Control"] == "no-store"
    assert link not in text(browser.get(f"/admin/users/{person.sub}"))
    assert len(_password_links(app, person.sub)) == 1


@pytest.mark.parametrize("data", [{"lang": "fr"}, {"expires_in": "60"}])
def test_bad_password_link_choices_are_400_and_write_nothing(app, browser, factory, data):
    """Choices the form does not offer are refused before the service runs."""
    person = factory.account("pat@example.com")
    before = row_counts(app)
    response = post(browser, f"/admin/users/{person.sub}/password-link", **data)
    assert response.status_code == 400
    assert row_counts(app) == before


def test_no_set_password_link_for_a_disabled_account(app, browser, factory):
    """The service refuses (409); the user page says why; nothing is written."""
    person = factory.account("pat@example.com")
    with app.app_context():
        accounts.disable(person.sub, "test")
    before = row_counts(app)
    response = post(browser, f"/admin/users/{person.sub}/password-link", email_link="1")
    assert response.status_code == 409
    assert "enable it before issuing a link" in text(response)
    assert row_counts(app) == before


# -- groups and roles ------------------------------------------------------------------


def test_groups_page_lists_groups_and_roles(app, browser):
    """Two tables, each linking to the members page."""
    make_group(app, "staff")
    html = text(browser.get("/admin/groups"))
    assert 'href="/admin/groups/staff"' in html and 'href="/admin/roles/admin"' in html
    assert html.count('<table class="list">') == 2
    assert unlabelled(html) == []


@pytest.mark.parametrize("kind, model", [("groups", Group), ("roles", Role)])
def test_create_a_group_or_role(app, browser, kind, model):
    """Creating answers 303 to the new (empty) members page."""
    response = post(browser, "/admin/groups", kind=kind, name="team-a.ops:eu_1")
    assert response.status_code == 303
    assert response.location == f"/admin/{kind}/team-a.ops:eu_1"
    page = browser.get(response.location)
    assert page.status_code == 200 and "team-a.ops:eu_1 is created." in text(page)
    with app.app_context():
        assert named.find(model, "team-a.ops:eu_1")


@pytest.mark.parametrize(
    "data, status, message",
    [
        ({"kind": "groups", "name": ""}, 400, "This field is required."),
        ({"kind": "groups", "name": "has space"}, 400, "names are 1 to 64 letters"),
        ({"kind": "groups", "name": "ü"}, 400, "names are 1 to 64 letters"),
        ({"kind": "groups", "name": "x" * 65}, 400, "Field cannot be longer"),
        ({"kind": "teams", "name": "ok"}, 400, "Not a valid choice"),
        ({"kind": "groups", "name": "staff"}, 409, "a group named &#39;staff&#39; already"),
        ({"kind": "roles", "name": "admin"}, 409, "a role named &#39;admin&#39; already"),
    ],
)
def test_bad_group_names_rerender_and_write_nothing(app, browser, data, status, message):
    """Invalid or taken names come back next to the field; nothing is created."""
    make_group(app, "staff")
    before = row_counts(app)
    response = post(browser, "/admin/groups", **data)
    assert response.status_code == status
    assert message in text(response) and 'aria-invalid="true"' in text(response)
    assert row_counts(app) == before


def test_members_add_by_email_or_sub_remove_and_rename(app, browser, factory):
    """The members page adds people by email or sub, removes them, renames the group."""
    ada = factory.account("ada@example.com")
    alan = factory.account("alan@example.com")
    make_group(app, "staff")
    assert post(browser, "/admin/groups/staff/members", who="ADA@example.com").status_code == 303
    assert post(browser, "/admin/groups/staff/members", who=alan.sub).status_code == 303
    html = text(browser.get("/admin/groups/staff"))
    assert "ada@example.com" in html and "alan@example.com" in html
    assert unlabelled(html) == []

    response = post(browser, f"/admin/groups/staff/members/{ada.sub}/remove")
    assert response.status_code == 303
    assert "ada@example.com no longer belongs to staff." in text(browser.get(response.location))
    assert account_row(app, ada.sub)["groups"] == []

    response = post(browser, "/admin/groups/staff/rename", name="crew")
    assert response.status_code == 303 and response.location == "/admin/groups/crew"
    assert account_row(app, alan.sub)["groups"] == ["crew"]


@pytest.mark.parametrize(
    "url, data, message",
    [
        ("/admin/groups/staff/members", {"who": "nobody@example.com"}, "no account has this"),
        ("/admin/groups/staff/members", {"who": ""}, "This field is required."),
        ("/admin/groups/staff/rename", {"name": "bad name"}, "names are 1 to 64 letters"),
        ("/admin/groups/staff/rename", {"name": ""}, "This field is required."),
    ],
)
def test_bad_member_or_name_is_400_and_writes_nothing(app, browser, url, data, message):
    """Unknown people and invalid names re-render the members page with 400."""
    make_group(app, "staff")
    before = row_counts(app)
    response = post(browser, url, **data)
    assert response.status_code == 400
    assert message in text(response)
    assert row_counts(app) == before
    with app.app_context():
        assert named.find(Group, "staff")


def test_rename_to_a_taken_name_is_409(app, browser):
    make_group(app, "staff")
    make_group(app, "crew")
    response = post(browser, "/admin/groups/staff/rename", name="crew")
    assert response.status_code == 409 and "already exists" in text(response)


def test_roles_are_not_renamed(browser):
    """A role's name is what grants its powers: there is no rename for roles."""
    assert 'action="/admin/groups/admin/rename"' not in text(browser.get("/admin/roles/admin"))
    assert post(browser, "/admin/roles/admin/rename", name="x").status_code in (404, 405)


def test_secondary_admin_cannot_add_admins_on_the_role_page(app, factory, admin):
    """Role members beyond one's own powers: 403, nothing written."""
    browser, _ = signed_in(app, factory, "sam@example.com", ("secondary_admin",))
    person = factory.account("pat@example.com")
    before = row_counts(app)
    response = post(browser, "/admin/roles/admin/members", who=person.email)
    assert response.status_code == 403
    assert row_counts(app) == before


def test_unknown_group_page_is_404(browser):
    assert browser.get("/admin/groups/nope").status_code == 404


# -- clients ---------------------------------------------------------------------------

NEW_CLIENT = {
    "name": "Shop",
    "redirect_uris": "https://shop.example/cb\r\n\r\n  https://shop.example/cb2  ",
    "post_logout_redirect_uris": "https://shop.example/bye",
    "initiate_login_uri": "https://shop.example/login",
    "scope": ["openid", "email"],
    "grant_types": ["authorization_code", "refresh_token"],
    "auth_method": "client_secret_basic",
    "first_party": "y",
    "require_pkce": "y",
    "signup_mode": "restricted",
}


def _new_client(browser, **changes):
    page = browser.get("/admin/clients/new")
    assert page.status_code == 200
    client_id = re.search(r'id="client_id" name="client_id"[^>]* value="([^"]+)"', text(page))
    data = {"client_id": client_id.group(1), **NEW_CLIENT, **changes}
    return post(browser, "/admin/clients/new", **data), data["client_id"]


def test_register_a_confidential_client_shows_its_secret_once(app, browser):
    """The POST's response shows the secret (stored hashed); the client's page and the
    list never do."""
    response, client_id = _new_client(browser)
    assert response.status_code == 200
    html = text(response)
    secret = re.search(r'id="client-secret"[^>]*>([^<]+)<', html).group(1)
    assert response.headers["Cache-Control"] == "no-store"
    row = client_row(app, client_id)
    assert secret_matches(secret, row["client_secret_hash"])
    assert row["redirect_uris"] == ["https://shop.example/cb", "https://shop.example/cb2"]
    assert row["post_logout_redirect_uris"] == ["https://shop.example/bye"]
    assert row["initiate_login_uri"] == "https://shop.example/login"
    assert row["scope"] == "openid email" and row["signup_mode"] == "restricted"
    assert row["first_party"] is True and row["require_pkce"] is True
    for url in (f"/admin/clients/{client_id}", "/admin/clients"):
        page = browser.get(url)
        assert page.status_code == 200 and secret not in text(page)
        assert "Shop" in text(page)


def test_the_new_client_form_is_labelled(browser):
    """Every control has a label; scopes are shown by their names."""
    html = text(browser.get("/admin/clients/new"))
    assert unlabelled(html) == []
    assert 'value="email" checked> email</label>' in html


def test_register_a_public_client_goes_to_its_page(app, browser):
    """A public client has no secret: 303 to its page with a flash."""
    response, client_id = _new_client(browser, auth_method="none")
    assert response.status_code == 303
    assert response.location == f"/admin/clients/{client_id}"
    assert "Shop is registered." in text(browser.get(response.location))
    row = client_row(app, client_id)
    assert row["token_endpoint_auth_method"] == "none" and row["client_secret_hash"] is None


def test_sending_the_registration_form_twice_registers_one_client(app, browser):
    """A reload of the result page re-posts the same client_id: 409, no second client."""
    response, client_id = _new_client(browser)
    assert response.status_code == 200
    before = row_counts(app)
    again = post(browser, "/admin/clients/new", **{**NEW_CLIENT, "client_id": client_id})
    assert again.status_code == 409
    assert "is taken" in text(again) and 'id="client-secret"' not in text(again)
    assert row_counts(app) == before


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"name": ""}, "This field is required."),
        ({"redirect_uris": "ftp://shop.example/cb"}, "not an absolute http(s) URI"),
        ({"redirect_uris": "https://shop.example/cb#frag"}, "without fragment"),
        ({"post_logout_redirect_uris": "not a uri"}, "not an absolute http(s) URI"),
        ({"initiate_login_uri": "javascript:alert(1)"}, "not an absolute http(s) URI"),
        ({"redirect_uris": "\n".join(f"https://a.example/{i}" for i in range(51))}, "at most 50"),
        ({"scope": ["openid", "root"]}, "not a valid choice"),
        ({"grant_types": []}, "This field is required."),
        ({"grant_types": ["password"]}, "not a valid choice"),
        ({"auth_method": "none", "require_pkce": ""}, "public clients always require PKCE"),
        (
            {"auth_method": "none", "grant_types": ["client_credentials"]},
            "public clients cannot use client_credentials",
        ),
        ({"signup_mode": "open"}, "Not a valid choice"),
        ({"client_id": "has space"}, "Letters, digits"),
        ({"name": "x" * 129}, "Field cannot be longer"),
    ],
)
def test_invalid_client_settings_rerender_with_400_and_write_nothing(
    app, browser, changes, message
):
    """Each invalid setting comes back on the form with 400; no client is registered."""
    before = row_counts(app)
    response, _ = _new_client(browser, **changes)
    assert response.status_code == 400, text(response)
    assert message.lower() in text(response).replace("&#39;", "'").lower()
    assert 'id="client-secret"' not in text(response)
    assert row_counts(app) == before


def test_edit_a_client(app, browser, factory):
    """The edit form is prefilled; saving changes URIs, flags, PKCE and sign-up mode."""
    rp = factory.client(name="Shop", first_party=False)
    page = text(browser.get(f"/admin/clients/{rp.client_id}/edit"))
    assert "https://rp.example.com/callback</textarea>" in page
    assert unlabelled(page) == []
    response = post(
        browser,
        f"/admin/clients/{rp.client_id}/edit",
        name="Shop 2",
        redirect_uris="https://rp.example.com/a\nhttps://rp.example.com/b",
        post_logout_redirect_uris="",
        initiate_login_uri="https://rp.example.com/login",
        scope=["openid", "profile"],
        first_party="y",
        signup_mode="closed",
    )
    assert response.status_code == 303
    assert response.location == f"/admin/clients/{rp.client_id}"
    row = client_row(app, rp.client_id)
    assert row["name"] == "Shop 2"
    assert row["redirect_uris"] == ["https://rp.example.com/a", "https://rp.example.com/b"]
    assert row["post_logout_redirect_uris"] == []
    assert row["initiate_login_uri"] == "https://rp.example.com/login"
    assert row["scope"] == "openid profile" and row["first_party"] is True
    assert row["require_pkce"] is False and row["signup_mode"] == "closed"
    assert "The client&#39;s settings are saved." in text(browser.get(response.location))


@pytest.mark.parametrize(
    "changes",
    [
        {"redirect_uris": "https://rp.example.com/ok\nnot-a-uri"},
        {"name": ""},
        {"signup_mode": "sometimes"},
        {"require_pkce": ""},  # a public client always requires PKCE (service rule)
    ],
)
def test_invalid_edits_are_400_and_change_nothing(app, browser, factory, changes):
    """A bad setting re-renders the form with 400; the stored client is unchanged."""
    rp = factory.client(public=True)
    before = client_row(app, rp.client_id)
    data = {
        "name": "Test RP",
        "redirect_uris": rp.redirect_uri,
        "scope": ["openid"],
        "require_pkce": "y",
        **changes,
    }
    response = post(browser, f"/admin/clients/{rp.client_id}/edit", **data)
    assert response.status_code == 400, text(response)
    assert 'role="alert"' in text(response)
    assert client_row(app, rp.client_id) == before


def test_rotate_a_secret_with_confirmation(app, browser, factory):
    """GET asks; POST shows the new secret once; the old one stops working."""
    rp = factory.client()
    confirm = browser.get(f"/admin/clients/{rp.client_id}/rotate-secret")
    assert confirm.status_code == 200 and "Replace the secret of Test RP?" in text(confirm)
    assert secret_matches(rp.secret, client_row(app, rp.client_id)["client_secret_hash"])

    response = post(browser, f"/admin/clients/{rp.client_id}/rotate-secret")
    assert response.status_code == 200
    secret = re.search(r'id="client-secret"[^>]*>([^<]+)<', text(response)).group(1)
    row = client_row(app, rp.client_id)
    assert secret_matches(secret, row["client_secret_hash"])
    assert not secret_matches(rp.secret, row["client_secret_hash"])
    assert row["secret_rotated_at"] is not None
    assert secret not in text(browser.get(f"/admin/clients/{rp.client_id}"))


def test_a_public_client_has_no_secret_to_rotate(app, browser, factory):
    """The page says so and offers no button; a POST anyway is 409, nothing changes."""
    rp = factory.client(public=True)
    page = text(browser.get(f"/admin/clients/{rp.client_id}/rotate-secret"))
    assert "Public clients have no secret." in page and "Replace the secret</button>" not in page
    before = client_row(app, rp.client_id)
    response = post(browser, f"/admin/clients/{rp.client_id}/rotate-secret")
    assert response.status_code == 409
    assert client_row(app, rp.client_id) == before


def test_clients_list_and_unknown_client(browser, factory):
    factory.client(name="Shop")
    html = text(browser.get("/admin/clients"))
    assert "Shop" in html and 'class="chip"' in html
    assert browser.get("/admin/clients/nope").status_code == 404
    assert browser.get("/admin/clients?after=zz").status_code == 400


# -- languages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, german",
    [
        ("/admin/users", "E-Mail oder Name"),
        ("/admin/groups", "Gruppe oder Rolle anlegen"),
        ("/admin/clients/new", "Registrierungsmodus"),
    ],
)
def test_pages_speak_german(browser, url, german):
    """Accept-Language: de gives the German strings."""
    response = browser.get(url, headers={"Accept-Language": "de"})
    assert german in text(response)


# -- nobody writes to an account beyond their own roles (issue 10) ------------------------


def test_secondary_admin_cannot_change_an_admins_groups_or_lesser_roles(app, factory, admin):
    """Adding an admin to a group or a custom role, or taking them out, from the user
    page or the group page: 403 naming the reason, nothing written."""
    browser, _ = signed_in(app, factory, "sam@example.com", ("secondary_admin",))
    make_group(app, "staff")
    make_group(app, "crew", admin.sub)
    make_group(app, "editor", model=Role)
    before = row_counts(app)
    user_page = f"/admin/users/{admin.sub}/memberships"
    attempts = [
        post(browser, user_page, kind="groups", name="staff"),
        post(browser, user_page, kind="roles", name="editor"),
        post(browser, user_page + "/remove", kind="groups", name="crew"),
        post(browser, "/admin/groups/staff/members", who=admin.email),
        post(browser, f"/admin/groups/crew/members/{admin.sub}/remove"),
    ]
    for response in attempts:
        assert response.status_code == 403, text(response)
        assert "your roles do not allow granting or acting on admin" in text(response)
    assert row_counts(app) == before
    assert account_row(app, admin.sub)["groups"] == ["crew"]


def test_secondary_admin_cannot_issue_a_password_link_for_an_admin(app, factory, admin):
    """A set-password link for an admin would hand over the account: 403, no link."""
    browser, _ = signed_in(app, factory, "sam@example.com", ("secondary_admin",))
    before = row_counts(app)
    response = post(browser, f"/admin/users/{admin.sub}/password-link", notify="")
    assert response.status_code == 403
    assert "your roles do not allow" in text(response)
    assert row_counts(app) == before
