"""Discovery and JWKS answered from memory, in front of Flask.

The two documents are what relying parties fetch most, and they change rarely. Their
views (``app.oauth.views``) stay the one place that decides what they say: a view
that serves a document also says, in the WSGI environ, until when its answer stays
right. This middleware keeps that answer (body, ETag, and the headers Flask and our
hooks gave it) and gives the same answer to the following GET and HEAD requests
without entering Flask: no request context, session, CSRF or limiter hook, which cost
a JWKS request twice its own work. Each answer still gets its own ``X-Request-Id``
and is counted in the request metrics.

What is kept is dropped as soon as it may be wrong: discovery when a setting it is
made from changes (never, in a running deployment); the JWKS goes back through its
view once the signing keys are due to be read again (``SIGNING_KEYS_RECHECK``) or
after this process changed them. An answer that depends on the request (it sets a
cookie or names a ``Vary`` header) is never kept. A request with a query string,
another method, or a deployment that logs every request (``LOG_REQUESTS``) or limits
every view (``RATELIMIT_APPLICATION``, say) goes through Flask as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask, request
from werkzeug.http import parse_etags, remove_entity_headers

from app.extensions import limits_every_view
from app.oauth.documents import Document
from app.observability import metrics
from app.observability.tracking import logs_requests, new_request_id

#: Where a view leaves what it served: (document, a check that it is still right).
ENVIRON_KEY = "vestibule.published_document"
#: The paths answered here, and the endpoint each is counted under.
PATHS = {
    "/.well-known/openid-configuration": "oauth.metadata",
    "/.well-known/oauth-authorization-server": "oauth.metadata",
    "/jwks.json": "oauth.jwks",
}
#: Headers that make an answer this request's only: such an answer is not kept.
_PER_REQUEST = frozenset({"set-cookie", "vary"})
#: Headers that belong to one response only; the middleware writes its own.
_PER_RESPONSE = frozenset({"content-length", "date", "x-request-id"})


def served(document: Document, still_right: Callable[[], bool]) -> None:
    """Called by a view serving ``document``: the middleware may give the same answer
    again while ``still_right()`` (called outside any app context) says so."""
    request.environ[ENVIRON_KEY] = (document, still_right)


@dataclass(frozen=True)
class _Kept:
    document: Document
    still_right: Callable[[], bool]
    headers: tuple[tuple[str, str], ...]
    not_modified_headers: tuple[tuple[str, str], ...]


class PublishedDocuments:
    """WSGI middleware: ``app.wsgi_app = PublishedDocuments(app, app.wsgi_app)``."""

    def __init__(self, app: Flask, wsgi_app):
        self.wsgi_app = wsgi_app
        self.config = app.config
        self.kept: dict[str, _Kept] = {}

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        endpoint = PATHS.get(path)
        if (
            endpoint is None
            or environ.get("REQUEST_METHOD") not in ("GET", "HEAD")
            or environ.get("QUERY_STRING")
            or logs_requests(self.config)
            or limits_every_view()
        ):
            return self.wsgi_app(environ, start_response)
        kept = self.kept.get(path)
        if kept is not None and kept.still_right():
            return self._answer(kept, endpoint, environ, start_response)
        return self.wsgi_app(environ, self._keeping(path, environ, start_response))

    def _answer(self, kept: _Kept, endpoint: str, environ: dict, start_response):
        started = time.perf_counter()
        request_id = new_request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        method = environ["REQUEST_METHOD"]
        if parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains(kept.document.etag):
            status, body = 304, b""
            headers = [*kept.not_modified_headers, ("X-Request-Id", request_id)]
        else:
            status, body = 200, kept.document.body
            headers = [
                *kept.headers,
                ("Content-Length", str(len(body))),
                ("X-Request-Id", request_id),
            ]
        start_response("200 OK" if status == 200 else "304 NOT MODIFIED", headers)
        metrics.record_request(endpoint, method, status, time.perf_counter() - started)
        return [b""] if method == "HEAD" else [body]

    def _keeping(self, path: str, environ: dict, start_response):
        """``start_response`` that keeps a 200 answer its view declared (``served``)."""

        def keep(status: str, headers: list[tuple[str, str]], exc_info=None):
            declared = environ.get(ENVIRON_KEY)
            names = {name.lower() for name, _ in headers}
            if declared is not None and status.startswith("200 ") and not names & _PER_REQUEST:
                document, still_right = declared
                own = [(k, v) for k, v in headers if k.lower() not in _PER_RESPONSE]
                not_modified = list(own)
                remove_entity_headers(not_modified)
                self.kept[path] = _Kept(document, still_right, tuple(own), tuple(not_modified))
            return start_response(status, headers, exc_info)

        return keep
