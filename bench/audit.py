"""The audit log's sequencer and verification: integration rate, verification rates (full and
incremental), and how long a leaf waits from its commit to its place in the tree under load.

Usage: .venv/bin/python bench/audit.py [--leaves N] [--postgres URL] [--no-write]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_summary, write_section

from pledge.store.audit import Record
from pledge.store.audit.settings import AuditSettings
from pledge.store.keys import LocalKeyFileProvider, default_key_store_url
from pledge.store.vault import Vault

ROOT = Path(__file__).resolve().parent.parent
POLICY = (ROOT / "examples" / "policies" / "zabbix.yaml").read_text()
SUPPORT = "essential.service.operations.support"


def queue(vault: Vault, n: int, per_commit: int = 10_000) -> None:
    for start in range(0, n, per_commit):
        records = [
            Record("read", "role 'support'", f"{i:064x}", SUPPORT, {"released": ["email"]})
            for i in range(start, min(n, start + per_commit))
        ]
        with vault.write() as connection:
            vault.record(connection, *records)


def timed(run: object) -> float:
    start = time.perf_counter()
    run()  # type: ignore[operator]
    return time.perf_counter() - start


def plain_inserts(vault: Vault, n: int) -> float:
    """The peer: the same number of rows of the same size inserted and committed in one
    executemany per 10,000, into a scratch table: what the database itself costs."""
    from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, insert

    scratch = Table(
        "bench_scratch",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("b", LargeBinary),
    )
    scratch.create(vault.engine, checkfirst=True)
    row = b"x" * 300
    start = time.perf_counter()
    for base in range(0, n, 10_000):
        with vault.engine.begin() as connection:
            connection.execute(
                insert(scratch), [{"id": i, "b": row} for i in range(base, min(n, base + 10_000))]
            )
    elapsed = time.perf_counter() - start
    scratch.drop(vault.engine)
    return elapsed


def hash_floor(vault: Vault) -> tuple[int, float]:
    """The peer of verification: reading every entry and hashing it once, nothing else."""
    with vault.engine.connect() as connection:
        cursor = connection.connection.cursor()
        start = time.perf_counter()
        cursor.execute("SELECT entry FROM audit_entries ORDER BY seq")
        n, sha = 0, hashlib.sha256
        while chunk := cursor.fetchmany(10_000):
            for (entry,) in chunk:
                sha(b"\x00" + entry).digest()
            n += len(chunk)
        elapsed = time.perf_counter() - start
        cursor.close()
    return n, elapsed


def latency_under_load(
    url: str, key: Path, seconds: float, folder: Path
) -> tuple[list[float], int]:
    """Threads collect and read as fast as they can while the background sequencer (default
    settings: at most 1 s wait) integrates; the wait of every leaf it integrated."""
    vault = Vault.open(
        url,
        LocalKeyFileProvider(key, create=True),
        POLICY,
        audit=AuditSettings(checkpoint_dir=folder / "cp2"),
        key_store_url=default_key_store_url(url, folder),
    )
    stop = time.monotonic() + seconds
    done = [0]

    def work(n: int) -> None:
        i = 0
        while time.monotonic() < stop:
            s = vault.collect("registration", {"name": "B", "email": f"t{n}.{i}@ex.org"}, age=30)
            vault.read(s.subject, SUPPORT, "support")
            done[0] += 2
            i += 1

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    vault.close()
    return list(vault.audit.sequencer.waits), done[0]


def p(xs: list[float], q: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def run(url: str, key: Path, n: int, folder: Path) -> dict[str, float]:
    vault = Vault.open(
        url,
        LocalKeyFileProvider(key, create=True),
        POLICY,
        audit=AuditSettings(sequencer=False, checkpoint_dir=folder / "cp"),
        key_store_url=default_key_store_url(url, folder),
    )
    try:
        queue(vault, n)
        integrate = timed(vault.audit.sequencer.integrate)
        floor_insert = plain_inserts(vault, n)
        full = timed(lambda: vault.audit.verify(vault.engine, full=True))
        read, floor_hash = hash_floor(vault)
        extra = max(1, n // 100)
        queue(vault, extra)
        vault.audit.sequencer.integrate()
        result = [None]
        incremental = timed(lambda: result.__setitem__(0, vault.audit.verify(vault.engine)))
        verified = result[0]
        if verified is None or not verified.ok or verified.read != extra:
            raise SystemExit(f"incremental verification went wrong: {verified}")
    finally:
        vault.close()
    waits, ops = latency_under_load(url, key, 5.0, folder)
    return {
        "n": n,
        "integrate": n / integrate,
        "insert_peer": n / floor_insert,
        "full": n / full,
        "hash_peer": read / floor_hash,
        "incremental_covered": (n + extra) / incremental,
        "incremental_read": extra / incremental,
        "incremental_ms": incremental * 1000,
        "p50": p(waits, 0.5),
        "p99": p(waits, 0.99),
        "max": max(waits) if waits else float("nan"),
        "ops": ops / 5.0,
        "leaves": len(waits),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leaves", type=int, default=200_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL (an empty database or schema)")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch the docs")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows.append(
            (
                "sqlite",
                run(f"sqlite:///{folder / 'a.sqlite3'}", folder / "k", args.leaves, folder / "s"),
            )
        )
        if args.postgres:
            rows.append(("postgres", run(args.postgres, folder / "k", args.leaves, folder / "p")))
    lines = [
        "## Audit log: sequencer and verification",
        "",
        f"Written by `bench/audit.py`. Command: `.venv/bin/python bench/audit.py --leaves "
        f"{args.leaves}{' --postgres URL' if args.postgres else ''}`",
        "",
        machine_summary(("pledge",)),
        "",
        f"{args.leaves:,} read-sized leaves are queued (10,000 per commit), then integrated by "
        "one `integrate()` (batches of 10,000, one signed checkpoint each); the peer inserts "
        "as many rows of the entry's size with one executemany and commit per 10,000. Full "
        "verification reads and re-hashes every entry and rebuilds the tree; its peer only "
        "reads and hashes each entry once. Incremental verification runs after 1% more "
        "leaves: covered = log size / time, read = new entries / time. Then 8 threads "
        "collect and read for 5 s with the background sequencer at its default (longest "
        "wait 1 s): the wait of each leaf from its insert (just before its commit) to the "
        "commit of the batch that integrated it.",
        "",
        "| store | integration leaves/s | peer: plain inserts rows/s | full verify entries/s "
        "| peer: read + hash once /s | incremental: covered/s (read/s, ms) | wait p50 / p99 / "
        "max (leaves, ops/s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['integrate']:,.0f} | {r['insert_peer']:,.0f} | {r['full']:,.0f} | "
            f"{r['hash_peer']:,.0f} | {r['incremental_covered']:,.0f} "
            f"({r['incremental_read']:,.0f}, {r['incremental_ms']:.0f} ms) | "
            f"{r['p50'] * 1000:.0f} / {r['p99'] * 1000:.0f} / {r['max'] * 1000:.0f} ms "
            f"({r['leaves']:,}, {r['ops']:,.0f}) |"
        )
    lines += [
        "",
        "Goals: integration >= 50,000 leaves/s; incremental >= 1,000,000 entries/s; "
        "full >= 500,000/s; p99 wait <= 1 s.",
        "",
        "Where the time goes (cProfile, SQLite, 100,000 leaves): integration is the entries' "
        "executemany and the commit (WAL write and fsync of the entries, their two indexes "
        "and the queue delete), together about half; then building each entry (one bytes "
        "format for header and body, one hash), the tree's frontier and the queue SELECT. "
        "The queue rows now come through the driver as plain tuples and each entry is one "
        "`b'%d %s\\n%s'` format (before: a SQLAlchemy Core select with typed binary "
        "columns and a header helper call per entry). On SQLite it runs at "
        f"{rows[0][1]['integrate'] / rows[0][1]['insert_peer']:.2f}x of its plain-insert peer, "
        "which writes half as much (no queue delete, no indexes). Full verification: about a "
        "third of its time was the garbage collector's full passes over the whole heap, set "
        "off by `zip(*chunk)` (an iterator object per row); rows are now split with "
        "`itemgetter`, and no full pass runs. What is left per entry beyond its peer's read "
        "and leaf hash is the tree (one more SHA-256 per entry, level by level in flat "
        "loops: about a quarter of the time) and the link check (a header format and a "
        "prefix test per entry, in C maps). Tried and dropped: hashing tree levels from one "
        "joined buffer through memoryview slices and a copied prefixed hasher (at most 10% of "
        "the tree's share in a micro-benchmark, lost in the noise here). "
        "Incremental verification reads only new entries, so its cost is a fixed part "
        "(signature, checkpoint and queue queries, the progress file) plus the new entries. "
        "These runs shared 2 cores with 7 other jobs (load average above); the peers, "
        "measured in the same run, are the fair comparison.",
    ]
    text = "\n".join(lines)
    print(text)
    for name, r in rows:
        print(name, {k: round(v, 3) for k, v in r.items()})
    if not args.no_write:
        write_section("audit", text)


if __name__ == "__main__":
    main()
