"""The language of the pages: Flask-Babel with the gettext catalogs in app/translations/
(``make i18n`` extracts the strings, updates the catalogs and compiles them), and the one
rule that picks a page's language.

Precedence, first supported wins: the ``ui_locales`` of a paused authorization request,
then the invitation's explicitly chosen ``lang``, then the browser's Accept-Language,
then DEFAULT_LANG. A view that knows the first two calls ``set_locale`` before it
translates anything; every other page follows the browser.
"""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, get_locale, refresh

from app.web.refusals import refusal_text

babel = Babel()


def init_i18n(app: Flask) -> None:
    """Attach Flask-Babel: its locale selector, and ``_``/``ngettext`` in templates."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["DEFAULT_LANG"])
    # Dates on pages and in messages are UTC, as stored.
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    babel.init_app(app, locale_selector=selected_locale)
    app.jinja_env.globals["page_lang"] = page_lang
    app.jinja_env.filters["refusal"] = refusal_text


def choose_locale(ui_locales: str | None = None, lang: str | None = None) -> str:
    """The first supported language of ``ui_locales`` (space-separated tags), else
    ``lang``, else the best of Accept-Language, else the default."""
    supported = current_app.config["UI_LOCALES"]
    for tag in [*(ui_locales or "").split(), lang or ""]:
        candidate = tag.split("-")[0].lower()
        if candidate in supported:
            return candidate
    browser = request.accept_languages.best_match(supported) if has_request_context() else None
    return browser or default_locale()


def default_locale() -> str:
    """DEFAULT_LANG when the pages are offered in it, else the first of UI_LOCALES."""
    supported = current_app.config["UI_LOCALES"]
    default = current_app.config["DEFAULT_LANG"]
    return default if default in supported else supported[0]


def set_locale(ui_locales: str | None = None, lang: str | None = None) -> None:
    """Pick this response's language (see ``choose_locale``); anything translated
    before is forgotten, so the whole page speaks one language."""
    g.locale = choose_locale(ui_locales, lang)
    refresh()
    # Flask-WTF keeps WTForms' own messages (This field is required.) per request.
    if hasattr(request, "wtforms_translations"):
        del request.wtforms_translations


def selected_locale() -> str:
    """Flask-Babel's locale selector: the view's choice, else the browser's."""
    return g.get("locale") or choose_locale()


def page_lang() -> str:
    """The ``<html lang>`` of the page being rendered."""
    return get_locale().language


def accept_languages() -> list[str]:
    """Language tags of the caller's Accept-Language header, best first (the admin API
    takes them as an invitation's language when it names none, spec §3.1)."""
    return [tag.split("-")[0].lower() for tag, _ in request.accept_languages]
