"""wrk as the load of the HTTP benchmark, where it is installed: for endpoints whose
every request is the same (discovery, JWKS, a client_credentials token, userinfo, the
bare reference), and for the signed-in code flow, scripted in wrk's Lua (``CodeFlow``).

Python client threads spend CPU on every request too, on the same two cores as the
server: measured that way, a server twice as cheap as another shows less than twice its
rate. wrk (C, epoll) costs a small fraction of that, so the rates it measures are the
server's own. A sign-in stays with the Python client (a form, a CSRF token, argon2 in
between). ``BENCH_LOAD=python`` uses the Python client for every endpoint, e.g. to
compare with older tables.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field

#: wrk threads; the connections are shared among them. Two: this machine's cores.
THREADS = 2
_REQUESTS = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h),")
_NOT_2XX_3XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_FLOWS = re.compile(r"^flows: (\d+), failed: (\d+)(?:, first: (.*))?$", re.MULTILINE)
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


@dataclass(frozen=True)
class CodeFlow:
    """A signed-in browser's authorization-code flow, over and over: ``GET authorize``
    with a nonce of its own each time, which must redirect with a code, then ``POST
    token`` with that code, which must answer 200. ``cookies`` (Cookie header values
    of signed-in browsers) are taken in turn, one per flow, each wrk thread its own
    (a peer whose tokens collide when one person's flows share a second needs that)."""

    #: Path and query of the authorization request, without its nonce.
    authorize: str
    token: str
    cookies: list[str]
    #: Sent with both requests (the proxy's headers).
    headers: dict[str, str]
    #: The token request's client authentication.
    token_headers: dict[str, str]
    #: The token request's form without the code (grant type, redirect URI, verifier).
    token_form: str


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


def run(port: int, request: Fixed | CodeFlow, connections: int, seconds: float) -> Run:
    """``request`` (or flow) repeated over ``connections`` connections for ``seconds``."""
    threads = min(THREADS, connections)
    if isinstance(request, CodeFlow):
        script, path = _flow_script(request, threads), request.authorize.split("?")[0]
    else:
        script, path = _script(request), request.path
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-wrk-") as file:
        file.write(script)
        file.flush()
        command = ["wrk", "--threads", str(threads)]
        command += ["--connections", str(connections), "--duration", f"{max(1, round(seconds))}s"]
        command += ["--timeout", "30s", "--script", file.name]
        command.append(f"http://127.0.0.1:{port}{path}")
        done = subprocess.run(  # noqa: S603 - wrk found on PATH, our own arguments
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    counted = parse(done.stdout)
    if isinstance(request, CodeFlow):
        return _flows(counted, done.stdout)
    return counted


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


def _flows(requests: Run, output: str) -> Run:
    """A flow run counts flows, not requests: what the script's ``done`` printed."""
    flows = _FLOWS.search(output)
    if flows is None:
        raise RuntimeError(f"wrk's flow script printed no count:\n{output}")
    # Answers other than 2xx/3xx are the script's failures already; add the sockets'.
    errors = _SOCKET_ERRORS.search(output)
    failed = int(flows.group(2)) + (sum(int(n) for n in errors.groups()) if errors else 0)
    first = flows.group(3) or requests.first_failure
    return Run(int(flows.group(1)), failed, requests.seconds, first if failed else None)


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


#: The code flow in wrk's Lua (LuaJIT). Each wrk thread has its own Lua state: its
#: codes waiting to be redeemed, its counters and its nonces (run, thread, count: the
#: server refuses a nonce it has seen).
#: A connection that becomes free redeems a waiting code, else starts a flow.
_FLOW_LUA = r"""
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

function init(args)
  waiting, started, flows, failed, first = {}, 0, 0, 0, ""
end

local function fail(why)
  failed = failed + 1
  if first == "" then first = why end
end

function request()
  local code = table.remove(waiting)
  if code then
    return wrk.format("POST", TOKEN, TOKEN_HEADERS, TOKEN_FORM .. "&code=" .. code)
  end
  started = started + 1
  local headers = {}
  for name, value in pairs(HEADERS) do headers[name] = value end
  -- Thread 1 takes cookies 1, 1 + THREADS, ...; thread 2 takes 2, 2 + THREADS, ...
  headers["Cookie"] = COOKIES[((started - 1) * THREADS + id - 1) % #COOKIES + 1]
  local nonce = RUN .. "-" .. id .. "-" .. started
  return wrk.format("GET", AUTHORIZE .. "&nonce=" .. nonce, headers)
end

function response(status, headers, body)
  if status == 302 or status == 303 then
    local code = string.match(headers["Location"] or "", "[?&]code=([^&]+)")
    if code then
      table.insert(waiting, code)
    else
      fail("authorize: " .. (headers["Location"] or ""))
    end
  elseif status == 200 then
    flows = flows + 1
  else
    fail(status .. ": " .. string.sub(body or "", 1, 120))
  end
end

function done(summary, latency, requests)
  local total, bad, why = 0, 0, ""
  for _, thread in ipairs(threads) do
    total = total + thread:get("flows")
    bad = bad + thread:get("failed")
    if why == "" then why = thread:get("first") end
  end
  why = string.gsub(why, "[\r\n]", " ")
  if why ~= "" then why = ", first: " .. why end
  io.write(string.format("flows: %d, failed: %d%s\n", total, bad, why))
end
"""


def _flow_script(flow: CodeFlow, threads: int) -> str:
    def table(values: dict[str, str]) -> str:
        return "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in values.items()) + "}"

    token_headers = {
        **flow.headers,
        **flow.token_headers,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    constants = [
        f"RUN = {_lua(secrets.token_hex(6))}",
        f"THREADS = {threads}",
        f"AUTHORIZE = {_lua(flow.authorize)}",
        f"TOKEN = {_lua(flow.token)}",
        f"TOKEN_FORM = {_lua(flow.token_form)}",
        f"HEADERS = {table(flow.headers)}",
        f"TOKEN_HEADERS = {table(token_headers)}",
        "COOKIES = {" + ", ".join(_lua(c) for c in flow.cookies) + "}",
    ]
    return "\n".join(constants) + "\n" + _FLOW_LUA
