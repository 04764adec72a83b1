"""``pledge cookies scan URL``: what a page stores in a browser, against the policy.

Exit 0 when everything found is declared and set only when allowed, 1 when anything is
flagged (so CI can run it against a staging site), 2 when the scan itself could not run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from pledge.cli._output import console, print_json
from pledge.policy import load_policy
from pledge.settings import load_settings
from pledge.web.scan import SETTLE_MS
from pledge.web.scan import scan as scan_page

app = typer.Typer(no_args_is_help=True, help="Check what a website stores in browsers.")


@app.command()
def scan(
    url: Annotated[str, typer.Argument(help="The page to load, http:// or https://.")],
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="Policy file (default: $PLEDGE_POLICY).", show_default=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    wait: Annotated[
        int, typer.Option("--wait", min=0, help="Milliseconds to let scripts run after each load.")
    ] = SETTLE_MS,
) -> None:
    """Load URL in headless Chromium before consent, after accepting and after refusing; list
    every cookie and storage item, and flag what the policy does not declare or allow."""
    path = policy or load_settings().policy
    if path is None:
        raise typer.BadParameter("name the policy with --policy or $PLEDGE_POLICY")
    findings = scan_page(url, load_policy(path).policy, settle_ms=wait)
    flagged = [f for f in findings if f.problem]
    if as_json:
        print_json({"url": url, "findings": [f.as_dict() for f in findings]})
    else:
        table = Table(box=box.SIMPLE_HEAD)
        for column in ("stage", "kind", "name", "domain", "category", "problem"):
            table.add_column(column)
        for f in findings:
            table.add_row(
                f.stage,
                f.kind,
                f.name,
                f.domain,
                f.category or "-",
                f"[red]{f.problem}[/red]" if f.problem else "",
            )
        console.print(table)
        console.print(f"{len(findings)} found, {len(flagged)} flagged")
    if flagged:
        raise typer.Exit(1)
