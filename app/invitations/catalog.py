"""Which message templates and languages exist: ``templates/messages/<key>/<lang>/``."""

from __future__ import annotations

from pathlib import Path

from flask import current_app


def _root() -> Path:
    return Path(current_app.root_path).parent / "templates" / "messages"


def template_keys() -> set[str]:
    """Template keys that have at least one language."""
    root = _root()
    if not root.is_dir():
        return set()
    return {p.name for p in root.iterdir() if p.is_dir() and any(c.is_dir() for c in p.iterdir())}


def languages(key: str) -> set[str]:
    """Languages shipped for template ``key``."""
    folder = _root() / key
    return {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()
