"""How long does the server take to answer each privacy-center page, as the store grows?

    .venv/bin/python bench/pages.py                          # 100,000 subjects, both backends
    .venv/bin/python bench/pages.py --subjects 1000000       # the issue's size (long seeding)
    .venv/bin/python bench/pages.py --quick                  # 5,000 subjects, SQLite, no write

For each backend (SQLite: a file in a temporary directory; PostgreSQL: a fresh database on the
server of ``PLEDGE_BENCH_POSTGRES_URL``, dropped at the end; both from ``bench/store.py``) the
script seeds the store with ``Vault.collect_many`` (submissions of
``examples/policies/zabbix.yaml`` made unique per copy, as ``bench/store.py`` does), picks 40
people who ordered (so the payment gateway may receive their data), discloses each one's data
once and opens a session for each through a real sign-in link. It then asks the app for every
privacy-center page as those people, in turn, through Starlette's in-process client: the time
is the server's (routing, session lookup, the store's reads and audited writes, rendering),
with no network. Each page is asked for ``--requests`` times after a warm-up; p50 and p95 are
reported. The first proof a process makes reads and hashes the whole log once (it keeps the
roots of complete subtrees, see ``merkle.SubtreeCache``): it is timed on its own. "Sign-in"
is using a link (the POST that opens the session) and then the first "your data" page, the
server's part of the issue's "sign-in to your data".

A full run rewrites the ``pages`` section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# bench/http.py would shadow the standard library's http package: this folder goes last.
_HERE = str(Path(__file__).resolve().parent)
if sys.path and sys.path[0] == _HERE:
    sys.path.append(sys.path.pop(0))

from _report import command_line, machine_summary, write_section  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from store import POLICY_FILE, ROOT, Workload, log, open_store  # noqa: E402

from pledge.api import create_app  # noqa: E402
from pledge.api.config import ApiSettings  # noqa: E402
from pledge.demo import disclose_once  # noqa: E402
from pledge.store.sessions import SUBJECT  # noqa: E402
from pledge.store.vault import Vault  # noqa: E402

SECTION = "pages"
PEOPLE = 40
PAGES = (
    ("your data", "/center"),
    ("download (page)", "/center/download"),
    ("download JSON", "/center/download/data.json"),
    ("download HTML", "/center/download/data.html"),
    ("correct (form)", "/center/correct"),
    ("choices", "/center/choices"),
    ("disclosures", "/center/disclosures"),
    ("disclosure proof", "/center/disclosures/0/proof"),
    ("delete (explained)", "/center/delete"),
)
GOAL_MS = 100.0


@dataclass
class Row:
    page: str
    p50: float
    p95: float
    n: int


def seed(vault: Vault, work: Workload, count: int) -> list[str]:
    """Grow the store to ``count`` subjects; the ids of those collected at the order point."""
    ordered: list[str] = []
    started = time.perf_counter()
    while len(work.subjects) < count:
        items = work.submissions(min(2_000, count - len(work.subjects)))
        made = vault.collect_many(items)
        work.record(items, [m.subject for m in made])
        ordered += [m.subject for m, i in zip(made, items, strict=True) if i.point == "order"]
        if len(work.subjects) % 50_000 < 2_000:
            log(f"  {len(work.subjects):,} subjects ({time.perf_counter() - started:.0f} s)")
    return ordered


def timed(call: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[-1] if len(xs) >= 20 else max(xs)


def run_backend(backend: str, subjects: int, requests: int, policy_text: str) -> list[Row]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store(backend, policy_text, Path(tmp)) as (vault, where),
    ):
        log(f"{backend}: seeding {subjects:,} subjects ({where})")
        ordered = seed(vault, Workload(policy_text, seed=11), subjects)
        if backend == "postgres":
            with vault.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        people = ordered[:PEOPLE]
        for person in people:
            disclose_once(vault, person)
        vault.verify_audit()  # the sequencer catches up with the seeding first (untimed)
        app = create_app(
            vault, settings=ApiSettings(rate_limit_per_second=1e6, rate_limit_burst=10**6)
        )
        clients = [TestClient(app, base_url="https://bench.test") for _ in people]
        rows: list[Row] = []

        def sign_in(i: int) -> None:
            token = vault.sign_in_link(SUBJECT, people[i])
            opened = vault.sign_in(token, SUBJECT)
            clients[i].cookies.set("__Host-pledge_session", opened.session_id)

        turn = iter(range(10**9))

        def sign_in_and_see() -> None:
            i = next(turn) % len(people)
            token = vault.sign_in_link(SUBJECT, people[i])  # the emailed link (not timed below)
            client = clients[i]
            page = client.get(f"/sign-in/{token}")
            csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            started = time.perf_counter()
            client.post(f"/sign-in/{token}", data={"csrf": csrf}, follow_redirects=False)
            assert client.get("/center").status_code == 200
            sign_in_times.append((time.perf_counter() - started) * 1000)

        for i in range(len(people)):
            sign_in(i)
        first = timed(lambda: clients[0].get("/center/disclosures/0/proof"), 1)[0]
        rows.append(Row("first proof in the process (reads the log once)", first, first, 1))
        log(f"  first proof: {first:.0f} ms")
        for name, path in PAGES:

            def ask(path: str = path) -> None:
                i = next(turn) % len(people)
                response = clients[i].get(path, headers={"Accept": "text/html"})
                assert response.status_code == 200, (path, response.status_code)

            timed(ask, min(20, requests))
            samples = timed(ask, requests)
            rows.append(Row(name, statistics.median(samples), p95(samples), len(samples)))
            log(f"  {name}: p50 {rows[-1].p50:.1f} ms, p95 {rows[-1].p95:.1f} ms")
        sign_in_times: list[float] = []
        for _ in range(min(requests, 100)):
            sign_in_and_see()
        rows.append(
            Row("sign-in, then your data", statistics.median(sign_in_times), p95(sign_in_times),
                len(sign_in_times))
        )  # fmt: skip
        log(f"  sign-in: p50 {rows[-1].p50:.1f} ms, p95 {rows[-1].p95:.1f} ms")
        for client in clients:
            client.close()
        return rows


def markdown(results: dict[str, list[Row]], subjects: int) -> str:
    lines = [
        "## Privacy center: server time per page (`bench/pages.py`)",
        "",
        f"`{command_line()}`",
        "",
        machine_summary(("pledge",)),
        "",
        f"Store of {subjects:,} subjects (zabbix policy); each page asked for as one of "
        f"{PEOPLE} signed-in people in turn, in-process (no network). Goal: p95 <= "
        f"{GOAL_MS:.0f} ms for every page.",
        "",
        "| page | " + " | ".join(f"{b} p50 ms | {b} p95 ms" for b in results) + " |",
        "|---|" + "---:|---:|" * len(results),
    ]
    names = [row.page for row in next(iter(results.values()))]
    for i, name in enumerate(names):
        cells = " | ".join(f"{rows[i].p50:.1f} | {rows[i].p95:.1f}" for rows in results.values())
        lines.append(f"| {name} | {cells} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="per page, after a warm-up")
    parser.add_argument("--quick", action="store_true", help="5,000 subjects, SQLite, 40 asks")
    parser.add_argument("--write", action="store_true", help="with --quick: write the doc anyway")
    args = parser.parse_args()
    backends = ["sqlite"] if args.quick else [b for b in args.backends.split(",") if b]
    subjects = 5_000 if args.quick else args.subjects
    requests = 40 if args.quick else args.requests
    policy_text = (ROOT / POLICY_FILE).read_text(encoding="utf-8")
    results = {b: run_backend(b, subjects, requests, policy_text) for b in backends}
    text = markdown(results, subjects)
    print(text)
    if not args.quick or args.write:
        print(f"wrote {write_section(SECTION, text)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
