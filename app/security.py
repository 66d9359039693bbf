"""Request and response hardening: CSRF (a session-bound token plus Fetch Metadata),
refuse NUL characters in input; anti-framing, no referrer and a strict CSP on every
response."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, g, request
from flask_wtf.csrf import CSRFError, CSRFProtect

#: ``Sec-Fetch-Site`` values a state-changing browser request may carry: sent by a page
#: of this origin, or started by the person themself (``none``). ``same-site`` is
#: refused too: a sibling host of the same site is not this server.
TRUSTED_FETCH_SITES = frozenset({"same-origin", "none"})


def refuse_cross_site_request() -> None:
    """Raise CSRFError when the browser says the request came from another site.

    Browsers send ``Sec-Fetch-Site`` whatever the referrer policy, so this works with
    ``Referrer-Policy: no-referrer``, where a ``Referer`` check cannot. A request
    without the header (an older browser, a program) relies on the token alone.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site.strip().lower() not in TRUSTED_FETCH_SITES:
        raise CSRFError("The request was not sent from this site.")


class FetchMetadataCSRFProtect(CSRFProtect):
    """Flask-WTF's session-bound token, with Fetch Metadata as the second layer in place
    of its HTTPS ``Referer`` check (``WTF_CSRF_SSL_STRICT``, off in config): our own
    ``Referrer-Policy: no-referrer`` makes browsers send no ``Referer``, so that check
    refused every form over HTTPS, and it raised on a malformed ``Referer``."""

    def protect(self, apply_exemptions: bool = False) -> None:
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        refuse_cross_site_request()
        super().protect()


def _csp() -> str:
    directives = {
        "default-src": ["'none'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        # form-action must also allow the client's origin: browsers apply it to the
        # redirect that follows the sign-in or consent form.
        "form-action": ["'self'", *g.get("form_action_origins", [])],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
    }
    for directive, sources in g.get("csp_sources", {}).items():
        directives.setdefault(directive, []).extend(sources)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def allow_page_sources(directive: str, *sources: str) -> None:
    """Let this one page load from ``sources`` under the CSP ``directive`` (e.g. the API
    docs page runs its own scripts: ``allow_page_sources("script-src", "'self'")``)."""
    g.setdefault("csp_sources", {}).setdefault(directive, []).extend(sources)


def allow_form_redirect_to(uri: str | None) -> None:
    """Let this page's forms lead on to ``uri``'s origin in the CSP ``form-action``."""
    if uri:
        parts = urlsplit(uri)
        g.setdefault("form_action_origins", []).append(f"{parts.scheme}://{parts.netloc}")


#: Methods whose body may be a form (parsed here anyway, as the views will).
FORM_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def refuse_nul_characters() -> None:
    """Answer 400 when the path or a parameter contains U+0000.

    No value this server accepts may contain NUL, and PostgreSQL cannot store or
    compare it: a lookup with one (client_id, email, nonce ...) would end in a 500.
    """
    sources = [request.form] if request.method in FORM_METHODS else []
    if b"%00" in request.query_string or b"\x00" in request.query_string:
        sources.append(request.args)
    values = [request.path]
    for multi in sources:
        for key, items in multi.lists():
            values.append(key)
            values.extend(items)
    if any("\x00" in value for value in values):
        abort(400, description="The request contains a NUL character.")


def set_security_headers(response: Response) -> Response:
    """Add the headers to one response."""
    response.headers.setdefault("Content-Security-Policy", _csp())
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_security(app: Flask) -> None:
    """Register the request guard and the header hook on ``app``."""
    app.before_request(refuse_nul_characters)
    app.after_request(set_security_headers)
