"""Message templates (spec §5): every shipped one renders; a broken one stops start-up."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from app import create_app
from app.invitations import catalog
from app.messages import format_datetime, render
from app.messages.rendering import FILES, SAMPLES, check_templates, variables_of
from config import BASE_DIR, ConfigurationError

SHIPPED = BASE_DIR / "templates" / "messages"


@pytest.fixture(scope="module")
def bare_app():
    """An app without a database: rendering needs none."""
    return create_app("testing")


def _shipped(bare_app) -> list[tuple[str, str]]:
    with bare_app.app_context():
        return [(k, lang) for k in sorted(catalog.message_keys()) for lang in catalog.languages(k)]


def test_every_shipped_template_renders(bare_app):
    """Each key and language renders with its variables into a usable message."""
    shipped = _shipped(bare_app)
    assert ("invite_user", "en") in shipped and ("invite_user", "de") in shipped
    with bare_app.app_context():
        for key, lang in shipped:
            variables = {name: SAMPLES.get(name, f"[{name}]") for name in variables_of(key)}
            rendered = render(key, lang, variables)
            assert (rendered.subject and rendered.text) or rendered.sms, (key, lang)
            assert rendered.subject is None or "\n" not in rendered.subject, (key, lang)
            bodies = [p for p in (rendered.text, rendered.html, rendered.sms) if p is not None]
            for name in variables:
                if name.endswith("_link"):  # the message's whole point is its link
                    assert all(variables[name] in body for body in bodies), (key, lang, name)
        files = sum(1 for k, lang in shipped for f in FILES if (SHIPPED / k / lang / f).is_file())
        assert check_templates() == files


def test_invitation_ships_every_part_in_english_and_german(bare_app):
    """invite_user has an email (text and HTML) and an SMS in both languages."""
    with bare_app.app_context():
        for lang in ("en", "de"):
            rendered = render("invite_user", lang, SAMPLES)
            assert rendered.subject and rendered.text and rendered.html and rendered.sms
            assert f'lang="{lang}"' in rendered.html


def test_html_is_escaped_and_text_is_not(bare_app):
    """Autoescape applies to body.html only."""
    values = {**SAMPLES, "invited_by": "Tom & <Jerry>"}
    with bare_app.app_context():
        rendered = render("invite_user", "en", values)
    assert "Tom &amp; &lt;Jerry&gt;" in rendered.html
    assert "Tom & <Jerry>" in rendered.text and "Tom & <Jerry>" in rendered.subject


def test_subject_is_always_one_line(bare_app):
    """A line break in a variable cannot start a new header."""
    values = {**SAMPLES, "invited_by": "Eve\r\nBcc: victim@example.com"}
    with bare_app.app_context():
        subject = render("invite_user", "en", values).subject
    assert subject == "Eve Bcc: victim@example.com invited you to Shop"


def test_a_missing_variable_is_an_error(bare_app):
    """StrictUndefined: forgetting a variable fails loudly instead of rendering blank."""
    values = {k: v for k, v in SAMPLES.items() if k != "invite_link"}
    with bare_app.app_context(), pytest.raises(UndefinedError):
        render("invite_user", "en", values)


def test_dates_are_written_for_the_language():
    """expires_at is written as the message's language writes dates (Babel's CLDR
    data), ISO 8601 for a language Babel does not know."""
    moment = datetime(2026, 3, 5, 14, 3, tzinfo=UTC)
    assert format_datetime(moment, "en") == "March 5, 2026, 2:03 PM UTC"
    assert format_datetime(moment, "de") == "5. März 2026, 14:03 UTC"
    assert format_datetime(moment, "fr") == "5 mars 2026, 14:03 UTC"
    assert format_datetime(moment, "xx") == "2026-03-05 14:03 UTC"


@pytest.fixture
def templates_copy(tmp_path) -> Path:
    """A writable copy of the shipped templates."""
    folder = tmp_path / "messages"
    shutil.copytree(SHIPPED, folder)
    return folder


@pytest.mark.parametrize(
    ("file", "source", "complaint"),
    [
        ("body.txt", "Hello {{ nmae }}, {{ invite_link }}", "unknown variable(s) nmae"),
        ("subject.txt", "Hello {% if name %}", "line 1"),
        ("body.html", "<p>{{ invite_link | nosuchfilter }}</p>", "nosuchfilter"),
    ],
)
def test_broken_template_stops_start_up(templates_copy, file, source, complaint):
    """Start-up renders every template: a bad one is a ConfigurationError naming its file."""
    (templates_copy / "invite_user" / "de" / file).write_text(source, encoding="utf-8")
    with pytest.raises(ConfigurationError) as refused:
        create_app("testing", MESSAGE_TEMPLATES_DIR=str(templates_copy))
    message = str(refused.value)
    assert str(templates_copy / "invite_user" / "de" / file) in message
    assert complaint in message


def test_language_without_an_email_or_sms_template_stops_start_up(templates_copy):
    """A language folder needs subject and body, or sms.txt."""
    for name in ("subject.txt", "sms.txt"):
        (templates_copy / "invite_user" / "en" / name).unlink()
    with pytest.raises(ConfigurationError, match="invite_user/en"):
        create_app("testing", MESSAGE_TEMPLATES_DIR=str(templates_copy))


def test_an_unchanged_copy_starts(templates_copy):
    """The copy itself is fine: the failures above come from the edits."""
    app = create_app("testing", MESSAGE_TEMPLATES_DIR=str(templates_copy))
    with app.app_context():
        assert render("invite_user", "en", SAMPLES).subject
