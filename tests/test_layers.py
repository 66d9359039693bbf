"""The layers of docs/architecture.md, checked on the source: imports flow one way
(pages and APIs → services → models), and Authlib stays inside app/oauth/.

Reads every module under app/ with ``ast`` (no import side effects), including imports
made inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"

#: What people and programs talk to: browser pages, the admin API, the dashboard, the
#: playground, the protocol endpoints and the command line.
EDGES = ("app.web", "app.api", "app.dashboard", "app.playground", "app.oauth.views")
#: The domain: services and the protocol layer below the edges.
SERVICES = (
    "app.access",
    "app.accounts",
    "app.clients",
    "app.events",
    "app.invitations",
    "app.messages",
    "app.oauth",
    "app.outbox",
    "app.webhooks",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; relative ones resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path).rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


MODULES = {_module_name(path): _imports(path) for path in sorted(APP.rglob("*.py"))}


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _is_command_line(module: str) -> bool:
    """The ``vestibule`` commands are an edge too (app/cli.py, app/*/cli.py)."""
    return module == "app.cli" or module.endswith(".cli") or module in ("app.cli_support",)


def _violations(rule) -> list[str]:
    return sorted(
        f"{module} imports {imported}"
        for module, imports in MODULES.items()
        for imported in imports
        if rule(module, imported)
    )


def test_the_scan_sees_the_whole_package():
    """The check reads every layer (a scan that found nothing would prove nothing)."""
    assert {"app.web.views", "app.api.invitations", "app.models", "app.oauth.grants"} <= set(
        MODULES
    )
    assert "app.models" in MODULES["app.accounts.service"] or any(
        name.startswith("app.models") for name in MODULES["app.accounts.service"]
    )


def test_services_never_import_pages_or_apis():
    """A service, a model or the protocol layer never imports a view layer."""

    def rule(module: str, imported: str) -> bool:
        below = _within(module, SERVICES) or _within(module, ("app.models",))
        return (
            below
            and not _within(module, EDGES)
            and not _is_command_line(module)
            and _within(imported, EDGES)
        )

    assert _violations(rule) == []


def test_models_import_nothing_above_them():
    """Models know only models and pure helpers (hashing): no request, no service."""

    def rule(module: str, imported: str) -> bool:
        return (
            _within(module, ("app.models",))
            and imported.startswith("app.")
            and not _within(imported, ("app.models", "app.crypto"))
        )

    assert _violations(rule) == []


@pytest.mark.parametrize(("one", "other"), [("app.api", "app.dashboard")])
def test_the_api_and_the_dashboard_do_not_import_each_other(one, other):
    """Both call the services; neither borrows from the other."""

    def rule(module: str, imported: str) -> bool:
        return (_within(module, (one,)) and _within(imported, (other,))) or (
            _within(module, (other,)) and _within(imported, (one,))
        )

    assert _violations(rule) == []


def test_the_role_rules_read_no_request():
    """app/access.py gets the caller as an argument: it imports no flask (no request,
    no ``g``), so the API and the dashboard can both call it."""

    def rule(module: str, imported: str) -> bool:
        return _within(module, ("app.access",)) and imported.split(".")[0] == "flask"

    assert _violations(rule) == []


def test_authlib_stays_inside_the_protocol_layer():
    """Only app/oauth/ speaks Authlib; everything else calls it through app.oauth."""

    def rule(module: str, imported: str) -> bool:
        return imported.split(".")[0] == "authlib" and not _within(module, ("app.oauth",))

    assert _violations(rule) == []
