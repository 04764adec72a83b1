"""How long the policy lifecycle commands take: ``pledge policy diff`` (goal: under 50 ms for
two policies) and ``pledge policy render``, with a textual diff of the same two files (what a
reviewer sees in git, via difflib) measured in the same run for reference; and
``pledge policy simulate`` over a store of N subjects (goal: under 10 s at 1M), on SQLite and
PostgreSQL.

    python bench/policy_changes.py [--repeat N] [--subjects 1000000] [--backends sqlite,postgres]

The simulated store is filled with SQL (``INSERT ... SELECT`` over a generated series), not
through ``collect_many``: simulate counts rows and never decrypts, so the values are random
bytes, and filling a million people through the audited write path would take the bench far
past its few minutes. Not timed. Writes the ``policy-changes`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import difflib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_summary, write_section
from sqlalchemy import text
from store import POSTGRES_DEFAULT, POSTGRES_ENV, postgres_database

from pledge.policy import load_policy_text
from pledge.policy.diff import diff_policies
from pledge.policy.notice import build_notice, render_notice

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"


def changed(text: str) -> str:
    """A new version of a policy with several material and non-material edits."""
    data = yaml.safe_load(text)
    new = copy.deepcopy(data)
    new["version"] = "next"
    new["changes"]["notice_days"] = max(0, new["changes"]["notice_days"] - 10)
    first = next(iter(new["collection_points"].values()))
    first["description"] = "Reworded"
    new["recipients"]["bench_broker"] = {
        "kind": "partner",
        "purposes": [first["purposes"][0]],
        "categories": [next(iter(first["fields"].values()))["category"]],
        "condition": "consent",
    }
    return yaml.safe_dump(new, sort_keys=False)


def median_ms(work: Callable[[], object], repeat: int) -> float:
    work()  # warm caches (taxonomy, templates) as a running process has them
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


# Who the simulated store holds: (share of subjects, point, fields as (name, category)).
PEOPLE = (
    (6, "purchase", (("name", "user.name"), ("email", "user.contact.email"),
                     ("mailing_address", "user.contact.address"),
                     ("products", "user.behavior.purchase_history"))),
    (3, "product_registration", (("name", "user.name"), ("email", "user.contact.email"))),
    (1, "personal_account", (("email", "user.contact.email"), ("name", "user.name"))),
)  # fmt: skip


def fill(url: str, subjects: int) -> int:
    """``subjects`` active people under Bitrix's version, their values spread over three
    points as :data:`PEOPLE` says; the number of values."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    series = (
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :last) "
        "SELECT i FROM n"
        if sqlite
        else "SELECT generate_series(0, :last) AS i"
    )
    ident = "printf('%032x', i)" if sqlite else "lpad(to_hex(i), 32, '0')"
    blob = "randomblob(40)" if sqlite else "gen_random_bytes(40)"
    now = "'2024-05-01 12:00:00'"
    values = 0
    with engine.begin() as connection:
        if not sqlite:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pgcrypto"))
        connection.execute(
            text(
                "INSERT INTO subjects (subject_id, created_at, policy_version, status, status_at) "
                f"SELECT {ident}, {now}, '2004-03-30', 'active', {now} FROM ({series}) AS s"
            ),
            {"last": subjects - 1},
        )
        for share, point, fields in PEOPLE:
            for field, category in fields:
                values += connection.execute(
                    text(
                        "INSERT INTO personal_values (subject_id, point, field, category, "
                        "ciphertext, policy_version, collected_at, visible) "
                        f"SELECT {ident}, '{point}', '{field}', '{category}', {blob}, "
                        f"'2004-03-30', {now}, false FROM ({series}) AS s "
                        f"WHERE i % 10 >= {_offset(point)} AND i % 10 < {_offset(point) + share}"
                    ),
                    {"last": subjects - 1},
                ).rowcount
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return values


def _offset(point: str) -> int:
    start = 0
    for share, name, _ in PEOPLE:
        if name == point:
            return start
        start += share
    raise KeyError(point)


@contextlib.contextmanager
def store_url(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'pledge.sqlite3'}"
        return
    with postgres_database(os.environ.get(POSTGRES_ENV, POSTGRES_DEFAULT)) as url:
        yield url


PUBLISH = ("policy", "publish")


def counting_seconds(url: str, folder: Path, new: Path) -> float:
    """The store's part alone, in a warm process: the counts simulate asks the store for."""
    from pledge.policy.diff import diff_policies
    from pledge.policy.impact import impact
    from pledge.store.audit.settings import AuditSettings
    from pledge.store.keys import LocalKeyFileProvider, default_key_store_url
    from pledge.store.vault import Vault

    vault = Vault.open(  # as the command opens it: no audit sequencer of its own
        url,
        LocalKeyFileProvider(folder / "master.key"),
        None,
        audit=AuditSettings(sequencer=False),
        key_store_url=default_key_store_url(url, folder),
    )
    try:
        proposed = load_policy_text(new.read_text()).policy
        times = []
        for _ in range(3):
            start = time.perf_counter()
            current = vault.policy.policy
            touches = impact(current, proposed, diff_policies(current, proposed), vault.holdings())
            for touch in touches:
                vault.people_holding(touch.points)
            times.append(time.perf_counter() - start)
    finally:
        vault.close()
    return statistics.median(times)


def pledge(arguments: list[str]) -> str:
    """Run the ``pledge`` command of this environment as a user would; its output."""
    command = Path(sys.executable).parent / "pledge"
    done = subprocess.run([str(command), *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"pledge {' '.join(arguments[:2])} failed: {done.stderr}")
    return done.stdout


def simulate_rows(subjects: int, backends: list[str]) -> list[str]:
    """Time ``pledge policy simulate`` (opening the store included) over ``subjects`` people."""
    old_text = (EXAMPLES / "bitrix.yaml").read_text()
    rows = []
    for backend in backends:
        with tempfile.TemporaryDirectory() as tmp, store_url(backend, Path(tmp)) as url:
            data = ["--data-dir", tmp, "--database-url", url]
            pledge([*PUBLISH, str(EXAMPLES / "bitrix.yaml"), *data])
            t0 = time.perf_counter()
            values = fill(url, subjects)
            filled = time.perf_counter() - t0
            new = Path(tmp) / "next.yaml"
            new.write_text(changed(old_text))
            times = []
            for _ in range(3):
                start = time.perf_counter()
                out = pledge(["policy", "simulate", str(new), *data, "--json"])
                times.append(time.perf_counter() - start)
            report = json.loads(out)
            counting = counting_seconds(url, Path(tmp), new)
            rows.append(
                f"| {backend} | {subjects:,} | {values:,} | {len(report['changes'])} | "
                f"{report['notices']:,} | {statistics.median(times):.2f} | {min(times):.2f} | "
                f"{counting:.2f} | {filled:.0f} |"
            )
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    simulated = simulate_rows(args.subjects, backends) if args.subjects else []
    rows = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        old_text = path.read_text()
        new_text = changed(old_text)
        old = load_policy_text(old_text).policy
        new = load_policy_text(new_text).policy
        load_both = median_ms(
            lambda o=old_text, n=new_text: (load_policy_text(o), load_policy_text(n)), args.repeat
        )
        semantic = median_ms(lambda o=old, n=new: diff_policies(o, n), args.repeat)
        textual = median_ms(
            lambda o=old_text, n=new_text: list(
                difflib.unified_diff(o.splitlines(), n.splitlines(), lineterm="")
            ),
            args.repeat,
        )
        render = median_ms(
            lambda o=old, n=new: render_notice(build_notice(n, [o]), "html"), args.repeat
        )
        changes = diff_policies(old, new)
        rows.append(
            f"| {path.stem} | {len(changes.changes)} ({len(changes.material)} material) | "
            f"{load_both + semantic:.1f} | {semantic:.2f} | {textual:.2f} | {render:.1f} |"
        )
    body = "\n".join(
        [
            "## Policy changes: diff and rendered notice",
            "",
            machine_summary(("pledge", "fideslang", "jinja2")),
            f"- Command: `python bench/policy_changes.py --repeat {args.repeat}` (median of the "
            "repeats, warm process)",
            "",
            "Each example policy against a derived version with a new recipient, a shorter "
            "notice period and a reworded description. *diff total* is what `pledge policy diff` "
            "does: load and check both files, then compare; *difflib* is a line diff of the same "
            "two YAML texts (the reference: what git shows a reviewer, with no meaning attached).",
            "",
            "| policy | changes found | diff total (ms) | semantic compare alone (ms) | "
            "difflib, same files (ms) | render notice with history (ms) |",
            "|---|---|---:|---:|---:|---:|",
            *rows,
            "",
            "Goal: a diff of two policies in under 50 ms (diff total above).",
            "",
            "### `pledge policy simulate` over a large store",
            "",
            f"- Command: as above, with `--subjects {args.subjects} --backends {args.backends}`",
            "",
            "Bitrix's example against the same derived version, over a store filled with SQL "
            "(60% bought, 30% registered a product, 10% hold an account; 2 to 4 values each, "
            "all under the first version; not timed: *fill*). *simulate* is the whole command "
            "as a user runs it (a new process: start Python, open the store, load both "
            "policies, count values per point, field, category and version, count the people "
            "each change reaches and those to tell); median and best of 3 runs. *The store's "
            "counts alone* times, in a process that has the store open, only the queries "
            "simulate makes; median of 3.",
            "",
            "| backend | subjects | values | material changes | people to tell | simulate, "
            "median (s) | best (s) | the store's counts alone, warm (s) | fill (s) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *simulated,
            "",
            "Goal: simulate at 1M subjects in under 10 s. The machine is shared: read the "
            "figures with the load average at start shown above.",
        ]
    )
    write_section("policy-changes", body)
    print(body)


if __name__ == "__main__":
    main()
