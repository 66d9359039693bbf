"""Named messages rendered from ``templates/messages/<key>/<lang>/`` (spec §5).

Each language folder holds ``subject.txt`` and ``body.txt`` (an email, optionally
with ``body.html``) and/or ``sms.txt``. The templates have a Jinja environment of
their own: a variable the caller did not pass is an error (StrictUndefined), and only
``.html`` is autoescaped. ``check_templates`` runs at start-up so a broken template
stops the app instead of a message; ``app.invitations.catalog`` says which keys and
languages exist (``message_keys``: all of them; ``template_keys``: the invitations').
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError, dates
from flask import Flask, current_app
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    meta,
    select_autoescape,
)

from app.invitations import catalog
from config import ConfigurationError

SUBJECT, TEXT, HTML, SMS = "subject.txt", "body.txt", "body.html", "sms.txt"
FILES = (SUBJECT, TEXT, HTML, SMS)

#: The variables of an invitation message (spec §5), ``app_name``: what the person
#: is invited to (the client's name, or ACCOUNT_NAME for an invitation without one),
#: and ``existing_account``: "yes" when the person has an account already and signs in
#: to join (else empty, so a template can say "sign in" instead of "create").
INVITATION_VARIABLES = frozenset(
    {
        "name",
        "invite_link",
        "invited_by",
        "app_name",
        "account_name",
        "expires_at",
        "existing_account",
    }
)
#: What each message key's templates may use; a key not listed here (an operator's
#: own invitation template) gets the invitation's. A new message key with other
#: variables is added here.
VARIABLES: dict[str, frozenset[str]] = {
    "invite_user": INVITATION_VARIABLES,
    "reset_password": frozenset({"name", "reset_link", "account_name", "expires_at"}),
    "set_password": frozenset({"name", "set_link", "account_name", "expires_at"}),
    "verify_email": frozenset({"name", "verify_link", "account_name", "expires_at"}),
    "verify_phone": frozenset({"code", "minutes", "account_name"}),
}
#: Values the start-up check renders every template with.
SAMPLES: dict[str, str] = {
    "name": "Ada",
    "invite_link": "https://vestibule.example/i/sample-token",
    "reset_link": "https://vestibule.example/password/reset/sample-token",
    "set_link": "https://vestibule.example/password/set/sample-token",
    "verify_link": "https://vestibule.example/verify/email/sample-token",
    "invited_by": "Grace Hopper",
    "app_name": "Shop",
    "account_name": "Vestibule",
    "expires_at": "5 December 2026, 14:03 UTC",
    "code": "123456",
    "minutes": "10",
    "existing_account": "",
}

_EXTENSION = "vestibule.messages"


class UnknownMessage(LookupError):
    """No templates for this message key and language."""


@dataclass(frozen=True)
class Rendered:
    """One message in one language; a part is None when its template does not exist."""

    subject: str | None
    text: str | None
    html: str | None
    sms: str | None


def init_templates(app: Flask) -> None:
    """Give ``app`` its message template environment and check every template in it."""
    app.extensions[_EXTENSION] = _environment(app.config["MESSAGE_TEMPLATES_DIR"])
    with app.app_context():
        check_templates()


def _environment(folder: str) -> Environment:
    return Environment(
        loader=FileSystemLoader(folder),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates are checked once at start-up; never pick up an unchecked edit later.
        auto_reload=False,
    )


def _env() -> Environment:
    return current_app.extensions[_EXTENSION]


def render(key: str, lang: str, variables: dict[str, Any]) -> Rendered:
    """Render message ``key`` in ``lang``; UnknownMessage when it has no templates there.

    ``variables`` must hold every name the templates use (a missing one raises
    jinja2.UndefinedError). The subject is one line; every part is stripped.
    """
    parts = {name: _render_part(key, lang, name, variables) for name in FILES}
    if all(part is None for part in parts.values()):
        raise UnknownMessage(f"no message templates for {key!r} in {lang!r}")
    subject = parts[SUBJECT]
    return Rendered(
        subject=" ".join(subject.split()) if subject is not None else None,
        text=parts[TEXT],
        html=parts[HTML],
        sms=parts[SMS],
    )


def _render_part(key: str, lang: str, filename: str, variables: dict[str, Any]) -> str | None:
    try:
        template = _env().get_template(f"{key}/{lang}/{filename}")
    except TemplateNotFound:
        return None
    return template.render(variables).strip()


def variables_of(key: str) -> frozenset[str]:
    """The variable names message ``key``'s templates may use."""
    return VARIABLES.get(key, INVITATION_VARIABLES)


def format_datetime(moment: datetime, lang: str) -> str:
    """A date and time in UTC as ``lang`` writes them (Babel's CLDR data): "March 5, 2026,
    2:03 PM UTC", "5. März 2026, 14:03 UTC"; ISO 8601 for a language Babel lacks."""
    moment = moment.astimezone(UTC)
    try:
        locale = Locale.parse(lang)
    except (ValueError, UnknownLocaleError):
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    date = dates.format_date(moment, "long", locale=locale)
    # CLDR puts a narrow no-break space before "PM"; plain-text mail shows a space best.
    time = dates.format_time(moment, "short", tzinfo=UTC, locale=locale).replace("\u202f", " ")
    # How the language joins a date and a time, as Babel's own format_datetime does.
    joined = dates.get_datetime_format("long", locale=locale).replace("'", "")
    return joined.replace("{0}", time).replace("{1}", date) + " UTC"


# -- the start-up check ----------------------------------------------------------------


def check_templates() -> int:
    """Parse and render every message template with sample values; returns how many.

    Raises ConfigurationError naming the first file with a syntax error, a variable
    its key does not provide, or an error while rendering.
    """
    checked = 0
    for key in sorted(catalog.message_keys()):
        for lang in sorted(catalog.languages(key)):
            checked += _check_language(key, lang)
    return checked


def _check_language(key: str, lang: str) -> int:
    folder = Path(current_app.config["MESSAGE_TEMPLATES_DIR"]) / key / lang
    present = [name for name in FILES if (folder / name).is_file()]
    email = {SUBJECT, TEXT} <= set(present)
    if not email and SMS not in present:
        raise ConfigurationError(
            f"message templates {folder}: need {SUBJECT} and {TEXT} (email) or {SMS}"
        )
    if HTML in present and not email:
        raise ConfigurationError(f"message templates {folder}: {HTML} needs {SUBJECT} and {TEXT}")
    allowed = variables_of(key)
    samples = {name: SAMPLES.get(name, f"[{name}]") for name in allowed}
    for name in present:
        _check_file(folder / name, f"{key}/{lang}/{name}", allowed, samples)
    return len(present)


def _check_file(path: Path, name: str, allowed: frozenset[str], samples: dict) -> None:
    env = _env()
    try:
        source = path.read_text(encoding="utf-8")
        unknown = meta.find_undeclared_variables(env.parse(source, name, str(path)))
        unknown -= allowed | set(env.globals)
        if unknown:
            raise ConfigurationError(
                f"message template {path} uses unknown variable(s) "
                f"{', '.join(sorted(unknown))}; {name.split('/')[0]!r} provides "
                f"{', '.join(sorted(allowed))}"
            )
        env.get_template(name).render(samples)
    except TemplateSyntaxError as exc:
        raise ConfigurationError(
            f"message template {path}, line {exc.lineno}: {exc.message}"
        ) from None
    except (TemplateError, UnicodeDecodeError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"message template {path}: {exc}") from None
