"""The page strings in English and German, picked by ``ui_locales`` or Accept-Language."""

from __future__ import annotations

from flask import current_app, g, request

MESSAGES = {
    "en": {
        "sign_in": "Sign in",
        "sign_in_to": "Sign in to continue to {client}",
        "email": "Email",
        "password": "Password",
        "bad_credentials": "That email and password do not match an account.",
        "too_many_failures": "Too many failed attempts for this email address. "
        "Please try again in {minutes} minute(s).",
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
        "invite_link_invalid": "This invitation link is not valid",
        "invite_link_invalid_hint": "Please check that you opened the whole link from the "
        "message. If it still does not work, ask the person who invited you for a new one.",
        "invite_link_expired": "This invitation link has expired",
        "invite_link_expired_hint": "Links in invitation messages work for a limited time. "
        "Your invitation is still valid: please ask the person who invited you to send it "
        "again, and you will get a new link.",
        "invite_expired": "This invitation has expired",
        "invite_expired_hint": "It was not used in time. Please ask the person who invited you "
        "for a new invitation.",
        "invite_revoked": "This invitation was withdrawn",
        "invite_revoked_hint": "The person who invited you has cancelled it. If you think this "
        "is a mistake, please contact them.",
        "invite_rejected": "This invitation was declined",
        "invite_rejected_hint": "It was declined on the registration page. If you want to join "
        "after all, please ask for a new invitation.",
        "invite_accepted": "This invitation has already been used",
        "invite_accepted_hint": "An account was created with it. Sign in to continue.",
        "register": "Create your account",
        "register_for": "Register to continue to {client}",
        "invited_notice": "You were invited: we have filled in what we know. Check it and "
        "choose a password.",
        "email_locked": "Your invitation is for this address.",
        "mobile_number": "Mobile number",
        "given_name": "Given name",
        "family_name": "Family name",
        "optional": "optional",
        "password_rules": "At least {min} characters.",
        "create_account": "Create account",
        "decline_invitation": "Decline the invitation",
        "have_account": "Already have an account?",
        "register_without_invitation": "Register without the invitation",
        "signup_closed": "Registration is closed",
        "signup_closed_hint": "New accounts cannot be created here. If you already have an "
        "account, sign in.",
        "signup_restricted": "Registration is by invitation only",
        "signup_restricted_hint": "To create an account you need an invitation. If you already "
        "have an account, sign in.",
        "invite_other_client": "This invitation is for another application",
        "invite_other_client_hint": "Please open the link from your invitation message as it "
        "is, without changing it.",
        "invite_declined": "You declined the invitation",
        "invite_declined_hint": "No account was created. You can close this page.",
        "registration_failed": "Registration did not go through",
        "continue": "Continue",
        "already_registered": "An account was already created in this sign-in request. "
        "Continue to carry on with it.",
        "unavailable_title": "Vestibule is briefly unavailable",
        "unavailable_hint": "Nothing was lost or changed. Please try again in a minute.",
        "form_expired": "The form expired or was not sent from this site; please reload the page "
        "and try again.",
        "invite_just_used": "This invitation has just been used to create an account. If that "
        "was you, sign in.",
        "forgot_password": "Forgot your password?",
        "forgot_intro": "Enter the email address of your account. We will send it a link to "
        "choose a new password.",
        "send_link": "Send the link",
        "reset_link_sent": "Check your email",
        "reset_link_sent_hint": "If an account exists for that address, we sent a link to it. "
        "The link works once and for a limited time. Nothing arrived? Check your spam folder, "
        "or ask again.",
        "reset_password": "Choose a new password",
        "set_password": "Choose your password",
        "password_for": "For the account {email}.",
        "new_password": "New password",
        "save_password": "Save the password",
        "password_too_short": "Please choose a password of at least {min} characters.",
        "link_unusable": "This link has expired or was already used",
        "link_unusable_hint": "Links to choose a password work once and for a limited time. "
        "You can ask for a new one.",
        "ask_new_link": "Send me a new link",
        "password_changed": "Your password was changed, and you were signed out everywhere. "
        "Sign in with your new password.",
        "verify_email": "Confirm your email address",
        "verify_email_question": "Is {email} your email address? Press the button to confirm it.",
        "verify_email_button": "Confirm my email address",
        "email_verified": "Your email address is confirmed",
        "email_verified_hint": "Thank you: {email} is now a confirmed address of your account. "
        "You can close this page.",
        "verify_link_unusable_hint": "Links to confirm an email address work once and for a "
        "limited time. If you pressed the button before, your address is already confirmed.",
    },
    "de": {
        "sign_in": "Anmelden",
        "sign_in_to": "Melden Sie sich an, um zu {client} zu gelangen",
        "email": "E-Mail",
        "password": "Passwort",
        "bad_credentials": "E-Mail und Passwort passen zu keinem Konto.",
        "too_many_failures": "Zu viele fehlgeschlagene Versuche für diese E-Mail-Adresse. "
        "Bitte versuchen Sie es in {minutes} Minute(n) erneut.",
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
        "invite_link_invalid": "Dieser Einladungslink ist ungültig",
        "invite_link_invalid_hint": "Bitte prüfen Sie, ob Sie den vollständigen Link aus der "
        "Nachricht geöffnet haben. Falls er weiterhin nicht funktioniert, bitten Sie die "
        "einladende Person um einen neuen.",
        "invite_link_expired": "Dieser Einladungslink ist abgelaufen",
        "invite_link_expired_hint": "Links in Einladungen gelten nur begrenzte Zeit. Ihre "
        "Einladung ist noch gültig: Bitten Sie die einladende Person, sie erneut zu senden, "
        "dann erhalten Sie einen neuen Link.",
        "invite_expired": "Diese Einladung ist abgelaufen",
        "invite_expired_hint": "Sie wurde nicht rechtzeitig angenommen. Bitten Sie die einladende "
        "Person um eine neue Einladung.",
        "invite_revoked": "Diese Einladung wurde zurückgezogen",
        "invite_revoked_hint": "Die einladende Person hat sie widerrufen. Wenn Sie das für einen "
        "Irrtum halten, wenden Sie sich bitte an sie.",
        "invite_rejected": "Diese Einladung wurde abgelehnt",
        "invite_rejected_hint": "Sie wurde auf der Registrierungsseite abgelehnt. Wenn Sie doch "
        "beitreten möchten, bitten Sie um eine neue Einladung.",
        "invite_accepted": "Diese Einladung wurde bereits verwendet",
        "invite_accepted_hint": "Damit wurde bereits ein Konto angelegt. Melden Sie sich an, um "
        "fortzufahren.",
        "register": "Konto anlegen",
        "register_for": "Registrieren Sie sich, um zu {client} zu gelangen",
        "invited_notice": "Sie wurden eingeladen: Wir haben ausgefüllt, was wir wissen. Bitte "
        "prüfen Sie die Angaben und wählen Sie ein Passwort.",
        "email_locked": "Ihre Einladung gilt für diese Adresse.",
        "mobile_number": "Mobilnummer",
        "given_name": "Vorname",
        "family_name": "Nachname",
        "optional": "optional",
        "password_rules": "Mindestens {min} Zeichen.",
        "create_account": "Konto anlegen",
        "decline_invitation": "Einladung ablehnen",
        "have_account": "Sie haben schon ein Konto?",
        "register_without_invitation": "Ohne Einladung registrieren",
        "signup_closed": "Die Registrierung ist geschlossen",
        "signup_closed_hint": "Hier können keine neuen Konten angelegt werden. Wenn Sie schon "
        "ein Konto haben, melden Sie sich an.",
        "signup_restricted": "Registrierung nur mit Einladung",
        "signup_restricted_hint": "Um ein Konto anzulegen, benötigen Sie eine Einladung. Wenn "
        "Sie schon ein Konto haben, melden Sie sich an.",
        "invite_other_client": "Diese Einladung gilt für eine andere Anwendung",
        "invite_other_client_hint": "Bitte öffnen Sie den Link aus Ihrer Einladung unverändert.",
        "invite_declined": "Sie haben die Einladung abgelehnt",
        "invite_declined_hint": "Es wurde kein Konto angelegt. Sie können diese Seite schließen.",
        "registration_failed": "Die Registrierung ist nicht gelungen",
        "continue": "Weiter",
        "already_registered": "In dieser Anmeldeanfrage wurde bereits ein Konto angelegt. Mit "
        "„Weiter“ geht es damit weiter.",
        "unavailable_title": "Vestibule ist kurz nicht erreichbar",
        "unavailable_hint": "Es ging nichts verloren und nichts wurde geändert. Bitte versuchen "
        "Sie es in einer Minute noch einmal.",
        "form_expired": "Das Formular ist abgelaufen oder kam nicht von dieser Seite; bitte laden "
        "Sie die Seite neu und versuchen Sie es erneut.",
        "invite_just_used": "Mit dieser Einladung wurde gerade ein Konto angelegt. Wenn Sie das "
        "waren, melden Sie sich an.",
        "forgot_password": "Passwort vergessen?",
        "forgot_intro": "Geben Sie die E-Mail-Adresse Ihres Kontos ein. Wir schicken Ihnen "
        "dorthin einen Link, mit dem Sie ein neues Passwort wählen können.",
        "send_link": "Link senden",
        "reset_link_sent": "Prüfen Sie Ihr Postfach",
        "reset_link_sent_hint": "Falls es zu dieser Adresse ein Konto gibt, haben wir einen Link "
        "dorthin geschickt. Er funktioniert einmal und nur für begrenzte Zeit. Nichts "
        "angekommen? Sehen Sie im Spam-Ordner nach oder fordern Sie ihn erneut an.",
        "reset_password": "Neues Passwort wählen",
        "set_password": "Passwort festlegen",
        "password_for": "Für das Konto {email}.",
        "new_password": "Neues Passwort",
        "save_password": "Passwort speichern",
        "password_too_short": "Bitte wählen Sie ein Passwort mit mindestens {min} Zeichen.",
        "link_unusable": "Dieser Link ist abgelaufen oder wurde bereits verwendet",
        "link_unusable_hint": "Links zum Festlegen eines Passworts funktionieren einmal und nur "
        "für begrenzte Zeit. Sie können einen neuen anfordern.",
        "ask_new_link": "Neuen Link anfordern",
        "password_changed": "Ihr Passwort wurde geändert, und Sie wurden überall abgemeldet. "
        "Melden Sie sich mit dem neuen Passwort an.",
        "verify_email": "E-Mail-Adresse bestätigen",
        "verify_email_question": "Ist {email} Ihre E-Mail-Adresse? Drücken Sie die "
        "Schaltfläche, um sie zu bestätigen.",
        "verify_email_button": "Meine E-Mail-Adresse bestätigen",
        "email_verified": "Ihre E-Mail-Adresse ist bestätigt",
        "email_verified_hint": "Danke: {email} ist jetzt eine bestätigte Adresse Ihres Kontos. "
        "Sie können diese Seite schließen.",
        "verify_link_unusable_hint": "Links zum Bestätigen einer E-Mail-Adresse funktionieren "
        "einmal und nur begrenzte Zeit. Wenn Sie die Schaltfläche schon gedrückt haben, ist "
        "Ihre Adresse bereits bestätigt.",
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


def accept_languages() -> list[str]:
    """Language tags of the caller's Accept-Language header, best first."""
    return [tag.split("-")[0].lower() for tag, _ in request.accept_languages]
