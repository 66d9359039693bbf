"""The dashboard's invitations section (spec §7.4, issue 6): list, filters, pages, the
funnel; invite one person; bulk CSV; detail with history; resend and revoke; who may
do what. Pages call the admin API's services, so these tests check the pages' own
behaviour: status codes, what is shown once, and that refusals write nothing."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.dashboard.funnel import duration
from app.extensions import db
from app.invitations import service
from app.models import Event, Group, Invitation, Role, utcnow
from tests.helpers import (
    INITIATE_LOGIN_URI,
    csrf_token,
    invite,
    row_counts,
    sign_in,
    update_rows,
)

LIST = "/admin/invitations"
NEW = "/admin/invitations/new"
BULK = "/admin/invitations/bulk"


@pytest.fixture
def rp(factory):
    """A relying party invitations can target."""
    return factory.client(client_id="shop", name="Shop", initiate_login_uri=INITIATE_LOGIN_URI)


@pytest.fixture
def catalogue(app):
    """The groups and roles the invitations may name."""
    with app.app_context():
        db.session.add_all([Group(name="staff"), Group(name="beta"), Role(name="editor")])
        db.session.commit()


def signed_in(app, factory, email: str, roles: tuple[str, ...]):
    """A test client signed in as a new person holding ``roles``."""
    browser = app.test_client()
    response = sign_in(browser, factory.account(email, roles=roles))
    assert response.status_code in (302, 303), response.data
    return browser


@pytest.fixture
def admin(app, factory):
    """A browser signed in as an administrator."""
    return signed_in(app, factory, "root@example.com", ("admin",))


@pytest.fixture
def inviter(app, factory):
    """A browser signed in as a person who may only invite (and resend)."""
    return signed_in(app, factory, "ivy@example.com", ("user_invite",))


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def post_form(browser, page_url: str, data: dict, url: str | None = None, **kw):
    """Open ``page_url``, then post ``data`` with that page's CSRF token."""
    page = browser.get(page_url)
    assert page.status_code == 200, page.data
    token = csrf_token(page.get_data(as_text=True))
    return browser.post(url or page_url, data={"csrf_token": token, **data}, **kw)


def stored(app, public_id: str) -> dict:
    """The stored invitation as plain values."""
    with app.app_context():
        row = service.find(public_id)
        return {
            "state": row.state,
            "email": row.email,
            "invited_by": row.invited_by,
            "groups": sorted(g.name for g in row.groups),
            "roles": sorted(r.name for r in row.roles),
            "notify": row.notify,
            "lang": row.lang,
            "lifetime": round((row.expires_at - row.created_at).total_seconds()),
            "custom_fields": row.custom_fields,
            "token_hash": row.token_hash,
        }


def invitation_ids(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Invitation.public_id).order_by(Invitation.id)))


def shown_links(text: str) -> list[str]:
    """The values of the read-only link fields on a page."""
    return re.findall(r'<input type="text" class="secret"[^>]*value="([^"]+)"', text)


# -- the list ------------------------------------------------------------------------------


def test_list_shows_states_addresses_and_the_funnel(app, admin, rp, catalogue):
    """Rows carry state chips, address, name, client and groups; the chart counts states."""
    kept = invite(
        app, email="ada@example.com", given_name="Ada", client_id="shop", groups=["staff"]
    )
    gone = invite(app, email="bob@example.com", notify=False)
    with app.app_context():
        service.revoke(gone.id, "test")
    response = admin.get(LIST)
    assert response.status_code == 200
    text = text_of(response)
    assert 'class="chip initiated"' in text and 'class="chip revoked"' in text
    assert "ada@example.com" in text and "Ada" in text and "Shop" in text and "staff" in text
    assert f"/admin/invitations/{kept.id}" in text
    assert '<svg class="funnel"' in text
    assert "Invited: 2." in text and "Revoked: 1." in text and "Still open: 1." in text
    assert "0%" in text  # acceptance rate: none of the one decided was accepted


def test_list_filters_by_text_state_client_and_group(app, admin, rp, catalogue):
    """Each filter narrows the rows; the form shows the values it was given."""
    invite(app, email="ada@example.com", given_name="Ada", client_id="shop", groups=["staff"])
    invite(app, email="bob@example.com", given_name="Bob", groups=["beta"])
    revoked = invite(app, email="cy@example.com", given_name="Cy")
    with app.app_context():
        service.revoke(revoked.id, "test")

    def rows(**query) -> list[str]:
        response = admin.get(LIST, query_string=query)
        assert response.status_code == 200
        return sorted(re.findall(r">(\w+)@example\.com</a>", response.get_data(as_text=True)))

    assert rows() == ["ada", "bob", "cy"]
    assert rows(q="BO") == ["bob"]
    assert rows(state="revoked") == ["cy"]
    assert rows(state="initiated") == ["ada", "bob"]
    assert rows(client_id="shop") == ["ada"]
    assert rows(group="beta") == ["bob"]
    assert rows(q="ada", group="beta") == []
    assert 'selected value="revoked"' in admin.get(LIST, query_string={"state": "revoked"}).text


def test_list_pages_with_the_query_cursor(app, admin):
    """25 rows a page, newest first; the next link keeps the filters and ends on the last page."""
    for n in range(28):
        invite(app, email=f"p{n:02d}@example.com", notify=False)
    first = admin.get(LIST, query_string={"q": "example"})
    names = re.findall(r">(p\d\d)@example\.com</a>", first.text)
    assert names == [f"p{n:02d}" for n in range(27, 2, -1)]
    next_url = html.unescape(re.search(r'href="([^"]+)" rel="next"', first.text).group(1))
    assert parse_qs(urlsplit(next_url).query)["q"] == ["example"]
    second = admin.get(next_url)
    assert re.findall(r">(p\d\d)@example\.com</a>", second.text) == ["p02", "p01", "p00"]
    assert 'rel="next"' not in second.text and "First page" in second.text


def test_a_foreign_cursor_starts_again_on_the_first_page(admin):
    """A cursor this server did not sign is not an error page: back to the first page."""
    response = admin.get(LIST, query_string={"cursor": "not-a-cursor"})
    assert response.status_code == 303 and response.location.endswith(LIST)
    assert "no longer works" in admin.get(LIST).text


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (5, ("minutes", 1)),
        (89 * 60, ("minutes", 89)),
        (5 * 3600, ("hours", 5)),
        (3 * 86400, ("days", 3)),
    ],
)
def test_the_median_time_to_accept_reads_at_a_glance(seconds, shown):
    """Minutes below an hour and a half, hours below two days, then days."""
    assert duration(seconds) == shown


def test_pages_speak_german(app, admin):
    """Accept-Language: de gives the German strings."""
    invite(app, email="ada@example.com")
    text = text_of(admin.get(LIST, headers={"Accept-Language": "de"}))
    assert "Person einladen" in text and "Was aus den Einladungen wird" in text
    assert 'class="chip initiated">Angelegt<' in text


# -- inviting one person -------------------------------------------------------------------


def test_invite_without_notify_shows_the_link_once(app, admin, rp, catalogue):
    """The answer is the detail page with the link; the link is in no URL and not shown again."""
    before = row_counts(app)
    response = post_form(
        admin,
        NEW,
        {
            "email": "Ada@Example.com",
            "given_name": "Ada",
            "client_id": "shop",
            "groups": ["staff", "beta"],
            "roles": ["editor"],
            "lang": "de",
            "template_key": "invite_user",
            "expires_in_days": "3",
            "custom_fields": '{"team": "blue"}',
        },
    )
    assert response.status_code == 201, response.data
    assert "Location" not in response.headers
    text = text_of(response)
    short, full = shown_links(text)
    assert short.startswith("http://localhost/i/")
    assert full.startswith(INITIATE_LOGIN_URI + "&invite_id=")
    assert "Invitation created for ada@example.com." in text
    (public_id,) = invitation_ids(app)
    got = stored(app, public_id)
    assert (got["email"], got["groups"], got["roles"], got["lang"]) == (
        "ada@example.com",
        ["beta", "staff"],
        ["editor"],
        "de",
    )
    assert (got["notify"], got["lifetime"], got["custom_fields"]) == (
        False,
        3 * 86400,
        {"team": "blue"},
    )
    assert got["invited_by"].startswith("account:")
    assert row_counts(app)["invitations"] == before["invitations"] + 1
    again = admin.get(f"{LIST}/{public_id}")
    assert again.status_code == 200 and shown_links(again.text) == []
    assert short not in again.text and "Created" in again.text


def test_invite_with_notify_redirects_to_the_detail(app, admin):
    """With notify on there is no link to show: 303 to the detail page and a flash."""
    response = post_form(admin, NEW, {"mobile_number": "+49 151 1234 5678", "notify": "y"})
    assert response.status_code == 303, response.data
    (public_id,) = invitation_ids(app)
    assert response.location.endswith(f"/admin/invitations/{public_id}")
    page = admin.get(response.location)
    assert "the message to +4915112345678 is on its way" in page.text
    assert shown_links(page.text) == []
    assert stored(app, public_id)["notify"] is True


def test_invalid_email_is_a_400_next_to_the_field_and_writes_nothing(app, admin):
    """The service's refusal comes back on the form; nothing is stored."""
    before = row_counts(app)
    response = post_form(admin, NEW, {"email": "not-an-address", "given_name": "Ada"})
    assert response.status_code == 400
    text = text_of(response)
    assert re.search(r'id="email-error">This is not a valid email address', text)
    assert 'value="Ada"' in text  # what was typed is kept
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("custom_fields", "{not json", "This is not valid JSON (line 1, column 2)."),
        ("public_metadata", "[1, 2]", "This must be a JSON object"),
        ("expires_in_days", "0", "A whole number of days from 1 to 365."),
        ("expires_in_days", "9" * 5000, "A whole number of days from 1 to 365."),
    ],
)
def test_form_errors_are_400_with_clear_messages(app, admin, field, value, message):
    """JSON text areas and the lifetime are checked with messages naming the problem."""
    before = row_counts(app)
    response = post_form(admin, NEW, {"email": "ada@example.com", field: value})
    assert response.status_code == 400
    assert re.search(rf'id="{field}-error">{re.escape(message)}', text_of(response))
    assert row_counts(app) == before


def test_unknown_group_and_nan_metadata_are_refused_by_the_service(app, admin, catalogue):
    """Rules the service owns (unknown names, non-JSON values) show up on their fields."""
    before = row_counts(app)
    response = post_form(admin, NEW, {"email": "ada@example.com", "groups": ["nope"]})
    assert response.status_code == 400
    assert 'id="groups-error">unknown groups: nope' in text_of(response)
    response = post_form(admin, NEW, {"email": "ada@example.com", "public_metadata": '{"x": NaN}'})
    assert response.status_code == 400
    assert 'id="public_metadata-error">public_metadata must be plain JSON' in text_of(response)
    assert row_counts(app) == before


def test_a_second_pending_invitation_is_a_409_with_a_link_to_the_first(app, admin):
    """The conflict names the pending invitation; nothing new is stored."""
    first = invite(app, email="ada@example.com")
    before = row_counts(app)
    response = post_form(admin, NEW, {"email": "ada@example.com"})
    assert response.status_code == 409
    assert f'href="/admin/invitations/{first.id}"' in response.text
    assert row_counts(app) == before


def test_posts_without_a_csrf_token_are_400_and_write_nothing(app, admin, rp):
    """Create, bulk create, resend and revoke all need the form's CSRF token."""
    pending = invite(app, email="ada@example.com", notify=False)
    before = row_counts(app)
    for url, data in [
        (NEW, {"email": "new@example.com"}),
        (f"{BULK}/create", {"payload": "x"}),
        (f"{LIST}/{pending.id}/resend", {}),
        (f"{LIST}/{pending.id}/revoke", {}),
    ]:
        response = admin.post(url, data=data)
        assert response.status_code == 400, url
        assert "The form expired or was not sent from this site" in response.text
    assert row_counts(app) == before
    assert stored(app, pending.id)["state"] == "initiated"


# -- bulk ----------------------------------------------------------------------------------

CSV = (
    "email,given_name,client_id,groups,notify,expires_in\n"
    "ada@example.com,Ada,shop,staff;beta,false,7200\n"
    "bob@example.com,Bob,shop,nope,false,\n"
    "not-an-address,Cy,,,,\n"
    "dee@example.com,Dee,,,true,soon\n"
    "eve@example.com,Eve,,,true,\n"
)


def upload(browser, text: str, filename: str = "people.csv"):
    """Step 1: post the file to the preview."""
    page = browser.get(BULK)
    assert page.status_code == 200
    data = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "file": (io.BytesIO(text.encode()), filename),
    }
    return browser.post(BULK, data=data, content_type="multipart/form-data")


def test_bulk_preview_checks_every_row_and_writes_nothing(app, admin, rp, catalogue):
    """Each row shows its values and the problem the service would refuse it for."""
    before = row_counts(app)
    response = upload(admin, CSV)
    assert response.status_code == 200, response.data
    text = text_of(response)
    assert row_counts(app) == before
    assert "2 of 5 rows can be created" in text
    rows = re.findall(r'<tr( class="bad")?>\s*<th scope="row">(\d+)</th>', text)
    assert [(line, bool(bad)) for bad, line in rows] == [
        ("2", False),
        ("3", True),
        ("4", True),
        ("5", True),
        ("6", False),
    ]
    assert "unknown groups: nope" in text
    assert "email: This is not a valid email address" in text
    assert "expires_in: not a whole number of seconds: 'soon'" in text
    assert "Create 2 invitations" in text


def test_bulk_preview_sees_pending_invitations_but_not_lapsed_ones(app, admin):
    """A pending invitation for the address is a conflict; one past its expiry is not (the
    create would expire it first), and the preview does not expire it itself."""
    invite(app, email="ada@example.com")
    lapsed = invite(app, email="bob@example.com")
    update_rows(app, Invitation, {"public_id": lapsed.id}, expires_at=utcnow() - timedelta(hours=1))
    before = row_counts(app)
    text = text_of(upload(admin, "email\nada@example.com\nbob@example.com\n"))
    assert "1 of 2 rows can be created" in text
    assert "a pending invitation for this address and client exists" in text
    assert row_counts(app) == before and stored(app, lapsed.id)["state"] == "initiated"


def test_bulk_create_reports_each_row_and_offers_the_links(app, admin, rp, catalogue):
    """Good rows are created in one go, bad rows reported; the links of rows without
    notify are offered as a download, not shown on the page."""
    preview = upload(admin, CSV)
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', preview.text).group(1)
    response = admin.post(
        f"{BULK}/create",
        data={"csrf_token": csrf_token(preview.text), "payload": payload},
    )
    assert response.status_code == 200, response.data
    text = text_of(response)
    assert "2 created, 3 not created." in text
    ada, eve = invitation_ids(app)
    assert f"/admin/invitations/{ada}" in text and f"/admin/invitations/{eve}" in text
    assert "unknown groups: nope" in text
    assert shown_links(text) == [] and "http://localhost/i/" not in text
    assert "The link of 1 invitation that sends no message" in text  # Ada: notify false
    assert 'action="/admin/invitations/bulk/links"' in text
    got = stored(app, ada)
    assert (got["groups"], got["lifetime"], got["notify"]) == (["beta", "staff"], 7200, False)
    assert stored(app, eve)["notify"] is True
    again = admin.post(
        f"{BULK}/create",
        data={"csrf_token": csrf_token(preview.text), "payload": payload},
    )
    assert "0 created, 5 not created." in text_of(again)  # a replay creates no duplicates
    assert len(invitation_ids(app)) == 2


def test_bulk_create_refuses_a_payload_it_did_not_sign(app, admin, rp):
    """An altered (or another person's) preview is refused and nothing is written."""
    preview = upload(admin, "email\nada@example.com\n")
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', preview.text).group(1)
    before = row_counts(app)
    for forged in (payload[:-2] + "xx", "email\nmallory@example.com\n"):
        response = admin.post(
            f"{BULK}/create", data={"csrf_token": csrf_token(preview.text), "payload": forged}
        )
        assert response.status_code == 400
        assert "too old or was altered" in response.text
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("email,group\nada@example.com,staff\n", "unknown column(s) group"),
        ("email\n", "The file has no rows below its header."),
        (None, "The file is not UTF-8 text."),
    ],
)
def test_bulk_refuses_files_it_cannot_read(app, admin, content, message):
    """A wrong header, no rows, or not UTF-8: a 400 on the upload form."""
    page = admin.get(BULK)
    raw = content.encode() if content is not None else "email\nzoë@example.com\n".encode("latin-1")
    response = admin.post(
        BULK,
        data={"csrf_token": csrf_token(page.text), "file": (io.BytesIO(raw), "people.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert message in text_of(response)


def test_bulk_without_a_file_asks_for_one(admin):
    """Posting the form without choosing a file is a 400 with a hint."""
    response = post_form(admin, BULK, {})
    assert response.status_code == 400 and "Choose a CSV file." in response.text


# -- one invitation: detail, resend, revoke ------------------------------------------------


def test_detail_shows_fields_and_the_history_with_actors(app, admin, rp):
    """The timeline names each event, its actor (an account by its email, linked to its
    page) and its change."""
    pending = invite(app, email="ada@example.com", client_id="shop", notify=False)
    post_form(admin, f"{LIST}/{pending.id}/resend", {})
    with app.app_context():
        service.revoke(pending.id, "cli")
        events = list(db.session.scalars(select(Event.type).order_by(Event.id)))
    assert events[-2:] == ["invitation.resent", "invitation.revoked"]
    text = text_of(admin.get(f"{LIST}/{pending.id}"))
    assert 'class="chip revoked"' in text
    assert "Created" in text and "Resent with a new link" in text and "Revoked" in text
    raw = admin.get(f"{LIST}/{pending.id}").get_data(as_text=True)
    assert re.search(r'by <a href="/admin/users/[^"]+">Ada Lovelace \(root@example.com\)</a>', raw)
    assert "by the vestibule command" in text
    assert "Initiated → Resent" in text and "Resent → Revoked" in text
    assert "Shop" in text and "shop" in text
    assert f"{LIST}/{pending.id}/revoke" not in text  # terminal: no buttons
    assert f"{LIST}/{pending.id}/resend" not in text


def test_resend_asks_first_then_shows_the_new_link_once(app, admin):
    """GET is the question and changes nothing; the POST makes a new link, shown once."""
    pending = invite(app, email="ada@example.com", notify=False)
    before = stored(app, pending.id)
    question = admin.get(f"{LIST}/{pending.id}/resend")
    assert (
        question.status_code == 200 and "Resend the invitation to ada@example.com?" in question.text
    )
    assert stored(app, pending.id) == before
    response = post_form(admin, f"{LIST}/{pending.id}/resend", {})
    assert response.status_code == 200
    short, _ = shown_links(text_of(response))
    assert short.startswith("http://localhost/i/") and short != pending.short_link
    after = stored(app, pending.id)
    assert after["state"] == "reinitiated" and after["token_hash"] != before["token_hash"]
    assert shown_links(admin.get(f"{LIST}/{pending.id}").text) == []


def test_resend_with_notify_redirects_with_a_flash(app, admin):
    """An invitation that sends messages shows no link after a resend."""
    pending = invite(app, email="ada@example.com")
    response = post_form(admin, f"{LIST}/{pending.id}/resend", {})
    assert response.status_code == 303
    assert "sent again to ada@example.com" in admin.get(response.location).text
    assert stored(app, pending.id)["state"] == "reinitiated"


def test_revoke_asks_first_then_revokes(app, admin):
    """GET asks; POST revokes and redirects to the detail with a flash."""
    pending = invite(app, email="ada@example.com")
    question = admin.get(f"{LIST}/{pending.id}/revoke")
    assert (
        question.status_code == 200 and "Revoke the invitation to ada@example.com?" in question.text
    )
    assert stored(app, pending.id)["state"] == "initiated"
    response = post_form(admin, f"{LIST}/{pending.id}/revoke", {})
    assert response.status_code == 303
    assert "The invitation to ada@example.com was revoked." in admin.get(response.location).text
    assert stored(app, pending.id)["state"] == "revoked"


def test_a_terminal_invitation_cannot_be_resent_or_revoked(app, admin):
    """The confirmation pages send a revoked invitation back to its detail with the reason."""
    gone = invite(app, email="ada@example.com")
    with app.app_context():
        service.revoke(gone.id, "test")
    before = row_counts(app)
    for action in ("resend", "revoke"):
        response = admin.get(f"{LIST}/{gone.id}/{action}")
        assert response.status_code == 303
        assert "no longer open (Revoked)" in admin.get(response.location).text
    assert row_counts(app) == before


def test_an_unknown_invitation_is_a_404_page(admin):
    """A mistyped id: the dashboard's own 404 page."""
    for suffix in ("", "/resend", "/revoke"):
        response = admin.get(f"{LIST}/no-such-id{suffix}")
        assert response.status_code == 404
        assert "No such invitation" in response.text


# -- who may do what -----------------------------------------------------------------------


def test_user_invite_may_invite_and_resend_but_not_revoke(app, inviter):
    """user_invite (spec §3.6): create and resend yes, revoke 403 and no revoke button."""
    response = post_form(inviter, NEW, {"email": "ada@example.com", "notify": "y"})
    assert response.status_code == 303
    (public_id,) = invitation_ids(app)
    detail = inviter.get(response.location).text
    assert f"{public_id}/resend" in detail and f"{public_id}/revoke" not in detail
    assert inviter.get(f"{LIST}/{public_id}/revoke").status_code == 403
    token = csrf_token(inviter.get(NEW).text)
    refused = inviter.post(f"{LIST}/{public_id}/revoke", data={"csrf_token": token})
    assert refused.status_code == 403
    assert stored(app, public_id)["state"] == "initiated"
    assert post_form(inviter, f"{LIST}/{public_id}/resend", {}).status_code == 303
    assert stored(app, public_id)["state"] == "reinitiated"


def test_user_invite_cannot_hand_out_roles_beyond_their_own(app, inviter, factory):
    """Inviting someone into ``admin`` needs the powers of an admin (403, nothing written)."""
    factory.account("root@example.com", roles=("admin",))  # so the role exists
    before = row_counts(app)
    response = post_form(inviter, NEW, {"email": "ada@example.com", "roles": ["admin"]})
    assert response.status_code == 403
    assert "your roles do not allow granting or acting on admin" in text_of(response)
    assert row_counts(app) == before


def test_user_invite_cannot_resend_an_invitation_beyond_their_roles(app, inviter, factory):
    """Resending an admin invitation would show its new link to the resender: refused,
    and the old link keeps working."""
    factory.account("root@example.com", roles=("admin",))  # so the role exists
    issued = invite(app, email="boss@example.com", roles=["admin"], notify=False)
    response = post_form(inviter, f"{LIST}/{issued.id}/resend", {})
    assert response.status_code == 303
    page = inviter.get(response.location).text
    assert "your roles do not allow granting or acting on admin" in page
    assert stored(app, issued.id)["state"] == "initiated"
    assert shown_links(page) == []


def test_deeply_nested_metadata_is_a_form_error(app, admin):
    before = row_counts(app)
    response = post_form(admin, NEW, {"email": "ada@example.com", "public_metadata": "[" * 100_000})
    assert response.status_code == 400
    assert row_counts(app) == before


def test_a_person_without_a_dashboard_role_gets_403_everywhere(app, factory):
    """No role: every invitations page is the 403 page, and posts write nothing."""
    pending = invite(app, email="ada@example.com")
    browser = signed_in(app, factory, "nobody@example.com", ())
    for url in (LIST, NEW, BULK, f"{LIST}/{pending.id}", f"{LIST}/{pending.id}/resend"):
        response = browser.get(url)
        assert response.status_code == 403, url
        assert "You cannot open this page" in response.text
    token = csrf_token(browser.get("/account").text)
    before = row_counts(app)
    assert (
        browser.post(NEW, data={"csrf_token": token, "email": "x@example.com"}).status_code == 403
    )
    assert row_counts(app) == before


def test_signed_out_visitors_are_sent_to_sign_in(client):
    """No session: a redirect to /login that comes back here."""
    response = client.get(NEW)
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


# -- built-in roles bind the invitation to its email; resend links (issue 10) --------------


def test_an_admin_invitation_is_bound_to_its_email(app, admin):
    """Inviting into a built-in role stores allow_same_email even when unticked."""
    response = post_form(admin, NEW, {"email": "boss@example.com", "roles": ["admin"]})
    assert response.status_code in (201, 303), text_of(response)
    (public_id,) = invitation_ids(app)
    with app.app_context():
        assert service.find(public_id).allow_same_email is True


def test_an_admin_invitation_without_email_is_refused(app, admin):
    """Mobile number only and a built-in role: 400 next to the email field, nothing written."""
    before = row_counts(app)
    data = {"mobile_number": "+4915112345678", "roles": ["admin"]}
    response = post_form(admin, NEW, data)
    assert response.status_code == 400
    assert "needs an email" in text_of(response)
    assert row_counts(app) == before


def test_a_resend_by_another_person_of_a_notifying_invitation_shows_no_link(app, admin):
    """The invitation sends its own messages and this person did not create it: the
    resend answer carries no link."""
    pending = invite(app, email="ada@example.com", notify=True, actor="client:back-office")
    response = post_form(admin, f"{LIST}/{pending.id}/resend", {})
    assert response.status_code == 303
    assert shown_links(text_of(admin.get(response.location))) == []
    assert stored(app, pending.id)["state"] == "reinitiated"


# -- inviting a person who already has an account (issue 15) -----------------------------
# The checkbox "This person already has an account: add them", the refusal without it
# (linking to the account for those who may read users), the detail page saying so.

MEMBER = "member@example.com"


def test_the_form_offers_the_checkbox(admin):
    """The checkbox and what it does are on the form."""
    text = text_of(admin.get(NEW))
    assert "This person already has an account: add them" in text
    assert 'name="existing_account"' in text


def test_ticked_it_invites_the_account(app, admin, factory, catalogue):
    """Ticked: created for the account, the detail page says they sign in to accept."""
    factory.account(MEMBER)
    response = post_form(
        admin, NEW, {"email": MEMBER, "groups": ["staff"], "existing_account": "y"}
    )
    assert response.status_code == 201, text_of(response)  # no message: the link, once
    (public_id,) = invitation_ids(app)
    with app.app_context():
        assert service.find(public_id).existing_account
    assert "yes: they sign in to accept" in text_of(response)


def test_without_it_the_refusal_links_to_the_account(app, admin, factory):
    """Not ticked: 409 next to the email, the hint to tick it, a link to the account."""
    member = factory.account(MEMBER)
    before = row_counts(app)
    response = post_form(admin, NEW, {"email": MEMBER})
    assert response.status_code == 409
    text = text_of(response)
    assert "this address already belongs to an account" in text
    assert "tick “This person already has an account: add them”" in text
    assert f"/admin/users/{member.sub}" in text
    assert row_counts(app) == before


def test_an_inviter_who_may_not_read_users_gets_no_link(app, factory):
    """A user_invite sees the refusal and the hint, but no link to the account."""
    member = factory.account(MEMBER)
    inviter = signed_in(app, factory, "ivy@example.com", ("user_invite",))
    text = text_of(post_form(inviter, NEW, {"email": MEMBER}))
    assert "already belongs to an account" in text and member.sub not in text


def test_ticked_for_an_address_without_account_is_refused(app, admin):
    """Ticked for an address nobody has: 400 under the checkbox, nothing written."""
    before = row_counts(app)
    response = post_form(admin, NEW, {"email": "nobody@example.com", "existing_account": "y"})
    assert response.status_code == 400
    assert "no account has this email" in text_of(response)
    assert row_counts(app) == before
