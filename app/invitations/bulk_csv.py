"""The bulk invitation CSV (spec §7.3 ``invitations bulk``, the dashboard's upload): which
columns a file may have and how a row becomes an ``InvitationInput``. The CLI and the
dashboard read files with these rules; the service still validates every row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from app.errors import DomainError
from app.invitations.errors import InvalidInvitation
from app.invitations.validation import InvitationInput

#: Columns a bulk CSV may have (spec §3.1); lists are separated by ';'.
BULK_COLUMNS = (
    "email",
    "mobile_number",
    "given_name",
    "family_name",
    "client_id",
    "groups",
    "roles",
    "lang",
    "template_key",
    "expires_in",
    "notify",
    "existing_account",
)

#: A CSV row: its line number in the file and its values by column.
Row = tuple[int, dict[str, str]]


class InvalidCsv(DomainError):
    """A file that is not a bulk invitation CSV at all (no rows are read from it)."""

    def __init__(self, description: str):
        super().__init__(description, field="file")


def read_rows(text: str) -> list[Row]:
    """(line number, row) pairs of a CSV text; refuses a header naming unknown columns."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        unknown = sorted(set(reader.fieldnames or ()) - set(BULK_COLUMNS))
        if not reader.fieldnames or unknown:
            raise InvalidCsv(
                f"unknown column(s) {', '.join(unknown) or '(no header)'}; "
                f"expected some of: {', '.join(BULK_COLUMNS)}"
            )
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise InvalidCsv(f"not a readable CSV file: {exc}") from None


def row_input(row: dict[str, str]) -> InvitationInput:
    """The invitation a row asks for; InvalidInvitation names the value it cannot read."""
    if None in row:
        raise InvalidInvitation("row", "more values than columns")
    values = {key: (value or "").strip() for key, value in row.items()}
    refuse_unstorable("row", values.values())
    text = ("email", "mobile_number", "given_name", "family_name", "client_id", "lang")
    fields = {key: values.get(key) or None for key in (*text, "template_key")}
    return InvitationInput(
        **fields,
        groups=_split(values.get("groups")),
        roles=_split(values.get("roles")),
        expires_in=_whole_number("expires_in", values.get("expires_in")),
        notify=_yes_no("notify", values.get("notify")),
        existing_account=_join("existing_account", values.get("existing_account")),
    )


def refuse_unstorable(name: str, values: Iterable[str]) -> None:
    """Refuse NUL characters and lone surrogates (from undecodable arguments): no field
    may hold them, and PostgreSQL cannot even compare them (see app/security.py)."""
    for value in values:
        if "\x00" in value:
            raise InvalidInvitation(name, "contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInvitation(name, "is not valid UTF-8") from None


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def _whole_number(name: str, value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInvitation(name, f"not a whole number of seconds: {value!r}") from None


def _join(name: str, value: str | None) -> bool:
    """``join`` (the API's value: the email's account is invited), or empty."""
    if value and value.lower() != "join":
        raise InvalidInvitation(name, f"expected join or nothing, not {value!r}")
    return bool(value)


def _yes_no(name: str, value: str | None) -> bool:
    if not value:
        return True
    answer = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
    if value.lower() not in answer:
        raise InvalidInvitation(name, f"expected true or false, not {value!r}")
    return answer[value.lower()]
