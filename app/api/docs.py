"""The admin API's interactive documentation at /api/v1/docs: Swagger UI, loaded from
the assets the flask-swagger-ui wheel bundles (never a CDN), started by a script of
our own from /static, so the page's CSP allows scripts from this origin only (no
inline script, no eval)."""

from __future__ import annotations

from importlib.resources import files

from flask import Blueprint, abort, current_app, render_template, send_from_directory, url_for

from app.api import API_PREFIX
from app.security import allow_page_sources

bp = Blueprint("api_docs", __name__, url_prefix=f"{API_PREFIX}/docs")

#: Swagger UI's distribution as the flask-swagger-ui wheel ships it.
SWAGGER_UI_DIST = files("flask_swagger_ui") / "dist"
#: The files of it the page loads; nothing else there is served.
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})


@bp.get("", strict_slashes=False)
def page():
    """The Swagger UI page for /api/v1/openapi.json."""
    # Swagger UI's scripts come from this origin; it fetches the spec, and "Try it
    # out" calls the API, on this origin too.
    allow_page_sources("script-src", "'self'")
    allow_page_sources("connect-src", "'self'")
    spec_url = url_for("api-docs.openapi_json")
    return render_template("api/docs.html", spec_url=spec_url, version=_version())


@bp.get("/assets/<name>")
def asset(name: str):
    """One file of Swagger UI's distribution, cached like the app's static files."""
    if name not in ASSETS:
        abort(404)
    max_age = current_app.get_send_file_max_age(name)
    return send_from_directory(str(SWAGGER_UI_DIST), name, max_age=max_age)


def _version() -> str:
    return (SWAGGER_UI_DIST / "VERSION").read_text().strip()
