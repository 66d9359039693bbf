"""The links of invitations made in bulk without a message, downloadable once (issue 14).

An invitation's links exist only in the request that creates it: the database keeps
its token's hash. When a bulk upload makes invitations that send no message, their
links are written into a CSV file, sealed (``app.crypto.seal``) and kept in a
``link_exports`` row for ``LIFETIME``, bound to the person who made them. That person
downloads the file once with the row's secret id: the download deletes the row, so a
second download, another person, or a late one gets nothing.

Why a row and not the session: the session is a signed cookie, which holds a few
kilobytes (a thousand links do not fit), and a copy of an old cookie would replay the
file: a row is deleted once, for every instance, and its expiry is the database's.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from app.crypto import hash_secret, new_secret, seal, unseal
from app.extensions import db
from app.invitations.issued import Issued
from app.models import LinkExport, utcnow

#: How long the links wait for their download.
LIFETIME = timedelta(minutes=15)
#: The CSV file's columns, in order.
COLUMNS = (
    "email",
    "mobile_number",
    "name",
    "link",
    "short_link",
    "expires_at",
    "short_link_expires_at",
    "id",
)
_PURPOSE = "invitation-link-export"
#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def keep(issued: list[Issued], owner: str) -> tuple[str, LinkExport] | None:
    """Seal the links of ``issued`` into a CSV file only ``owner`` can download, once,
    for ``LIFETIME``; returns its secret id and row (None when there is no link).
    Commits; expired exports of anyone are dropped on the way."""
    if not issued:
        return None
    now = utcnow()
    db.session.execute(delete(LinkExport).where(LinkExport.expires_at <= now))
    token = new_secret()
    export = LinkExport(
        token_hash=hash_secret(token),
        owner=owner,
        sealed_csv=seal(csv_text(issued), _PURPOSE),
        rows=len(issued),
        created_at=now,
        expires_at=now + LIFETIME,
    )
    db.session.add(export)
    db.session.commit()
    return token, export


def take(token: str | None, owner: str) -> str | None:
    """The CSV file behind ``token`` for ``owner``, deleting it; None when it is unknown,
    another person's, expired or already taken (also by a concurrent request). Commits."""
    if not token or len(token) > 128:
        return None
    export = db.session.scalar(
        select(LinkExport).where(LinkExport.token_hash == hash_secret(token))
    )
    if export is None or export.owner != owner:
        db.session.rollback()
        return None
    taken = db.session.execute(delete(LinkExport).where(LinkExport.id == export.id)).rowcount
    db.session.commit()
    if taken != 1 or export.expires_at <= utcnow():
        return None
    return unseal(export.sealed_csv, _PURPOSE)


def csv_text(issued: list[Issued]) -> str:
    """The CSV file of ``issued``: a header of ``COLUMNS``, a row per invitation."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for item in issued:
        invitation = item.invitation
        name = " ".join(filter(None, (invitation.given_name, invitation.family_name)))
        writer.writerow(
            [
                _cell(invitation.email or ""),
                invitation.mobile_number or "",
                _cell(name),
                item.link,
                item.short_link,
                _iso(invitation.expires_at),
                _iso(invitation.short_link_expires_at),
                invitation.public_id,
            ]
        )
    return out.getvalue()


def _cell(value: str) -> str:
    """A text a spreadsheet shows as text, never runs as a formula (OWASP CSV injection)."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")
