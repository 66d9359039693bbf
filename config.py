"""Vestibule configuration: the only module that reads ``os.environ``.

Every setting states its unit and default where it is defined, grouped by area in a
small class each (``DatabaseSettings`` ... ``PlaygroundSettings``) that ``Config``
inherits; the environments override a few of them. ``load_config`` picks a class from
``VESTIBULE_ENV`` (``development`` unless told otherwise) and
``ProductionConfig.validate`` refuses to start without the secrets production needs.

Longer than the ~300 lines other modules keep to: it is the one place every setting
is documented, and splitting it would send a reader hunting through several files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


class ConfigurationError(RuntimeError):
    """A setting that production cannot run without is missing or wrong."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value is not None else default


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    return value.lower() in ("1", "true", "yes", "on") if value is not None else default


def _env_json(name: str, default):
    value = _env(name)
    if value is None:
        return default
    try:
        return json.loads(value)
    except ValueError:
        raise ConfigurationError(f"{name} is not valid JSON") from None


#: Who may register (spec §3.5); a client's own ``signup_mode`` overrides the setting.
SIGNUP_MODES = ("public", "restricted", "closed")
#: What the registration page offers to sign in with (issue 16).
REGISTRATION_CREDENTIALS = ("password", "passkey", "both")


def _check_webauthn_rp_id(rp_id: str | None, issuer: str | None) -> None:
    """WEBAUTHN_RP_ID must be the ISSUER's host or a parent domain of it: browsers
    refuse every passkey ceremony otherwise."""
    host = (urlsplit(issuer).hostname or "") if issuer else ""
    if rp_id and host and host != rp_id.lower() and not host.endswith("." + rp_id.lower()):
        raise ConfigurationError(
            f"WEBAUTHN_RP_ID {rp_id} is neither the ISSUER's host nor a parent domain of it"
        )


class DatabaseSettings:
    """The database and its connection pool (app/database.py)."""

    #: SQLAlchemy URL; PostgreSQL in production (``postgresql+psycopg://...``).
    SQLALCHEMY_DATABASE_URI: str | None = _env("DATABASE_URL")
    #: Extra SQLAlchemy engine options, over the ones app/database.py picks per database.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    #: Seconds after which a pooled PostgreSQL connection is replaced (30 minutes).
    DATABASE_POOL_RECYCLE = _env_int("DATABASE_POOL_RECYCLE", 1800)
    #: Seconds a pooled connection may sit unused before it is pinged at its next use
    #: (a connection lost without a word is then noticed before a request fails; one
    #: the server closed is noticed at its next use whatever its idle time).
    DATABASE_IDLE_PING = _env_int("DATABASE_IDLE_PING", 10)


class SessionSettings:
    """Browser sessions, paused authorization requests, forms and page languages."""

    #: The session cookie: its name, out of reach of scripts, and sent on top-level
    #: navigations from other sites (``Lax``) so a relying party's redirect to
    #: /authorize finds the sign-in, but not on their cross-site POSTs.
    SESSION_COOKIE_NAME = "vestibule_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    #: Secure cookies everywhere but local development and tests.
    SESSION_COOKIE_SECURE = True
    #: Seconds a browser sign-in stays valid (12 hours).
    BROWSER_SESSION_LIFETIME = 12 * 3600
    #: Seconds a paused authorization request (sign-in, consent) may wait (15 minutes).
    INTERACTION_LIFETIME = 15 * 60
    #: Languages the pages are offered in (``ui_locales`` picks among them).
    UI_LOCALES = ("en", "de")
    #: Seconds a form's CSRF token stays valid (1 hour).
    WTF_CSRF_TIME_LIMIT = 3600
    #: Flask-WTF's HTTPS check wants a same-origin ``Referer``, which our
    #: ``Referrer-Policy: no-referrer`` suppresses; Fetch Metadata (``Sec-Fetch-Site``)
    #: is the second layer instead (app/security.py). Do not turn this on.
    WTF_CSRF_SSL_STRICT = False


class OAuthSettings:
    """The protocol (app/oauth/): scopes, token lifetimes, signing keys."""

    #: Authlib refuses http:// URLs unless this is set; development and tests only.
    AUTHLIB_INSECURE_TRANSPORT = False
    #: Seconds an authorization code lives (RFC 9700 recommends short; spec §4 says <= 60).
    AUTHORIZATION_CODE_LIFETIME = 60
    #: Seconds an access token lives (1 hour).
    ACCESS_TOKEN_LIFETIME = 3600
    #: Seconds a client-credentials access token lives (1 hour).
    CLIENT_CREDENTIALS_TOKEN_LIFETIME = 3600
    #: Seconds a refresh token lives from its issue (30 days); each rotation issues a new one.
    REFRESH_TOKEN_LIFETIME = 30 * 24 * 3600
    #: Seconds an ID token is valid (1 hour).
    ID_TOKEN_LIFETIME = 3600
    #: Seconds relying parties and proxies may cache /jwks.json and the discovery
    #: documents (``Cache-Control: public, max-age``; default 300, i.e. 5 minutes).
    #: After ``vestibule keys publish-next``, wait at least this long before
    #: ``vestibule keys rotate``.
    JWKS_MAX_AGE = _env_int("JWKS_MAX_AGE", 300)
    #: Seconds a process trusts what it last read of the published signing keys and
    #: of which one signs (10): a rotation reaches every process within this time.
    SIGNING_KEYS_RECHECK = _env_int("SIGNING_KEYS_RECHECK", 10)
    #: Scopes this server knows. Clients are limited further by their own allowed scopes.
    #: The ``*:read`` / ``*:write`` scopes guard the admin API (spec §3.6).
    OAUTH_SCOPES = (
        "openid",
        "profile",
        "email",
        "phone",
        "offline_access",
        # The person's group and role names as claims (ID token, userinfo,
        # introspection), for relying parties acting on what an invitation granted.
        "groups",
        "roles",
        "invitations:read",
        "invitations:write",
        "users:read",
        "users:write",
        "clients:read",
        "clients:write",
        "webhooks:read",
        "webhooks:write",
        "outbox:read",
        "outbox:write",
        # Off by default (no client holds them unless registered with them): a machine
        # needs roles:grant to grant, take away or act on the built-in roles (admin,
        # secondary_admin, user_invite), and users:verify to mark an address verified
        # that Vestibule did not deliver to (issue 10).
        "roles:grant",
        "users:verify",
        # For a monitoring system's client-credentials token: read /metrics.
        "metrics:read",
    )


class AccountSettings:
    """Who may register and how, password hashing, password and email links."""

    #: Who may register (spec §3.5): ``public`` (anyone), ``restricted`` (only with a
    #: valid invitation) or ``closed`` (nobody, invitations included). A client's
    #: ``signup_mode`` overrides it for registrations started by that client.
    SIGNUP_MODE: str = _env("SIGNUP_MODE", "restricted") or "restricted"
    #: Extra registration fields (spec §3.4), a JSON list of objects:
    #: ``{"name": "department", "label": "Department" | {"en": ..., "de": ...},
    #: "type": "text" | "number" | "select" | "checkbox" | "date", "required": false,
    #: "choices": [...] (select only), "max_length": 256 (text only)}``.
    #: Checked when the app starts (app/accounts/fields.py); values land in the
    #: account's ``custom_fields``.
    REGISTRATION_FIELDS: list = _env_json("REGISTRATION_FIELDS", [])
    #: Seconds an email verification link works (7 days).
    EMAIL_VERIFICATION_LIFETIME = _env_int("EMAIL_VERIFICATION_LIFETIME", 7 * 24 * 3600)
    #: Whether the authorization flow pauses at "check your email" until the signed-in
    #: person's email is verified (default off: clients see ``email_verified`` and
    #: decide). The page says where the link went and offers to send it again.
    REQUIRE_VERIFIED_EMAIL: bool = _env_bool("REQUIRE_VERIFIED_EMAIL", False)
    #: Seconds a mobile number's SMS code works (10 minutes), and the wrong codes it
    #: takes before it stops working (5).
    PHONE_CODE_LIFETIME = _env_int("PHONE_CODE_LIFETIME", 600)
    PHONE_CODE_ATTEMPTS = _env_int("PHONE_CODE_ATTEMPTS", 5)
    #: Seconds a "forgot your password?" link works (1 hour), and an administrator's
    #: set-password link unless issued with ``expires_in`` (7 days; at most 30 days).
    PASSWORD_RESET_LIFETIME = _env_int("PASSWORD_RESET_LIFETIME", 3600)
    SET_PASSWORD_LIFETIME = _env_int("SET_PASSWORD_LIFETIME", 7 * 24 * 3600)
    SET_PASSWORD_MAX_LIFETIME = 30 * 24 * 3600
    #: argon2id parameters for new password hashes (RFC 9106 second recommended option:
    #: 64 MiB, 3 passes, 4 lanes); a hash made with others is redone at its next sign-in.
    #: Passes over memory (default 3), memory in KiB (default 65536, i.e. 64 MiB), and
    #: lanes (default 4). Cheaper allows more sign-ins per core (README, "Sizing
    #: argon2"); keep at least 19456 KiB (19 MiB), 2 passes, 1 lane (OWASP's minimum).
    ARGON2_TIME_COST = _env_int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = _env_int("ARGON2_MEMORY_COST", 65536)
    ARGON2_PARALLELISM = _env_int("ARGON2_PARALLELISM", 4)
    #: Passkeys (WebAuthn, issue 16). The relying-party id passkeys are bound to: the
    #: ISSUER's host unless set. Set a parent domain (``example.com`` for an ISSUER on
    #: ``id.example.com``) to keep passkeys working if the server moves to a sibling
    #: host; it must be the ISSUER's host or a parent domain of it.
    WEBAUTHN_RP_ID: str | None = _env("WEBAUTHN_RP_ID")
    #: Space-separated origins a passkey ceremony may come from (``https://host[:port]``);
    #: default: the ISSUER's origin alone.
    WEBAUTHN_ORIGINS: list[str] = (_env("WEBAUTHN_ORIGINS", "") or "").split()
    #: Seconds a passkey challenge works once the page asked for it (5 minutes).
    WEBAUTHN_CHALLENGE_LIFETIME = _env_int("WEBAUTHN_CHALLENGE_LIFETIME", 300)
    #: What a person may create an account with on the registration page: ``password``,
    #: ``passkey`` (passkey-only accounts) or ``both`` (default: the person chooses).
    REGISTRATION_CREDENTIALS: str = _env("REGISTRATION_CREDENTIALS", "both") or "both"
    #: Whether people holding the role admin or secondary_admin must give a second
    #: factor (a TOTP code, or sign in with a passkey) everywhere: the dashboard, the
    #: account page and every client (issue 16). One who has none is led through
    #: setting up an authenticator app at their next sign-in. On unless set (production);
    #: off in development and tests, so the seeded demo admin signs in with a password.
    MFA_FOR_ADMIN_ROLES: bool = _env_bool("MFA_FOR_ADMIN_ROLES", True)
    #: Seconds a correct password waits for its second factor (15 minutes: setting up
    #: an authenticator app takes a while); then the sign-in starts again.
    SECOND_FACTOR_STEP_LIFETIME = _env_int("SECOND_FACTOR_STEP_LIFETIME", 15 * 60)


class InvitationSettings:
    """Invitations and their links (app/invitations/)."""

    #: Seconds an invitation stays usable unless created with ``expires_in`` (30 days).
    INVITATION_LIFETIME = 30 * 24 * 3600
    #: Longest ``expires_in`` accepted, in seconds (1 year); more is refused as absurd.
    INVITATION_MAX_LIFETIME = 365 * 24 * 3600
    #: Seconds the short link ``/i/<token>`` keeps redirecting (7 days, spec §2.2).
    SHORT_LINK_LIFETIME = _env_int("SHORT_LINK_LIFETIME", 7 * 24 * 3600)
    #: URL prefixes a client-less invitation's ``redirect_url`` may start with.
    INVITATION_REDIRECT_ALLOWLIST: tuple[str, ...] = tuple(
        filter(None, (_env("INVITATION_REDIRECT_ALLOWLIST", "") or "").split())
    )
    #: Rows accepted by one bulk invitation request.
    BULK_INVITATION_LIMIT = 1000


class MessageSettings:
    """Email and SMS (spec §5), checked when the app starts (app/messages/__init__.py)."""

    #: The product or organisation people are invited to (``account_name`` in templates).
    ACCOUNT_NAME: str = _env("ACCOUNT_NAME", "Vestibule") or "Vestibule"
    #: Folder of ``<key>/<lang>/{subject.txt,body.txt,body.html,sms.txt}``.
    MESSAGE_TEMPLATES_DIR: str = _env("MESSAGE_TEMPLATES_DIR") or str(
        BASE_DIR / "templates" / "messages"
    )
    #: Message templates live in ``templates/messages/<key>/<lang>/``; the template keys
    #: and languages that exist there are the ones the API accepts.
    DEFAULT_TEMPLATE_KEY = "invite_user"
    DEFAULT_LANG = "en"
    #: ``smtp`` (deliver through MAIL_SERVER) or ``console`` (print the message: development).
    #: With ``smtp``, the app refuses to start without MAIL_SERVER.
    MAIL_BACKEND: str = _env("MAIL_BACKEND", "smtp") or "smtp"
    #: SMTP host name and port (587: submission with STARTTLS; 465 for ``tls``).
    MAIL_SERVER: str | None = _env("MAIL_SERVER")
    MAIL_PORT = _env_int("MAIL_PORT", 587)
    #: ``starttls`` (upgrade a plain connection; refused if the server cannot),
    #: ``tls`` (implicit TLS from the first byte) or ``none`` (local relays only).
    MAIL_SECURITY: str = _env("MAIL_SECURITY", "starttls") or "starttls"
    #: SMTP AUTH credentials; no login when MAIL_USERNAME is unset.
    MAIL_USERNAME: str | None = _env("MAIL_USERNAME")
    MAIL_PASSWORD: str | None = _env("MAIL_PASSWORD")
    #: The From header (and, its address, the envelope sender and Message-ID domain).
    MAIL_FROM: str = _env("MAIL_FROM", "Vestibule <no-reply@localhost>") or ""
    #: Seconds to wait for the SMTP server on each step before the attempt counts as failed.
    MAIL_TIMEOUT = _env_int("MAIL_TIMEOUT", 10)
    #: ``http`` (POST JSON to SMS_HTTP_URL), ``console`` (print the message; not in
    #: production: it writes invitation links into logs) or ``off`` (no SMS: an SMS
    #: fails at once and stays in the outbox as dead). ``off`` in production, ``console``
    #: elsewhere, unless set.
    SMS_BACKEND: str = _env("SMS_BACKEND", "console") or "console"
    #: The provider's (or your gateway's) endpoint: ``{"to", "from", "text", "id"}`` as JSON.
    SMS_HTTP_URL: str | None = _env("SMS_HTTP_URL")
    #: One header sent with each request, as ``Name: value`` (``Authorization: Bearer xyz``).
    SMS_HTTP_AUTH_HEADER: str | None = _env("SMS_HTTP_AUTH_HEADER")
    #: The sender name or number passed as ``from``.
    SMS_FROM: str = _env("SMS_FROM", "Vestibule") or ""
    #: Seconds to wait for the SMS endpoint's answer.
    SMS_TIMEOUT = _env_int("SMS_TIMEOUT", 10)


class OutboxSettings:
    """The outbox (spec §5, §6): messages and webhook deliveries, sent by ``vestibule
    worker`` (or the in-process runner) at least once (app/outbox/)."""

    #: Tries before an item is ``dead`` (an administrator may retry it).
    OUTBOX_MAX_ATTEMPTS = _env_int("OUTBOX_MAX_ATTEMPTS", 8)
    #: Seconds before the first retry (default 30); doubled each time, with jitter, up
    #: to OUTBOX_BACKOFF_MAX seconds (default 6 hours).
    OUTBOX_BACKOFF_BASE = _env_int("OUTBOX_BACKOFF_BASE", 30)
    OUTBOX_BACKOFF_MAX = _env_int("OUTBOX_BACKOFF_MAX", 6 * 3600)
    #: Seconds a worker holds the items it claimed; past that another worker may take
    #: them (a worker that died mid-batch loses nothing, it delays).
    OUTBOX_LEASE = _env_int("OUTBOX_LEASE", 120)
    #: Items claimed at once, and seconds between polls when the outbox is empty.
    OUTBOX_BATCH = _env_int("OUTBOX_BATCH", 50)
    OUTBOX_POLL_INTERVAL = float(_env("OUTBOX_POLL_INTERVAL", "2") or 2)
    #: Run a delivery thread inside the web process (``make run``), so development
    #: needs no second terminal. Production runs ``vestibule worker`` instead.
    OUTBOX_IN_PROCESS: bool = _env_bool("OUTBOX_IN_PROCESS", False)
    #: Lanes: a worker delivers email, SMS and webhooks on threads of their own, so a
    #: slow receiver in one lane never holds up another. Deliveries at once per worker:
    #: emails (default 1; each thread keeps its own SMTP connection), SMS (default 1),
    #: and webhooks to all endpoints together (default 8).
    OUTBOX_EMAIL_CONCURRENCY = _env_int("OUTBOX_EMAIL_CONCURRENCY", 1)
    OUTBOX_SMS_CONCURRENCY = _env_int("OUTBOX_SMS_CONCURRENCY", 1)
    OUTBOX_WEBHOOK_CONCURRENCY = _env_int("OUTBOX_WEBHOOK_CONCURRENCY", 8)
    #: Webhook deliveries in flight to one endpoint at once, counted over all workers
    #: (exactly on PostgreSQL). Default 1: a receiver gets its events one at a time, in
    #: the order they happened (retries aside); more is faster but unordered.
    OUTBOX_WEBHOOK_ENDPOINT_CONCURRENCY = _env_int("OUTBOX_WEBHOOK_ENDPOINT_CONCURRENCY", 1)
    #: Circuit breaker: after OUTBOX_BREAKER_THRESHOLD failed deliveries in a row
    #: (default 5) an endpoint is parked for OUTBOX_BREAKER_PARK seconds (default 300):
    #: its deliveries wait without using attempts or worker time; then one delivery
    #: probes it (success resumes the rest, failure parks it again).
    OUTBOX_BREAKER_THRESHOLD = _env_int("OUTBOX_BREAKER_THRESHOLD", 5)
    OUTBOX_BREAKER_PARK = _env_int("OUTBOX_BREAKER_PARK", 300)
    #: Seconds a webhook receiver has to connect and to answer each read (per attempt).
    WEBHOOK_TIMEOUT = float(_env("WEBHOOK_TIMEOUT", "10") or 10)
    #: Let webhook endpoints be (or resolve to) loopback, private or link-local
    #: addresses. Off by default: an endpoint must not reach the server's own network
    #: (SSRF). On in development and tests, whose receivers run on 127.0.0.1.
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: bool = _env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)


class RateLimitSettings:
    """Request limits per client address, and the back-off against password guessing."""

    #: Redis URL for rate-limit counters shared by all instances; memory if unset.
    RATELIMIT_STORAGE_URI: str = _env("REDIS_URL", "memory://") or "memory://"
    #: Redis down is not an outage: the limits go on per process (in memory) until
    #: Redis answers again, checked with a growing pause; one warning per outage.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    #: Seconds to wait for Redis to connect or answer before counting it as down.
    RATELIMIT_STORAGE_OPTIONS: dict = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    #: Whether the limits apply at all (off for the test suite only).
    RATELIMIT_ENABLED = True
    #: Prefix of every rate-limit key in Redis, so several deployments (or test runs)
    #: can share one Redis without sharing counters.
    RATELIMIT_KEY_PREFIX: str = _env("RATELIMIT_KEY_PREFIX", "vestibule") or "vestibule"
    #: Attempts allowed on the sign-in forms per client address (Flask-Limiter syntax).
    SIGN_IN_RATE_LIMIT: str = _env("SIGN_IN_RATE_LIMIT", "10 per minute") or ""
    #: Failed password checks for one address (across every form, from any client
    #: address) before a back-off starts; then no password is checked for it for
    #: SIGN_IN_BACKOFF_BASE seconds, doubled at each further failure up to
    #: SIGN_IN_BACKOFF_MAX. A success, or SIGN_IN_FAILURE_WINDOW seconds without a
    #: failure, starts the count afresh.
    SIGN_IN_FREE_FAILURES = _env_int("SIGN_IN_FREE_FAILURES", 5)
    SIGN_IN_BACKOFF_BASE = _env_int("SIGN_IN_BACKOFF_BASE", 30)
    SIGN_IN_BACKOFF_MAX = _env_int("SIGN_IN_BACKOFF_MAX", 15 * 60)
    SIGN_IN_FAILURE_WINDOW = _env_int("SIGN_IN_FAILURE_WINDOW", 24 * 3600)
    #: Requests allowed on the token endpoint per client address.
    TOKEN_RATE_LIMIT: str = _env("TOKEN_RATE_LIMIT", "120 per minute") or ""
    #: Registration attempts (each one hashes a password) per client address.
    REGISTRATION_RATE_LIMIT: str = _env("REGISTRATION_RATE_LIMIT", "10 per minute") or ""
    #: Reset emails one address may be sent (on top of the per-client-address limit of
    #: SIGN_IN_RATE_LIMIT), so nobody can flood a person's mailbox.
    PASSWORD_RESET_ADDRESS_RATE_LIMIT = "5 per hour"
    #: Verification messages (an email link sent again, an SMS code) one account may
    #: ask for, each kind counted apart, and all accounts from one client address.
    VERIFICATION_RATE_LIMIT: str = _env("VERIFICATION_RATE_LIMIT", "5 per hour") or ""
    VERIFICATION_CLIENT_RATE_LIMIT: str = (
        _env("VERIFICATION_CLIENT_RATE_LIMIT", "20 per hour") or ""
    )
    #: The account page's other forms (profile, sessions, applications) per client
    #: address; those that check a password count under SIGN_IN_RATE_LIMIT instead.
    ACCOUNT_RATE_LIMIT: str = _env("ACCOUNT_RATE_LIMIT", "30 per minute") or ""


class OperationsSettings:
    """Operating it: proxies, request size, what ``vestibule purge`` keeps, logs,
    readiness, metrics (README "Health, metrics and logs")."""

    #: Proxies in front of the app whose ``X-Forwarded-For/-Proto/-Host`` are trusted
    #: (0: none). Set it to the number of proxies that each append to those headers
    #: (1 behind one TLS-terminating proxy). With more hops than really exist, anyone
    #: can forge ``X-Forwarded-For`` and escape the per-address rate limits; the app
    #: logs the value it runs with at start-up.
    PROXY_FIX_HOPS = _env_int("PROXY_FIX_HOPS", 0)
    #: Largest request body accepted, in bytes (a bulk CSV or JSON of 1,000 rows fits
    #: well within it); larger ones get 413 before anything reads them.
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    #: Seconds an ``Idempotency-Key`` answer is remembered (24 hours).
    IDEMPOTENCY_TTL = 24 * 3600
    #: Days events are kept as the audit log; ``vestibule purge`` removes older ones.
    EVENT_RETENTION_DAYS = _env_int("EVENT_RETENTION_DAYS", 365)
    #: Days sent outbox items (and their attempt log) are kept before ``vestibule purge``.
    OUTBOX_RETENTION_DAYS = _env_int("OUTBOX_RETENTION_DAYS", 30)
    #: ``plain`` (default: ``time level logger [request id] message``) or ``json`` (one
    #: JSON object per line: time, level, logger, message, request_id, method,
    #: endpoint, status ...). Secret URLs are redacted in both.
    LOG_FORMAT: str = _env("LOG_FORMAT", "plain") or "plain"
    #: Whether Vestibule writes its own line per request (method, redacted path,
    #: status, time, request id). Unset: with ``json`` only; in ``plain``, the
    #: shipped gunicorn.conf.py's access log already has that line.
    LOG_REQUESTS: bool | None = _env_bool("LOG_REQUESTS", None)  # type: ignore[arg-type]
    #: Seconds each /readyz check (database, Redis) may take before it counts as
    #: failed (default 2).
    READYZ_TIMEOUT = float(_env("READYZ_TIMEOUT", "2") or 2)
    #: Whether /readyz answers 503 while Redis (REDIS_URL) is down (default off: the
    #: rate limits fall back per process then, so the instance still serves; the
    #: check is reported either way).
    READYZ_REQUIRE_REDIS: bool = _env_bool("READYZ_REQUIRE_REDIS", False)
    #: Networks (CIDRs, space- or comma-separated) whose clients may read /metrics
    #: without a token; empty by default (a bearer token with ``metrics:read`` then).
    METRICS_ALLOW_FROM: str = _env("METRICS_ALLOW_FROM", "") or ""
    #: A folder shared by the processes of one host (gunicorn's workers, a worker):
    #: each writes its metrics there and /metrics adds them up. Unset: each process
    #: reports its own. prometheus-client reads the variable itself, at import.
    PROMETHEUS_MULTIPROC_DIR: str | None = _env("PROMETHEUS_MULTIPROC_DIR")


class PlaygroundSettings:
    """The built-in relying party under /playground/ (spec §7.4)."""

    #: Serve the playground. On in development and tests; opt-in in production
    #: (``PLAYGROUND_ENABLED=1``).
    PLAYGROUND_ENABLED: bool = _env_bool("PLAYGROUND_ENABLED", False)
    #: The registered client the playground signs in as (``vestibule seed`` creates it).
    PLAYGROUND_CLIENT_ID: str = _env("PLAYGROUND_CLIENT_ID", "demo-confidential") or ""
    #: That client's secret, sent with client_secret_basic; required when the
    #: playground is enabled in production. No default.
    PLAYGROUND_CLIENT_SECRET: str | None = _env("PLAYGROUND_CLIENT_SECRET")


class Config(
    DatabaseSettings,
    SessionSettings,
    OAuthSettings,
    AccountSettings,
    InvitationSettings,
    MessageSettings,
    OutboxSettings,
    RateLimitSettings,
    OperationsSettings,
    PlaygroundSettings,
):
    """Defaults shared by every environment: the identity of the server, and every area."""

    ENV_NAME = "base"
    #: Signs the session cookie and CSRF tokens. Required in production.
    SECRET_KEY: str | None = _env("SECRET_KEY")
    #: Earlier secret keys, space-separated, still accepted after a change of SECRET_KEY:
    #: for session cookies, and to open sealed values (queued messages, webhook secrets).
    SECRET_KEY_FALLBACKS: list[str] = (_env("SECRET_KEY_FALLBACKS", "") or "").split()
    #: The issuer identifier (scheme + host [+ path], no trailing slash). Every
    #: endpoint URL in discovery is built from it. Required in production.
    ISSUER: str | None = _env("ISSUER")

    @classmethod
    def validate(cls, config: Mapping[str, Any]) -> None:
        """Raise ConfigurationError when a setting of ``config`` (this class's values
        with the app's overrides) is missing or wrong."""
        if config["SIGNUP_MODE"] not in SIGNUP_MODES:
            raise ConfigurationError(f"SIGNUP_MODE must be one of {', '.join(SIGNUP_MODES)}")
        if config["REGISTRATION_CREDENTIALS"] not in REGISTRATION_CREDENTIALS:
            raise ConfigurationError(
                f"REGISTRATION_CREDENTIALS must be one of {', '.join(REGISTRATION_CREDENTIALS)}"
            )
        _check_webauthn_rp_id(config.get("WEBAUTHN_RP_ID"), config.get("ISSUER"))


class DevelopmentConfig(Config):
    """``make run``: an SQLite file under ``instance/``, http on 127.0.0.1:5000."""

    ENV_NAME = "development"
    SECRET_KEY = _env("SECRET_KEY", "dev-only-not-secret")
    ISSUER = _env("ISSUER", "http://127.0.0.1:5000")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'vestibule.db'}")
    SESSION_COOKIE_SECURE = False
    AUTHLIB_INSECURE_TRANSPORT = True
    PROXY_FIX_HOPS = 0
    #: ``vestibule seed`` (development only) creates these demo credentials.
    DEMO_ADMIN_EMAIL = "admin@example.com"
    DEMO_ADMIN_PASSWORD = _env("DEMO_ADMIN_PASSWORD", "vestibule-admin")
    DEMO_CLIENT_SECRET = _env("DEMO_CLIENT_SECRET", "demo-client-secret")
    PLAYGROUND_ENABLED = _env_bool("PLAYGROUND_ENABLED", True)
    OUTBOX_IN_PROCESS = _env_bool("OUTBOX_IN_PROCESS", True)
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES = _env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", True)
    MFA_FOR_ADMIN_ROLES = _env_bool("MFA_FOR_ADMIN_ROLES", False)
    #: Messages are printed by the web process, not sent, unless told otherwise.
    MAIL_BACKEND = _env("MAIL_BACKEND", "console") or "console"
    #: The seeded demo client's secret unless told otherwise.
    PLAYGROUND_CLIENT_SECRET = _env("PLAYGROUND_CLIENT_SECRET", DEMO_CLIENT_SECRET)


class TestingConfig(Config):
    """The test suite: cheap argon2, no rate limits, an explicit database per run."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    ISSUER = "http://localhost"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SESSION_COOKIE_SECURE = False
    AUTHLIB_INSECURE_TRANSPORT = True
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    PROXY_FIX_HOPS = 0
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
    PLAYGROUND_ENABLED = True
    PLAYGROUND_CLIENT_ID = "demo-confidential"
    PLAYGROUND_CLIENT_SECRET = "playground-test-secret"
    #: No test opens a socket unless it asks for SMTP itself (tests/messages).
    MAIL_BACKEND = "console"
    SMS_BACKEND = "console"
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    #: Tests that want it turn it on (tests/oauth/test_mfa_step.py).
    MFA_FOR_ADMIN_ROLES = False


#: Production wants a SECRET_KEY of at least this many characters, and none of these.
MIN_SECRET_KEY_LENGTH = 32
DEV_SECRETS = ("dev-only-not-secret", "testing-secret-key")


class ProductionConfig(Config):
    """gunicorn behind a TLS-terminating proxy, PostgreSQL, Redis."""

    ENV_NAME = "production"
    SMS_BACKEND: str = _env("SMS_BACKEND", "off") or "off"

    @classmethod
    def validate(cls, config: Mapping[str, Any]) -> None:
        super().validate(config)
        missing = [name for name in ("SECRET_KEY", "ISSUER") if not config[name]]
        if missing:
            raise ConfigurationError(f"production needs {', '.join(missing)} in the environment")
        if not str(config["ISSUER"]).startswith("https://"):
            raise ConfigurationError("production ISSUER must be an https:// URL")
        if not config["SQLALCHEMY_DATABASE_URI"]:
            raise ConfigurationError("production needs DATABASE_URL")
        if config["PLAYGROUND_ENABLED"] and not config["PLAYGROUND_CLIENT_SECRET"]:
            raise ConfigurationError("PLAYGROUND_ENABLED needs PLAYGROUND_CLIENT_SECRET")
        problems = development_only_settings(config)
        if problems:
            raise ConfigurationError("production refuses " + "; ".join(problems))


def development_only_settings(config: Mapping[str, Any]) -> list[str]:
    """Settings that only suit development, each saying what to do instead."""
    problems = []
    key = config["SECRET_KEY"] or ""
    if len(key) < MIN_SECRET_KEY_LENGTH or key in DEV_SECRETS:
        problems.append(
            f"this SECRET_KEY: use at least {MIN_SECRET_KEY_LENGTH} random characters "
            '(python -c "import secrets; print(secrets.token_urlsafe(48))")'
        )
    for name in ("MAIL_BACKEND", "SMS_BACKEND"):
        if config[name] == "console":
            problems.append(f"{name}=console (it prints invitation links into logs)")
    if config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"]:
        problems.append("WEBHOOK_ALLOW_PRIVATE_ADDRESSES (webhooks could reach internal hosts)")
    if config["AUTHLIB_INSECURE_TRANSPORT"] or not config["SESSION_COOKIE_SECURE"]:
        problems.append("plain http (AUTHLIB_INSECURE_TRANSPORT, SESSION_COOKIE_SECURE off)")
    return problems


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> type[Config]:
    """Return the config class named by ``name`` or ``VESTIBULE_ENV``."""
    name = name or _env("VESTIBULE_ENV", "development") or "development"
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigurationError(f"unknown VESTIBULE_ENV {name!r}") from None
