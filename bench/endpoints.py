"""The load of the HTTP benchmark: browsers and machines talking to gunicorn over
keep-alive ``http.client`` connections (one per thread), as the TLS proxy in front of
it would (``X-Forwarded-Proto: https``), and what each endpoint's step is."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

from bench.served import MACHINE_SCOPE, PROXY_HEADERS, Seeded
from bench.wrk import CodeFlow, Fixed
from tests.helpers import csrf_token, pkce_pair, query

#: A thread stops after this many failed steps (the server is likely gone).
MAX_FAILURES_PER_THREAD = 20


class Unexpected(Exception):
    """The server answered something a working server would not."""


@dataclass
class Reply:
    """Status, headers and body of one response."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def expect(self, *statuses: int) -> Reply:
        """``self`` when its status is one of ``statuses``, else Unexpected."""
        if self.status not in statuses:
            raise Unexpected(f"{self.status}: {self.body[:200]!r}")
        return self


class Browser:
    """One connection and its cookies. gunicorn's sync workers close the connection
    after each response; http.client then opens a new one for the next request."""

    def __init__(self, port: int, origin: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.origin = origin
        self.cookies: dict[str, str] = {}

    def get(self, path: str, headers: dict | None = None) -> Reply:
        """GET ``path``."""
        return self._send("GET", path, None, headers or {})

    def post(self, path: str, form: dict, headers: dict | None = None) -> Reply:
        """POST ``form`` (urlencoded) to ``path``."""
        return self._send("POST", path, form, headers or {})

    def submit(self, path: str, form: dict) -> Reply:
        """POST a form of our own pages as a browser does (same-origin metadata)."""
        fetch = {
            "Origin": self.origin,
            "Referer": self.origin + path,
            "Sec-Fetch-Site": "same-origin",
            "Sec-Fetch-Mode": "navigate",
        }
        return self.post(path, form, fetch)

    def send(self, request: Fixed) -> Reply:
        """``request`` as it is (its headers and body already made)."""
        body = request.body if request.method != "GET" else None
        return self._send(request.method, request.path, body, request.headers)

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    def _send(self, method: str, path: str, form: dict | str | None, extra: dict) -> Reply:
        headers = {**PROXY_HEADERS, **extra}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = form
        if isinstance(form, dict):
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        reply = Reply(response.status, response.headers, response.read())
        self._keep_cookies(reply.headers.get_all("Set-Cookie") or [])
        return reply

    def _keep_cookies(self, headers: list[str]) -> None:
        for header in headers:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value


@dataclass
class Endpoint:
    """One row: ``step`` is one measured unit (a request, a flow, a sign-in);
    ``prepare`` readies a browser first (e.g. signs it in), unmeasured. For wrk,
    ``fixed`` is the same step as one request that never changes, and ``scripted``
    the step as a script run with the prepared browsers' cookies."""

    name: str
    step: Callable[[Browser, Seeded], None]
    prepare: Callable[[Browser, Seeded], None] | None = None
    fixed: Callable[[Seeded], Fixed] | None = None
    scripted: Callable[[Seeded, list[Browser]], CodeFlow] | None = None


@dataclass
class Counted:
    """Steps done and failed by the threads of one run, and the first failure."""

    done: int = 0
    failed: int = 0
    first_failure: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, done: int, failed: int, failure: str | None) -> None:
        """Merge one thread's counts."""
        with self.lock:
            self.done += done
            self.failed += failed
            self.first_failure = self.first_failure or failure


def drive(browsers: list[Browser], step: Callable[[Browser], None], seconds: float) -> Counted:
    """Every browser repeats ``step`` in its own thread until ``seconds`` have passed
    (the step under way when time is up finishes)."""
    counted = Counted()
    deadline = time.perf_counter() + seconds

    def loop(browser: Browser) -> None:
        done = failed = 0
        failure = None
        while time.perf_counter() < deadline and failed < MAX_FAILURES_PER_THREAD:
            try:
                step(browser)
                done += 1
            except (Unexpected, OSError, http.client.HTTPException) as exc:
                failed += 1
                failure = failure or f"{exc.__class__.__name__}: {exc}"
                browser.close()
        counted.add(done, failed, failure)

    threads = [threading.Thread(target=loop, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counted


def each(browsers: list[Browser], step: Callable[[Browser], None]) -> None:
    """``step`` once per browser, all at once (eight sign-ins one after the other
    would wait on argon2 eight times)."""
    failures: list[str] = []

    def once(browser: Browser) -> None:
        try:
            step(browser)
        except (Unexpected, OSError, http.client.HTTPException) as exc:
            failures.append(f"{exc.__class__.__name__}: {exc}")

    threads = [threading.Thread(target=once, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"preparing {len(failures)} browser(s) failed: {failures[0]}")


# -- the steps ---------------------------------------------------------------------------


def repeated(name: str, request: Callable[[Seeded], Fixed]) -> Endpoint:
    """An endpoint whose step is one request that never changes: the Python client sends
    it as it is, and wrk can repeat it (``bench/wrk.py``)."""

    def step(browser: Browser, seeded: Seeded) -> None:
        browser.send(request(seeded)).expect(200)

    return Endpoint(name, step, fixed=request)


def _get(path: str) -> Callable[[Seeded], Fixed]:
    return lambda seeded: Fixed("GET", path, dict(PROXY_HEADERS))


def _token_cc(seeded: Seeded) -> Fixed:
    """A client_credentials token, client_secret_basic."""
    form = urlencode({"grant_type": "client_credentials", "scope": MACHINE_SCOPE})
    headers = {
        **PROXY_HEADERS,
        **seeded.machine.basic_auth(),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return Fixed("POST", "/token", headers, form)


def _userinfo(seeded: Seeded) -> Fixed:
    """The claims behind an access token (obtained once, before the run)."""
    headers = {**PROXY_HEADERS, "Authorization": f"Bearer {seeded.access_token}"}
    return Fixed("GET", "/userinfo", headers)


def sign_in(browser: Browser, seeded: Seeded) -> None:
    """A fresh browser signs in: GET /login (cookie and CSRF token), POST /login."""
    browser.cookies.clear()
    page = browser.get("/login").expect(200)
    form = {
        "csrf_token": csrf_token(page.body.decode()),
        "email": seeded.email,
        "password": seeded.password,
    }
    browser.submit("/login", form).expect(302, 303)


def code_flow(browser: Browser, seeded: Seeded) -> None:
    """A signed-in browser: GET /authorize straight back to the first-party client with
    a code, which the client redeems at /token with its PKCE verifier."""
    redeem_code(browser, seeded)


def redeem_code(browser: Browser, seeded: Seeded) -> dict:
    """One authorization-code flow of a signed-in browser; the token response."""
    verifier, challenge = pkce_pair()
    state = "st-" + verifier[:12]
    params = {**authorization_params(seeded, challenge, state), "nonce": "n-" + verifier[12:24]}
    answer = browser.get("/authorize?" + urlencode(params)).expect(302, 303)
    location = answer.headers.get("Location", "")
    got = query(location)
    if not location.startswith(seeded.web.redirect_uri) or got.get("state") != state:
        raise Unexpected(f"/authorize sent the browser to {urlsplit(location).path or '?'}")
    form = {**redemption_form(seeded, verifier), "code": got["code"]}
    reply = browser.post("/token", form, seeded.web.basic_auth()).expect(200)
    return json.loads(reply.body)


def scripted_code_flow(seeded: Seeded, browsers: list[Browser]) -> CodeFlow:
    """The code flow for wrk: the signed-in browsers' cookies in turn, one PKCE pair
    for every flow (the server asks nothing more of it), a nonce per flow."""
    verifier, challenge = pkce_pair()
    return CodeFlow(
        authorize="/authorize?" + urlencode(authorization_params(seeded, challenge, "st-wrk")),
        token="/token",
        cookies=["; ".join(f"{k}={v}" for k, v in b.cookies.items()) for b in browsers],
        headers=dict(PROXY_HEADERS),
        token_headers=seeded.web.basic_auth(),
        token_form=urlencode(redemption_form(seeded, verifier)),
    )


def authorization_params(seeded: Seeded, challenge: str, state: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": seeded.web.client_id,
        "redirect_uri": seeded.web.redirect_uri,
        "scope": "openid profile email",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def redemption_form(seeded: Seeded, verifier: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "redirect_uri": seeded.web.redirect_uri,
        "code_verifier": verifier,
    }


BARE = repeated("bare Flask JSON (GET /ping)", _get("/ping"))
ENDPOINTS = (
    # The whole document each time (no If-None-Match).
    repeated("discovery", _get("/.well-known/openid-configuration")),
    repeated("JWKS", _get("/jwks.json")),
    repeated("token_cc", _token_cc),
    Endpoint(
        "code flow (authorize + token)", code_flow, prepare=sign_in, scripted=scripted_code_flow
    ),
    repeated("userinfo", _userinfo),
    Endpoint("sign-in (GET + POST /login)", sign_in),
)
