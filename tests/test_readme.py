"""The README's walkthrough runs as written against a server started as `make run` does.

Every fenced ``sh`` block preceded by ``<!-- walkthrough: NAME -->`` is taken from
README.md itself and run with bash, in the order of the file, as a person would in a
second terminal in the project folder: one shell session (variables set by one block,
``$ISSUER`` or ``$TOKEN``, are there for the next; the virtual environment's
activation too), with ``set -euo pipefail``, so a failing command or an unset variable
fails the block. ``(exits N)`` after the name expects that exit status instead of 0.
A block preceded by ``<!-- walkthrough output: NAME -->`` is what NAME prints: JSON is
compared key by key (the README may leave keys out), text line by line; ids, secrets,
tokens, times and ``...`` in the README match any value.

The server is started as `make run` starts it (development settings, `vestibule db
upgrade`, `vestibule seed`, `vestibule run`), on a fresh SQLite file and a free port of
127.0.0.1 instead of 5000 (``http://127.0.0.1:5000`` in the README is replaced by the
server's address). What a person does in the browser between two blocks (sign in and
allow, paste a code; open an invitation and register) is done here over HTTP with a
cookie jar, in ``AFTER`` below.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
VENV = ROOT / ".venv"
#: The address the README's commands use, which `make run` serves by default.
README_ISSUER = "http://127.0.0.1:5000"
#: Seconds the whole walkthrough may take (about 90 on two busy cores, most of it the
#: start-up of each `vestibule` command), one block, the server to answer, a page.
WALKTHROUGH_BUDGET = 400
BLOCK_TIMEOUT = 90
START_TIMEOUT = 60
HTTP_TIMEOUT = 15
#: The demo admin the seed creates (the README's table).
ADMIN = ("admin@example.com", "vestibule-admin")

MARKER = re.compile(r"^<!-- walkthrough( output)?: ([a-z0-9-]+)(?: \(exits (\d+)\))? -->$")


@dataclass
class Step:
    """One runnable block of the README and what it should print."""

    name: str
    code: str
    line: int
    exits: int = 0
    output: str | None = None
    output_lang: str = ""


def walkthrough(text: str) -> list[Step]:
    """The marked blocks of ``text`` in order, each with its expected output if shown."""
    lines = text.splitlines()
    steps: dict[str, Step] = {}
    for number, line in enumerate(lines):
        match = MARKER.match(line.strip())
        if not match:
            continue
        is_output, name, exits = match.groups()
        lang, body = _fenced_block(lines, number + 1, name)
        if is_output:
            assert name in steps, f"README line {number + 1}: output of unknown block {name}"
            steps[name].output, steps[name].output_lang = body, lang
        else:
            assert lang == "sh", f"README line {number + 1}: {name} is not an sh block"
            assert name not in steps, f"README line {number + 1}: {name} is marked twice"
            steps[name] = Step(name, body, number + 1, int(exits or 0))
    return list(steps.values())


def _fenced_block(lines: list[str], start: int, name: str) -> tuple[str, str]:
    """(language, text) of the fenced block right after a marker."""
    opening = lines[start] if start < len(lines) else ""
    assert opening.startswith("```"), f"README: the marker of {name} is not above a block"
    end = lines.index("```", start + 1)
    return opening[3:].strip(), "\n".join(lines[start + 1 : end])


# -- comparing what a block printed with the README --------------------------------------

#: What varies from run to run in an example answer: ids, times, webhook secrets, values
#: the README cuts short with ``...``, and long random tokens (client ids and secrets,
#: codes, invitation tokens). A ``/`` ends a token, so a changed path or port is caught.
VOLATILE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?"
    r"|whsec_[A-Za-z0-9+/=]+"
    r"|[A-Za-z0-9_+=-]*\.\.\."
    r"|[A-Za-z0-9_+=-]{20,}"
)


def _pattern(expected: str) -> re.Pattern:
    """A regular expression for one expected line or value: volatile parts and ``...``
    match anything, runs of spaces any spacing."""
    parts, last = [], 0
    for match in re.finditer(rf"{VOLATILE.pattern}|\s+", expected):
        parts.append(re.escape(expected[last : match.start()]))
        parts.append(r"\s+" if match.group(0).isspace() else r"\S+")
        last = match.end()
    parts.append(re.escape(expected[last:]))
    return re.compile("".join(parts))


def assert_json_like(expected, actual, where: str = "") -> None:
    """Every key the README shows is in the answer, with a matching value."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        for key, value in expected.items():
            assert key in actual, f"{where}: no {key!r} in the answer {actual!r}"
            assert_json_like(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r}"
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            assert_json_like(want, got, f"{where}[{index}]")
    elif isinstance(expected, str):
        assert isinstance(actual, str) and _pattern(expected).fullmatch(actual), (
            f"{where}: README shows {expected!r}, the answer is {actual!r}"
        )
    else:
        assert expected == actual, f"{where}: README shows {expected!r}, the answer is {actual!r}"


def assert_prints(step: Step, stdout: str, issuer: str = README_ISSUER) -> None:
    """What ``step`` printed, against a server at ``issuer``, matches the output the
    README shows for it."""
    shown = step.output.replace(README_ISSUER, issuer)
    if step.output_lang == "json":
        assert "{" in stdout, f"{step.name} printed no JSON object:\n{stdout}"
        start = stdout.index("{")  # after a prompt such as "code: "
        actual, _ = json.JSONDecoder().raw_decode(stdout[start:])
        assert_json_like(json.loads(shown), actual, step.name)
        return
    expected = [line.rstrip() for line in shown.splitlines() if line.strip()]
    actual = [line.rstrip() for line in stdout.splitlines() if line.strip()]
    assert len(actual) == len(expected), f"{step.name} printed:\n{stdout}"
    for want, got in zip(expected, actual, strict=True):
        assert _pattern(want).fullmatch(got), f"{step.name}: README shows {want!r}, got {got!r}"


# -- the person's browser ------------------------------------------------------------------


class _Forms(HTMLParser):
    """The forms of a page: their attributes and the values they would submit."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"attrs": attrs, "fields": {}, "buttons": set()})
        elif self.forms and tag in ("input", "textarea") and attrs.get("name"):
            if attrs.get("type") not in ("checkbox", "radio", "submit"):
                self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""
        elif self.forms and tag == "button" and attrs.get("name"):
            self.forms[-1]["buttons"].add(attrs["name"])


class Browser:
    """A person's browser, as far as the walkthrough needs one: a cookie jar that follows
    redirects and submits forms as they are, with what the person types."""

    def __init__(self):
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy for 127.0.0.1
        self.page: requests.Response | None = None

    def open(self, url: str) -> requests.Response:
        self.page = self.session.get(url, timeout=HTTP_TIMEOUT)
        assert self.page.status_code == 200, f"{url}: {self.page.status_code}"
        return self.page

    def submit(self, which: Callable[[dict], bool], **typed: str) -> requests.Response:
        """Submit the first form ``which`` accepts, with ``typed`` filled in."""
        parser = _Forms()
        parser.feed(self.page.text)
        form = next((f for f in parser.forms if which(f)), None)
        assert form is not None, f"no such form on {self.page.url}:\n{self.page.text}"
        action = urljoin(self.page.url, form["attrs"].get("action") or self.page.url)
        data = {**form["fields"], **typed}
        self.page = self.session.post(action, data=data, timeout=HTTP_TIMEOUT)
        assert self.page.status_code == 200, f"{action}: {self.page.status_code}"
        return self.page

    def sign_in(self, email: str, password: str) -> requests.Response:
        return self.submit(lambda f: "password" in f["fields"], email=email, password=password)


def sign_in_allow_and_copy_the_code(server: Server, printed: str) -> str:
    """Open the printed authorization URL, sign in as the admin, allow; the code page
    shows the code and the request's state, and the person copies the code."""
    url = printed.strip().splitlines()[-1]
    assert url.startswith(f"{server.issuer}/authorize?"), printed
    browser = Browser()
    browser.open(url)
    browser.sign_in(*ADMIN)
    page = browser.submit(lambda f: "allow" in f["buttons"], allow="1")
    assert page.url.startswith(f"{server.issuer}/playground/code?"), page.url
    shown = dict(re.findall(r'<code id="(code|state|iss)">([^<]*)</code>', page.text))
    sent = parse_qs(urlsplit(url).query)
    assert shown["state"] == sent["state"][0] and shown["iss"] == server.issuer, shown
    return shown["code"] + "\n"


def open_the_invitation_and_register(server: Server, printed: str) -> None:
    """Open the printed short link, register with the pre-filled form, and arrive in the
    playground signed in as the invited person; the invitation email was printed."""
    short_link = re.search(r"^short_link:\s+(\S+)$", printed, re.MULTILINE).group(1)
    browser = Browser()
    browser.open(short_link)
    page = browser.submit(
        lambda f: f["attrs"].get("id") == "registration", password="a long passphrase"
    )
    assert urlsplit(page.url).path == "/playground/", page.url
    assert "grace@example.com" in page.text and 'id="id-token-claims"' in page.text
    server.wait_for_output("To: grace@example.com")


#: What the person does after a block, given its output; a returned text is what they
#: type at the next block's prompt.
AFTER: dict[str, Callable[[Server, str], str | None]] = {
    "pkce-authorize": sign_in_allow_and_copy_the_code,
    "browser-invite": open_the_invitation_and_register,
}
#: What a block's output must contain, beyond what the README shows.
MUST_PRINT = {
    "cli": "invitations",
    "browser-accepted": "invitation.accepted",
    "api-deliveries": '"items"',
}


# -- the server, as `make run` starts it ----------------------------------------------------


@dataclass
class Server:
    """A `make run` server and the environment of a terminal beside it."""

    issuer: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    def wait_for_output(self, text: str, timeout: float = 20) -> None:
        """Wait until the server's terminal shows ``text``."""
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text(errors="replace"):
            assert time.monotonic() < deadline, f"the server never printed {text!r}"
            time.sleep(0.2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _terminal_env(issuer: str, database: Path, home: Path) -> dict[str, str]:
    """The environment of a person's terminal: theirs, without the test suite's settings,
    with the address and database of this server (what `make run` passes)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VESTIBULE_", "PYTEST", "REQUIRE_", "TEST_", "VIRTUAL_ENV"))
    }
    env.update(
        VESTIBULE_ENV="development",
        ISSUER=issuer,
        DATABASE_URL=f"sqlite:///{database}",
        # No ~/.curlrc or other personal settings; no proxy between curl and the server.
        HOME=str(home),
        NO_PROXY="127.0.0.1,localhost",
    )
    for name in ("MAIL_BACKEND", "SMS_BACKEND", "OUTBOX_IN_PROCESS", "REDIS_URL"):
        env.pop(name, None)  # development's own: emails printed by the web process
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """`make run`'s three commands on a fresh SQLite file and a free port; stopped after."""
    vestibule = VENV / "bin" / "vestibule"
    if not (VENV / "bin" / "activate").exists() or not vestibule.exists():
        pytest.skip(f"the README's walkthrough uses the project's {VENV} (make install)")
    home = tmp_path_factory.mktemp("readme")
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    srv = Server(issuer, _terminal_env(issuer, home / "vestibule.db", home), home / "server.log")
    for command in ("db upgrade", "seed"):
        done = subprocess.run(
            [str(vestibule), *command.split()], env=srv.env, cwd=ROOT, capture_output=True,
            text=True, timeout=START_TIMEOUT,
        )  # fmt: skip
        assert done.returncode == 0, f"vestibule {command}:\n{done.stdout}\n{done.stderr}"
    with srv.log.open("w") as log:
        srv.process = subprocess.Popen(
            [str(vestibule), "run", "--host", "127.0.0.1", "--port", str(port)],
            env={**srv.env, "PYTHONUNBUFFERED": "1"}, cwd=ROOT, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        _wait_until_serving(srv)
        yield srv
    finally:
        _stop(srv.process)


def _wait_until_serving(srv: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert srv.process.poll() is None, f"vestibule run exited:\n{srv.log.read_text()}"
        try:
            if Browser().session.get(f"{srv.issuer}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, (
            f"no answer in {START_TIMEOUT} s:\n{srv.log.read_text()}"
        )
        time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    """Stop the server and anything it started (its own process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# -- running blocks in one terminal ---------------------------------------------------------


class Terminal:
    """A bash session in a folder laid out like the project's (its .venv): each block runs
    in a bash of its own that starts from the variables the blocks before it left."""

    def __init__(self, srv: Server, folder: Path, names: list[str]):
        self.srv, self.folder = srv, folder
        self.state = folder.parent / "terminal-state.sh"
        self.state.write_text("")
        self.names = " ".join(sorted({"PATH", "VIRTUAL_ENV", *names}))
        (folder / ".venv").symlink_to(VENV)

    def run(self, step: Step, typed: str | None, timeout: float) -> subprocess.CompletedProcess:
        code = step.code.replace(README_ISSUER, self.srv.issuer)
        state = shlex.quote(str(self.state))
        script = (
            f". {state}\n"
            # Keep the block's exit status: the trap's own must not replace it.
            f"trap 'status=$?; declare -p {self.names} 2>/dev/null > {state} || true; "
            "exit $status' EXIT\n"
            "set -euo pipefail\n"
            f"{code}\n"
        )
        return subprocess.run(
            ["bash", "-c", script], cwd=self.folder, env=self.srv.env, input=typed or "",
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip


def assigned_names(steps: list[Step]) -> list[str]:
    """The shell variables the blocks set (``NAME=...``, ``read -r NAME``)."""
    names = set()
    for step in steps:
        names |= set(re.findall(r"^\s*([A-Z][A-Z0-9_]*)=", step.code, re.MULTILINE))
        names |= set(re.findall(r"\bread -r ([A-Z][A-Z0-9_]*)", step.code))
    return sorted(names)


def test_readme_walkthrough_runs_as_written(server, tmp_path):
    """Every walkthrough block of README.md runs against a `make run` server, in order,
    with the exit status and the output the README shows."""
    steps = walkthrough(README.read_text())
    names = [step.name for step in steps]
    assert set(AFTER) | set(MUST_PRINT) <= set(names), "README lost a block this test drives"
    assert len(steps) >= 15 and names[0] == "cli"
    folder = tmp_path / "vestibule"
    folder.mkdir()
    terminal = Terminal(server, folder, assigned_names(steps))
    typed, deadline = None, time.monotonic() + WALKTHROUGH_BUDGET
    for step in steps:
        code = step.code.replace(README_ISSUER, server.issuer)
        done = terminal.run(
            step, typed, timeout=max(1, min(BLOCK_TIMEOUT, deadline - time.monotonic()))
        )
        report = f"README line {step.line}, block {step.name}:\n{code}\n--- stdout\n{done.stdout}"
        report += f"\n--- stderr\n{done.stderr}"
        assert done.returncode == step.exits, report
        if step.output is not None:
            assert_prints(step, done.stdout, server.issuer)
        if step.name in MUST_PRINT:
            assert MUST_PRINT[step.name] in done.stdout, report
        typed = AFTER[step.name](server, done.stdout) if step.name in AFTER else None


def test_readme_output_comparison_catches_a_wrong_answer():
    """The comparison fails on what the README found broken before: another count of
    created rows, an error body instead of the invitation, a missing field."""
    bulk = Step("cli-bulk", "", 1, output="line 2: ok 78c4a5ed-02a5-4c10-9d82-b6ac12088e49\n"
                "created 2, failed 1")  # fmt: skip
    assert_prints(bulk, "line 2: ok 11111111-2222-4333-8444-555555555555\ncreated 2, failed 1\n")
    with pytest.raises(AssertionError):
        assert_prints(bulk, "line 2: ok 11111111-2222-4333-8444-555555555555\ncreated 1, failed 2")
    invitation = Step("api-invite", "", 1, output_lang="json", output=json.dumps(
        {"id": "ba4b6d8b-4748-4938-93ec-d0be4578e458", "client_id": "shop", "groups": ["staff"],
         "short_link": "http://127.0.0.1:5000/i/C_UGA3wwQe6kaAJPi-NIDdwfuUSPtemj"}
    ))  # fmt: skip
    good = {
        "id": "0f0e0d0c-4748-4938-93ec-d0be4578e458",
        "client_id": "shop",
        "groups": ["staff"],
        "short_link": "http://127.0.0.1:5000/i/Zz9kQ2pR7sT1uV3wX5yA0bC4dE6fG8hJ",
        "state": "initiated",
    }
    assert_prints(invitation, json.dumps(good))
    for wrong in (
        {"error": "invalid_request", "error_description": "no client 'shop'"},
        {**good, "groups": []},
        {k: v for k, v in good.items() if k != "short_link"},
        {**good, "short_link": "http://127.0.0.1:5001/i/Zz9kQ2pR7sT1uV3wX5yA0bC4dE6fG8hJ"},
    ):
        with pytest.raises(AssertionError):
            assert_prints(invitation, json.dumps(wrong))


def test_readme_marks_only_blocks_it_can_run():
    """Each marker sits right above a fenced block, an output marker names a block
    marked before it, and no name is used twice: a README edit cannot silently drop a
    block from the walkthrough."""
    broken = "<!-- walkthrough: one -->\nnot a block\n"
    with pytest.raises(AssertionError):
        walkthrough(broken)
    twice = "<!-- walkthrough: one -->\n```sh\ntrue\n```\n<!-- walkthrough: one -->\n```sh\n```\n"
    with pytest.raises(AssertionError):
        walkthrough(twice)
    steps = walkthrough(README.read_text())
    assert all(step.code.strip() for step in steps)
