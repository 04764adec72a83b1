"""The website's edge: how many bytes the consent banner costs a page, and how long the cookie
middleware adds to a response.

Banner: Pledge's JavaScript, CSS and HTML snippet (rendered for a policy offering three
categories), raw and gzipped (level 9), next to two open-source banners installed from npm in
the same run (vanilla-cookieconsent and Klaro, into ``bench/.peers``; skipped with a note if
npm is missing).

Middleware: the same tiny app called directly (no server, no network), with and without
:class:`~pledge.web.middleware.CookieGate` (ASGI) and
:class:`~pledge.web.middleware.WsgiCookieGate` (WSGI), in two cases: a response that sets no
cookie, and one that offers six ``Set-Cookie`` headers (one of each category, an undeclared
one, a deletion) to a visitor who allowed analytics. The figure is the median over batches of
the per-call difference, in the thread's CPU time; goal < 50 us per response.

    .venv/bin/python bench/web.py           # full run, rewrites its section of docs/benchmarks.md
    .venv/bin/python bench/web.py --quick   # smoke test, writes nothing (add --write to write)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import gzip
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "web"))

from _report import command_line, machine_summary, write_section
from site_policy import SERVER_COOKIES, site_policy_text

from pledge.policy import load_policy_text
from pledge.policy.cookies import CONSENT_COOKIE
from pledge.web.banner import asset, snippet
from pledge.web.middleware import CookieGate, WsgiCookieGate

PEERS_DIR = Path(__file__).resolve().parent / ".peers"
PEERS = {
    "vanilla-cookieconsent": ["dist/cookieconsent.umd.js", "dist/cookieconsent.css"],
    "klaro": ["dist/klaro-no-translations-no-css.js", "dist/klaro-no-translations.min.css"],
}
CONSENT = f"{CONSENT_COOKIE}={'0f' * 16}:analytics:preferences+advertising".encode()


def gz(data: bytes) -> int:
    return len(gzip.compress(data, 9))


# --- banner bytes ----------------------------------------------------------------------------


def banner_rows(policy: Any) -> list[tuple[str, int, int]]:
    html = snippet(policy).encode()
    js, css = asset("banner.js"), asset("banner.css")
    return [
        ("Pledge `banner.js`", len(js), gz(js)),
        ("Pledge `banner.css`", len(css), gz(css)),
        ("Pledge JS + CSS (the 10 KB budget)", len(js) + len(css), gz(js) + gz(css)),
        ("Pledge HTML snippet (3 categories)", len(html), gz(html)),
        ("Pledge JS + CSS + snippet", len(js + css + html), gz(js) + gz(css) + gz(html)),
    ]


def peer_rows() -> tuple[list[tuple[str, int, int]], str]:
    npm = shutil.which("npm")
    if npm is None:
        return [], "npm is not installed, so the peers were not measured."
    missing = [p for p in PEERS if not (PEERS_DIR / "node_modules" / p).exists()]
    if missing:
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(PEERS_DIR),
                "--no-audit",
                "--no-fund",
                "--silent",
                *missing,
            ],
            check=True,
            timeout=300,
        )
    rows = []
    notes = []
    for package, files in PEERS.items():
        root = PEERS_DIR / "node_modules" / package
        version = _npm_version(root)
        data = [(root / f).read_bytes() for f in files]
        rows.append(
            (
                f"{package} {version} (`{'` + `'.join(Path(f).name for f in files)}`)",
                sum(len(d) for d in data),
                sum(gz(d) for d in data),
            )
        )
        notes.append(f"{package} {version}")
    return rows, "Peers installed from npm in this run: " + ", ".join(notes) + "."


def _npm_version(root: Path) -> str:
    import json

    return str(json.loads((root / "package.json").read_text())["version"])


# --- middleware time ---------------------------------------------------------------------------


def asgi_app(cookies: list[bytes]) -> Callable[..., Any]:
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")] + [
        (b"set-cookie", c) for c in cookies
    ]
    start = {"type": "http.response.start", "status": 200, "headers": headers}
    body = {"type": "http.response.body", "body": b"ok"}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(start)
        await send(body)

    return app


def wsgi_app(cookies: list[str]) -> Callable[..., Any]:
    headers = [("Content-Type", "text/plain"), ("Content-Length", "2")] + [
        ("Set-Cookie", c) for c in cookies
    ]

    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", headers)
        return [b"ok"]

    return app


def time_asgi(app: Callable[..., Any], calls: int, batches: int) -> list[float]:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [
            (b"host", b"example.org"),
            (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"),
            (b"accept", b"text/html"),
            (b"cookie", b"lang=en; " + CONSENT),
            (b"sec-gpc", b"1"),
        ],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        pass

    async def run() -> list[float]:
        per_call = []
        for _ in range(batches):
            began = time.thread_time_ns()
            for _ in range(calls):
                await app(scope, receive, send)
            per_call.append((time.thread_time_ns() - began) / calls)
        return per_call

    return asyncio.run(run())


def time_wsgi(app: Callable[..., Any], calls: int, batches: int) -> list[float]:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "HTTP_HOST": "example.org",
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0",
        "HTTP_COOKIE": "lang=en; " + CONSENT.decode(),
        "HTTP_SEC_GPC": "1",
    }

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        pass

    per_call = []
    for _ in range(batches):
        began = time.thread_time_ns()
        for _ in range(calls):
            for _chunk in app(environ, start_response):
                pass
        per_call.append((time.thread_time_ns() - began) / calls)
    return per_call


def middleware_rows(policy: Any, calls: int, batches: int) -> list[list[str]]:
    rows = []
    cases = {"no Set-Cookie": [], "6 Set-Cookie, 3 removed": SERVER_COOKIES}
    for case, cookies in cases.items():
        for kind, make, gate, timer in (
            ("ASGI", lambda c: asgi_app([x.encode() for x in c]), CookieGate, time_asgi),
            ("WSGI", wsgi_app, WsgiCookieGate, time_wsgi),
        ):
            bare = make(cookies)
            gated = gate(make(cookies), policy)
            gc.disable()
            try:
                # Interleaved, so that drift in the machine's load hits both alike.
                plain, wrapped = [], []
                for _ in range(batches):
                    plain += timer(bare, calls, 1)
                    wrapped += timer(gated, calls, 1)
            finally:
                gc.enable()
            base, with_gate = statistics.median(plain), statistics.median(wrapped)
            rows.append(
                [
                    kind,
                    case,
                    f"{base / 1000:.2f}",
                    f"{with_gate / 1000:.2f}",
                    f"{(with_gate - base) / 1000:.2f}",
                ]
            )
    return rows


def table(header: list[str], rows: list[list[str]], right: int) -> str:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(["---"] * (len(header) - right) + ["---:"] * right) + "|")
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; writes nothing")
    parser.add_argument("--write", action="store_true", help="with --quick, write anyway")
    args = parser.parse_args()
    calls, batches = (200, 5) if args.quick else (1000, 101)
    policy = load_policy_text(site_policy_text(), file="tests/web site policy").policy

    ours = banner_rows(policy)
    peers, peer_note = peer_rows()
    bytes_rows = [[name, f"{raw:,}", f"{packed:,}"] for name, raw, packed in ours + peers]
    timing = middleware_rows(policy, calls, batches)

    text = "\n\n".join(
        [
            "## Website edge: consent banner bytes and cookie middleware time",
            f"Written by `bench/web.py`. Command: `{command_line()}`",
            machine_summary(("pledge", "starlette", "playwright")),
            "### Banner bytes\n\nBytes a page downloads for the banner; gzip level 9. "
            "Pledge's banner text is server-rendered in the snippet, where the peers build it "
            "in JavaScript, so the snippet is counted too. " + peer_note,
            table(["what", "bytes", "gzipped bytes"], bytes_rows, 2),
            "### Middleware time per response\n\n"
            f"The same app called directly, with and without the middleware, {batches} "
            f"interleaved batches of {calls:,} calls each; median microseconds of this "
            "thread's CPU time per call (CPU time, not wall time, so that other processes on "
            "this shared machine do not count). The "
            "request carries a consent cookie allowing analytics and `Sec-GPC: 1`. Goal: the "
            "middleware adds < 50 us.",
            table(
                [
                    "server interface",
                    "response",
                    "app alone (us)",
                    "with middleware (us)",
                    "added (us)",
                ],
                timing,
                3,
            ),
        ]
    )
    print(text)
    if not args.quick or args.write:
        write_section("web", text)


if __name__ == "__main__":
    main()
