"""``pledge logs``: take in a web server's access log minimised, and report on it in aggregate."""

from __future__ import annotations

import gzip
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, TextIO

import typer
from rich.table import Table

from pledge.cli._output import console, err_console, print_json
from pledge.cli._vault import DatabaseOption, DataDirOption, PolicyOption, vault_for
from pledge.errors import InputError
from pledge.logs.aggregate import BATCH_LINES, ingest
from pledge.logs.minimise import Minimiser
from pledge.logs.parse import parse
from pledge.store.weblogs import DIMENSIONS

app = typer.Typer(no_args_is_help=True, help="Web-server access logs, kept minimised.")


@contextmanager
def _lines(source: str) -> Iterator[TextIO]:
    """``-`` for standard input, a ``.gz`` file, or a plain file; undecodable bytes replaced."""
    if source == "-":
        yield io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
        return
    opener = gzip.open if source.endswith(".gz") else open
    try:
        stream: TextIO = opener(source, "rt", encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read the log {source}: {exc.strerror}") from None
    with stream:
        yield stream


@app.command("ingest")
def ingest_command(
    source: Annotated[str, typer.Argument(help="Access log file (plain or .gz), or - for stdin.")],
    batch: Annotated[int, typer.Option(help="Lines per stored batch.", min=1)] = BATCH_LINES,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Read SOURCE (combined, common or JSON lines) and keep what the policy's web_logs says."""
    with vault_for(policy, data_dir, database_url) as vault, _lines(source) as lines:
        minimise = Minimiser(
            vault.web_log_rules(),
            vault.web_log_hasher(),
            minimum_age=vault.web_log_minimum_age(),
        )
        intake = ingest(
            parse(lines),
            minimise,
            lambda counts: vault.store_web_visits(counts.items(), actor="cli"),
            batch,
        )
    if as_json:
        print_json(vars(intake))
    else:
        console.print(
            f"{intake.lines} line(s) read, {intake.visits} visit(s) kept as {intake.rows} row(s)"
        )
    if intake.underage:
        err_console.print(
            f"[yellow]{intake.underage} visit(s) not kept[/]: they state an age under the "
            f"policy's minimum of {minimise.minimum_age}"
        )
    if intake.malformed:
        shown = ", ".join(map(str, intake.malformed_lines))
        more = "" if intake.malformed == len(intake.malformed_lines) else ", ..."
        err_console.print(
            f"[yellow]{intake.malformed} malformed line(s) skipped[/]: line {shown}{more}"
        )


@app.command("report")
def report_command(
    by: Annotated[str, typer.Option("--by", help=f"One of: {', '.join(DIMENSIONS)}.")] = "page",
    limit: Annotated[int, typer.Option(help="Most groups shown.", min=1)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Counts per page, referrer, browser or day; groups below the policy's minimum withheld."""
    with vault_for(policy, data_dir, database_url) as vault:
        found = vault.web_log_report(by, limit=limit, actor="cli")
    if as_json:
        print_json(
            {
                "by": found.dimension,
                "min_group_size": found.min_group_size,
                "counted": found.counted,
                "groups": [vars(g) for g in found.groups],
                "withheld_groups": found.withheld_groups,
                "withheld_hits": found.withheld_hits,
            }
        )
        return
    table = Table(by, found.counted, "requests", title=f"web log by {by}")
    for group in found.groups:
        table.add_row(group.value, str(group.visitors), str(group.hits))
    console.print(table)
    console.print(
        f"{found.withheld_groups} group(s) with fewer than {found.min_group_size} "
        f"{found.counted} withheld ({found.withheld_hits} request(s))"
    )
