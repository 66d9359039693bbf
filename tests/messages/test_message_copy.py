"""The words of the shipped messages (issue 14): an invitation names who invited the
person and to which application, and the plain-text and HTML parts of every email say
the same, with the same link."""

from __future__ import annotations

import re
from html import unescape

import pytest

from app import create_app
from app.invitations import catalog, creation
from app.invitations.validation import InvitationInput
from app.messages import render
from app.messages.rendering import variables_of
from tests.messages.conftest import INVITATIONS, run_worker

#: What a real invitation to the client "Shop" made by Ada Lovelace renders with.
REALISTIC = {
    "name": "Lin",
    "invite_link": "https://id.acme.example/i/q3Zr8kLw0VtXy2",
    "reset_link": "https://id.acme.example/password/reset/Jd93kfQ0aZ",
    "set_link": "https://id.acme.example/password/set/Pq81mZx0Lk",
    "verify_link": "https://id.acme.example/verify/email/Hs72nWq9Re",
    "invited_by": "Ada Lovelace",
    "app_name": "Shop",
    "account_name": "Acme",
    "expires_at": "March 5, 2026, 2:03 PM UTC",
    "code": "482913",
    "minutes": "10",
    "existing_account": "",
}


@pytest.fixture(scope="module")
def bare_app():
    """An app without a database: rendering needs none."""
    return create_app("testing")


def _messages(bare_app) -> list[tuple[str, str]]:
    with bare_app.app_context():
        return [(k, lang) for k in sorted(catalog.message_keys()) for lang in catalog.languages(k)]


def _render(bare_app, key: str, lang: str, **changes):
    variables = {name: REALISTIC[name] for name in variables_of(key)} | changes
    with bare_app.app_context():
        return render(key, lang, variables)


def _links_in_text(text: str) -> set[str]:
    return set(re.findall(r"https?://\S+", text))


def _links_in_html(html: str) -> set[str]:
    return {unescape(href) for href in re.findall(r'href="([^"]+)"', html)}


def _words_of_html(html: str) -> str:
    body = re.sub(r"(?s).*<body[^>]*>", "", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.mark.parametrize("lang", ["en", "de"])
def test_invitation_names_the_inviter_and_the_application(bare_app, lang):
    """Subject, text, HTML and SMS of invite_user each name Ada Lovelace and Shop."""
    rendered = _render(bare_app, "invite_user", lang)
    for part in (rendered.subject, rendered.text, rendered.html, rendered.sms):
        assert "Ada Lovelace" in part and "Shop" in part, (lang, part)
    assert "Acme" not in rendered.subject


def test_invitation_subjects_read_as_sentences(bare_app):
    """The English and German subjects are the sentences people expect."""
    assert _render(bare_app, "invite_user", "en").subject == "Ada Lovelace invited you to Shop"
    german = _render(bare_app, "invite_user", "de").subject
    assert german == "Ada Lovelace hat Sie zu Shop eingeladen"


@pytest.mark.parametrize("lang", ["en", "de"])
def test_an_invitation_without_an_inviter_of_its_own_names_the_application_once(bare_app, lang):
    """When the inviter's name is the application's (an unnamed inviter of a client-less
    invitation, a client inviting to itself), no part says "Shop invited you to Shop"."""
    rendered = _render(bare_app, "invite_user", lang, invited_by="Shop")
    for part in (rendered.subject, rendered.sms):
        assert part.count("Shop") == 1, part
    assert _words_of_html(rendered.html).count("Shop") == rendered.text.count("Shop") == 1


@pytest.mark.parametrize(
    ("lang", "create", "join"),
    [
        ("en", "create your account", "sign in with your account and join"),
        ("de", "Ihr Konto anzulegen", "sich mit Ihrem Konto anzumelden und beizutreten"),
    ],
)
def test_an_invitation_to_an_existing_account_asks_to_sign_in(bare_app, lang, create, join):
    """A person who has an account is asked to sign in and join, in every part, never
    to create an account; a new person is asked to create one."""
    for existing, wanted, unwanted in (("", create, join), ("yes", join, create)):
        rendered = _render(bare_app, "invite_user", lang, existing_account=existing)
        for part in (rendered.text, _words_of_html(rendered.html)):
            assert wanted in part and unwanted not in part, (existing, part)
    joining = _render(bare_app, "invite_user", lang, existing_account="yes")
    assert ("Sign in to join" if lang == "en" else "Anmelden und beitreten") in joining.sms


def test_every_email_carries_the_same_links_in_text_and_html(bare_app):
    """Each shipped email's plain text and HTML hold exactly the same link, its own."""
    for key, lang in _messages(bare_app):
        rendered = _render(bare_app, key, lang)
        if rendered.html is None:
            continue
        [link] = [REALISTIC[name] for name in variables_of(key) if name.endswith("_link")]
        assert _links_in_text(rendered.text) == {link}, (key, lang)
        assert _links_in_html(rendered.html) == {link}, (key, lang)


def test_every_email_says_the_same_in_text_and_html(bare_app):
    """Every value a message names (person, inviter, application, organisation, date)
    is in both parts or in neither, and the text's last paragraph is in the HTML."""
    for key, lang in _messages(bare_app):
        rendered = _render(bare_app, key, lang)
        if rendered.html is None:
            continue
        words = _words_of_html(rendered.html)
        for name in variables_of(key):
            value = REALISTIC[name]
            assert (value in rendered.text) == (value in words), (key, lang, name)
        closing = " ".join(rendered.text.split("\n\n")[-1].split())
        assert closing in words, (key, lang, closing)


def test_html_parts_are_whole_documents_in_their_language(bare_app):
    """Every HTML email is a document that declares its language (mail clients and
    screen readers read it in that language)."""
    for key, lang in _messages(bare_app):
        rendered = _render(bare_app, key, lang)
        if rendered.html is not None:
            assert rendered.html.startswith("<!doctype html>"), (key, lang)
            assert f'<html lang="{lang}">' in rendered.html, (key, lang)


def test_an_invitation_to_a_client_names_the_person_and_the_client(
    app, client, smtp, person_headers, factory
):
    """Ada Lovelace invites to the client Shop through the admin API: the email that
    arrives says "Ada Lovelace invited you to Shop" in its subject and both parts."""
    factory.client(client_id="shop", name="Shop", initiate_login_uri="https://shop.example/login")
    body = {"email": "lin@example.com", "client_id": "shop", "lang": "en"}
    received = _invited_by_ada(app, client, smtp, person_headers, body)
    assert received.message["Subject"] == "Ada Lovelace invited you to Shop"
    assert "Ada Lovelace invited you to Shop." in received.part("plain")
    assert "Ada Lovelace invited you to Shop." in _words_of_html(received.part("html"))


def _invited_by_ada(app, client, smtp, person_headers, body: dict):
    """Ada Lovelace invites through the admin API; the one email that arrives."""
    headers = person_headers(email="ada.lovelace@example.com")
    response = client.post(INVITATIONS, json=body, headers=headers)
    assert response.status_code == 201, response.json
    run_worker(app)
    [received] = smtp.messages
    return received


def test_an_invitation_from_the_command_line_does_not_name_us_twice(app, smtp):
    """The vestibule command invites without a client: the email says "You are invited
    to Vestibule", never "Vestibule invited you to Vestibule"."""
    with app.app_context():
        creation.create(InvitationInput(email="lin@example.com", lang="en"), "cli")
    run_worker(app)
    [received] = smtp.messages
    assert received.message["Subject"] == "You are invited to Vestibule"
    for part in (received.part("plain"), _words_of_html(received.part("html"))):
        assert "You are invited to Vestibule." in part
        assert "Vestibule invited" not in part


def test_an_invitation_for_an_existing_account_arrives_asking_to_sign_in(
    app, client, smtp, person_headers, factory
):
    """Invited through the admin API with existing_account "join", Lin's email asks her
    to sign in and join, in both parts, and never to create an account."""
    factory.account(email="lin@example.com", given_name="Lin")
    body = {"email": "lin@example.com", "lang": "en", "existing_account": "join"}
    received = _invited_by_ada(app, client, smtp, person_headers, body)
    for part in (received.part("plain"), _words_of_html(received.part("html"))):
        assert "sign in with your account and join" in part
        assert "create your account" not in part.lower()
