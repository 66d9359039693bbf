"""Imports flow one way (issue 13): the dashboard and the admin API are two edges over
the same services and share nothing with each other; the role rules they both apply
(app/access.py) import neither."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"


def imported_modules(path: Path) -> set[str]:
    """The modules a source file imports (absolute names)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def imports_of(part: str) -> dict[str, set[str]]:
    """Each file of ``app/<part>`` (a package or a module) and what it imports."""
    target = APP / part
    files = sorted(target.rglob("*.py")) if target.is_dir() else [target.with_suffix(".py")]
    return {str(path.relative_to(APP.parent)): imported_modules(path) for path in files}


@pytest.mark.parametrize(
    ("part", "forbidden"),
    [
        ("dashboard", ("app.api",)),
        ("api", ("app.dashboard",)),
        ("access", ("app.api", "app.dashboard", "app.web", "flask")),
    ],
)
def test_no_import_runs_sideways_or_up(part, forbidden):
    """Neither edge imports the other; the rules touch no view layer and no request."""
    wrong = {
        path: sorted(name for name in names if name.startswith(forbidden))
        for path, names in imports_of(part).items()
    }
    assert not {path: names for path, names in wrong.items() if names}
