"""How long does a person wait, in a real browser, from pressing "Sign in" to seeing their data?

    .venv/bin/python bench/pages_browser.py                      # 100,000 subjects
    .venv/bin/python bench/pages_browser.py --subjects 5000 --people 5 --no-write

``bench/pages.py`` times the server's share in-process; this script adds what it leaves out:
the network (loopback), the browser's parsing, rendering and the stylesheet, and the redirect
after the sign-in form. It seeds a SQLite store as ``bench/pages.py`` does, serves the app
under uvicorn on 127.0.0.1 (the browser tests' ``serve_asgi``) and drives Debian's headless
Chromium (``pledge.web.scan.launch``). For each person, in a fresh browser context (no cookies,
no cache), it opens a new sign-in link and presses its button: the time runs from the click
to the load event of the "your data" page. The peer, in the same context just before, is the
sign-in form (``GET /sign-in``: a page with no store read), also timed to its load event. Both
are also given as the browser's own Navigation Timing (navigation start to load event end),
which leaves out the driver's round trips. One person signs in untimed first (warm-up).

A run without ``--no-write`` rewrites the ``pages-browser`` section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# bench/http.py would shadow the standard library's http package: this folder goes last.
_HERE = str(Path(__file__).resolve().parent)
if sys.path and sys.path[0] == _HERE:
    sys.path.append(sys.path.pop(0))
sys.path.append(str(Path(_HERE).parent / "tests"))

from _report import command_line, machine_summary, write_section  # noqa: E402
from browser_support import serve_asgi  # noqa: E402
from pages import p95, seed  # noqa: E402
from store import POLICY_FILE, ROOT, Workload, log, open_store  # noqa: E402

from pledge.api import create_app  # noqa: E402
from pledge.api.config import ApiSettings  # noqa: E402
from pledge.store.sessions import SUBJECT  # noqa: E402
from pledge.store.vault import Vault  # noqa: E402
from pledge.web.scan import launch  # noqa: E402

SECTION = "pages-browser"
GOAL_MS = 1000.0
# The browser's own measure of the page it is on: navigation start (for "your data", the
# form's submission, before the redirect) to the end of the load event.
NAVIGATION_MS = "performance.getEntriesByType('navigation')[0].loadEventEnd"


@dataclass
class Times:
    wall: list[float]  # from the driver's call to the load event, ms
    browser: list[float]  # Navigation Timing, ms


def sign_in_once(browser: Any, base: str, token: str, sign_in: Times, form: Times) -> None:
    """One person in a fresh context: the sign-in form (the peer), then the link's button."""
    context = browser.new_context()
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(f"{base}/sign-in", wait_until="load")
        form.wall.append((time.perf_counter() - started) * 1000)
        form.browser.append(float(page.evaluate(NAVIGATION_MS)))
        page.goto(f"{base}/sign-in/{token}", wait_until="load")
        button = page.get_by_role("button", name="Sign in")
        button.wait_for()
        started = time.perf_counter()
        button.click()
        page.wait_for_url(f"{base}/center", wait_until="load")
        sign_in.wall.append((time.perf_counter() - started) * 1000)
        heading = page.get_by_role("heading", level=1).inner_text()
        assert heading == "Your data", f"signed in to {page.url} ({heading!r}), not your data"
        sign_in.browser.append(float(page.evaluate(NAVIGATION_MS)))
    finally:
        context.close()


def measure(vault: Vault, people: list[str]) -> tuple[Times, Times]:
    app = create_app(vault, settings=ApiSettings(rate_limit_per_second=1e6, rate_limit_burst=10**6))
    sign_in, form = Times([], []), Times([], [])
    with serve_asgi(app) as base, launch() as browser:
        sign_in_once(
            browser, base, vault.sign_in_link(SUBJECT, people[0]), Times([], []), Times([], [])
        )
        for n, person in enumerate(people[1:], 1):
            sign_in_once(browser, base, vault.sign_in_link(SUBJECT, person), sign_in, form)
            log(f"  {n}: sign-in {sign_in.wall[-1]:.0f} ms, form {form.wall[-1]:.0f} ms")
    return sign_in, form


def row(name: str, xs: list[float]) -> str:
    return f"| {name} | {statistics.median(xs):.0f} | {p95(xs):.0f} | {max(xs):.0f} |"


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def markdown(subjects: int, sign_in: Times, form: Times, machine: str) -> str:
    worst = max(sign_in.wall)
    verdict = "met" if p95(sign_in.wall) < GOAL_MS else "missed"
    return "\n".join(
        [
            "## Sign-in to your data in a real browser (`bench/pages_browser.py`)",
            "",
            f"`{command_line()}`",
            "",
            machine,
            f"- Load average after the run {load_average()}; the machine's cores were shared "
            "with other work, and the server, Chromium and the driver all run on them",
            "- Browser: Debian's Chromium, headless, a fresh context (no cookies, no cache) "
            "per person; server: uvicorn in a thread on 127.0.0.1 (HTTP, no TLS)",
            "",
            f"Store of {subjects:,} subjects (zabbix policy, SQLite). {len(sign_in.wall)} "
            "people each open a new sign-in link and press its button; the time runs from the "
            'click to the load event of the "your data" page (the POST, its 303 redirect, the '
            "page and its stylesheet). The peer is the sign-in form, loaded in the same context "
            "just before. *Browser* is the page's Navigation Timing (navigation start to load "
            f"event end). Goal: under {GOAL_MS:.0f} ms (issue 10); p95 {verdict}, worst "
            f"{worst:.0f} ms.",
            "",
            "| navigation | p50 ms | p95 ms | max ms |",
            "|---|---:|---:|---:|",
            row("sign-in: click to your data loaded", sign_in.wall),
            row("sign-in: click to your data loaded (browser)", sign_in.browser),
            row("peer: sign-in form loaded", form.wall),
            row("peer: sign-in form loaded (browser)", form.browser),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=20, help="timed sign-ins (plus a warm-up)")
    parser.add_argument("--no-write", action="store_true", help="print, leave the doc alone")
    args = parser.parse_args()
    policy_text = (ROOT / POLICY_FILE).read_text(encoding="utf-8")
    machine = machine_summary(("pledge", "playwright", "uvicorn"))  # the load before seeding
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store("sqlite", policy_text, Path(tmp)) as (vault, where),
    ):
        log(f"sqlite: seeding {args.subjects:,} subjects ({where})")
        work = Workload(policy_text, seed=11)
        seed(vault, work, args.subjects)
        vault.verify_audit()  # the sequencer catches up with the seeding first (untimed)
        people = work.pick_live(args.people + 1, distinct=True)  # spread over the store
        sign_in, form = measure(vault, people)
    text = markdown(args.subjects, sign_in, form, machine)
    print(text)
    if not args.no_write:
        print(f"wrote {write_section(SECTION, text)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
