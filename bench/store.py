"""How fast is the personal-data store, durably, as it grows to a million subjects?

    .venv/bin/python bench/store.py           # both backends, 10k/100k/1M subjects (~30 min)
    .venv/bin/python bench/store.py --quick   # 2,000 subjects, a minute or two; writes nothing
    .venv/bin/python bench/store.py --backends sqlite --scales 10000,100000 --write

For each backend (SQLite in a temporary directory; PostgreSQL in a fresh database
``pledge_bench_<random>`` created on the server of ``PLEDGE_BENCH_POSTGRES_URL`` and dropped at
the end) the store grows to each size with ``collect_many`` (2,000 submissions a call: the
"bulk" rate), and at that size the script times collections, audited purpose-bound reads,
consent events, exports, erasures and audit verification, through the public ``Vault`` API.
Every call is durable when it returns (each one commits; concurrent calls share a commit).

Submissions are ``pledge.demo.fake_subjects`` of ``examples/policies/zabbix.yaml``: a few
thousand are generated once and reused as templates, each copy with its email made unique
(``local+<n>@domain``), so every collection makes a new subject; Faker would take minutes to
invent a million distinct people and is not what is being measured.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _report import ROOT, command_line, machine_summary, write_section
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from pledge.demo import fake_subjects
from pledge.policy import load_policy_text
from pledge.store.database import sqlite_url
from pledge.store.keys import LocalKeyFileProvider, default_key_store_url
from pledge.store.release import Released
from pledge.store.schema import audit_checkpoints
from pledge.store.vault import Collection, Vault

POLICY_FILE = "examples/policies/zabbix.yaml"
SECTION = "store"
POSTGRES_ENV = "PLEDGE_BENCH_POSTGRES_URL"
POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

ROLE = "support"
PURPOSE = "essential.service.operations.support"
CHOICE = "purpose:marketing.communications.email"
READABLE_POINTS = ("registration", "order")  # points whose data support may read for support

SEED_CHUNK = 2_000
COLLECT_BATCH = 500
READ_BATCH = 250
THREADS = 16
TEMPLATES = 4_000  # a multiple of the policy's 4 collection points

GOAL_COLLECT = 5_000  # collections/s, SQLite, in-process, some durable mode
GOAL_READ = 10_000  # audited reads/s, same
GOAL_EXPORT_P95_MS = 50.0  # at 1M subjects
GOAL_EXPORT_SCALE = 1_000_000
GOAL_SCALE_FACTOR = 1.5  # cost at 1M / cost at 10k
GOAL_VERIFY = 500_000  # audit entries/s


@dataclass(frozen=True)
class Plan:
    seconds: float  # time cap of one throughput measurement (all its rounds)
    rounds: int  # throughputs: the best of this many rounds is reported
    single_ops: int  # cap on calls of one single-call measurement (reads, consent)
    read_batches: int  # cap on read_many calls
    exports: int
    erasures: int
    profile_calls: int


FULL = Plan(seconds=7.5, rounds=3, single_ops=30_000, read_batches=400, exports=200, erasures=100,
            profile_calls=1_000)  # fmt: skip
QUICK = Plan(seconds=1.5, rounds=2, single_ops=5_000, read_batches=40, exports=200, erasures=100,
             profile_calls=300)  # fmt: skip


def collect_ops(scale: int) -> int:
    """Collections per collection measurement: enough to time, few enough that the store
    stays near its nominal size."""
    return max(200, min(5_000, scale // 5))


def collect_reserve(scale: int, plan: Plan) -> int:
    """Subjects the three collection measurements may add (a warm-up call included)."""
    n = collect_ops(scale)
    return 2 * n + max(n, COLLECT_BATCH * plan.rounds) + 1


# --- figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    key: str
    label: str
    unit: str  # "/s" (higher is better) or "ms" (lower is better)


OPS = (
    Op("bulk", f"bulk collections/s (`collect_many` of {SEED_CHUNK:,}, growing the store)", "/s"),
    Op("collect_single", "collections/s: `collect`, 1 thread", "/s"),
    Op("collect_threads", f"collections/s: `collect`, {THREADS} threads", "/s"),
    Op("collect_batch", f"collections/s: `collect_many` of {COLLECT_BATCH}", "/s"),
    Op("read_single", "audited reads/s: `read`, 1 thread", "/s"),
    Op("read_threads", f"audited reads/s: `read`, {THREADS} threads", "/s"),
    Op("read_batch", f"audited reads/s: `read_many` of {READ_BATCH}", "/s"),
    Op("consent_single", "consent events/s: `grant`/`withdraw`, 1 thread", "/s"),
    Op("consent_threads", f"consent events/s: `grant`/`withdraw`, {THREADS} threads", "/s"),
    Op("export_p50", "export of one subject, p50 ms", "ms"),
    Op("export_p95", "export of one subject, p95 ms", "ms"),
    Op("erase_p50", "erasure of one subject, p50 ms", "ms"),
    Op("erase_p95", "erasure of one subject, p95 ms", "ms"),
    Op("verify", "audit verification, entries/s", "/s"),
)
OP = {op.key: op for op in OPS}
MODES = {"single": "1 thread", "threads": f"{THREADS} threads", "batch": "batch"}


@dataclass
class Figure:
    value: float  # the best round's
    ops: int  # calls (or entries) measured, all rounds
    seconds: float
    worst: float | None = None  # the worst round's value, when there were rounds


@dataclass
class ScaleResult:
    scale: int
    figures: dict[str, Figure] = field(default_factory=dict)
    audit_entries: int = 0
    per_commit: dict[str, float] = field(default_factory=dict)  # calls sharing one commit
    bulk_cpu_us: float = 0.0  # CPU time of this process per subject, growing the store


@dataclass
class BackendResult:
    name: str
    where: str
    scales: list[ScaleResult] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)  # scale -> why not measured
    error: str | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)
    seconds: float = 0.0
    load: float | None = None  # 1-minute load average at the end


@dataclass
class Profile:
    operation: str
    calls: int  # subjects the profiled calls handled (a batch counts its size)
    seconds: float  # wall time of the profiled calls (profiler overhead included)
    top: list[tuple[str, int, float]]  # (function, calls, tottime s)
    groups: list[tuple[str, float]]  # (where, tottime s)
    statements: float  # SQL statements executed per call (per batch for a batch)


# --- the workload -----------------------------------------------------------------------------


class Workload:
    """Valid submissions, made unique per copy, and the subjects collected so far."""

    def __init__(self, policy_text: str, seed: int) -> None:
        model = load_policy_text(policy_text).policy
        self.templates = list(fake_subjects(model, TEMPLATES, seed=seed))
        self.serial = 0
        self.subjects: list[str] = []  # every subject collected, in order
        self.readable: list[str] = []  # those support may read for support
        self.erased: set[str] = set()
        self.rng = random.Random(seed)

    def submissions(self, count: int) -> list[Collection]:
        out = []
        for _ in range(count):
            t = self.templates[self.serial % TEMPLATES]
            local, _, domain = str(t.fields["email"]).partition("@")
            fields = dict(t.fields, email=f"{local}+{self.serial}@{domain}")
            out.append(Collection(t.point, fields, None, t.choices, t.age))
            self.serial += 1
        return out

    def record(self, items: Sequence[Collection], subjects: Sequence[str]) -> None:
        for item, subject in zip(items, subjects, strict=True):
            self.subjects.append(subject)
            if item.point in READABLE_POINTS:
                self.readable.append(subject)

    def pick_readable(self, count: int) -> list[str]:
        return [self.rng.choice(self.readable) for _ in range(count)]

    def pick_live(self, count: int, *, distinct: bool = False) -> list[str]:
        """``count`` subjects that are not erased, each at most once if ``distinct``."""
        if distinct and count > len(self.subjects) - len(self.erased):
            raise ValueError(f"fewer than {count} live subjects")
        chosen: dict[str, None] = {}
        picked = []
        while len(picked) < count:
            s = self.rng.choice(self.subjects)
            if s in self.erased or (distinct and s in chosen):
                continue
            chosen[s] = None
            picked.append(s)
        return picked

    def forget(self, erased: Sequence[str]) -> None:
        self.erased.update(erased)
        self.readable = [s for s in self.readable if s not in self.erased]


# --- timing -----------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def single(call: Callable[[Any], object], args: Sequence[Any], seconds: float) -> Figure:
    """Call ``call`` on each of ``args`` in turn until they or ``seconds`` run out."""
    t0 = time.perf_counter()
    deadline = t0 + seconds
    n = 0
    for a in args:
        call(a)
        n += 1
        if time.perf_counter() >= deadline:
            break
    elapsed = time.perf_counter() - t0
    return Figure(n / elapsed, n, elapsed)


def threaded(
    call: Callable[[Any], object], args: Sequence[Any], seconds: float, threads: int = THREADS
) -> Figure:
    """``threads`` threads share ``args``, each calling ``call`` on the next one, until they or
    ``seconds`` run out; the figure counts calls that returned."""
    it = iter(args)
    take = threading.Lock()
    start = threading.Barrier(threads + 1)
    done: list[int] = []
    errors: list[BaseException] = []
    deadline = [0.0]

    def worker() -> None:
        start.wait()
        n = 0
        try:
            while time.perf_counter() < deadline[0]:
                with take:
                    a = next(it, None)
                if a is None:
                    break
                call(a)
                n += 1
        except BaseException as exc:
            errors.append(exc)
        done.append(n)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    t0 = time.perf_counter()
    deadline[0] = t0 + seconds
    start.wait()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    n = sum(done)
    return Figure(n / elapsed, n, elapsed)


def best_of(
    measure: Callable[[Sequence[Any], float], Figure],
    args: Sequence[Any],
    seconds: float,
    rounds: int,
    per: int = 1,
) -> Figure:
    """``measure`` over ``rounds`` equal parts of ``args``, each for ``seconds / rounds``: the
    best round, as ``timeit`` does (other work on a shared machine only slows a round down),
    with the worst kept. ``per``: subjects per call (a batch's size)."""
    size = max(1, len(args) // rounds)
    figures = [measure(args[i * size : (i + 1) * size], seconds / rounds) for i in range(rounds)]
    best, worst = max(f.value for f in figures), min(f.value for f in figures)
    ops, elapsed = sum(f.ops for f in figures), sum(f.seconds for f in figures)
    return Figure(best * per, ops * per, elapsed, worst * per)


def latencies(call: Callable[[Any], object], args: Sequence[Any]) -> list[float]:
    """Milliseconds of each call, one after another."""
    out = []
    clock = time.perf_counter
    for a in args:
        t0 = clock()
        call(a)
        out.append((clock() - t0) * 1000)
    return out


def percentile(xs: Sequence[float], q: float) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# --- one backend ------------------------------------------------------------------------------


class Store:
    """A vault on a fresh database, and the workload collected into it."""

    def __init__(self, vault: Vault, work: Workload) -> None:
        self.vault = vault
        self.work = work
        self.bulk_seconds = 0.0
        self.bulk_cpu = 0.0  # CPU seconds of this process during those calls
        self.bulk_count = 0
        self.analyze_seconds = 0.0

    @property
    def size(self) -> int:
        return len(self.work.subjects)

    def seed(self, target: int, *, progress: bool = True) -> None:
        """Grow to ``target`` subjects with ``collect_many``, timing only the calls."""
        last = time.perf_counter()
        while self.size < target:
            items = self.work.submissions(min(SEED_CHUNK, target - self.size))
            t0, c0 = time.perf_counter(), time.process_time()
            out = self.vault.collect_many(items)
            self.bulk_seconds += time.perf_counter() - t0
            self.bulk_cpu += time.process_time() - c0
            self.bulk_count += len(items)
            self.work.record(items, [c.subject for c in out])
            if progress and time.perf_counter() - last > 30:
                last = time.perf_counter()
                log(f"  {self.size:,} subjects ({self.bulk_count / self.bulk_seconds:,.0f}/s)")

    def analyze(self) -> None:
        """PostgreSQL: refresh the planner's statistics after growth, as pgbench does after
        loading (with autovacuum off, nothing else would; without them ``read_many`` scans
        ``personal_values`` sequentially). Not timed. SQLite: nothing."""
        if self.vault.engine.dialect.name != "postgresql":
            return
        t0 = time.perf_counter()
        with self.vault.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as connection:
            connection.execute(text("ANALYZE"))
        self.analyze_seconds += time.perf_counter() - t0

    def bulk_rate(self) -> float:
        return self.bulk_count / self.bulk_seconds if self.bulk_seconds else 0.0

    def commits(self) -> int:
        """Commits so far: each one signs one audit checkpoint."""
        with self.vault.engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(audit_checkpoints)).scalar_one()
            )

    def threads(
        self,
        result: ScaleResult,
        key: str,
        call: Callable[[Any], object],
        args: Sequence[Any],
        plan: Plan,
    ) -> None:
        """:func:`threaded` (best of the plan's rounds), noting how many calls shared each
        commit."""
        before = self.commits()
        figure = best_of(lambda a, s: threaded(call, a, s), args, plan.seconds, plan.rounds)
        result.per_commit[key] = figure.ops / max(1, self.commits() - before)
        result.figures[key] = figure

    # the operations, each one call of the public API

    def collect_one(self, item: Collection) -> None:
        out = self.vault.collect(item.point, item.fields, choices=item.choices, age=item.age)
        self.work.record([item], [out.subject])

    def collect_batch(self, items: Sequence[Collection]) -> None:
        out = self.vault.collect_many(items)
        self.work.record(items, [c.subject for c in out])

    def read_one(self, subject: str) -> None:
        result = self.vault.read(subject, PURPOSE, ROLE)
        if not result.values:
            raise AssertionError(f"nothing released to {ROLE} for subject {subject}")

    def read_batch(self, subjects: Sequence[str]) -> None:
        results = self.vault.read_many(subjects, PURPOSE, ROLE)
        bad = [r for r in results if not isinstance(r, Released)]
        if bad:
            raise AssertionError(f"read_many refused {len(bad)} subjects: {bad[0]}")

    def consent(self, op: tuple[str, bool]) -> None:
        subject, granted = op
        if granted:
            self.vault.grant(subject, CHOICE)
        else:
            self.vault.withdraw(subject, CHOICE)


def measure_scale(
    store: Store, scale: int, plan: Plan, grown_from: tuple[int, float, float]
) -> ScaleResult:
    """Everything at ``scale``: the collection modes while the store grows through its last
    few thousand subjects, then (topped up to exactly ``scale``) the rest."""
    work, result = store.work, ScaleResult(scale)
    n_collect = collect_ops(scale)

    store.seed(max(store.size, scale - collect_reserve(scale, plan)))
    store.analyze()
    log(f"  collections from {store.size:,} subjects ({n_collect:,} per mode)")
    store.collect_one(work.submissions(1)[0])  # warm-up

    def one_thread(call: Callable[[Any], object], args: Sequence[Any], per: int = 1) -> Figure:
        return best_of(lambda a, s: single(call, a, s), args, plan.seconds, plan.rounds, per)

    figures = result.figures
    figures["collect_single"] = one_thread(store.collect_one, work.submissions(n_collect))
    store.threads(result, "collect_threads", store.collect_one, work.submissions(n_collect), plan)
    figures["collect_batch"] = one_thread(
        store.collect_batch,
        batches(work.submissions(collect_reserve(scale, plan) - 2 * n_collect - 1), COLLECT_BATCH),
        COLLECT_BATCH,
    )
    store.seed(scale)
    store.analyze()
    count, seconds = store.bulk_count - grown_from[0], store.bulk_seconds - grown_from[1]
    figures["bulk"] = Figure(count / seconds, count, seconds)
    result.bulk_cpu_us = (store.bulk_cpu - grown_from[2]) / count * 1e6
    log(f"  at {store.size:,} subjects: reads, consent, export, erasure, verification")

    store.read_one(work.pick_readable(1)[0])  # warm-up
    figures["read_single"] = one_thread(store.read_one, work.pick_readable(plan.single_ops))
    store.threads(result, "read_threads", store.read_one, work.pick_readable(plan.single_ops), plan)
    figures["read_batch"] = one_thread(
        store.read_batch,
        batches(work.pick_readable(plan.read_batches * READ_BATCH), READ_BATCH),
        READ_BATCH,
    )

    ops = [(s, i % 2 == 1) for i, s in enumerate(work.pick_live(plan.single_ops))]
    figures["consent_single"] = one_thread(store.consent, ops)
    ops = [(s, i % 2 == 1) for i, s in enumerate(work.pick_live(plan.single_ops))]
    store.threads(result, "consent_threads", store.consent, ops, plan)

    ms = latencies(store.vault.export, work.pick_live(plan.exports, distinct=True))
    result.figures["export_p50"] = Figure(statistics.median(ms), len(ms), sum(ms) / 1000)
    result.figures["export_p95"] = Figure(percentile(ms, 0.95), len(ms), sum(ms) / 1000)
    victims = work.pick_live(plan.erasures, distinct=True)
    ms = latencies(store.vault.erase, victims)
    work.forget(victims)
    result.figures["erase_p50"] = Figure(statistics.median(ms), len(ms), sum(ms) / 1000)
    result.figures["erase_p95"] = Figure(percentile(ms, 0.95), len(ms), sum(ms) / 1000)

    t0 = time.perf_counter()
    verification = store.vault.audit.verify(store.vault.engine, full=True)
    elapsed = time.perf_counter() - t0
    if not verification.ok:
        raise AssertionError(f"the audit log does not verify: {verification.problem}")
    result.audit_entries = verification.entries
    result.figures["verify"] = Figure(verification.entries / elapsed, verification.entries, elapsed)
    return result


def profile(name: str, call: Callable[[Any], object], args: Sequence[Any], per: int = 1) -> Profile:
    """Profile ``call`` over ``args`` (after a warm-up call, each call handling ``per``
    subjects) and summarise where time went."""
    call(args[0])
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    for a in args[1:]:
        call(a)
    profiler.disable()
    elapsed = time.perf_counter() - t0
    stats: dict[tuple[str, int, str], tuple[int, int, float, float, Any]]
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)
    top = [(function_name(k), v[1], v[2]) for k, v in rows[:12]]
    groups: dict[str, float] = {}
    for k, v in stats.items():
        where = group_of(k)
        groups[where] = groups.get(where, 0.0) + v[2]
    ordered = sorted(groups.items(), key=lambda kv: kv[1], reverse=True)
    executed = sum(v[1] for k, v in stats.items() if k[2] == "_execute_context")
    return Profile(name, (len(args) - 1) * per, elapsed, top, ordered, executed / (len(args) - 1))


def function_name(key: tuple[str, int, str]) -> str:
    filename, line, func = key
    if filename == "~":
        return func.strip("<>").replace("built-in method ", "")
    path = filename.replace("\\", "/")
    for marker in ("/site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line} {func}"


GROUPS = (  # (where the time is, substrings of the profiler's file or function name)
    ("SQLite: commit (fsync of the WAL)", ("'commit' of 'sqlite3",)),
    ("SQLite: statements (in C)", ("sqlite3.",)),
    ("PostgreSQL: waiting for the server (round trips, commit)", (
        "psycopg/connection.py wait", "psycopg/waiting", "select.", "selectors.py",
    )),
    ("psycopg: sending queries, reading results (libpq and Python)", ("psycopg/",)),
    ("SQLAlchemy (Python: statement compile, execute, rows)", ("sqlalchemy/",)),
    ("crypto (AES-GCM, Ed25519, HMAC, SHA-256)", (
        "AESGCM", "Ed25519", "hmac", "openssl", "_hashlib", "hashlib", "urandom",
        "pledge/store/crypto.py", "pledge/store/keys.py", "pledge/store/checkpoint.py",
        "pledge/store/merkle.py",
    )),
    ("audit log (entries, JSON)", ("pledge/store/audit.py", "json/", "'encode' of 'str'")),
    ("validation (email-validator, phonenumbers)", (
        "email_validator", "phonenumbers", "pledge/store/shapes.py", "idna", "unicodedata",
    )),
    ("decision function", ("pledge/policy/",)),
    ("threads and locks (group commit)", ("threading.py", "_thread", "pledge/store/commit.py")),
)  # fmt: skip


def group_of(key: tuple[str, int, str]) -> str:
    name = f"{key[0]} {key[2]}".replace("\\", "/")
    for where, needles in GROUPS:
        if any(n in name for n in needles):
            return where
    if "pledge/store/" in name:
        return "other store code (pledge/store)"
    return "other Python (stdlib, dataclasses, ...)"


@contextlib.contextmanager
def postgres_database(base_url: str) -> Iterator[str]:
    """A fresh database on the server at ``base_url``, dropped (connections and all) after."""
    url = make_url(base_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"pledge_bench_{secrets.token_hex(4)}"
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
def open_store(backend: str, policy_text: str, tmp: Path) -> Iterator[tuple[Vault, str]]:
    keys = LocalKeyFileProvider(tmp / f"{backend}-master.key", create=True)
    if backend == "sqlite":
        path = tmp / "bench.sqlite3"
        vault = Vault.open(sqlite_url(path), keys, policy_text, policy_file=POLICY_FILE)
        where = "SQLite file in a temporary directory (WAL, synchronous=FULL)"
        try:
            yield vault, where
        finally:
            vault.close()
        return
    base = os.environ.get(POSTGRES_ENV, POSTGRES_DEFAULT)
    with postgres_database(base) as url:
        shown = make_url(url).render_as_string(hide_password=True)
        vault = Vault.open(
            url,
            keys,
            policy_text,
            policy_file=POLICY_FILE,
            key_store_url=default_key_store_url(url, tmp),
        )
        try:
            with vault.engine.connect() as connection:
                settings = ", ".join(
                    f"{name}={connection.execute(text(f'SHOW {name}')).scalar()}"
                    for name in ("synchronous_commit", "shared_buffers", "autovacuum")
                )
            yield (
                vault,
                (
                    f"PostgreSQL, fresh database `{make_url(url).database}` at `{shown}` "
                    f"({settings}; the script runs `ANALYZE` after each growth, untimed, as "
                    "pgbench does after loading)"
                ),
            )
        finally:
            vault.close()


def run_backend(
    backend: str, scales: Sequence[int], plan: Plan, seed_budget: float, policy_text: str
) -> BackendResult:
    started = time.perf_counter()
    result = BackendResult(backend, "")
    try:
        with (
            tempfile.TemporaryDirectory(prefix="pledge-bench-store-") as tmp,
            open_store(backend, policy_text, Path(tmp)) as (vault, where),
        ):
            result.where = where
            log(f"{backend}: {where}")
            store = Store(vault, Workload(policy_text, seed=11))
            for scale in sorted(scales):
                rate = store.bulk_rate() or 5_000.0  # a first guess before any seeding
                need = (scale - store.size) / rate
                spent = store.bulk_seconds
                if spent + need > seed_budget:
                    result.skipped[scale] = (
                        f"not measured: growing from {store.size:,} to {scale:,} subjects at "
                        f"the measured bulk rate ({rate:,.0f}/s) would take ~{need / 60:.0f} min, "
                        f"over the seeding budget of {seed_budget / 60:.0f} min "
                        f"(--seed-budget; {spent / 60:.1f} min spent so far)"
                    )
                    log(f"{backend}: {scale:,} {result.skipped[scale]}")
                    continue
                log(f"{backend}: growing to {scale:,} subjects (~{need:.0f} s)")
                measured = measure_scale(
                    store, scale, plan, (store.bulk_count, store.bulk_seconds, store.bulk_cpu)
                )
                result.scales.append(measured)
                log(f"{backend} at {scale:,}: " + summary_line(measured))
            n, work = plan.profile_calls, store.work
            log(f"{backend}: profiling {n:,} single reads and collections, and some batches")
            result.profiles["read"] = profile("read", store.read_one, work.pick_readable(n + 1))
            result.profiles["collect"] = profile(
                "collect", store.collect_one, work.submissions(n + 1)
            )
            result.profiles["read_many"] = profile(
                "read_many",
                store.read_batch,
                batches(work.pick_readable(9 * READ_BATCH), READ_BATCH),
                READ_BATCH,
            )
            result.profiles["collect_many"] = profile(
                "collect_many",
                store.collect_batch,
                batches(work.submissions(5 * COLLECT_BATCH), COLLECT_BATCH),
                COLLECT_BATCH,
            )
            result.load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        log(f"{backend}: FAILED, {result.error}")
    result.seconds = time.perf_counter() - started
    return result


def summary_line(s: ScaleResult) -> str:
    return ", ".join(f"{k} {fmt(OP[k], f.value)}" for k, f in s.figures.items())


# --- report -----------------------------------------------------------------------------------


def fmt(op: Op, value: float) -> str:
    if op.unit == "ms":
        return f"{value:.1f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,.0f}"


def scale_name(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"


def cost(op: Op, value: float) -> float:
    return value if op.unit == "ms" else 1 / value


def factors(b: BackendResult) -> dict[str, float]:
    """Per operation: cost at the largest measured scale / cost at the smallest."""
    if len(b.scales) < 2:
        return {}
    lo, hi = b.scales[0].figures, b.scales[-1].figures
    return {k: cost(OP[k], hi[k].value) / cost(OP[k], lo[k].value) for k in lo if k in hi}


def best_mode(s: ScaleResult, prefix: str) -> tuple[str, float]:
    mode = max(MODES, key=lambda m: s.figures[f"{prefix}_{m}"].value)
    return mode, s.figures[f"{prefix}_{mode}"].value


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def goals(results: Sequence[BackendResult]) -> list[str]:
    lines = []
    for b in results:
        if not b.scales:
            lines.append(f"MISS: {b.name}: nothing measured ({b.error or 'no scale fitted'})")
            continue
        if b.name == "sqlite":
            for prefix, goal, what in (
                ("collect", GOAL_COLLECT, "collections/s"),
                ("read", GOAL_READ, "audited reads/s"),
            ):
                worst = min(b.scales, key=lambda s: best_mode(s, prefix)[1])
                mode, value = best_mode(worst, prefix)
                reaching = [
                    MODES[m]
                    for m in MODES
                    if all(s.figures[f"{prefix}_{m}"].value >= goal for s in b.scales)
                ]
                per_mode = "; ".join(
                    f"{MODES[m]} "
                    + " / ".join(
                        fmt(OP["bulk"], s.figures[f"{prefix}_{m}"].value) for s in b.scales
                    )
                    for m in MODES
                )
                lines.append(
                    f"{verdict(value >= goal)}: SQLite >= {goal:,} {what} in-process, durable: "
                    + (
                        f"reached at every scale by {', '.join(reaching)}"
                        if reaching
                        else f"best mode at {scale_name(worst.scale)} is {MODES[mode]}, "
                        f"{value:,.0f}/s"
                    )
                    + f" (per scale, {per_mode})"
                )
        hi = b.scales[-1]
        p95 = hi.figures["export_p95"].value
        at = (
            f"at {scale_name(hi.scale)}"
            if hi.scale >= GOAL_EXPORT_SCALE
            else f"at {scale_name(hi.scale)}, the largest scale measured (the goal is at 1M)"
        )
        lines.append(
            f"{verdict(p95 <= GOAL_EXPORT_P95_MS and hi.scale >= GOAL_EXPORT_SCALE)}: "
            f"{b.name}: export p95 {p95:.1f} ms {at} (goal <= {GOAL_EXPORT_P95_MS:.0f} ms at 1M)"
        )
        f = factors(b)
        if f:
            over = {k: v for k, v in f.items() if v > GOAL_SCALE_FACTOR}
            span = f"{scale_name(b.scales[-1].scale)} vs {scale_name(b.scales[0].scale)}"
            lines.append(
                f"{verdict(not over)}: {b.name}: per-operation cost at {span} within "
                f"{GOAL_SCALE_FACTOR}x"
                + (
                    ": over it, " + ", ".join(f"{OP[k].label} {v:.2f}x" for k, v in over.items())
                    if over
                    else f" (largest factor {max(f.values()):.2f}x)"
                )
            )
        else:
            lines.append(f"MISS: {b.name}: scale factor not measured (needs two scales)")
        v = hi.figures["verify"]
        lines.append(
            f"{verdict(v.value >= GOAL_VERIFY)}: {b.name}: audit verification "
            f"{v.value:,.0f} entries/s over {v.ops:,} entries at {scale_name(hi.scale)} "
            f"(goal >= {GOAL_VERIFY:,})"
        )
    return lines


def table(b: BackendResult, all_scales: Sequence[int]) -> list[str]:
    cols = sorted(all_scales)
    measured = {s.scale: s for s in b.scales}
    f = factors(b)
    out = [
        "| operation | " + " | ".join(f"{scale_name(c)} subjects" for c in cols)
        + " | scale factor |",
        "|---|" + "---:|" * (len(cols) + 1),
    ]  # fmt: skip
    for op in OPS:
        cells = []
        for c in cols:
            s = measured.get(c)
            figure = s.figures[op.key] if s else None
            if figure is None:
                cells.append("—")
            elif figure.worst is None or fmt(op, figure.worst) == fmt(op, figure.value):
                cells.append(fmt(op, figure.value))
            else:
                cells.append(f"{fmt(op, figure.value)} ({fmt(op, figure.worst)})")
        factor = f"{f[op.key]:.2f}x" if op.key in f else "—"
        out.append(f"| {op.label} | " + " | ".join(cells) + f" | {factor} |")
    cpu = [f"{measured[c].bulk_cpu_us:,.0f}" if c in measured else "—" for c in cols]
    out.append("| _bulk growth: CPU µs of this process per subject_ | " + " | ".join(cpu) + " | |")
    entries = [f"{measured[c].audit_entries:,}" if c in measured else "—" for c in cols]
    out.append("| _audit entries verified_ | " + " | ".join(entries) + " | |")
    for key in ("collect_threads", "read_threads", "consent_threads"):
        shared = [
            f"{measured[c].per_commit[key]:.1f}"
            if c in measured and key in measured[c].per_commit
            else "—"
            for c in cols
        ]
        out.append(f"| _{OP[key].label}: calls per commit_ | " + " | ".join(shared) + " | |")
    return out


PROFILED = (  # (profile key, column title, the throughput figure it explains)
    ("read", "`read`", "read_single"),
    ("collect", "`collect`", "collect_single"),
    ("read_many", f"`read_many` of {READ_BATCH}, per subject", "read_batch"),
    ("collect_many", f"`collect_many` of {COLLECT_BATCH}, per subject", "collect_batch"),
)


def us(seconds: float, p: Profile) -> str:
    return f"{seconds / p.calls * 1e6:,.0f}"


def profile_tables(b: BackendResult) -> list[str]:
    """Where the time goes per subject, grouped; then the top functions of single calls."""
    cols = [(key, title, fig) for key, title, fig in PROFILED if key in b.profiles]
    largest = b.scales[-1].figures if b.scales else {}
    wheres: dict[str, float] = {}
    for key, _, _ in cols:
        p = b.profiles[key]
        for where, t in p.groups:
            wheres[where] = wheres.get(where, 0.0) + t / p.calls
    out = [
        "| µs per subject, by where (cProfile tottime) | "
        + " | ".join(title for _, title, _ in cols)
        + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for where in sorted(wheres, key=wheres.__getitem__, reverse=True):
        cells = [us(dict(b.profiles[k].groups).get(where, 0.0), b.profiles[k]) for k, _, _ in cols]
        out.append(f"| {where} | " + " | ".join(cells) + " |")
    out.append(
        "| **total under the profiler** | "
        + " | ".join(f"**{us(b.profiles[k].seconds, b.profiles[k])}**" for k, _, _ in cols)
        + " |"
    )
    unprofiled = [f"{1e6 / largest[f].value:,.0f}" if f in largest else "—" for _, _, f in cols]
    out.append(
        "| _without the profiler (1 / throughput at the largest size)_ | "
        + " | ".join(unprofiled)
        + " |"
    )
    out.append(
        "| SQL statements per call | "
        + " | ".join(f"{b.profiles[k].statements:.1f}" for k, _, _ in cols)
        + " |"
    )
    for key in ("read", "collect"):
        if key not in b.profiles:
            continue
        p = b.profiles[key]
        out += [
            "",
            f"Top functions by tottime, single `{key}` ({p.calls:,} calls):",
            "",
            f"| function | calls / {key} | µs / {key} |",
            "|---|---:|---:|",
        ]
        for name, calls, t in p.top[:8]:
            out.append(f"| `{name}` | {calls / p.calls:.1f} | {us(t, p)} |")
    return out


def spent(p: Profile, where: str) -> float:
    """Seconds per subject in the groups whose name starts with ``where``."""
    return sum(t for w, t in p.groups if w.startswith(where)) / p.calls


def leading(p: Profile, n: int = 3) -> str:
    return ", ".join(f"{w.split(' (')[0]} {us(t, p)} µs" for w, t in p.groups[:n])


def growth(b: BackendResult) -> str:
    """How costs change with the store's size, from the tables."""
    if len(b.scales) < 2:
        return ""
    lo, hi, f = b.scales[0], b.scales[-1], factors(b)
    cpu = hi.bulk_cpu_us / lo.bulk_cpu_us if lo.bulk_cpu_us else 0.0
    text = (
        f" From {scale_name(lo.scale)} to {scale_name(hi.scale)} subjects the cost of a single "
        f"read changes {f['read_single']:.2f}x, of a batched read {f['read_batch']:.2f}x and "
        f"of bulk collection {f['bulk']:.2f}x; this process's CPU time per subject of bulk "
        f"growth goes from {lo.bulk_cpu_us:,.0f} to {hi.bulk_cpu_us:,.0f} µs ({cpu:.1f}x)"
    )
    if b.name != "sqlite":
        return text + " (the server's own CPU is not in that figure)."
    if cpu < 1.3:
        return text + ", so a slower large store here means waiting, not more work."
    return (
        text + ", so the growth is work, not only a busier machine. Subject ids "
        "(`uuid4().hex`), lookup tokens and the audit log's subject pseudonyms are random "
        "keys, so a batch's inserts land on pages spread over five B-trees (subjects, "
        "personal_values, subject_lookup and its subject index, the audit log's subject "
        "index); once those outgrow SQLite's page cache (the store leaves `cache_size` at its "
        "2 MB default) every commit reads, dirties and writes to the WAL (and checkpoints "
        "later) many more distinct pages per subject."
    )


def limits(b: BackendResult) -> str:
    """The "what limits it" paragraph of one backend, its figures taken from the profiles."""
    need = {"read", "collect", "read_many", "collect_many"}
    if not need <= set(b.profiles) or not b.scales:
        return ""
    r, c, rm, cm = (b.profiles[k] for k in ("read", "collect", "read_many", "collect_many"))
    f, pc = b.scales[-1].figures, b.scales[-1].per_commit
    read_ms, collect_ms = 1000 / f["read_single"].value, 1000 / f["collect_single"].value
    if b.name == "sqlite":
        commit = "SQLite: commit"
        how = "the commit (the WAL's fsync, `synchronous=FULL`)"
    else:
        commit = "PostgreSQL: waiting"
        how = "waiting for the server (a round trip per statement, and the commit's WAL flush)"
    return (
        f"**{'SQLite' if b.name == 'sqlite' else 'PostgreSQL'}.** A single `read` or `collect` "
        "is a durable transaction of its own: begin, a locked read of the audit head, the "
        "operation's statements in a savepoint, the audit entry, the head update and a signed "
        "checkpoint, commit. Without the profiler it takes "
        f"{read_ms:.1f} ms (read) and {collect_ms:.1f} ms (collect) at "
        f"{scale_name(b.scales[-1].scale)} subjects, of which {how} is "
        f"{spent(r, commit) * 1000:.1f} ms and {spent(c, commit) * 1000:.1f} ms "
        "(the profiler slows Python code, not this wait). The rest is CPU, mostly "
        f"SQLAlchemy's Python layers ({r.statements:.0f} and {c.statements:.0f} statements "
        f"per call; {us(spent(r, 'SQLAlchemy') * r.calls, r)} and "
        f"{us(spent(c, 'SQLAlchemy') * c.calls, c)} µs under the profiler, building, "
        "compiling and caching each statement anew). Threads share commits, but their units "
        "of work run one at a time on the shared connection, under the GIL, so that CPU "
        f"time bounds them: {THREADS} threads reach {f['read_threads'].value:,.0f} reads/s "
        f"and {f['collect_threads'].value:,.0f} collections/s, with "
        f"{pc.get('read_threads', 0):.1f} reads and {pc.get('collect_threads', 0):.1f} "
        "collections sharing each commit on average. Batches pay the commit, the head lock "
        "and the signature once; per subject, `read_many` spends its time on "
        f"{leading(rm)} (under the profiler), and `collect_many` on {leading(cm)}." + growth(b)
    )


def markdown(
    results: Sequence[BackendResult], scales: Sequence[int], plan: Plan, quick: bool
) -> str:
    out = [
        "## Personal-data store: collection, audited reads, consent, rights, audit",
        "",
        "Written by `bench/store.py`"
        + (" (**quick run: small store, short samples**)" if quick else "")
        + f". Command: `{command_line()}`",
        "",
        machine_summary(("pledge", "sqlalchemy", "psycopg", "cryptography")),
        "",
        f"Policy `{POLICY_FILE}`; in-process calls of the `Vault` Python API, every call durable "
        "on return (SQLite: WAL with `synchronous=FULL`; PostgreSQL: default "
        "`synchronous_commit=on`). The store grows to each size with `collect_many` "
        f"({SEED_CHUNK:,} submissions a call), the bulk rate being that growth. Collections "
        f"are timed while the store grows through its last {collect_reserve(max(scales), plan):,} "
        "subjects (fewer at small sizes), then the store is topped up to exactly its size "
        f"and everything else is timed there. Each throughput is {plan.rounds} rounds of "
        f"{plan.seconds / plan.rounds:g} s or a fixed number of calls, whichever ends first; "
        "the table gives the best round and, in parentheses, the worst (other programs on a "
        "shared machine only ever slow a round down). Calls use random subjects: reads "
        f"as role `{ROLE}` for `{PURPOSE}` (name and email released, address and phone "
        f"withheld, each read one audit entry); consent events alternate grant and withdraw "
        f"of `{CHOICE}`; {plan.exports} exports and {plan.erasures} erasures one after "
        "another; audit verification is `vault.audit.verify(vault.engine, full=True)` over "
        f"the whole log. {THREADS} threads share one `Vault` (group commit). Scale factor = "
        "cost per operation at the largest size / at the smallest (goal <= "
        f"{GOAL_SCALE_FACTOR}).",
        "",
    ]
    for b in results:
        out += [f"### {'SQLite' if b.name == 'sqlite' else 'PostgreSQL'}", ""]
        if b.where:
            load = f"; 1-minute load average {b.load:.2f} at the end" if b.load is not None else ""
            out += [f"{b.where}; {b.seconds / 60:.1f} min in all{load}.", ""]
        if b.error:
            out += [f"**The run failed:** `{b.error}`", ""]
        if b.scales:
            out += [*table(b, scales), ""]
        for scale, why in sorted(b.skipped.items()):
            out += [f"- {scale_name(scale)} subjects: {why}"]
        if b.skipped:
            out.append("")
    out += ["### Goals", ""]
    out += [f"- {line}" for line in goals(results)]
    out += ["", "### What limits it", ""]
    out += [
        "Profiled with cProfile at the largest size, after the measurements: "
        f"{plan.profile_calls:,} single reads and collections, then a few batches. cProfile "
        "adds a cost to every Python call, so the Python rows are inflated next to the "
        "database's waits; the unprofiled cost per subject is in the table too.",
        "",
    ]
    for b in results:
        if not b.profiles:
            continue
        out += [f"#### {'SQLite' if b.name == 'sqlite' else 'PostgreSQL'}", ""]
        out += [*profile_tables(b), "", limits(b), ""]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--scales", default="10000,100000,1000000", help="store sizes")
    parser.add_argument("--quick", action="store_true", help="2,000 subjects, short samples")
    parser.add_argument("--write", action="store_true", help="with --quick: write the doc anyway")
    parser.add_argument(
        "--seed-budget",
        type=float,
        default=20 * 60,
        help="seconds of seeding allowed per backend; larger sizes are reported as not measured",
    )
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(sorted(unknown))}: use sqlite, postgres")
    scales = [2_000] if args.quick else sorted({int(s) for s in args.scales.split(",")})
    plan = QUICK if args.quick else FULL
    policy_text = (ROOT / POLICY_FILE).read_text(encoding="utf-8")

    started = time.perf_counter()
    results = [run_backend(b, scales, plan, args.seed_budget, policy_text) for b in backends]
    text_ = markdown(results, scales, plan, args.quick)
    print(text_)
    print("\n".join(goals(results)), file=sys.stderr)
    print(f"\n({time.perf_counter() - started:.0f} s)")
    if not args.quick or args.write:
        print(f"wrote {write_section(SECTION, text_)}")
    return 1 if any(b.error for b in results) else 0


if __name__ == "__main__":
    sys.exit(main())
