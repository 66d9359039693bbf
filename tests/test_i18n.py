"""Internationalisation (issue 14): the gettext catalogs match the code and are compiled,
German is complete, every service refusal a page can show is in the catalog, and the
language of a page follows ui_locales, then the invitation's chosen language, then the
browser, then the default."""

from __future__ import annotations

import ast
import importlib
import itertools
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from app.errors import DomainError
from app.invitations import creation
from app.invitations.validation import InvitationInput
from app.web.i18n import choose_locale
from app.web.refusals import refusal_text
from tests.helpers import (
    INITIATE_LOGIN_URI,
    PASSWORD,
    csrf_token,
    invite,
    sign_in,
    start_authorization,
    update_rows,
)

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "app" / "translations"
CATALOGS = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def read_catalog(path: Path):
    with path.open("rb") as file:
        return read_po(file)


def messages(catalog) -> dict:
    """(context, msgid) -> msgstr of every message but the header."""
    return {
        (m.context, m.id if isinstance(m.id, str) else tuple(m.id)): m.string
        for m in catalog
        if m.id
    }


def test_there_is_a_german_catalog():
    """German ships (spec §5: at least English, the source language, and German)."""
    assert [path.parts[-3] for path in CATALOGS] == ["de"]


@pytest.mark.parametrize("po", CATALOGS, ids=lambda path: path.parts[-3])
def test_compiled_catalogs_are_current(po):
    """The committed messages.mo is what `make i18n` compiles from messages.po now."""
    compiled = BytesIO()
    write_mo(compiled, read_catalog(po))
    compiled.seek(0)
    with po.with_suffix(".mo").open("rb") as committed:
        assert messages(read_mo(committed)) == messages(read_mo(compiled)), "run make i18n"


def test_catalogs_hold_exactly_the_strings_of_the_code(tmp_path):
    """`pybabel extract` (as `make i18n` runs it) finds no string that the template and
    the catalogs lack, and they hold none the code no longer has."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        ["make", "--no-print-directory", "-s", "i18n-extract", f"I18N_POT={pot}"]
        + [f"BIN={Path(sys.executable).parent}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    in_code = set(messages(read_catalog(pot)))
    assert in_code, "nothing extracted"
    assert set(messages(read_catalog(TRANSLATIONS / "messages.pot"))) == in_code, "make i18n"
    for po in CATALOGS:
        in_catalog = set(messages(read_catalog(po)))
        assert sorted(in_code - in_catalog, key=str) == [], f"missing in {po}: make i18n"
        assert sorted(in_catalog - in_code, key=str) == [], f"stale in {po}: make i18n"


@pytest.mark.parametrize("po", CATALOGS, ids=lambda path: path.parts[-3])
def test_every_message_is_translated(po):
    """Every message has its translation (all plural forms), none left fuzzy, and each
    keeps the placeholders of its English (Babel's checks)."""
    catalog = read_catalog(po)
    untranslated = [
        m.id
        for m in catalog
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))
    ]
    assert untranslated == []
    assert [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()] == []


# -- every refusal a page can show is in the catalog --------------------------------------

#: The services whose refusals reach pages (the registration form, the dashboard).
REFUSING = ("app/accounts", "app/invitations", "app/clients", "app/access.py", "app/pagination.py")
#: What the scan puts in for an expression whose wording depends on its value.
EXPANSIONS = {
    "_kind(model)": ("group", "role"),
    "column.key": ("email", "phone_number"),
    "field_name": ("groups", "roles"),
}


def _refusals():
    """(where, a refusal's text with sample values) for each DomainError raised with a
    literal or f-string message in the REFUSING modules."""
    for path in sorted(p for name in REFUSING for p in sorted((ROOT / name).rglob("*.py"))):
        if path.name == "cli.py":
            continue
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                error = _resolve(module, node.exc.func)
                # The message is the last positional argument (after a field name).
                message = node.exc.args[-1] if node.exc.args else None
                if _is_refusal(error) and isinstance(message, ast.Constant | ast.JoinedStr):
                    for sample in _samples(message):
                        yield f"{path.relative_to(ROOT)}:{node.lineno}", sample


def _resolve(module, func: ast.expr):
    try:
        return eval(ast.unparse(func), vars(module))  # noqa: S307 - names and attributes only
    except (AttributeError, NameError):
        return None


def _is_refusal(error) -> bool:
    # MissingScope speaks to machines (a token's scope), never to a page.
    return (
        isinstance(error, type)
        and issubclass(error, DomainError)
        and error.__name__ != "MissingScope"
    )


def _samples(text: ast.expr) -> list[str]:
    if isinstance(text, ast.Constant):
        return [text.value]
    choices = []
    for part in text.values:
        if isinstance(part, ast.Constant):
            choices.append((part.value,))
        else:
            values = EXPANSIONS.get(ast.unparse(part.value), ("X",))
            choices.append(tuple(f"'{v}'" if part.conversion == ord("r") else v for v in values))
    return ["".join(combination) for combination in itertools.product(*choices)]


def test_the_scan_finds_the_refusals():
    """The scan below sees the services' refusals (a broken scan would pass anything)."""
    found = [text for _, text in _refusals()]
    assert len(found) > 60
    assert "unknown client 'X'" in found and "no group 'X'" in found


@pytest.mark.parametrize("where, text", list(_refusals()))
def test_every_service_refusal_is_translated_on_pages(app, where, text):
    """A refusal a page can show has its message in app/web/refusals.py, so German pages
    show it in German (the admin API and the CLI keep the service's English)."""
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert refusal_text(text) != text, f"{where}: {text!r} is not in app/web/refusals.py"


def test_email_validators_wording_becomes_ours(app):
    """email-validator's English explanation is replaced by our translated message."""
    refusal = "invalid email address: There must be something after the @-sign."
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert refusal_text(refusal) == (
            "Das ist keine gültige E-Mail-Adresse. Bitte prüfen Sie sie, z. B. name@example.com."
        )
        assert refusal_text(f"email: {refusal}").startswith("email: Das ist keine gültige")
        assert refusal_text("something we never said") == "something we never said"


# -- which language a page speaks ------------------------------------------------------------


@pytest.mark.parametrize(
    "ui_locales, lang, browser, chosen",
    [
        ("de", "en", "en", "de"),  # ui_locales first
        ("fr-CA de-AT", None, "en", "de"),  # its first supported tag, by primary subtag
        ("fr", "de", "en", "de"),  # then the invitation's chosen language
        (None, "fr", "de-DE,de;q=0.9", "de"),  # then the browser
        (None, None, "fr", "en"),  # then DEFAULT_LANG
        (None, None, None, "en"),
    ],
)
def test_language_precedence(app, ui_locales, lang, browser, chosen):
    """ui_locales, then the invitation's chosen lang, then Accept-Language, then the default."""
    headers = {"Accept-Language": browser} if browser else {}
    with app.test_request_context(headers=headers):
        assert choose_locale(ui_locales, lang) == chosen


@pytest.fixture
def shop(factory):
    return factory.client(client_id="shop", initiate_login_uri=INITIATE_LOGIN_URI)


def lang_of(response) -> str:
    return response.get_data(as_text=True).split('<html lang="')[1].split('"')[0]


def test_an_invitations_chosen_language_beats_the_browser_and_ui_locales_beat_both(
    app, client, shop
):
    """An invitation made in German opens in German in an English browser, unless the
    client asks for English with ui_locales."""
    german = invite(app, email="ada@example.com", client_id="shop", lang="de")
    english = {"Accept-Language": "en"}
    started = start_authorization(client, shop, invite_id=german.token, view_type="register")
    assert lang_of(client.get(started.location, headers=english)) == "de"
    started = start_authorization(
        client, shop, invite_id=german.token, view_type="register", ui_locales="en"
    )
    assert lang_of(client.get(started.location, headers=english)) == "en"
    assert lang_of(client.get(f"/i/{german.token}x", headers=english)) == "en"  # unknown link


def test_an_automatic_invitation_follows_the_invitees_browser(app, client, shop):
    """Without a chosen language (the dashboard's "Automatic"), the invitee's browser
    decides, each time they open the link."""
    automatic = invite(app, email="ada@example.com", client_id="shop")
    for browser, expected in (("de-DE,de;q=0.9", "de"), ("en-GB", "en")):
        started = start_authorization(client, shop, invite_id=automatic.token, view_type="register")
        assert lang_of(client.get(started.location, headers={"Accept-Language": browser})) == (
            expected
        )


def test_the_dashboards_automatic_is_not_the_inviters_language(app, factory, shop):
    """A German inviter choosing "Automatic" makes an invitation whose message goes out in
    DEFAULT_LANG and whose pages follow the invitee's browser (it used to take the
    inviter's Accept-Language)."""
    from app.invitations import queries

    admin = factory.account("root@example.com", roles=("admin",))
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    sign_in(browser, admin)
    page = browser.get("/admin/invitations/new").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "email": "ada@example.com", "lang": ""}
    assert browser.post("/admin/invitations/new", data=data).status_code == 201
    with app.app_context():
        (invitation,) = queries.search(queries.Search(limit=5)).items
        assert (invitation.lang, invitation.lang_chosen) == ("en", False)


def test_the_api_still_takes_the_callers_accept_language(app):
    """The admin API keeps its documented fallback (spec §3.1): without lang, the caller's
    Accept-Language is the invitation's language, a chosen one."""
    with app.app_context():
        issued = creation.create(InvitationInput(email="ada@example.com"), "test", ["de"])
        assert (issued.invitation.lang, issued.invitation.lang_chosen) == ("de", True)


def test_a_failed_sign_in_speaks_the_language_of_the_page_it_came_from(app, client, factory, shop):
    """An accepted invitation made in German offers sign-in in German to an English
    browser; a wrong password there is answered in German too (the error used to be
    translated with the browser's language)."""
    from app.models import Invitation

    german = invite(app, email="ada@example.com", client_id="shop", lang="de")
    person = factory.account("ada@example.com", password=PASSWORD)
    started = start_authorization(client, shop, invite_id=german.token, view_type="register")
    update_rows(
        app, Invitation, {"public_id": german.id}, state="accepted", accepted_sub=person.sub
    )
    english = {"Accept-Language": "en"}
    page = client.get(started.location, headers=english)
    assert lang_of(page) == "de"
    html = page.get_data(as_text=True)
    action = html.split('<form method="post" action="')[1].split('"')[0].replace("&amp;", "&")
    data = {"csrf_token": csrf_token(html), "email": person.email, "password": "wrong"}
    answer = client.post(action, data=data, headers=english)
    assert answer.status_code == 400
    assert "E-Mail und Passwort passen zu keinem Konto." in answer.get_data(as_text=True)
