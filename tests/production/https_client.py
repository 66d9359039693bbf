"""A plain HTTPS client for the deployment (the back office, a relying party's back
channel, a hand-made form POST): urllib trusting only the test CA, with a cookie jar,
never following redirects and never going through a proxy from the environment."""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from email.message import Message
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import (
    HTTPCookieProcessor,
    HTTPRedirectHandler,
    HTTPSHandler,
    ProxyHandler,
    Request,
    build_opener,
)

from tests.helpers import AccountInfo, csrf_token

#: Seconds one request may take before the test fails.
TIMEOUT = 15


@dataclass
class Answer:
    """One HTTP response, read in full."""

    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        """The body as JSON."""
        return json.loads(self.body)


class _KeepRedirects(HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # hand the 3xx back to the caller


class HttpsClient:
    """Requests to ``base`` (``https://127.0.0.1:port``) over TLS verified against ``ca``."""

    def __init__(self, base: str, ca: Path):
        self.base = base
        tls = ssl.create_default_context(cafile=str(ca))
        self.opener = build_opener(
            ProxyHandler({}),
            HTTPSHandler(context=tls),
            HTTPCookieProcessor(CookieJar()),
            _KeepRedirects(),
        )

    def get(self, path: str, headers: dict | None = None) -> Answer:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, **kwargs) -> Answer:
        return self.request("POST", path, **kwargs)

    def form_token(self, path: str) -> str:
        """GET the page at ``path`` (setting the session cookie); its form's CSRF token."""
        page = self.get(path)
        assert page.status == 200, page.text
        return csrf_token(page.text)

    def sign_in(self, person: AccountInfo, fetch_site: str = "same-origin") -> Answer:
        """POST the /login form with its token, as a browser marks it with Fetch Metadata
        (and, per our Referrer-Policy, no Referer)."""
        form = {
            "csrf_token": self.form_token("/login"),
            "email": person.email,
            "password": person.password,
        }
        return self.post("/login", form=form, headers={"Sec-Fetch-Site": fetch_site})

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict | None = None,
        json_body: dict | None = None,
        headers: dict | None = None,
    ) -> Answer:
        """Send one request; a 3xx, 4xx or 5xx comes back as an Answer, not an exception."""
        headers = dict(headers or {})
        data = None
        if form is not None:
            data = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        request = Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with self.opener.open(request, timeout=TIMEOUT) as response:
                return Answer(response.status, response.headers, response.read())
        except HTTPError as error:
            with error:
                return Answer(error.code, error.headers, error.read())
