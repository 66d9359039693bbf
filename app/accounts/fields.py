"""Operator-configured registration fields (spec §3.4).

``REGISTRATION_FIELDS`` (config.py) lists them; ``parse_fields`` checks the list when
the app starts, so a typo stops the server instead of a registration. Values are
stored in the account's ``custom_fields`` under the field's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app, g

from config import ConfigurationError

TYPES = ("text", "number", "select", "checkbox", "date")
#: Names the registration form and its JSON body already use.
RESERVED = frozenset(
    {"email", "phone_number", "given_name", "family_name", "password", "csrf_token", "submit"}
)
NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
DEFAULT_MAX_LENGTH = 256
MAX_FIELDS = 32


@dataclass(frozen=True)
class FieldSpec:
    """One extra field on the registration form."""

    name: str
    labels: dict[str, str]
    type: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int = DEFAULT_MAX_LENGTH

    def label(self) -> str:
        """The label in the page's language, else English, else the name."""
        lang = g.get("locale", "en")
        return self.labels.get(lang) or self.labels.get("en") or self.name

    def to_stored(self, value: Any) -> Any:
        """The form's value as kept in ``custom_fields`` (dates as ISO text)."""
        return value.isoformat() if isinstance(value, date) else value


def parse_fields(raw: Any) -> tuple[FieldSpec, ...]:
    """Check the configured list; raise ConfigurationError naming what is wrong."""
    if not isinstance(raw, list) or len(raw) > MAX_FIELDS:
        raise ConfigurationError(f"REGISTRATION_FIELDS must be a list of at most {MAX_FIELDS}")
    specs, seen = [], set()
    for index, item in enumerate(raw):
        spec = _parse_one(index, item)
        if spec.name in seen:
            raise ConfigurationError(f"REGISTRATION_FIELDS: {spec.name!r} appears twice")
        seen.add(spec.name)
        specs.append(spec)
    return tuple(specs)


def _parse_one(index: int, item: Any) -> FieldSpec:
    where = f"REGISTRATION_FIELDS[{index}]"
    if not isinstance(item, dict):
        raise ConfigurationError(f"{where} must be an object")
    unknown = set(item) - {"name", "label", "type", "required", "choices", "max_length"}
    if unknown:
        raise ConfigurationError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    name = item.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name) or name in RESERVED:
        raise ConfigurationError(
            f"{where}: name must match [a-z][a-z0-9_]* and not be a built-in field"
        )
    field_type = item.get("type", "text")
    if field_type not in TYPES:
        raise ConfigurationError(f"{where}: type must be one of {', '.join(TYPES)}")
    choices = item.get("choices", [])
    if field_type == "select":
        if not choices or not all(isinstance(c, str) and c for c in choices):
            raise ConfigurationError(f"{where}: a select needs a list of non-empty strings")
    elif choices:
        raise ConfigurationError(f"{where}: choices are only for type select")
    max_length = item.get("max_length", DEFAULT_MAX_LENGTH)
    if not isinstance(max_length, int) or not 1 <= max_length <= 4096:
        raise ConfigurationError(f"{where}: max_length must be between 1 and 4096")
    required = item.get("required", False)
    if not isinstance(required, bool):
        raise ConfigurationError(f"{where}: required must be true or false")
    return FieldSpec(
        name=name,
        labels=_labels(where, item.get("label", name)),
        type=field_type,
        required=required,
        choices=tuple(choices),
        max_length=max_length,
    )


def _labels(where: str, label: Any) -> dict[str, str]:
    if isinstance(label, str) and label:
        return {"en": label}
    if (
        isinstance(label, dict)
        and label
        and all(isinstance(k, str) and isinstance(v, str) and v for k, v in label.items())
    ):
        return dict(label)
    raise ConfigurationError(f"{where}: label must be a string or an object of language: text")


def registration_fields() -> tuple[FieldSpec, ...]:
    """The fields configured for this app (checked again: tests may change the setting)."""
    return parse_fields(current_app.config["REGISTRATION_FIELDS"])
