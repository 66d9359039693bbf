"""wrk as the load of the HTTP benchmark, where it is installed: for endpoints whose
every request is the same (discovery, JWKS, a client_credentials token, userinfo, the
bare reference).

Python client threads spend CPU on every request too, on the same two cores as the
server: measured that way, a server twice as cheap as another shows less than twice its
rate. wrk (C, epoll) costs a small fraction of that, so the rates it measures are the
server's own. Flows that carry state from one request to the next (the code flow, a
sign-in) stay with the Python client. ``BENCH_LOAD=python`` uses the Python client for
every endpoint, e.g. to compare with older tables.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field

#: wrk threads; the connections are shared among them. Two: this machine's cores.
THREADS = 2
_REQUESTS = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h),")
_NOT_2XX_3XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
#: What a Lua string literal may hold here unescaped (no quotes, backslashes, controls).
_PLAIN = re.compile(r"[ -~]*")


@dataclass(frozen=True)
class Fixed:
    """One request, the same every time."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


@dataclass
class Run:
    """What wrk reported: requests answered 2xx/3xx, the others, and its own duration."""

    done: int
    failed: int
    seconds: float
    first_failure: str | None


def available() -> bool:
    """Whether wrk is on PATH and not turned off with ``BENCH_LOAD=python``."""
    return os.environ.get("BENCH_LOAD", "wrk") != "python" and shutil.which("wrk") is not None


def run(port: int, request: Fixed, connections: int, seconds: float) -> Run:
    """``request`` repeated over ``connections`` connections for ``seconds`` seconds."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-wrk-") as script:
        script.write(_script(request))
        script.flush()
        command = ["wrk", "--threads", str(min(THREADS, connections))]
        command += ["--connections", str(connections), "--duration", f"{max(1, round(seconds))}s"]
        command += ["--timeout", "30s", "--script", script.name]
        command.append(f"http://127.0.0.1:{port}{request.path}")
        done = subprocess.run(  # noqa: S603 - wrk found on PATH, our own arguments
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse(done.stdout)


def parse(output: str) -> Run:
    """The counts in wrk's report; a report without them is an error, never zero."""
    requests = _REQUESTS.search(output)
    if requests is None:
        raise RuntimeError(f"wrk printed no request count:\n{output}")
    total = int(requests.group(1))
    seconds = float(requests.group(2)) * _UNIT_SECONDS[requests.group(3)]
    not_ok = _NOT_2XX_3XX.search(output)
    refused = int(not_ok.group(1)) if not_ok else 0
    errors = _SOCKET_ERRORS.search(output)
    broken = sum(int(n) for n in errors.groups()) if errors else 0
    failure = None
    if refused or broken:
        failure = f"wrk: {refused} responses not 2xx/3xx, socket errors: {errors and errors[0]}"
    return Run(total - refused, refused + broken, seconds, failure)


def _script(request: Fixed) -> str:
    lines = [f"wrk.method = {_lua(request.method)}"]
    if request.body:
        lines.append(f"wrk.body = {_lua(request.body)}")
    for name, value in request.headers.items():
        lines.append(f"wrk.headers[{_lua(name)}] = {_lua(value)}")
    return "\n".join(lines) + "\n"


def _lua(text: str) -> str:
    if not _PLAIN.fullmatch(text) or '"' in text or "\\" in text:
        raise ValueError(f"not a plain ASCII value for wrk's script: {text!r}")
    return f'"{text}"'
