"""How fast does ``pledge logs ingest`` take in an access log, next to the parse ceiling and
Debian's goaccess on the same file?

    .venv/bin/python bench/logs.py --lines 1000000 --write   # the recorded run
    .venv/bin/python bench/logs.py --lines 20000             # smoke test, writes nothing

One generated combined-format log (every line from a distinct IPv4 address, 300 pages, 40
referrers, 30 user agents, spread over 30 days) is read three ways in the same run:

- the parse ceiling: a bare loop of Pledge's own line regex over the file, nothing kept;
- goaccess (``--log-format=COMBINED``, JSON report), the usual open-source log analyser;
- Pledge's intake as ``pledge logs ingest`` runs it (``pledge.logs`` over a Vault on a SQLite
  store, Zimbra's policy: addresses keyed-hashed, pages and referrers kept): parse, minimise,
  count, store, audit; in a child process of its own, so that its peak memory is its own.

Times are CPU seconds (user + system) of the work itself, not wall time: the machine is shared,
and wall time there measures the neighbours. Python's start-up and imports are left out of
Pledge's figure (about 2 s of CPU for the CLI; goaccess, a C program, starts in milliseconds
and its figure includes that). Peak memory is the maximum resident set, from ``getrusage``.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import machine_summary, write_section

from pledge.logs.parse import COMBINED

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "examples" / "policies" / "zimbra.yaml"
AGENTS = [
    f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    f"Chrome/{v}.0.0.0 Safari/537.36"
    for v in range(110, 125)
] + [
    f"Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0"
    for v in range(112, 127)
]


def generate(path: Path, lines: int) -> None:
    rng = random.Random(11)
    pages = [
        f"/docs/{rng.randrange(10**6)}/page-{i}?ref=mail&email=a{i}%40example.com"
        for i in range(300)
    ]
    referrers = [f"https://site{i}.example.org/item?id={i}" for i in range(40)] + ["-"] * 10
    with path.open("w", encoding="utf-8") as out:
        for n in range(lines):
            ip = f"{(n >> 24) + 11}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
            day = 1 + n * 30 // lines
            out.write(
                f"{ip} - - [{day:02d}/Oct/2026:{rng.randrange(24):02d}:{rng.randrange(60):02d}:"
                f'{rng.randrange(60):02d} +0000] "GET {rng.choice(pages)} HTTP/1.1" 200 '
                f'{rng.randrange(100, 90000)} "{rng.choice(referrers)}" "{rng.choice(AGENTS)}"\n'
            )


def bare_loop(path: Path) -> float:
    match = COMBINED.match
    start = time.process_time()
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            match(line)
    return time.process_time() - start


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_child(command: list[str]) -> tuple[float, float, str]:
    """CPU seconds, peak RSS (MB) and standard output of one child process run to its end.
    Children run one at a time, so the peak RSS of all children so far is this one's."""
    start = child_cpu()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{command[0]} failed: {done.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return child_cpu() - start, peak, done.stdout


def pledge_child(log: Path, data_dir: Path) -> None:
    """Run in the child: the intake as the CLI runs it; print its own CPU seconds."""
    from pledge.logs.aggregate import ingest
    from pledge.logs.minimise import Minimiser
    from pledge.logs.parse import parse
    from pledge.settings import load_settings, open_vault

    vault = open_vault(load_settings(policy=POLICY, data_dir=data_dir, database_url=None))
    start = time.process_time()
    minimise = Minimiser(
        vault.web_log_rules(), vault.web_log_hasher(), minimum_age=vault.web_log_minimum_age()
    )
    with log.open(encoding="utf-8", errors="replace") as lines:
        intake = ingest(parse(lines), minimise, lambda c: vault.store_web_visits(c.items()))
    seconds = time.process_time() - start
    vault.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(seconds, peak_mb, intake.lines, intake.rows)


def run_pledge(log: Path, data_dir: Path) -> tuple[float, float]:
    """CPU seconds and the child's own peak RSS (MB) of Pledge's intake of ``log``."""
    out = timed_child([sys.executable, __file__, "--child", str(log), str(data_dir)])[2]
    seconds, peak_mb = out.split()[:2]
    return float(seconds), float(peak_mb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--write", action="store_true", help="Write docs/benchmarks.md.")
    parser.add_argument("--big", type=int, help="Then Pledge alone on a log this long (memory).")
    parser.add_argument("--child", nargs=2, metavar=("LOG", "DATA_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        pledge_child(Path(args.child[0]), Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "access.log"
        generate(log, args.lines)
        size_mb = log.stat().st_size / 1e6
        bare = bare_loop(log)
        goaccess = shutil.which("goaccess")
        go = None
        if goaccess:
            go = timed_child(
                [
                    goaccess,
                    str(log),
                    "--log-format=COMBINED",
                    "--no-global-config",
                    "-o",
                    str(Path(tmp) / "report.json"),
                ]
            )
        pledge = run_pledge(log, Path(tmp) / "store")
        big = None
        if args.big:
            log.unlink()
            generate(log, args.big)
            big = run_pledge(log, Path(tmp) / "big")
    n = args.lines
    rows = [
        ("bare regex loop (parse ceiling, Python)", bare, None),
        (
            "goaccess " + ("(Debian)" if go else "(not installed)"),
            go[0] if go else None,
            go[1] if go else None,
        ),
        ("Pledge's intake (parse, minimise, count, store, audit)", pledge[0], pledge[1]),
    ]
    table = [
        "| reader | CPU seconds | lines/s | x ceiling | peak RSS MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, seconds, rss in rows:
        if seconds is None:
            table.append(f"| {name} | - | - | - | - |")
            continue
        table.append(
            f"| {name} | {seconds:.1f} | {n / seconds:,.0f} | {bare / seconds:.2f} | "
            f"{'-' if rss is None else f'{rss:.0f}'} |"
        )
    text = "\n".join(
        [
            "## Web-log intake (`bench/logs.py`)",
            "",
            machine_summary(("pledge", "ua-parser")),
            "",
            f"Command: `.venv/bin/python bench/logs.py --lines {n}"
            + (f" --big {args.big}" if args.big else "")
            + " --write`. One generated "
            f"combined log of {n:,} lines ({size_mb:.0f} MB), every line from a distinct "
            "address; the same file for every reader, in the same run.",
            "",
            *table,
            "",
            *(
                [
                    f"Pledge alone on {args.big:,} lines of the same kind: {big[0]:.0f} CPU s "
                    f"({args.big / big[0]:,.0f} lines/s), peak RSS {big[1]:.0f} MB (against "
                    f"{pledge[1]:.0f} MB at {n:,} lines).",
                    "",
                ]
                if big
                else []
            ),
            "Goal: `pledge logs ingest` at >= 0.2x the bare loop, in flat memory.",
            "",
            "Where Pledge's time goes (cProfile and per-step timings on 200,000 lines of this "
            "log, CPU): parsing the line into a hit about 3 us, minimising 1.3 us (of which the "
            "keyed hash 0.6 us), counting 0.3 us, storing 3.8 us per row. Every line of this "
            "log comes from a new address, so every line is a row of its own; a real log, where "
            "a visitor requests several pages in an hour, stores far fewer rows. What was tried, "
            "in order of gain: possessive quantifiers in the line regex (6x on the regex, which "
            "the ceiling shares), the driver's `executemany` instead of SQLAlchemy's per-row "
            "parameter handling (halved the store step), no index on `web_visits` (a third of "
            "the insert), plain tuples instead of named tuples, `lru_cache`d page, referrer and "
            "browser reduction, keyed BLAKE2b instead of HMAC-SHA256. The raw SQLite insert of "
            "the same rows alone costs 2.4 us per row here, so storing each visitor's row keeps "
            "Pledge below 0.2x on this all-distinct log.",
        ]
    )
    print(text)
    if args.write:
        write_section("logs", text)


if __name__ == "__main__":
    main()
