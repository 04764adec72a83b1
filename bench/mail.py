"""How fast does the email gate queue a campaign, and the worker deliver it?

    .venv/bin/python bench/mail.py          # 10,000 and 100,000; writes docs/benchmarks.md
    .venv/bin/python bench/mail.py --quick  # 2,000 and 10,000, a smoke test; writes nothing
    .venv/bin/python bench/mail.py --quick --write

For each size, a fresh SQLite store gets that many newsletter subscribers of
``examples/policies/zabbix.yaml``, 30% of whom opted out. Then, each phase in a process of its
own so that its peak RSS is its own:

* **gate**: ``run_campaign`` decides every recipient in bulk, decrypts the addresses it may
  use, renders the text and HTML template with the footer and unsubscribe headers, and writes
  the outbox rows and one audit entry per recipient, in chunks of 1,000;
* **deliver**: one ``Sender`` sends the outbox over one reused SMTP connection to a sink (an
  aiosmtpd server that counts and drops messages) running in a third process, committing
  each message's outcome.

Peak RSS is the process's high-water mark (``ru_maxrss``), imports included: the figure to
compare is the one at 10,000 against the one at 100,000.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _report import ROOT, command_line, machine_summary, write_section

POLICY = ROOT / "examples" / "policies" / "zabbix.yaml"
MARKETING = "marketing.communications.email"
OPTED_OUT = 0.3
SECTION = "mail"
GOAL_GATE = 5_000
GOAL_DELIVER = 1_000
FROM = "Zabbix News <news@zabbix.com>"
SUBJECT = "What is new at {{ organisation }} this month"
TEXT = """Hello {{ name or "there" }},

This month we released a new version, with faster housekeeping, new templates for network
devices, and a reworked dashboard. Read the release notes on our site.

Thank you for using our software.
"""
HTML = """<html><body>
<p>Hello {{ name or "there" }},</p>
<p>This month we released a new version, with <b>faster housekeeping</b>, new templates for
network devices, and a reworked dashboard. Read the release notes on our site.</p>
<p>Thank you for using our software.</p>
</body></html>
"""


def _vault(folder: Path) -> Any:
    from pledge.store.database import sqlite_url
    from pledge.store.keys import LocalKeyFileProvider
    from pledge.store.vault import Vault

    return Vault.open(
        sqlite_url(folder / "pledge.sqlite3"),
        LocalKeyFileProvider(folder / "master.key", create=True),
        POLICY.read_text(encoding="utf-8"),
        policy_file=str(POLICY),
    )


def _settings(port: int = 25) -> Any:
    from pledge.mail.settings import MailSettings

    return MailSettings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        from_address=FROM,
        unsubscribe_url="https://privacy.zabbix.example/unsubscribe",
        batch_size=200,
        connections=4,
    )


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- phases, each run in its own process -------------------------------------------------


def populate(folder: Path, people: int) -> dict[str, Any]:
    from pledge.store.collect import Collection

    vault = _vault(folder)
    started = time.perf_counter()
    batch = 1000
    for start in range(0, people, batch):
        vault.collect_many(
            [
                Collection(
                    "newsletter",
                    {"email": f"subscriber{n}@example.com"},
                    choices={MARKETING: n % 10 >= OPTED_OUT * 10},
                    age=30,
                )
                for n in range(start, min(start + batch, people))
            ]
        )
    vault.close()
    return {"seconds": time.perf_counter() - started}


def gate(folder: Path) -> dict[str, Any]:
    from pledge.mail.campaign import run_campaign
    from pledge.mail.gate import Gate
    from pledge.mail.segments import Segment
    from pledge.mail.templates import TemplateSet
    from pledge.mail.unsubscribe import Unsubscribes

    templates = folder / "template"
    templates.mkdir(exist_ok=True)
    (templates / "subject.txt").write_text(SUBJECT)
    (templates / "body.txt").write_text(TEXT)
    (templates / "body.html").write_text(HTML)
    vault = _vault(folder)
    settings = _settings()
    tokens = Unsubscribes.for_vault(vault, settings).tokens
    the_gate = Gate(vault, "newsletter", TemplateSet(templates), settings, tokens)
    started = time.perf_counter()
    summary = run_campaign(
        the_gate, Segment("newsletter"), "bench", dry_run=False, chunk_size=settings.chunk_size
    )
    seconds = time.perf_counter() - started
    vault.close()
    return {
        "recipients": summary.seen,
        "queued": summary.queued,
        "skipped": sum(summary.skipped.values()),
        "seconds": seconds,
        "rate": summary.seen / seconds,
        "rss_mib": _peak_rss_mib(),
    }


def deliver(folder: Path, port: int) -> dict[str, Any]:
    from pledge.mail.sender import Sender, SmtpTransport

    vault = _vault(folder)
    settings = _settings(port)
    started = time.perf_counter()
    report = Sender(vault, SmtpTransport.from_settings(settings), settings).run()
    seconds = time.perf_counter() - started
    vault.close()
    return {
        "sent": report.sent,
        "failed": report.failed + report.bounced,
        "seconds": seconds,
        "rate": report.sent / seconds,
        "rss_mib": _peak_rss_mib(),
    }


def sink(port: int, count_file: Path) -> None:
    """An SMTP server that accepts and drops everything, counting; runs until killed."""
    import signal

    from aiosmtpd.controller import Controller

    class Count:
        received = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            Count.received += 1
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)

    def stop(*_: Any) -> None:
        controller.stop()
        count_file.write_text(str(Count.received))
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.pause()


# --- the driver ------------------------------------------------------------------------------


def _phase(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"phase {args[0]} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_size(people: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="pledge-bench-mail-") as tmp:
        folder = Path(tmp)
        print(f"{people:,} recipients: populating", file=sys.stderr)
        populated = _phase("populate", tmp, str(people))
        print(f"{people:,} recipients: gating", file=sys.stderr)
        gated = _phase("gate", tmp)
        port = _free_port()
        count_file = folder / "sink.count"
        server = subprocess.Popen(
            [sys.executable, __file__, "--phase", "sink", str(port), str(count_file)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            server.stdout.readline()
            print(f"{people:,} recipients: delivering", file=sys.stderr)
            delivered = _phase("deliver", tmp, str(port))
        finally:
            server.terminate()
            server.wait(10)
            if server.stdout:
                server.stdout.close()
        received = int(count_file.read_text()) if count_file.exists() else -1
    return {
        "people": people,
        "populate": populated,
        "gate": gated,
        "deliver": delivered,
        "received": received,
    }


def report(results: list[dict[str, Any]]) -> str:
    small, large = results[0], results[-1]
    lines = [
        "## Email gate: a newsletter campaign, queued and delivered",
        "",
        f"`{command_line()}`: a fresh SQLite store per size, newsletter subscribers of "
        f"`examples/policies/zabbix.yaml` of whom {OPTED_OUT:.0%} opted out. *Gated + "
        "rendered*: `run_campaign` decides each recipient in bulk, decrypts the addresses it "
        "may use, renders a text and HTML template with the footer and unsubscribe headers, "
        "and writes the outbox rows and one audit entry per recipient. *Delivered*: one "
        "`Sender` with 4 SMTP connections empties the outbox into an aiosmtpd sink running in "
        "another process on the same machine, committing each message's outcome.",
        "",
        "| recipients | gated + rendered | recipients/s | goal | delivered | messages/s | goal "
        "| peak RSS gate | peak RSS deliver |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        g, d = r["gate"], r["deliver"]
        lines.append(
            f"| {r['people']:,} | {g['queued']:,} queued, {g['skipped']:,} skipped in "
            f"{g['seconds']:.1f} s | **{g['rate']:,.0f}** | {GOAL_GATE:,} "
            f"| {d['sent']:,} in {d['seconds']:.1f} s (sink counted {r['received']:,}) "
            f"| **{d['rate']:,.0f}** | {GOAL_DELIVER:,} "
            f"| {g['rss_mib']:.0f} MiB | {d['rss_mib']:.0f} MiB |"
        )
    growth_gate = large["gate"]["rss_mib"] - small["gate"]["rss_mib"]
    growth_deliver = large["deliver"]["rss_mib"] - small["deliver"]["rss_mib"]
    lines += [
        "",
        f"Memory from {small['people']:,} to {large['people']:,} recipients: gate "
        f"{growth_gate:+.0f} MiB, deliver {growth_deliver:+.0f} MiB. Peak RSS is each phase "
        "process's high-water mark, imports included; the gate holds one chunk of 1,000 "
        "recipients at a time and the worker one claim of 200 messages per connection. "
        "Outcomes are committed without waiting for the disk (see docs/email.md).",
        "",
        machine_summary(("pledge", "sqlalchemy", "jinja2", "aiosmtpd")),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 and 10,000 recipients")
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        name, *rest = args.phase
        if name == "sink":
            sink(int(rest[0]), Path(rest[1]))
        elif name == "populate":
            print(json.dumps(populate(Path(rest[0]), int(rest[1]))))
        elif name == "gate":
            print(json.dumps(gate(Path(rest[0]))))
        elif name == "deliver":
            print(json.dumps(deliver(Path(rest[0]), int(rest[1]))))
        return
    sizes = (2_000, 10_000) if args.quick else (10_000, 100_000)
    results = [run_size(n) for n in sizes]
    markdown = report(results)
    print(markdown)
    if args.write or not args.quick:
        write_section(SECTION, markdown)
    slow = [
        r["people"]
        for r in results
        if r["gate"]["rate"] < GOAL_GATE or r["deliver"]["rate"] < GOAL_DELIVER
    ]
    if slow:
        print(f"below goal at {slow}", file=sys.stderr)


if __name__ == "__main__":
    main()
