"""(g) Instructions per request in the app's own process, counted by valgrind's
callgrind: the same code given the same requests executes the same instructions, within
a fraction of a percent, however busy the machine is. Table (e) measures time and CPU,
which on a shared machine move by half within minutes; this table is the one to compare
two commits with (``--http-tree``), not machines.

The app runs in one process under callgrind (bench/instructions_runner.py) with
``VESTIBULE_ENV=production`` and the database seeded as for table (e), and is called
directly as a WSGI app, so gunicorn, the sockets and PostgreSQL's own process are not
counted; SQLite, the ORM, Redis's client and everything in the request are. Counting
is on only while an endpoint repeats, after its warm-up.
"""

from __future__ import annotations

import compileall
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench.endpoints import ENDPOINTS, authorization_params, redemption_form
from bench.harness import progress
from bench.http_rates import OTHER_TREE_TARGET
from bench.messages import free_port
from bench.served import (
    PROXY_HEADERS,
    ROOT,
    Seeded,
    bare_env,
    database,
    database_label,
    seed,
    vestibule_env,
)
from tests.helpers import pkce_pair

RUNNER = Path(__file__).with_name("instructions_runner.py")
#: The endpoints of table (e) counted here (a sign-in is mostly argon2, counted
#: elsewhere: table (c)).
COUNTED = ("discovery", "JWKS", "token_cc", "code flow (authorize + token)", "userinfo")
BARE_NAME = "bare Flask JSON (GET /ping)"
#: Repetitions before counting: Python's and the libraries' caches fill over the first
#: few dozen requests (a bare Flask request costs 524 k instructions first, 390 k
#: after twenty).
WARMUP = 50
#: Seconds to wait for one turn of the runner (a warm-up under valgrind is slow).
TURN_TIMEOUT = 600
#: Seconds callgrind_control may take to answer.
CONTROL_TIMEOUT = 60
_TOTALS = re.compile(r"^totals:\s+(\d+)", re.MULTILINE)


@dataclass
class Counted:
    """Instructions one endpoint executed over ``requests`` repetitions."""

    endpoint: str
    database: str
    requests: int
    instructions: int

    @property
    def each(self) -> float:
        """Instructions per repetition (a request, or a flow of two)."""
        return self.instructions / self.requests


def available() -> bool:
    """Whether valgrind and callgrind_control are installed."""
    return shutil.which("valgrind") is not None and shutil.which("callgrind_control") is not None


def bare(requests: int, warmup: int) -> Counted:
    """Bare Flask's JSON answer, the reference row."""
    plan = {
        "endpoints": [{"name": BARE_NAME, "kind": "fixed", "method": "GET", "path": "/ping"}],
    }
    counted = run("bench.bare_app:app", bare_env(ROOT), plan, requests, warmup, "-")
    return counted[0]


def vestibule(backend: str, requests: int, warmup: int, tree: Path = ROOT) -> list[Counted]:
    """Every endpoint of COUNTED on a fresh ``backend`` database, the app from ``tree``."""
    label = database_label(backend)
    with (
        tempfile.TemporaryDirectory(prefix="vestibule-instructions-") as folder,
        database(backend, Path(folder)) as (url, _),
    ):
        env = vestibule_env(tree, url, free_port())
        seeded = seed(tree, env)
        progress(f"instructions {label}: seeded; counting")
        target = "wsgi:app" if tree.resolve() == ROOT else OTHER_TREE_TARGET
        return run(target, env, plan_for(seeded), requests, warmup, label)


def plan_for(seeded: Seeded) -> dict:
    """What the runner sends: the fixed requests of table (e), the code flow's
    authorization and redemption, and who signs in."""
    verifier, challenge = pkce_pair()
    endpoints = []
    for endpoint in ENDPOINTS:
        if endpoint.name not in COUNTED:
            continue
        if endpoint.name == "userinfo":
            endpoints.append(
                {"name": endpoint.name, "kind": "userinfo", **_request("GET", "/userinfo")}
            )
        elif endpoint.fixed is not None:
            fixed = endpoint.fixed(seeded)
            endpoints.append(
                {
                    "name": endpoint.name,
                    "kind": "fixed",
                    **_request(fixed.method, fixed.path, fixed.headers, fixed.body),
                }
            )
        else:
            endpoints.append({"name": endpoint.name, "kind": "flow"})
    return {
        "endpoints": endpoints,
        "email": seeded.email,
        "password": seeded.password,
        "flow": {
            "authorize": "/authorize?"
            + urlencode(authorization_params(seeded, challenge, "st-cg")),
            "token_form": urlencode(redemption_form(seeded, verifier)),
            "token_headers": seeded.web.basic_auth(),
        },
    }


def _request(method: str, path: str, headers: dict | None = None, body: str = "") -> dict:
    # The proxy's headers are sent with every request by the runner.
    own = {k: v for k, v in (headers or {}).items() if k not in PROXY_HEADERS}
    return {"method": method, "path": path, "headers": own, "body": body}


def run(
    target: str, env: dict, plan: dict, requests: int, warmup: int, label: str
) -> list[Counted]:
    """``plan`` run by the runner under callgrind, serving ``target`` with ``env``;
    instructions per endpoint, counted only while it repeats."""
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as name:
        folder = Path(name)
        port = env.get("ISSUER", "http://127.0.0.1:443").rpartition(":")[2]
        plan = {**plan, "host": f"127.0.0.1:{port}", "headers": PROXY_HEADERS}
        plan |= {"requests": requests, "warmup": warmup}
        (folder / "plan.json").write_text(json.dumps(plan))
        for root in env["PYTHONPATH"].split(os.pathsep):
            compiled(Path(root))
        runner_reads, parent_writes = os.pipe()
        parent_reads, runner_writes = os.pipe()
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={folder / 'callgrind.out'}",
            sys.executable,
            "-P",  # not this folder on sys.path: its modules' names are common words
            str(RUNNER),
            target,
            str(folder / "plan.json"),
            str(runner_reads),
            str(runner_writes),
        ]
        log = folder / "runner.log"
        with log.open("w") as output:
            process = subprocess.Popen(  # noqa: S603 - valgrind and our own runner
                command,
                # The same hash order every run, and no run leaves compiled files
                # that would change the next one's count.
                env={**env, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"},
                stdout=output,
                stderr=output,
                pass_fds=(runner_reads, runner_writes),
            )
            os.close(runner_reads)
            os.close(runner_writes)
            turns = _Turns(process, parent_reads, parent_writes, log)
            try:
                counts = [turns.count(folder) for _ in plan["endpoints"]]
                process.wait(timeout=TURN_TIMEOUT)
            finally:
                os.close(parent_reads)
                os.close(parent_writes)
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=30)
    names = [e["name"] for e in plan["endpoints"]]
    return [Counted(n, label, requests, c) for n, c in zip(names, counts, strict=True)]


def compiled(root: Path) -> None:
    """Byte-compile the code under ``root`` the runner imports (its top-level modules,
    ``app`` and ``bench``). Code loaded from a compiled file counts a few tenths of a
    percent differently from code compiled from its source at import, so every run
    loads compiled files, whether or not an earlier run left them."""
    compileall.compile_dir(root, maxlevels=0, quiet=1)
    for package in ("app", "bench"):
        if (root / package).is_dir():
            compileall.compile_dir(root / package, quiet=1)


@dataclass
class _Turns:
    """The parent's side of the runner's pipes."""

    process: subprocess.Popen
    incoming: int
    outgoing: int
    log: Path

    def count(self, folder: Path) -> int:
        """One endpoint: counting on, its repetitions, counting off, the counts dumped."""
        self.hear(b"r")
        self.control("--instr=on")
        os.write(self.outgoing, b"g")
        self.hear(b"d")
        self.control("--instr=off")
        before = set(folder.glob("callgrind.out.*"))
        self.control("--dump")
        dumped = set(folder.glob("callgrind.out.*")) - before
        if len(dumped) != 1:
            raise RuntimeError(f"callgrind wrote {len(dumped)} dumps, not one:\n{self.tail()}")
        os.write(self.outgoing, b"n")
        return totals(dumped.pop().read_text())

    def hear(self, expected: bytes) -> None:
        """Until the runner says ``expected``; its log when it stops or says else."""
        ready, _, _ = select.select([self.incoming], [], [], TURN_TIMEOUT)
        heard = os.read(self.incoming, 1) if ready else b""
        if heard != expected:
            why = "stopped" if self.process.poll() is not None else f"said {heard!r}"
            raise RuntimeError(f"the runner {why}, not {expected!r}:\n{self.tail()}")

    def control(self, option: str) -> None:
        """callgrind_control (through vgdb, which reaches the runner blocked in a read
        with ptrace); it answers once the command is done."""
        try:
            done = subprocess.run(  # noqa: S603 - valgrind's own tool
                ["callgrind_control", option, str(self.process.pid)],  # noqa: S607
                capture_output=True,
                text=True,
                timeout=CONTROL_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(
                f"callgrind_control {option} got no answer in {CONTROL_TIMEOUT} s "
                "(vgdb needs ptrace to reach a process blocked in a read)"
            ) from None
        if done.returncode != 0:
            raise RuntimeError(f"callgrind_control {option} failed: {done.stdout}{done.stderr}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def totals(dump: str) -> int:
    """The instruction count of a callgrind dump (its ``totals:`` line)."""
    found = _TOTALS.search(dump)
    if found is None:
        raise RuntimeError("callgrind's dump has no totals line")
    return int(found.group(1))


def rows(counted: list[Counted], reference: Counted) -> list[tuple]:
    """Table rows: millions of instructions each, and how many bare answers that is."""
    return [
        (
            c.endpoint,
            c.database,
            c.requests,
            f"{c.each / 1e6:.3f}",
            f"{c.each / reference.each:.2f}x",
        )
        for c in counted
    ]


HEADER = ("endpoint", "database", "repetitions", "M instructions each", "x bare")


def environment_note() -> str:
    """Python and valgrind versions: counts compare only between equal ones."""
    version = subprocess.run(
        ["valgrind", "--version"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"Python {sys.version.split()[0]}, {version}, PYTHONHASHSEED=0"
