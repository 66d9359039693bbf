"""Email delivery: SMTP (``MAIL_BACKEND=smtp``) or the console (development).

Called by the outbox worker with the item and its unsealed payload; returns an
Outcome. A refusal the server means for good (5xx for the recipient or the message)
is permanent; anything else (no connection, a timeout, 4xx, a login that failed) is
retried with backoff, so an SMTP outage delays messages and loses none. Each worker
thread keeps its connection open for the next messages of a batch.
"""

from __future__ import annotations

import smtplib
import ssl
import sys
import threading
import time
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from app.models import OutboxItem, utcnow
from app.outbox.senders import Outcome

SECURITY = ("starttls", "tls", "none")
#: Messages sent over one SMTP connection, and seconds it may idle, before a new one.
REUSE_MESSAGES = 100
REUSE_IDLE = 30.0


def send_email(item: OutboxItem, payload: dict[str, Any]) -> Outcome:
    """Deliver an email item with the configured backend."""
    message = build_message(item, payload)
    if current_app.config["MAIL_BACKEND"] == "console":
        return _print(message)
    return _send_smtp(message, payload["to"])


def build_message(item: OutboxItem, payload: dict[str, Any]) -> EmailMessage:
    """The MIME message: text, plus an HTML alternative when there is one.

    The Message-ID comes from the item's public id, so a retry of the same message
    carries the same id and a receiver can tell it is one message. Header values
    holding a line break are refused by the email package (no header injection).
    """
    config = current_app.config
    message = EmailMessage()
    message["Message-ID"] = f"<{item.public_id}@{_domain(config['MAIL_FROM'])}>"
    message["Date"] = format_datetime(utcnow())
    message["From"] = config["MAIL_FROM"]
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    if payload.get("lang"):
        message["Content-Language"] = payload["lang"]
    # Quoted-printable: 7-bit clean, so no server needs 8BITMIME for ä or ß.
    message.set_content(payload["text"] + "\n", cte="quoted-printable")
    if payload.get("html"):
        message.add_alternative(payload["html"] + "\n", subtype="html", cte="quoted-printable")
    return message


def envelope_sender(mail_from: str) -> str:
    """The bare address of a From value such as ``Vestibule <no-reply@example.com>``."""
    return parseaddr(mail_from)[1]


def _domain(mail_from: str) -> str:
    return envelope_sender(mail_from).rpartition("@")[2] or "localhost"


def _print(message: EmailMessage) -> Outcome:
    body = message.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    print(
        f"--- email (MAIL_BACKEND=console) {message['Message-ID']}\n"
        f"From: {message['From']}\nTo: {message['To']}\nSubject: {message['Subject']}\n\n"
        f"{text.rstrip()}\n---",
        file=sys.stdout,
        flush=True,
    )
    return Outcome(ok=True, excerpt="printed (MAIL_BACKEND=console)")


def _send_smtp(message: EmailMessage, to: str) -> Outcome:
    config = current_app.config
    try:
        smtp = _connection(config)
        try:
            smtp.send_message(message, envelope_sender(config["MAIL_FROM"]), [to])
        except BaseException:
            _connections.drop()
            raise
        _connections.used()
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        return _refused(code, reply, "recipient refused")
    except smtplib.SMTPDataError as exc:
        return _refused(exc.smtp_code, exc.smtp_error, "message refused")
    except smtplib.SMTPResponseException as exc:
        # Sender refused, login failed ...: configuration, which an operator can fix.
        return _refused(exc.smtp_code, exc.smtp_error, type(exc).__name__, permanent=False)
    except smtplib.SMTPNotSupportedError as exc:
        return Outcome(ok=False, error=f"{exc} (MAIL_SECURITY={config['MAIL_SECURITY']})")
    except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, TLS failed ...
        return Outcome(ok=False, error=f"{type(exc).__name__}: {exc}")
    return Outcome(ok=True, status_code=250, excerpt=f"accepted by {config['MAIL_SERVER']}")


def _refused(code: int, reply: bytes | str, what: str, permanent: bool | None = None) -> Outcome:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return Outcome(
        ok=False,
        status_code=code,
        excerpt=text,
        error=f"{what}: {code} {text}",
        permanent=500 <= code < 600 if permanent is None else permanent,
    )


class _Connections(threading.local):
    """This thread's open SMTP connection, reused for the next messages of a batch.

    A new connection costs a TCP (and TLS) handshake, EHLO and a login: several round
    trips per message. One is kept per thread for up to REUSE_MESSAGES messages while
    idle less than REUSE_IDLE seconds, for the same settings only, and checked with
    NOOP before reuse (the server may have closed it). Any error drops it.
    """

    smtp: smtplib.SMTP | None = None
    settings: tuple = ()
    sent = 0
    last_used = 0.0

    def reusable(self, settings: tuple) -> smtplib.SMTP | None:
        smtp = self.smtp
        if smtp is None:
            return None
        fresh = time.monotonic() - self.last_used < REUSE_IDLE and self.sent < REUSE_MESSAGES
        if settings != self.settings or not fresh:
            self.drop(polite=True)
        elif _answers(smtp):
            return smtp
        else:
            self.drop()  # the server hung up meanwhile
        return None

    def keep(self, smtp: smtplib.SMTP, settings: tuple) -> None:
        self.smtp, self.settings, self.sent = smtp, settings, 0
        self.last_used = time.monotonic()

    def used(self) -> None:
        self.sent += 1
        self.last_used = time.monotonic()

    def drop(self, polite: bool = False) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is not None and polite:
            _close(smtp)
        elif smtp is not None:
            smtp.close()


_connections = _Connections()


def close_connection() -> None:
    """Close this thread's kept SMTP connection, if any (a worker that stops may)."""
    _connections.drop(polite=True)


def _connection(config) -> smtplib.SMTP:
    """This thread's connection if still good for these settings, else a new one."""
    settings = tuple(config[name] for name in _CONNECTION_SETTINGS)
    smtp = _connections.reusable(settings)
    if smtp is None:
        smtp = _connect(config)
        _connections.keep(smtp, settings)
    return smtp


_CONNECTION_SETTINGS = (
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_SECURITY",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_TIMEOUT",
    "ISSUER",
)


def _answers(smtp: smtplib.SMTP) -> bool:
    try:
        return smtp.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _connect(config) -> smtplib.SMTP:
    """A connection to MAIL_SERVER, secured and logged in as configured."""
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
    # Our own name for EHLO: socket.getfqdn() can take seconds where DNS is slow.
    local = urlsplit(config["ISSUER"] or "").hostname or "localhost"
    security = config["MAIL_SECURITY"]
    if security == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, local_hostname=local, timeout=timeout, context=_tls()
        )
    else:
        smtp = smtplib.SMTP(host, port, local_hostname=local, timeout=timeout)
    try:
        if security == "starttls":
            smtp.starttls(context=_tls())  # raises SMTPNotSupportedError if not offered
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _close(smtp: smtplib.SMTP) -> None:
    """QUIT politely, but a connection that fails to is closed all the same."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()
