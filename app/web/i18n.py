"""The few page strings in English and German, picked by ``ui_locales`` or Accept-Language."""

from __future__ import annotations

from flask import current_app, g, request

MESSAGES = {
    "en": {
        "sign_in": "Sign in",
        "sign_in_to": "Sign in to continue to {client}",
        "email": "Email",
        "password": "Password",
        "bad_credentials": "That email and password do not match an account.",
        "consent_title": "{client} wants to access your account",
        "consent_scopes": "It asks for:",
        "allow": "Allow",
        "deny": "Deny",
        "signed_out": "You are signed out.",
        "sign_out": "Sign out",
        "sign_out_question": "Do you want to sign out of Vestibule?",
        "stay": "Stay signed in",
        "expired": "This sign-in request has expired or belongs to another browser. "
        "Please go back to the application and try again.",
        "scope.openid": "Your identity (a stable identifier)",
        "scope.profile": "Your name",
        "scope.email": "Your email address",
        "scope.phone": "Your phone number",
        "scope.offline_access": "Access while you are away",
    },
    "de": {
        "sign_in": "Anmelden",
        "sign_in_to": "Melden Sie sich an, um zu {client} zu gelangen",
        "email": "E-Mail",
        "password": "Passwort",
        "bad_credentials": "E-Mail und Passwort passen zu keinem Konto.",
        "consent_title": "{client} möchte auf Ihr Konto zugreifen",
        "consent_scopes": "Angefragt wird:",
        "allow": "Erlauben",
        "deny": "Ablehnen",
        "signed_out": "Sie sind abgemeldet.",
        "sign_out": "Abmelden",
        "sign_out_question": "Möchten Sie sich von Vestibule abmelden?",
        "stay": "Angemeldet bleiben",
        "expired": "Diese Anmeldeanfrage ist abgelaufen oder gehört zu einem anderen Browser. "
        "Bitte kehren Sie zur Anwendung zurück und versuchen Sie es erneut.",
        "scope.openid": "Ihre Identität (eine dauerhafte Kennung)",
        "scope.profile": "Ihren Namen",
        "scope.email": "Ihre E-Mail-Adresse",
        "scope.phone": "Ihre Telefonnummer",
        "scope.offline_access": "Zugriff, während Sie abwesend sind",
    },
}


def choose_locale(ui_locales: str | None = None) -> str:
    """The first supported language of ``ui_locales``, else of Accept-Language, else English."""
    supported = current_app.config["UI_LOCALES"]
    for tag in (ui_locales or "").split():
        lang = tag.split("-")[0].lower()
        if lang in supported:
            return lang
    return request.accept_languages.best_match(supported) or supported[0]


def set_locale(ui_locales: str | None = None) -> None:
    """Pick the language for this response's pages."""
    g.locale = choose_locale(ui_locales)


def translate(key: str, **values: str) -> str:
    """The message ``key`` in the current language."""
    lang = g.get("locale") or choose_locale()
    text = MESSAGES.get(lang, MESSAGES["en"]).get(key) or MESSAGES["en"].get(key, key)
    return text.format(**values) if values else text
