"""The program bench/instructions.py runs under callgrind: it imports a WSGI app (as
gunicorn would, ``module:attribute`` from PYTHONPATH), calls it in this process with
prepared requests, and for each endpoint of the plan repeats it while the parent has
callgrind count instructions, and only then.

Run as a script (``python -P bench/instructions_runner.py TARGET PLAN IN OUT``), not as
part of the ``bench`` package: PYTHONPATH may point at another checkout's ``app``, and
the only imports here are the standard library and that app.

The parent and this program take turns over two pipes (file descriptors IN and OUT):
for each endpoint this program warms up, writes ``r`` and blocks reading; the parent
turns counting on and writes ``g``; this program repeats the endpoint, writes ``d`` and
blocks reading again while the parent turns counting off and dumps the counts, then
writes ``n``. Counting is switched only while this program is blocked in a read (which
executes nothing; valgrind's vgdb reaches a blocked process with ptrace), so what is
counted besides the repetitions is the same few instructions every time.
"""

from __future__ import annotations

import gc
import importlib
import io
import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Refused(Exception):
    """The app answered something a working app would not."""


class Client:
    """Calls the WSGI app directly, keeping one browser's cookies. (Not werkzeug's test
    client: its request building would be counted with the app's work.)"""

    def __init__(self, app, host: str, headers: dict[str, str]):
        self.app = app
        self.host = host
        self.headers = headers
        self.cookies: dict[str, str] = {}

    def call(self, method: str, target: str, headers: dict, body: str = "") -> tuple:
        """(status, headers, body) of one request; ``Set-Cookie`` answers are kept."""
        path, _, query = target.partition("?")
        data = body.encode()
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": self.host.rpartition(":")[2],
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": self.host,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(data),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if data:
            environ["CONTENT_LENGTH"] = str(len(data))
        every = {**self.headers, **headers}
        if self.cookies:
            every["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for name, value in every.items():
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                environ[f"HTTP_{key}"] = value
        answer: list = []

        def start_response(status, response_headers, exc_info=None):
            answer[:] = [int(status[:3]), response_headers]

        chunks = self.app(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status, response_headers = answer
        for name, value in response_headers:
            if name.lower() == "set-cookie":
                cookie, _, _ = value.partition(";")
                key, _, val = cookie.partition("=")
                self.cookies[key.strip()] = val
        return status, dict(response_headers), content

    def expect(self, statuses: tuple, method: str, target: str, headers=None, body="") -> tuple:
        """``call``, refusing any status but ``statuses``."""
        status, response_headers, content = self.call(method, target, headers or {}, body)
        if status not in statuses:
            raise Refused(f"{method} {target.split('?')[0]}: {status} {content[:200]!r}")
        return response_headers, content


def load(target: str):
    """The WSGI app named like gunicorn's ``module:attribute`` (or ``module:call(...)``)."""
    module, _, expression = target.partition(":")
    namespace = vars(importlib.import_module(module))
    return eval(expression, namespace)  # noqa: S307 - the benchmark's own target string


def sign_in(client: Client, email: str, password: str) -> None:
    """GET /login, then POST it with the CSRF token, as a browser would."""
    _, page = client.expect((200,), "GET", "/login")
    token = _CSRF.search(page.decode())
    if token is None:
        raise Refused("no CSRF token on /login")
    form = urlencode({"csrf_token": token.group(1), "email": email, "password": password})
    fetch = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": f"https://{client.host}",
        "Referer": f"https://{client.host}/login",
        "Sec-Fetch-Site": "same-origin",
    }
    client.expect((302, 303), "POST", "/login", fetch, form)


class Flow:
    """The signed-in code flow: authorize with a fresh nonce, then redeem the code."""

    def __init__(self, client: Client, spec: dict):
        self.client = client
        self.spec = spec
        self.count = 0

    def __call__(self) -> dict:
        self.count += 1
        target = f"{self.spec['authorize']}&nonce=n-{self.count}"
        headers, _ = self.client.expect((302, 303), "GET", target)
        code = parse_qs(urlsplit(headers.get("Location", "")).query).get("code")
        if not code:
            raise Refused(f"/authorize sent the browser to {headers.get('Location')!r}")
        form = f"{self.spec['token_form']}&code={code[0]}"
        token_headers = {
            **self.spec["token_headers"],
            "Content-Type": "application/x-www-form-urlencoded",
        }
        _, content = self.client.expect((200,), "POST", "/token", token_headers, form)
        return json.loads(content)


def steps(client: Client, plan: dict) -> list:
    """(name, callable) per endpoint of the plan."""
    made = []
    flow = None
    if any(e["kind"] != "fixed" for e in plan["endpoints"]):
        sign_in(client, plan["email"], plan["password"])
        flow = Flow(client, plan["flow"])
    for endpoint in plan["endpoints"]:
        kind = endpoint["kind"]
        if kind == "flow":
            made.append((endpoint["name"], flow))
            continue
        headers = dict(endpoint.get("headers", {}))
        if kind == "userinfo":
            headers["Authorization"] = f"Bearer {flow()['access_token']}"
        made.append((endpoint["name"], _fixed(client, endpoint, headers)))
    return made


def _fixed(client: Client, endpoint: dict, headers: dict):
    method, path, body = endpoint["method"], endpoint["path"], endpoint.get("body", "")
    # A machine's request carries no browser cookie.
    bare = Client(client.app, client.host, client.headers)
    return lambda: bare.expect((200,), method, path, headers, body)


def turn(incoming: int, outgoing: int, say: bytes, expect: bytes) -> None:
    """Tell the parent ``say``, then block until it answers ``expect``."""
    os.write(outgoing, say)
    heard = os.read(incoming, 1)
    if heard != expect:
        raise SystemExit(f"the parent said {heard!r}, not {expect!r}")


def main() -> None:
    target, plan_file = sys.argv[1], Path(sys.argv[2])
    incoming, outgoing = int(sys.argv[3]), int(sys.argv[4])
    plan = json.loads(plan_file.read_text())
    client = Client(load(target), plan["host"], plan["headers"])
    for _, step in steps(client, plan):
        for _ in range(plan["warmup"]):
            step()
        # Every count starts from the same garbage collector state: whether a full
        # collection of everything imported falls inside the count must not depend on
        # what the import and warm-up happened to allocate (paths, compiled files).
        gc.collect()
        gc.freeze()
        turn(incoming, outgoing, b"r", b"g")
        for _ in range(plan["requests"]):
            step()
        turn(incoming, outgoing, b"d", b"n")


if __name__ == "__main__":
    main()
