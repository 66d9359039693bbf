"""Which message templates and languages exist: ``<MESSAGE_TEMPLATES_DIR>/<key>/<lang>/``
(``templates/messages`` unless configured).

Not every message is an invitation: ``reset_password`` and ``set_password`` live in
the same folder. An invitation template is one that carries the invitation's link, so
only keys whose files mention ``invite_link`` may be named as an invitation's
``template_key``; an operator's own invitation template qualifies without code.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app

#: The variable every invitation template uses somewhere (spec §5).
INVITE_LINK = "invite_link"


def _root() -> Path:
    return Path(current_app.config["MESSAGE_TEMPLATES_DIR"])


def message_keys() -> set[str]:
    """Every message key with at least one language (invitations, password emails ...)."""
    root = _root()
    if not root.is_dir():
        return set()
    return {p.name for p in root.iterdir() if p.is_dir() and any(c.is_dir() for c in p.iterdir())}


def template_keys() -> set[str]:
    """Invitation template keys: message keys whose templates carry the invitation's link."""
    return {key for key in message_keys() if _mentions_invite_link(_root() / key)}


def languages(key: str) -> set[str]:
    """Languages shipped for template ``key``."""
    folder = _root() / key
    return {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()


def _mentions_invite_link(folder: Path) -> bool:
    return any(
        INVITE_LINK in path.read_text(encoding="utf-8", errors="replace")
        for language in folder.iterdir()
        if language.is_dir()
        for path in language.iterdir()
        if path.is_file()
    )
