"""How fast does the REST service answer audited reads and collections, over HTTP, under load?

    .venv/bin/python bench/http.py           # SQLite and PostgreSQL, 30 s loads (~6 min)
    .venv/bin/python bench/http.py --quick   # SQLite only, 5 s loads; writes nothing
    .venv/bin/python bench/http.py --quick --write --backends sqlite,postgres

The full run rewrites the ``http`` section of ``docs/benchmarks.md``.

For each backend (SQLite: a file in a temporary directory; PostgreSQL: a fresh database
``pledge_bench_http_<random>`` on the server of ``PLEDGE_BENCH_POSTGRES_URL``, dropped at the
end) the script seeds 20,000 subjects with ``Vault.collect_many`` and creates two role keys,
then starts ``pledge serve --workers 2`` on a free loopback port and drives it with wrk
(``bench/http/load.lua``), 2 threads and 32 connections for 30 s after a warm-up:

* **reads**: ``GET /v1/subjects/{id}/data?purpose=essential.service.operations.support`` as
  role ``support``, a random seeded subject per request; each is an audited, durable read;
* **collections**: ``POST /v1/collect/registration`` with a new person (a unique email) per
  request.

After each load it checks that the audit log verifies and that the new audit entries are
exactly the 2xx answers the server gave (counted from its access log; wrk's own count stops
at its cutoff, so it may miss the few requests in flight then). A last read load runs under
py-spy, sampling both workers, to show where the time goes. wrk runs on the same machine as
the server (and PostgreSQL), so they share its cores: the figures are a floor.

Needs wrk (``apt-get update && apt-get install -y wrk``) and, for the profile, py-spy
(``.venv/bin/pip install py-spy``; without it the profile is skipped).
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named http.py and Python puts its folder first on sys.path, so `import http`
# (the standard library's, which urllib and many packages use) would find this script. Move the
# folder to the end: the standard library wins, and `_report` is still found.
_HERE = str(Path(__file__).resolve().parent)
if sys.path and sys.path[0] == _HERE:
    sys.path.append(sys.path.pop(0))

import argparse  # noqa: E402
import contextlib  # noqa: E402
import importlib.util  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import linecache  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

from _report import ROOT, command_line, machine_summary, write_section  # noqa: E402
from faker import Faker  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402

from pledge.api.keys import KeyStore  # noqa: E402
from pledge.demo import fake_submission  # noqa: E402
from pledge.policy import load_policy_text  # noqa: E402
from pledge.store.audit import decode  # noqa: E402
from pledge.store.database import sqlite_url  # noqa: E402
from pledge.store.keys import LocalKeyFileProvider, default_key_store_url  # noqa: E402
from pledge.store.schema import audit_checkpoints, audit_entries  # noqa: E402
from pledge.store.vault import Collection, Vault  # noqa: E402

POLICY_FILE = "examples/policies/zabbix.yaml"
SECTION = "http"
POSTGRES_ENV = "PLEDGE_BENCH_POSTGRES_URL"
POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LUA = ROOT / "bench" / "http" / "load.lua"
WRK_INSTALL = "apt-get update && apt-get install -y wrk"

ROLE = "support"
PURPOSE = "essential.service.operations.support"
SEED_POINTS = ("registration", "order")  # support may read both for support
POINT = "registration"  # where the collection load collects
READ_ROUTE = "/v1/subjects/{subject}/data"
COLLECT_ROUTE = "/v1/collect/{point}"

WORKERS = 2
CONNECTIONS = 32
WRK_THREADS = 2
WRK_TIMEOUT_S = 2
SUBJECTS = 20_000
TEMPLATES = 2_000
SEED_CHUNK = 2_000
RATE_LIMIT = 1_000_000  # per key and second: the limiter still runs, but never refuses here
PROFILE_RATE = 100  # py-spy samples per second

READS_ONE = "reads, 1 connection"  # a comparison: the same reads, one at a time
READS_ONE_WORKER = "reads, 1 worker"  # the reads on `pledge serve --workers 1`
TRIVIAL = "trivial FastAPI app"
PLAIN = "plain app: 1 SELECT + 1 durable INSERT"
REFERENCES = (("trivial", TRIVIAL), ("plain", PLAIN))

GOAL_READS = 2_000  # reads/s
GOAL_P99_MS = 25.0
GOAL_OF_TRIVIAL = 0.5  # audited reads/s against the trivial app's requests/s
GOAL_OF_PLAIN = 2.0  # ... against the plain app's
GOAL_SCALING = 1.7  # two workers against one
GOAL_COLLECTIONS = 1_000  # collections/s
OTHER_BENCHES = ("bench/store.py", "bench/mail.py", "bench/decide.py")


@dataclass(frozen=True)
class Plan:
    seconds: int  # one measured load
    warmup: int  # an unmeasured load before it
    single: int  # the read load on one connection, for comparison
    profile: int  # seconds py-spy samples, during a read load of its own


FULL = Plan(seconds=30, warmup=5, single=10, profile=20)
QUICK = Plan(seconds=5, warmup=2, single=3, profile=5)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- results ----------------------------------------------------------------------------------


@dataclass
class Cpu:
    """Cores in use during a load (of the machine's), by whom."""

    workers: float
    wrk: float
    postgres: float
    other: float  # everything else that ran: the server's main process, other programs
    idle: float
    wall: float


@dataclass
class Run:
    load: str  # "reads" | "collections" | READS_ONE
    route: str
    connections: int
    wrk: dict[str, float]  # done() of bench/http/load.lua
    audit_new: int  # audit entries written during the load
    actions: Counter[str]  # ... by action
    served: Served  # the server's answers on the route (access log)
    commits: int  # transactions committed during the load (each signs one audit checkpoint)
    verified: bool
    problem: str | None
    audit_total: int
    cpu: Cpu
    connections_opened: int | None  # PostgreSQL sessions the server opened during the load

    @property
    def requests(self) -> int:
        return int(self.wrk["requests"])

    @property
    def rps(self) -> float:
        return self.wrk["requests"] / (self.wrk["duration_us"] / 1e6)

    def ms(self, key: str) -> float:
        return self.wrk[key] / 1000

    @property
    def non_2xx(self) -> int:
        return int(self.wrk["status"])  # wrk counts status > 399; nothing here answers 1xx/3xx

    @property
    def socket_errors(self) -> int:
        return int(sum(self.wrk[k] for k in ("connect", "read", "write", "timeout")))

    @property
    def ok(self) -> int:
        return self.requests - self.non_2xx

    @property
    def served_2xx(self) -> int:
        return self.served.ok

    @property
    def little_ms(self) -> float:
        """The mean latency Little's law gives a closed loop: connections / throughput."""
        return self.connections / self.rps * 1000 if self.rps else 0.0

    @property
    def per_commit(self) -> float:
        return self.audit_new / self.commits if self.commits else 0.0

    @property
    def after_cutoff(self) -> int:
        """2xx answers the server gave that wrk did not count: in flight at its cutoff."""
        return self.served_2xx - self.ok

    @property
    def audited(self) -> bool:
        """Every 2xx answer has its audit entry (and no entry lacks an answer), and wrk's
        count differs from the server's only by requests in flight at wrk's cutoff."""
        action = "collect" if self.route == COLLECT_ROUTE else "read"
        return (
            self.verified
            and self.audit_new == self.served_2xx
            and set(self.actions) <= {action}
            and 0 <= self.after_cutoff <= self.connections
        )


@dataclass
class RefRun:
    """A reference server's answer to the read load: wrk's figures and the CPU split."""

    name: str
    wrk: dict[str, float]
    cpu: Cpu

    @property
    def rps(self) -> float:
        return self.wrk["requests"] / (self.wrk["duration_us"] / 1e6)

    def ms(self, key: str) -> float:
        return self.wrk[key] / 1000

    @property
    def errors(self) -> int:
        return int(sum(self.wrk[k] for k in ("status", "connect", "read", "write", "timeout")))


@dataclass
class BackendResult:
    name: str
    where: str = ""
    seed_seconds: float = 0.0
    subjects: int = 0
    runs: list[Run] = field(default_factory=list)
    references: list[RefRun] = field(default_factory=list)
    profile: Profile | None = None
    profile_note: str = ""
    error: str | None = None
    seconds: float = 0.0

    @property
    def title(self) -> str:
        return "SQLite" if self.name == "sqlite" else "PostgreSQL"

    def run(self, load: str) -> Run | None:
        return next((r for r in self.runs if r.load == load), None)

    def reference(self, name: str) -> RefRun | None:
        return next((r for r in self.references if r.name == name), None)


# --- the store --------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_database(base_url: str) -> Iterator[str]:
    """A fresh database on the server at ``base_url``, dropped (connections and all) after."""
    url = make_url(base_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"pledge_bench_http_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            log(f"dropped database {name}")
    finally:
        admin.dispose()


@contextlib.contextmanager
def database(backend: str, tmp: Path) -> Iterator[tuple[str, str]]:
    """The URL of a fresh, empty store, and how to describe it."""
    if backend == "sqlite":
        yield (
            sqlite_url(tmp / "data" / "pledge.sqlite3"),
            "SQLite file in a temporary directory (WAL, `synchronous=FULL`)",
        )
        return
    with postgres_database(os.environ.get(POSTGRES_ENV, POSTGRES_DEFAULT)) as url:
        shown = make_url(url).render_as_string(hide_password=True)
        yield url, f"PostgreSQL, fresh database `{make_url(url).database}` at `{shown}`"


def seed(vault: Vault, count: int, rng_seed: int = 11) -> list[str]:
    """``count`` subjects at the points ``support`` may read for support; their ids.

    A few thousand Faker submissions serve as templates, each copy with its email made unique
    (``local+s<n>@domain``): Faker would take long to invent 20,000 distinct people.
    """
    policy = vault.policy.policy
    faker = Faker()
    faker.seed_instance(rng_seed)
    templates = [
        fake_submission(policy, SEED_POINTS[i % len(SEED_POINTS)], faker, optional=i % 4 < 2)
        for i in range(TEMPLATES)
    ]
    subjects: list[str] = []
    while len(subjects) < count:
        items = []
        for n in range(len(subjects), min(count, len(subjects) + SEED_CHUNK)):
            t = templates[n % TEMPLATES]
            local, _, domain = str(t.fields["email"]).partition("@")
            fields = dict(t.fields, email=f"{local}+s{n}@{domain}")
            items.append(Collection(t.point, fields, None, t.choices, t.age))
        subjects += [c.subject for c in vault.collect_many(items)]
    return subjects


def collection_bodies(vault: Vault, path: Path, count: int = TEMPLATES) -> None:
    """Request bodies for ``POST /v1/collect/registration``, one a line, split by a tab where
    the Lua script puts each request's unique part of the email."""
    policy = vault.policy.policy
    faker = Faker()
    faker.seed_instance(23)
    lines = []
    for i in range(count):
        item = fake_submission(policy, POINT, faker, optional=i % 2 == 0)
        local, _, domain = str(item.fields["email"]).partition("@")
        fields = dict(item.fields, email=f"{local}+@@TAG@@@{domain}")
        body = json.dumps({"fields": fields, "age": item.age}, separators=(",", ":"))
        head, tag, tail = body.partition("@@TAG@@")
        if not tag or "\t" in body:
            raise AssertionError(f"cannot template the body {body!r}")
        lines.append(f"{head}\t{tail}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def audit_head(vault: Vault) -> int:
    """The highest audit sequence number so far (-1 for an empty log)."""
    with vault.engine.connect() as connection:
        found = connection.execute(select(func.max(audit_entries.c.seq))).scalar()
    return -1 if found is None else int(found)


def checkpoints(vault: Vault) -> int:
    """Audit checkpoints so far: one per committed transaction that wrote audit entries."""
    with vault.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(audit_checkpoints)).scalar_one()
        )


def sessions(vault: Vault) -> int | None:
    """PostgreSQL: sessions opened on this database so far (``pg_stat_database``, which
    counts them from version 14 on); None on SQLite."""
    if vault.engine.dialect.name != "postgresql":
        return None
    try:
        with vault.engine.connect() as connection:
            found = connection.execute(
                text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            ).scalar()
    except SQLAlchemyError:  # before PostgreSQL 14
        return None
    return None if found is None else int(found)


def audit_since(vault: Vault, seq: int) -> tuple[int, Counter[str]]:
    """Entries after ``seq``: how many, and how many of each action."""
    actions: Counter[str] = Counter()
    with vault.engine.connect() as connection:
        rows = connection.execute(select(audit_entries.c.entry).where(audit_entries.c.seq > seq))
        for (entry,) in rows:
            actions[decode(bytes(entry))["action"]] += 1
    return sum(actions.values()), actions


# --- the server -------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    workers: list[int]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def worker_pids(pid: int) -> list[int]:
    """uvicorn's worker processes: spawned children of the server (not a resource tracker)."""
    found = []
    for child in children(pid):
        with contextlib.suppress(OSError):
            cmdline = (Path("/proc") / str(child) / "cmdline").read_bytes()
            if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
                found.append(child)
    return sorted(found)


def tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


@contextlib.contextmanager
def serve(url: str, data_dir: Path, log_path: Path, workers: int = WORKERS) -> Iterator[Server]:
    """``pledge serve --workers N`` on a free loopback port, up and ready; stopped after."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEDGE_")}
    env.update(
        PLEDGE_DATABASE_URL=url,
        PLEDGE_RATE_LIMIT_PER_SECOND=str(RATE_LIMIT),
        PLEDGE_RATE_LIMIT_BURST=str(RATE_LIMIT),
    )
    command = [
        str(Path(sys.executable).parent / "pledge"),
        "serve",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", str(workers),
        "--policy", str(ROOT / POLICY_FILE),
        "--data-dir", str(data_dir),
    ]  # fmt: skip
    with launched(command, env, port, log_path, workers) as server:
        yield server


@contextlib.contextmanager
def serve_reference(app: str, url: str, log_path: Path, workers: int = WORKERS) -> Iterator[Server]:
    """A reference app of ``bench/http/reference.py`` under uvicorn with ``pledge serve``'s
    server settings (loopback, ``workers`` processes, the default event loop and HTTP parser)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEDGE_")}
    env["BENCH_DATABASE_URL"] = url
    command = [
        sys.executable, "-m", "uvicorn",
        "--app-dir", str(ROOT / "bench" / "http"),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", str(workers),
        "--no-access-log",
        "--timeout-worker-healthcheck", "60",
        f"reference:{app}",
    ]  # fmt: skip
    with launched(command, env, port, log_path, workers) as server:
        yield server


@contextlib.contextmanager
def launched(
    command: list[str], env: dict[str, str], port: int, log_path: Path, workers: int
) -> Iterator[Server]:
    """Start ``command`` (a server of ``workers`` processes on ``port``), wait until every
    worker is up and /healthz answers; stop its whole process group after."""
    with log_path.open("ab") as out:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one below
        )  # fmt: skip
    try:
        server = Server(process, port, [], log_path)
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"pledge serve exited with {process.returncode}:\n{tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"pledge serve did not become ready:\n{tail(log_path)}")
            started = log_path.read_bytes().count(b"Application startup complete")
            server.workers = worker_pids(process.pid) if workers > 1 else [process.pid]
            if started >= workers and len(server.workers) == workers and healthy(server):
                break
            time.sleep(0.2)
        yield server
    finally:
        stop(process)


def healthy(server: Server) -> bool:
    try:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group (the server and its workers), SIGKILL if it
    has not finished within 30 s."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@dataclass
class Served:
    """The server's own account of a load, from its access log."""

    statuses: Counter[int]  # answers on the route, by status
    ms: list[float]  # time in the app of each 2xx answer on the route, sorted

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    def percentile(self, q: float) -> float:
        if not self.ms:
            return 0.0
        return self.ms[min(len(self.ms) - 1, round(q * (len(self.ms) - 1)))]

    @property
    def mean(self) -> float:
        return sum(self.ms) / len(self.ms) if self.ms else 0.0


def served_since(log_path: Path, offset: int, route: str) -> Served:
    """The server's answers on ``route`` since byte ``offset`` of its access log."""
    statuses: Counter[int] = Counter()
    ms: list[float] = []
    with log_path.open("rb") as f:
        f.seek(offset)
        for line in f:
            if not line.startswith(b"{") or b'"request"' not in line:
                continue
            with contextlib.suppress(ValueError, KeyError, TypeError):
                entry = json.loads(line)
                if entry.get("event") == "request" and entry.get("route") == route:
                    status = int(entry["status"])
                    statuses[status] += 1
                    if 200 <= status < 300:
                        ms.append(float(entry["ms"]))
    return Served(statuses, sorted(ms))


def settle(server: Server, vault: Vault, limit: float = 30.0) -> None:
    """Wait until the server is done with what it had in flight: the audit log and the access
    log unchanged for a second."""
    deadline = time.monotonic() + limit
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        now = (audit_head(vault), server.log_path.stat().st_size)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= 1.0:
            return
        time.sleep(0.2)


# --- wrk --------------------------------------------------------------------------------------


def wrk_command(
    server: Server, seconds: int, args: Sequence[str], connections: int = CONNECTIONS
) -> list[str]:
    return [
        "wrk",
        f"-t{min(WRK_THREADS, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={WRK_TIMEOUT_S}s",
        "-s", str(LUA),
        server.url,
        "--", *args,
    ]  # fmt: skip


def wrk_result(output: str) -> dict[str, float]:
    for line in output.splitlines():
        if line.startswith("BENCH_RESULT "):
            result: dict[str, float] = json.loads(line.removeprefix("BENCH_RESULT "))
            return result
    raise RuntimeError(f"wrk printed no result:\n{output[-2000:]}")


def run_wrk(
    server: Server, seconds: int, args: Sequence[str], key: str, connections: int = CONNECTIONS
) -> tuple[dict[str, float], float]:
    """One wrk load; its result and the CPU seconds wrk used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        wrk_command(server, seconds, args, connections),
        env=dict(os.environ, PLEDGE_BENCH_KEY=key),
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wrk_result(done.stdout), used


# --- CPU accounting ---------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int, *, reaped: bool = False) -> float:
    """CPU seconds ``pid`` has used (all its threads), 0 if it is gone; with ``reaped``, also
    what its children used that have exited and been waited for."""
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / TICK


def postgres_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
    return found


def machine_cpu() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    busy = sum(ticks[:8]) - idle  # user .. steal (guest time is already in user)
    return busy / TICK, idle / TICK


@dataclass
class CpuMark:
    at: float
    workers: float
    postgres: float
    busy: float
    idle: float


def cpu_mark(server: Server) -> CpuMark:
    """CPU used so far. PostgreSQL's is every postgres process's, plus (through the
    postmaster's reaped-children times) that of its backends that have exited: SQLAlchemy's
    pool closes overflow connections, so backends come and go during a load."""
    busy, idle = machine_cpu()
    return CpuMark(
        time.perf_counter(),
        sum(process_cpu(p) for p in server.workers),
        sum(process_cpu(p, reaped=True) for p in postgres_pids()),
        busy,
        idle,
    )


def cpu_between(a: CpuMark, b: CpuMark, wrk_seconds: float) -> Cpu:
    wall = b.at - a.at
    postgres = b.postgres - a.postgres
    workers = b.workers - a.workers
    busy = b.busy - a.busy
    return Cpu(
        workers=workers / wall,
        wrk=wrk_seconds / wall,
        postgres=postgres / wall,
        other=max(0.0, busy - workers - wrk_seconds - postgres) / wall,
        idle=(b.idle - a.idle) / wall,
        wall=wall,
    )


# --- one load ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    name: str
    route: str
    args: tuple[str, ...]  # for bench/http/load.lua
    warmup_args: tuple[str, ...]  # the same, for the warm-up (collections: another email tag)
    key: str
    seconds: int
    warmup: int
    connections: int = CONNECTIONS


def measure(server: Server, vault: Vault, load: Load) -> Run:
    log(f"  {load.name}: warm-up {load.warmup} s")
    run_wrk(server, load.warmup, load.warmup_args, load.key, load.connections)
    settle(server, vault)
    seq = audit_head(vault)
    commits = checkpoints(vault)
    opened = sessions(vault)
    offset = server.log_path.stat().st_size
    threads = min(WRK_THREADS, load.connections)
    log(
        f"  {load.name}: {load.seconds} s, {load.connections} connection(s), {threads} wrk "
        "thread(s)"
    )
    start = cpu_mark(server)
    result, wrk_cpu = run_wrk(server, load.seconds, load.args, load.key, load.connections)
    cpu = cpu_between(start, cpu_mark(server), wrk_cpu)
    settle(server, vault)
    new, actions = audit_since(vault, seq)
    served = served_since(server.log_path, offset, load.route)
    time.sleep(0.6)  # PostgreSQL publishes session counts at most every half second or so
    now_open = sessions(vault)
    verification = vault.audit.verify(vault.engine)
    run = Run(
        load.name,
        load.route,
        load.connections,
        result,
        new,
        actions,
        served,
        checkpoints(vault) - commits,
        verification.ok,
        None if verification.problem is None else verification.problem.message,
        verification.entries,
        cpu,
        None if opened is None or now_open is None else now_open - opened,
    )
    log(
        f"  {load.name}: {run.rps:,.0f}/s, p50 {run.ms('p50'):.1f} ms, p99 {run.ms('p99'):.1f} ms, "
        f"{run.non_2xx} non-2xx, {run.socket_errors} socket errors; audit +{new:,} for "
        f"{run.served_2xx:,} 2xx served ({run.ok:,} seen by wrk), "
        f"{'verifies' if verification.ok else 'DOES NOT VERIFY'}"
    )
    return run


def measure_reference(server: Server, name: str, args: Sequence[str], plan: Plan) -> RefRun:
    """The read load on a reference server: the same wrk settings, warm-up and length."""
    log(f"  {name}: warm-up {plan.warmup} s, then {plan.seconds} s")
    run_wrk(server, plan.warmup, args, "none")
    start = cpu_mark(server)
    result, wrk_cpu = run_wrk(server, plan.seconds, args, "none")
    run = RefRun(name, result, cpu_between(start, cpu_mark(server), wrk_cpu))
    log(
        f"  {name}: {run.rps:,.0f}/s, p50 {run.ms('p50'):.1f} ms, p99 {run.ms('p99'):.1f} ms, "
        f"{run.errors} errors"
    )
    return run


def create_log_table(url: str) -> None:
    """The plain app's log table, made before its workers start (see reference.py)."""
    spec = importlib.util.spec_from_file_location(
        "bench_http_reference", ROOT / "bench" / "http" / "reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.create_log_table(url)


# --- the profile ------------------------------------------------------------------------------
#
# Two py-spy recordings of both workers during one read load. With --idle every thread is
# sampled whatever it does, so the thread-pool threads busy with a request show where a request
# spends its wall-clock time (waiting on a lock included): the average number of them in a
# state, divided by the throughput, is the time per request in that state (Little's law). With
# --gil only the thread holding the GIL is sampled: what the Python CPU time goes to.

IDLE_WAIT = "idle: waiting for work"
LOCK_LINES = {  # source text of a line in pledge/store/commit.py -> what a thread there waits for
    "with self._work": "waiting for the worker's shared connection (`GroupCommit._work`: another "
    "request's unit of work, or the BEGIN of the next shared transaction, holds it)",
    "with self._flush": "waiting for the worker's commit in progress (`GroupCommit._flush`)",
}


def source_line(frame: str) -> str:
    """The source text of a frame ``func (pledge/x.py:N)`` of this checkout, if any."""
    m = _FRAME.match(frame)
    if not m or not m["line"] or not m["file"].startswith("pledge/"):
        return ""
    return linecache.getline(str(ROOT / m["file"]), int(m["line"])).strip()


def pool_state(frames: Sequence[str]) -> str:
    """What a thread-pool thread is doing, from its stack (outermost frame first)."""
    joined = ";".join(frames)
    if "pledge/" not in joined and "fastapi/" not in joined:
        return IDLE_WAIT
    sqlite_lock = "_begin (pledge/store/database.py" in joined
    if "_do_get (sqlalchemy/pool" in joined:
        return "waiting for a free connection in SQLAlchemy's pool"
    if "authenticate (pledge/api/keys.py" in joined:
        if sqlite_lock:
            return (
                "API key check: `BEGIN IMMEDIATE` waiting for SQLite's write lock (the key "
                "SELECT's transaction takes it like a write)"
            )
        return "API key check: connect, SELECT the key"
    if "_start (pledge/store/commit.py" in joined:
        if sqlite_lock:
            return "start the shared transaction: `BEGIN IMMEDIATE` waiting for SQLite's write lock"
        if "AuditBatch.__init__ (pledge/store/audit.py" in joined:
            return (
                "start the shared transaction: read the audit head (PostgreSQL: `SELECT ... "
                "FOR UPDATE`, waiting for the transaction holding it to commit)"
            )
        return "start the shared transaction: connect, BEGIN"
    if "_commit_impl (sqlalchemy/engine/base.py" in joined or "do_commit" in joined:
        return "commit (SQLite: the WAL's fsync; PostgreSQL: the WAL flush)"
    if "AuditBatch.close (pledge/store/audit.py" in joined:
        return "close the shared transaction: audit head update, signed checkpoint"
    inner = frames[-1]
    if "(pledge/store/commit.py:" in inner:
        text_ = source_line(inner)
        for needle, state in LOCK_LINES.items():
            if text_.startswith(needle):
                return state
    if "LeafCommit.commit (pledge/store/batch.py" in joined:
        return "waiting for the batch that commits its audit leaf (`pledge/store/batch.py`)"
    if "Pending.__init__ (pledge/store/release.py" in joined:
        return "the read's own work on its snapshot: SELECT subject, values, choices; decide"
    if "finish (pledge/store/release.py" in joined:
        return "after the leaf's commit: fetch the data key, decrypt"
    if "append (pledge/store/audit.py" in joined:
        return "the audit entry: encode, hash, INSERT"
    if "within (pledge/store/release.py" in joined:
        return "the read's own work: SELECT subject, values, choices; decide; decrypt"
    if "store_many (pledge/store/collect.py" in joined or "check (pledge/store/" in joined:
        return "the collection's own work: checks, encryption, INSERTs"
    if "pledge/store/commit.py" in joined:
        return "group commit: savepoint, release, bookkeeping"
    return "FastAPI in the thread: dependencies, the route function, response model"


PHASES = (  # (where, substrings of a frame): the innermost frame that matches decides
    ("access log line (structlog, logging)", ("structlog/", "logging/__init__.py")),
    ("metrics (prometheus_client)", ("prometheus_client/",)),
    ("API key check (`KeyStore.authenticate`)", ("authenticate (pledge/api/keys.py",)),
    ("group commit: locks, begin, commit", ("pledge/store/commit.py",)),
    ("batched leaf commit: marks, INSERT, commit", ("pledge/store/batch.py",)),
    ("audit entry and signed checkpoint", (
        "append (pledge/store/audit.py", "close (pledge/store/audit.py",
        "__init__ (pledge/store/audit.py",
    )),
    ("the read (SELECTs, decision, decryption)", ("pledge/store/", "pledge/policy/")),
    ("response model and JSON (FastAPI, pydantic)", (
        "serialize_response", "jsonable_encoder", "render (starlette/responses.py",
        "(pledge/api/routes/",
    )),
    ("dependencies and validation (FastAPI, pydantic)", (
        "solve_dependencies", "request_params_to_args", "pledge/api/deps.py", "fastapi/",
    )),
    ("thread pool hand-offs (anyio, threading, queue)", (
        "anyio/", "threading.py", "queue.py", "concurrent/",
    )),
    ("routing and middleware (Starlette, Pledge's)", ("starlette/", "pledge/api/")),
    ("HTTP and event loop (uvicorn, httptools, asyncio)", (
        "uvicorn/", "httptools", "asyncio/", "uvloop",
    )),
)  # fmt: skip

LAYERS = (  # (layer, substrings of the frame): the innermost frame that matches decides
    ("SQLite driver (sqlite3)", ("sqlite3",)),
    ("psycopg", ("psycopg",)),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("crypto (cryptography, hashlib, hmac)", (
        "cryptography/", "hashlib", "hmac.py", "pledge/store/crypto.py",
        "pledge/store/checkpoint.py", "pledge/store/merkle.py",
    )),
    ("logging (structlog, logging, json)", ("structlog/", "logging/", "json/")),
    ("pydantic", ("pydantic",)),
    ("FastAPI, Starlette", ("fastapi/", "starlette/")),
    ("uvicorn, httptools, asyncio", ("uvicorn/", "httptools", "asyncio/", "uvloop")),
    ("anyio, threading, queue", ("anyio/", "threading.py", "queue.py", "concurrent/")),
    ("prometheus_client", ("prometheus_client/",)),
    ("Pledge (its own Python)", ("pledge/",)),
)  # fmt: skip

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def classify(frames: Sequence[str], groups: Sequence[tuple[str, Sequence[str]]]) -> str:
    for frame in reversed(frames):
        for name, needles in groups:
            if any(n in frame for n in needles):
                return name
    return "other"


@dataclass
class Stack:
    process: str  # the innermost process of py-spy's label: the worker
    thread: str
    frames: list[str]
    count: int


def stacks(raw: Path) -> Iterator[Stack]:
    """py-spy's raw output (``--threads --subprocesses``): ``process ..;thread ..;frames N``."""
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        process, thread, frames = "", "", []
        for part in stack.split(";"):
            if part.startswith("process ") and ":" in part:
                process = part
            elif part.startswith("thread ") and ": " in part:
                thread = part.split(": ", 1)[1]
            else:
                frames.append(part)
        yield Stack(process, thread, frames, int(count))


def is_worker(s: Stack) -> bool:
    return WORKERS == 1 or "spawn_main" in s.process


@dataclass
class Profile:
    seconds: int  # each of the two recordings
    rps: float  # of the read load sampled (py-spy slows the workers a little)
    mean_ms: float  # mean time in the app of that load's reads (access log)
    ticks: float  # samples of one thread per worker (--idle): the time base
    states: list[tuple[str, float]]  # per read, ms in each state (request threads)
    loop_busy: float  # share of the event loop threads' time running Python
    gil_held: float  # share of the time a worker's GIL is held (average of the workers)
    gil_phases: list[tuple[str, float]]  # per read, ms of GIL by where
    gil_layers: list[tuple[str, float]]
    spy_cores: dict[str, float] = field(default_factory=dict)  # py-spy's own CPU, by mode

    @property
    def in_pool(self) -> float:
        return sum(ms for _, ms in self.states)


def analyse(idle: Path, gil: Path, seconds: int, rps: float, mean_ms: float) -> Profile:
    ticks = 0
    loop_busy = 0
    states: Counter[str] = Counter()
    for s in stacks(idle):
        if not is_worker(s):
            continue
        if s.thread == "MainThread":
            ticks += s.count
            if s.frames and "Runner.run (asyncio/runners.py" not in s.frames[-1]:
                loop_busy += s.count
        elif s.thread.startswith("AnyIO worker"):
            state = pool_state(s.frames)
            if state != IDLE_WAIT:
                states[state] += s.count
    if not ticks:
        raise RuntimeError("py-spy recorded no samples of the workers' event loops")
    per_worker = ticks / WORKERS  # samples per thread per worker
    gil_total = 0
    phases: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    for s in stacks(gil):
        if is_worker(s) and s.frames:
            gil_total += s.count
            phases[classify(s.frames, PHASES)] += s.count
            layers[classify(s.frames, LAYERS)] += s.count
    gil_ticks = PROFILE_RATE * seconds * WORKERS  # nominal: each worker sampled at the rate

    def ms(n: int, base: float) -> float:
        return n / base / rps * 1000 if rps else 0.0

    return Profile(
        seconds=seconds,
        rps=rps,
        mean_ms=mean_ms,
        ticks=per_worker,
        states=[(k, ms(n, per_worker)) for k, n in states.most_common()],
        loop_busy=loop_busy / ticks,
        gil_held=gil_total / gil_ticks,
        gil_phases=[(k, ms(n, PROFILE_RATE * seconds)) for k, n in phases.most_common()],
        gil_layers=[(k, ms(n, PROFILE_RATE * seconds)) for k, n in layers.most_common()],
    )


def py_spy() -> Path | None:
    local = Path(sys.executable).parent / "py-spy"
    if local.exists():
        return local
    found = shutil.which("py-spy")
    return Path(found) if found else None


def profile(
    server: Server, subjects_file: Path, key: str, plan: Plan, tmp: Path
) -> tuple[Profile | None, str]:
    """A read load with py-spy sampling both workers: ``plan.profile`` seconds of every
    thread (``--idle``), then as long of the GIL holders (``--gil``)."""
    spy = py_spy()
    if spy is None:
        return None, "py-spy is not installed (`.venv/bin/pip install py-spy`): no profile"
    log(f"  profile: 2 x {plan.profile} s of reads under py-spy ({PROFILE_RATE} samples/s)")
    seconds = 2 * plan.profile + 5
    offset = server.log_path.stat().st_size
    load = subprocess.Popen(
        wrk_command(server, seconds, ["read", str(subjects_file), PURPOSE]),
        env=dict(os.environ, PLEDGE_BENCH_KEY=key),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    outputs = {"idle": tmp / "profile-idle.txt", "gil": tmp / "profile-gil.txt"}
    spy_cores: dict[str, float] = {}
    try:
        time.sleep(2)
        for mode, out in outputs.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            spied = subprocess.run(
                [
                    str(spy), "record", "--pid", str(server.process.pid), "--subprocesses",
                    "--threads", f"--{mode}", "--nonblocking", "--duration", str(plan.profile),
                    "--rate", str(PROFILE_RATE), "--format", "raw", "--output", str(out),
                ],
                capture_output=True, text=True, timeout=plan.profile + 60, check=False,
            )  # fmt: skip
            if spied.returncode != 0 or not out.exists():
                return None, f"py-spy failed ({spied.returncode}): {spied.stderr.strip()[-500:]}"
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            spy_cores[mode] = used / plan.profile
        stdout, _ = load.communicate(timeout=seconds + 60)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    result = wrk_result(stdout)
    rps = result["requests"] / (result["duration_us"] / 1e6)
    served = served_since(server.log_path, offset, READ_ROUTE)
    found = analyse(outputs["idle"], outputs["gil"], plan.profile, rps, served.mean)
    found.spy_cores = spy_cores
    return found, ""


# --- one backend ------------------------------------------------------------------------------


def run_backend(backend: str, plan: Plan, subjects_count: int, policy_text: str) -> BackendResult:
    result = BackendResult(backend)
    started = time.perf_counter()
    log(f"{backend}:")
    try:
        with (
            tempfile.TemporaryDirectory(prefix="pledge-bench-http-") as tmp_name,
            database(backend, Path(tmp_name)) as (url, where),
        ):
            tmp = Path(tmp_name)
            data_dir = tmp / "data"
            data_dir.mkdir(mode=0o700)
            result.where = where
            keys = LocalKeyFileProvider(data_dir / "master.key", create=True)  # the server's file
            vault = Vault.open(
                url,
                keys,
                policy_text,
                policy_file=POLICY_FILE,
                key_store_url=default_key_store_url(url, data_dir),  # the server's, too
            )
            try:
                log(f"  seeding {subjects_count:,} subjects")
                t0 = time.perf_counter()
                subjects = seed(vault, subjects_count)
                result.seed_seconds = time.perf_counter() - t0
                result.subjects = len(subjects)
                store = KeyStore(vault)
                _, read_key = store.create("role", ROLE, "bench-http-reads", by="bench/http.py")
                _, collect_key = store.create("collector", None, "bench-http-website", by="bench")
                subjects_file = tmp / "subjects.txt"
                subjects_file.write_text("\n".join(subjects) + "\n", encoding="utf-8")
                bodies_file = tmp / "bodies.txt"
                collection_bodies(vault, bodies_file)
                reads = ("read", str(subjects_file), PURPOSE)
                create_log_table(url)
                for app, name in REFERENCES:
                    with serve_reference(app, url, tmp / f"{app}.log") as server:
                        result.references.append(measure_reference(server, name, reads, plan))
                log(f"  seeded in {result.seed_seconds:.1f} s; starting pledge serve")
                with serve(url, data_dir, tmp / "server.log") as server:
                    tag = f"r{secrets.token_hex(3)}"
                    collects = ("collect", str(bodies_file), POINT)
                    loads = [
                        Load("reads", READ_ROUTE, reads, reads, read_key, plan.seconds,
                             plan.warmup),
                        Load("collections", COLLECT_ROUTE, (*collects, tag),
                             (*collects, tag + "w"), collect_key, plan.seconds, plan.warmup),
                        Load(READS_ONE, READ_ROUTE, reads, reads, read_key, plan.single,
                             plan.warmup, connections=1),
                    ]  # fmt: skip
                    for load in loads:
                        result.runs.append(measure(server, vault, load))
                    if plan.profile:
                        result.profile, result.profile_note = profile(
                            server, subjects_file, read_key, plan, tmp
                        )
                        settle(server, vault)
                log("  starting pledge serve --workers 1")
                with serve(url, data_dir, tmp / "server1.log", workers=1) as server:
                    one = Load(READS_ONE_WORKER, READ_ROUTE, reads, reads, read_key,
                               plan.seconds, plan.warmup)  # fmt: skip
                    result.runs.append(measure(server, vault, one))
            finally:
                vault.close()
    except Exception as exc:  # one failing backend leaves the other's figures
        result.error = f"{type(exc).__name__}: {exc}"
        log(f"  FAILED: {result.error}")
    result.seconds = time.perf_counter() - started
    return result


# --- the report -------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def read_goal(b: BackendResult) -> tuple[bool, str]:
    r = b.run("reads")
    if r is None:
        return False, f"{b.title}: not measured ({b.error or 'no read load'})"
    errors = r.non_2xx + r.socket_errors
    ok = r.rps >= GOAL_READS and r.ms("p99") <= GOAL_P99_MS and errors == 0
    return ok, (
        f"{b.title}: {r.rps:,.0f} audited reads/s (goal >= {GOAL_READS:,}), p99 "
        f"{r.ms('p99'):.1f} ms (goal <= {GOAL_P99_MS:g} ms), {errors:,} errors (goal 0)"
    )


def ratio_goals(b: BackendResult) -> list[str]:
    """The goals measured against peers in the same run: the trivial app, the plain app, one
    worker; and collections per second."""
    reads, one = b.run("reads"), b.run(READS_ONE_WORKER)
    trivial, plain = b.reference(TRIVIAL), b.reference(PLAIN)
    collections = b.run("collections")
    lines = []
    if reads is None:
        return lines
    for peer, goal, what in ((trivial, GOAL_OF_TRIVIAL, "the trivial app"),
                             (plain, GOAL_OF_PLAIN, "the plain app")):  # fmt: skip
        if peer is not None and peer.rps:
            ratio = reads.rps / peer.rps
            lines.append(
                f"{verdict(ratio >= goal)}: {b.title}: audited reads {ratio:.2f}x {what} "
                f"({reads.rps:,.0f}/s against {peer.rps:,.0f}/s; goal >= {goal:g}x)"
            )
    if one is not None and one.rps:
        ratio = reads.rps / one.rps
        lines.append(
            f"{verdict(ratio >= GOAL_SCALING)}: {b.title}: 2 workers {ratio:.2f}x one "
            f"({reads.rps:,.0f}/s against {one.rps:,.0f}/s; goal >= {GOAL_SCALING:g}x)"
        )
    if collections is not None:
        lines.append(
            f"{verdict(collections.rps >= GOAL_COLLECTIONS)}: {b.title}: "
            f"{collections.rps:,.0f} collections/s over HTTP (goal >= {GOAL_COLLECTIONS:,})"
        )
    return lines


def peers_table(b: BackendResult) -> list[str]:
    """Pledge's reads beside the reference servers, measured in the same run."""
    trivial = b.reference(TRIVIAL)
    out = [
        f"| server, {CONNECTIONS} connections | requests/s | of the trivial app | p50 ms "
        "| p99 ms | errors | server CPU (cores) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    rows: list[tuple[str, float, float, float, int, float]] = [
        (f"{r.name}, {WORKERS} workers", r.rps, r.ms("p50"), r.ms("p99"), r.errors, r.cpu.workers)
        for r in b.references
    ]
    for load, label in (("reads", f"`pledge serve`, {WORKERS} workers, audited read"),
                        (READS_ONE_WORKER, "`pledge serve`, 1 worker, audited read")):  # fmt: skip
        r = b.run(load)
        if r is not None:
            errors = r.non_2xx + r.socket_errors
            rows.append((label, r.rps, r.ms("p50"), r.ms("p99"), errors, r.cpu.workers))
    for label, rps, p50, p99, errors, cores in rows:
        share = f"{rps / trivial.rps:.2f}x" if trivial and trivial.rps else "-"
        out.append(
            f"| {label} | {rps:,.0f} | {share} | {p50:.1f} | {p99:.1f} | {errors:,} | {cores:.2f} |"
        )
    return out


def goals(results: Sequence[BackendResult]) -> list[str]:
    lines = []
    for b in results:
        ok, line = read_goal(b)
        lines.append(f"{verdict(ok)}: {line}")
        lines += ratio_goals(b)
    for b in results:
        for r in b.runs:
            lines.append(
                f"{'PASS' if r.audited else 'FAIL'}: {b.title}, {r.load}: every 2xx audited "
                f"durably ({r.audit_new:,} new entries for {r.served_2xx:,} 2xx answers; "
                f"the log {'verifies' if r.verified else 'does not verify: ' + str(r.problem)})"
            )
    return lines


def table(b: BackendResult) -> list[str]:
    out = [
        "| load | requests/s | p50 ms | p90 ms | p99 ms | max ms | in the app: p50 / p99 / "
        "mean ms | requests | non-2xx | socket errors (connect/read/write/timeout) |",
        "|---|" + "---:|" * 9,
    ]
    for r in b.runs:
        w, a = r.wrk, r.served
        sockets = f"{int(w['connect'])}/{int(w['read'])}/{int(w['write'])}/{int(w['timeout'])}"
        out.append(
            f"| {r.load} | {r.rps:,.0f} | {r.ms('p50'):.1f} | {r.ms('p90'):.1f} | "
            f"{r.ms('p99'):.1f} | {r.ms('max'):.1f} | {a.percentile(0.5):.1f} / "
            f"{a.percentile(0.99):.1f} / {a.mean:.1f} | {r.requests:,} | {r.non_2xx:,} | "
            f"{sockets} |"
        )
    out += [
        "",
        "| load | 2xx seen by wrk | 2xx served (access log) | new audit entries | per commit "
        "| audit log |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in b.runs:
        out.append(
            f"| {r.load} | {r.ok:,} | {r.served_2xx:,} | {r.audit_new:,} | "
            f"{r.per_commit:.1f} | {'verifies' if r.verified else 'FAILS'} "
            f"({r.audit_total:,} entries) |"
        )
    return out


def cpu_table(b: BackendResult) -> list[str]:
    cores = os.cpu_count() or 0
    pg = b.name != "sqlite"
    out = [
        f"| load | server workers ({WORKERS}) | wrk | PostgreSQL | other | idle |"
        + (" new PostgreSQL connections |" if pg else ""),
        "|---|---:|---:|---:|---:|---:|" + ("---:|" if pg else ""),
    ]
    for r in b.runs:
        c = r.cpu
        opened = (
            f" {r.connections_opened:,} ({r.connections_opened / (c.wall or 1):,.0f}/s) |"
            if pg and r.connections_opened is not None
            else " — |"
            if pg
            else ""
        )
        out.append(
            f"| {r.load} | {c.workers:.2f} | {c.wrk:.2f} | {c.postgres:.2f} | {c.other:.2f} | "
            f"{c.idle:.2f} |" + opened
        )
    out.append("")
    out.append(
        f"Cores in use during each measured load, of the machine's {cores} (from `/proc`: CPU "
        "seconds over wall seconds; PostgreSQL's includes its backends that exited during the "
        "load). _other_ is everything else, the kernel's work outside these processes "
        "included: anything above a few hundredths means something else ran and disturbed "
        "the figures."
        + (
            " _New PostgreSQL connections_: sessions opened on the database during the load "
            "(`pg_stat_database.sessions`); each one forks a backend."
            if pg
            else ""
        )
    )
    return out


def profile_tables(b: BackendResult) -> list[str]:
    p = b.profile
    if p is None:
        return [f"_No profile: {b.profile_note}_"] if b.profile_note else []
    elsewhere = max(0.0, p.mean_ms - p.in_pool)
    out = [
        f"A read load of its own under py-spy ({PROFILE_RATE} samples/s, both workers, "
        f"`--nonblocking`): {p.rps:,.0f} reads/s, {p.mean_ms:.1f} ms per read in the app on "
        "average (access log). py-spy competes for the same cores ("
        + ", ".join(f"`--{mode}` used {cores:.2f} cores" for mode, cores in p.spy_cores.items())
        + "), so this load is slower than the measured one. Wall clock first: for `--idle` "
        f"({p.seconds} s), every thread-pool thread busy with a request, by what it was "
        "doing; the average number of threads in a state divided by the throughput is the "
        "time a read spends in it (Little's law).",
        "",
        "| where a read's time in the app goes (wall clock) | ms per read | share |",
        "|---|---:|---:|",
    ]
    for state, ms in p.states:
        if ms >= 0.05:
            out.append(f"| {state} | {ms:.2f} | {ms / p.mean_ms:.0%} |")
    out += [
        f"| _the rest: in the event loop and between thread-pool hops_ | {elsewhere:.2f} | "
        f"{elsewhere / p.mean_ms:.0%} |",
        f"| **mean time in the app (access log)** | **{p.mean_ms:.2f}** | |",
        "",
        f"CPU next (`--gil`, {p.seconds} s): only the thread holding a worker's GIL is sampled, "
        f"so this is the Python work. The GIL was held {p.gil_held:.0%} of the time (average "
        f"of the {WORKERS} workers); the event loop threads ran Python {p.loop_busy:.0%} of "
        "the time (from `--idle`).",
        "",
        "| GIL held for (innermost matching frame) | ms per read | by layer | ms per read |",
        "|---|---:|---|---:|",
    ]
    rows = max(len(p.gil_phases), len(p.gil_layers))
    for i in range(rows):
        a = p.gil_phases[i] if i < len(p.gil_phases) else ("", None)
        c = p.gil_layers[i] if i < len(p.gil_layers) else ("", None)
        out.append(
            f"| {a[0]} | {'' if a[1] is None else f'{a[1]:.2f}'} | {c[0]} | "
            f"{'' if c[1] is None else f'{c[1]:.2f}'} |"
        )
    total = sum(ms for _, ms in p.gil_phases)
    out.append(f"| **total** | **{total:.2f}** | | |")
    return out


def _sync(call: Any) -> bool:
    """Whether FastAPI runs ``call`` on its thread pool (a plain function, not a coroutine)."""
    if call is None:
        return False
    f = call if inspect.isfunction(call) or inspect.ismethod(call) else call.__call__
    return not (inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f))


def _sync_dependencies(dependant: Any, seen: set[int]) -> int:
    """Sync dependencies under ``dependant``, each counted once (FastAPI caches them)."""
    count = 0
    for sub in dependant.dependencies:
        if id(sub.call) not in seen:
            seen.add(id(sub.call))
            count += _sync_dependencies(sub, seen) + _sync(sub.call)
    return count


def thread_hops(path: str, method: str) -> tuple[int, int] | None:
    """How often FastAPI hands one request to ``path`` to its thread pool: each sync
    dependency, the sync route, and the validation of its response (which FastAPI also runs
    on the pool for a sync route). (hops, sync dependencies), or None if not found."""
    from fastapi.routing import APIRoute

    from pledge.api.routes import collect, reads

    for router in (reads.router, collect.router):
        for route in router.routes:
            if isinstance(route, APIRoute) and route.path == path and method in route.methods:
                deps = _sync_dependencies(route.dependant, set())
                if _sync(route.endpoint):
                    return deps + 1 + (route.response_field is not None), deps
                # An async route hops to the pool only where it says so (run_in_threadpool).
                source = inspect.getsource(route.endpoint)
                return deps + source.count("run_in_threadpool("), deps
    return None


def state_ms(p: Profile, *starts: str) -> float:
    return sum(ms for name, ms in p.states if name.startswith(starts))


LOCK_WAITS = (
    "waiting for the worker's",
    "API key check: `BEGIN IMMEDIATE`",
    "start the shared transaction: `BEGIN IMMEDIATE`",
    "start the shared transaction: read the audit head",
    "waiting for a free connection",
)
WEB_PHASES = (
    "HTTP", "routing", "dependencies", "thread pool", "response", "access log", "metrics",
)  # fmt: skip


def limits(b: BackendResult) -> str:
    """What limits the read figure: the CPU split of the measured load and the profile."""
    r, p, one = b.run("reads"), b.profile, b.run(READS_ONE)
    if r is None or p is None or not r.rps:
        return ""
    c, cores = r.cpu, os.cpu_count() or 1
    server_ms = (c.workers + c.postgres) / r.rps * 1000
    ceiling = cores * r.rps / max(1e-9, c.workers + c.postgres + c.wrk)
    locks = state_ms(p, *LOCK_WAITS)
    waits = [(n, ms) for n, ms in p.states if n.startswith(LOCK_WAITS) and ms >= 0.05 * locks]
    gil = sum(ms for _, ms in p.gil_phases)
    web = sum(ms for n, ms in p.gil_phases if n.startswith(WEB_PHASES))
    hops = thread_hops(READ_ROUTE, "GET")
    elsewhere = max(0.0, p.mean_ms - p.in_pool)
    return (
        f"**{b.title}.** {r.rps:,.0f} reads/s with the workers using {c.workers:.2f} cores"
        + (f", PostgreSQL {c.postgres:.2f}" if b.name != "sqlite" else "")
        + f" and wrk {c.wrk:.2f}; {c.idle:.2f} idle, {c.other:.2f} used by other processes. "
        f"Each read costs {server_ms:.1f} ms of server CPU"
        + (
            f" ({c.workers / r.rps * 1000:.1f} ms in the workers, "
            f"{c.postgres / r.rps * 1000:.1f} ms in PostgreSQL)"
            if b.name != "sqlite"
            else ""
        )
        + f", so at that cost the {cores} cores would serve about {ceiling:,.0f} reads/s with "
        "nothing waiting (wrk's share included). But reads mostly wait: of the "
        f"{p.mean_ms:.1f} ms a read spends in the app (mean, under the profiler), {locks:.1f} ms "
        f"({locks / p.mean_ms:.0%}) are queues for locks that let one audited transaction, "
        "and within a worker one unit of work, through at a time: "
        + "; ".join(f"{n} {ms:.1f} ms" for n, ms in waits)
        + f". {r.per_commit:.1f} reads shared each commit. "
        + (
            f"The workers opened {r.connections_opened / (c.wall or 1):,.0f} new PostgreSQL "
            "connections a second (SQLAlchemy's pool closes connections beyond its size when "
            "they come back, and more requests than that hold one at once), each a new "
            "backend process"
            + (
                f": PostgreSQL spent {c.postgres / r.rps * 1000:.1f} ms of CPU per read, "
                f"against {one.cpu.postgres / one.rps * 1000:.1f} ms one connection at a time, "
                f"which opened {one.connections_opened or 0} connections. "
                if one is not None and one.rps
                else ". "
            )
            if r.connections_opened
            else ""
        )
        + (
            f"Each read also makes {hops[0]} trip(s) to the thread pool ({hops[1]} for sync "
            "dependencies, the rest for the route's own work); the time between them and in "
            f"the event loop is {elsewhere:.1f} ms. "
            if hops
            else f"Between thread-pool hops and in the event loop: {elsewhere:.1f} ms. "
        )
        + f"The Python work of a read holds the GIL {gil:.2f} ms, {web:.2f} ms of it in the web "
        "stack (HTTP, routing, dependencies, thread hand-offs, access log, metrics)."
        + (
            f" One connection at a time, the same reads run at {one.rps:,.0f}/s, "
            f"{one.served.mean:.1f} ms each in the app: "
            + (
                "more concurrency lowers the throughput."
                if one.rps >= r.rps
                else f"{CONNECTIONS} connections add almost nothing ({r.rps / one.rps:.2f}x)."
                if r.rps < 1.25 * one.rps
                else f"{CONNECTIONS} connections give {r.rps / one.rps:.1f}x."
            )
            if one is not None and one.rps
            else ""
        )
    )


def markdown(results: Sequence[BackendResult], plan: Plan, quick: bool, others: list[str]) -> str:
    wrk_version = subprocess.run(
        ["wrk", "--version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    out = [
        "## HTTP service: audited reads and collections under load",
        "",
        "Written by `bench/http.py`"
        + (" (**quick run: short loads**)" if quick else "")
        + f". Command: `{command_line()}`",
        "",
        machine_summary(("pledge", "fastapi", "starlette", "uvicorn", "sqlalchemy", "psycopg")),
        f"- Load generator: {wrk_version[0].strip() if wrk_version else 'wrk'}",
        "- Load average at the end: " + " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "",
        "**Peers, in the same run, on the same database and route, under the same uvicorn "
        f"settings ({WORKERS} workers) and wrk load** (`bench/http/reference.py`): a "
        f"**{TRIVIAL}** answering one small JSON (the stack's ceiling), and a **{PLAIN}** "
        "(a `def` endpoint: one primary-key SELECT of the subject and one INSERT of a log row, "
        "committed durably, on an engine with Pledge's settings). Then `pledge serve` with "
        f"{WORKERS} workers, and again with 1 (**{READS_ONE_WORKER}**). The machine is shared: "
        "the ratios measured in one run say more than the absolute figures.",
        "",
        f"`pledge serve --workers {WORKERS}` on a loopback port, policy `{POLICY_FILE}`, JSON "
        "access log to a file (its default), the per-key rate limit raised to "
        f"{RATE_LIMIT:,}/s (the limiter still runs on every request, but refuses none). "
        f"Before the server starts, the store gets {SUBJECTS:,} subjects (`collect_many`, "
        f"points {' and '.join(SEED_POINTS)}) and two `{ROLE}` role keys. wrk "
        f"(`bench/http/load.lua`): {WRK_THREADS} threads, {CONNECTIONS} connections, "
        f"{plan.seconds} s per load after a {plan.warmup} s warm-up, {WRK_TIMEOUT_S} s "
        "timeout. **reads**: `GET /v1/subjects/{id}/data?purpose=" + PURPOSE + "` as "
        f"`{ROLE}`, a random seeded subject per request (name and email released; address and "
        "phone, where held, withheld with the reason), each an audited read committed before "
        f"the answer. **collections**: `POST /v1/collect/{POINT}` of a new person per request "
        "(name, a unique email, half of them address and phone; age). **"
        + READS_ONE
        + f"**: the reads again, one at a time, for {plan.single} s: what a read costs "
        "without contention.",
        "",
        "Latencies: p50 to max are wrk's, in a closed loop (each connection waits for its "
        "answer before sending the next request), so they are latencies at the throughput "
        "reached. wrk corrects them for coordinated omission before reporting (its "
        "`stats_correct`: each latency over twice the mean interval between a connection's "
        "requests adds synthetic samples), which raises the tail and the mean when latencies "
        "are uneven. _In the app_ is the server's own measure (the access log's `ms`: from "
        "the outermost middleware to the last byte of the answer, without the socket and "
        "HTTP parsing), uncorrected. The goal is checked against wrk's p99.",
        "",
        f"**wrk runs on the same machine as the server** ({os.cpu_count()} cores, shared by "
        "wrk, both workers and PostgreSQL), so it takes CPU the server would otherwise have: "
        "the figures are a floor, and the CPU table shows the split.",
        "",
        "After each load the script waits for the server to finish what was in flight, checks "
        "that the audit log verifies, and compares the new audit entries with the 2xx answers "
        "the server logged for the route: they must be equal (every answered read or "
        "collection audited, durably). wrk's count of 2xx can be lower by the requests in "
        "flight at its cutoff (at most one per connection).",
        "",
    ]
    if others:
        out += [
            "**Another benchmark was running during this run** ("
            + ", ".join(f"`{o}`" for o in others)
            + "), so the figures are disturbed.",
            "",
        ]
    for b in results:
        out += [f"### {b.title}", ""]
        if b.where:
            out += [
                f"{b.where}; seeded with {b.subjects:,} subjects in {b.seed_seconds:.0f} s; "
                f"{b.seconds / 60:.1f} min in all.",
                "",
            ]
        if b.error:
            out += [f"**The run failed:** `{b.error}`", ""]
        if b.runs:
            out += [*peers_table(b), "", *table(b), "", *cpu_table(b), ""]
    out += ["### Goals", ""]
    out += [f"- {line}" for line in goals(results)]
    out += ["", "### What limits it", ""]
    for b in results:
        if b.profile is None and not b.profile_note:
            continue
        out += [f"#### {b.title}", "", *profile_tables(b), ""]
        text_ = limits(b)
        if text_:
            out += [text_, ""]
    return "\n".join(out)


def other_benchmarks() -> list[str]:
    """Benchmark scripts running now (besides this one), by ``pgrep -f``."""
    found = []
    for script in OTHER_BENCHES:
        done = subprocess.run(["pgrep", "-f", script], capture_output=True, text=True, check=False)
        pids = [int(p) for p in done.stdout.split() if int(p) != os.getpid()]
        if pids:
            found.append(script)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", help="sqlite,postgres (default: both; --quick: sqlite)")
    parser.add_argument("--quick", action="store_true", help="5 s loads, SQLite only")
    parser.add_argument("--write", action="store_true", help="with --quick: write the doc anyway")
    parser.add_argument("--subjects", type=int, default=SUBJECTS, help="subjects to seed")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print(f"bench/http.py needs wrk; install it with: {WRK_INSTALL}", file=sys.stderr)
        return 2
    backends = [
        b.strip() for b in (args.backends or ("sqlite" if args.quick else "sqlite,postgres"))
        .split(",") if b.strip()
    ]  # fmt: skip
    unknown = set(backends) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(sorted(unknown))}: use sqlite, postgres")
    plan = QUICK if args.quick else FULL
    if args.no_profile:
        plan = Plan(plan.seconds, plan.warmup, plan.single, 0)
    others = other_benchmarks()
    if others:
        log(f"warning: {', '.join(others)} running too; the figures will be disturbed")
    policy_text = (ROOT / POLICY_FILE).read_text(encoding="utf-8")
    load_policy_text(policy_text)  # fail early on a broken policy

    started = time.perf_counter()
    results = [run_backend(b, plan, args.subjects, policy_text) for b in backends]
    others = sorted(set(others) | set(other_benchmarks()))
    text_ = markdown(results, plan, args.quick, others)
    print(text_)
    print()
    print(
        f"(wrk shares the machine's {os.cpu_count()} cores with the server"
        + (" and PostgreSQL" if "postgres" in backends else "")
        + ": that limits the figures)"
    )
    print("\n".join(goals(results)))
    print(f"\n({time.perf_counter() - started:.0f} s)")
    if not args.quick or args.write:
        print(f"wrote {write_section(SECTION, text_)}")
    return 1 if any(b.error for b in results) else 0


if __name__ == "__main__":
    sys.exit(main())
