"""``pledge mail``: send a campaign through the email gate, and deliver the outbox.

``send`` gates every person of a segment (deciding, rendering, queuing, auditing) and says
who was skipped and why, by reason code and policy path, naming people by subject id only.
``--dry-run`` does the deciding without decrypting an address or queuing anything. ``deliver``
runs the sender worker until every queued message has an outcome.

SMTP, the From address and the unsubscribe URL come from ``PLEDGE_MAIL_*`` variables (see
``docs/email.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pledge.cli._output import JsonOption, console, err_console, print_json
from pledge.cli._vault import DatabaseOption, DataDirOption, PolicyOption, vault_for
from pledge.mail.campaign import Summary, campaign_id, run_campaign
from pledge.mail.gate import Gate
from pledge.mail.segments import Segment
from pledge.mail.sender import Delivery, Sender, SmtpTransport
from pledge.mail.settings import load_mail_settings
from pledge.mail.templates import TemplateSet
from pledge.mail.unsubscribe import Unsubscribes
from pledge.store import outbox

app = typer.Typer(no_args_is_help=True, help="Send email through the gate, and deliver it.")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )


@app.command()
def send(
    communication: Annotated[
        str,
        typer.Option(
            "--type", help="The policy's communication type to send as.", show_default=False
        ),
    ],
    template: Annotated[
        Path,
        typer.Option(
            help="Folder with subject.txt, body.txt and optionally body.html.", show_default=False
        ),
    ],
    to_segment: Annotated[
        str, typer.Option("--to-segment", help="'all', or 'point:<collection point>'.")
    ] = "all",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide only: show who would be skipped and why.")
    ] = False,
    campaign: Annotated[
        str | None,
        typer.Option(help="Campaign id (the idempotency key). Default: TYPE-TEMPLATE-DATE."),
    ] = None,
    show: Annotated[int, typer.Option(min=0, help="Subject ids to show per skip reason.")] = 10,
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Gate a campaign into the outbox (or, with --dry-run, only say who would get it)."""
    settings = load_mail_settings()
    with vault_for(policy, data_dir, database_url) as vault:
        templates = TemplateSet(template)
        tokens = Unsubscribes.for_vault(vault, settings).tokens
        gate = Gate(vault, communication, templates, settings, tokens)
        segment = Segment.parse(to_segment, vault.policy)
        the_id = campaign_id(campaign, communication, templates.name, vault.clock().date())
        total = segment.count(vault)
        with _progress() as progress:
            task = progress.add_task("deciding" if dry_run else "gating", total=total)
            summary = run_campaign(
                gate,
                segment,
                the_id,
                dry_run=dry_run,
                chunk_size=settings.chunk_size,
                keep_examples=show,
                on_chunk=lambda n: progress.advance(task, n),
            )
    if as_json:
        print_json(summary.to_dict())
    else:
        _print_summary(summary)


def _print_summary(summary: Summary) -> None:
    verb = "would be queued" if summary.dry_run else "queued"
    console.print(
        f"campaign [bold]{summary.campaign}[/bold] ({summary.communication} to "
        f"{summary.segment}): {summary.seen} people, {summary.queued} {verb}, "
        f"{sum(summary.skipped.values())} skipped, {summary.already_queued} already queued"
    )
    if summary.skipped:
        table = Table(title="skipped")
        table.add_column("reason", no_wrap=True)
        table.add_column("policy", overflow="fold")
        table.add_column("people", justify="right")
        table.add_column("subject ids", overflow="fold")
        for key, count in sorted(summary.skipped.items(), key=lambda kv: -kv[1]):
            code, ref = key
            ids = summary.examples.get(key, [])
            more = f" … and {count - len(ids)} more" if count > len(ids) and ids else ""
            table.add_row(code, ref, str(count), ", ".join(ids) + more)
        console.print(table)
    if not summary.dry_run and summary.queued:
        console.print("run [bold]pledge mail deliver[/bold] to send them")


@app.command()
def deliver(
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Send every queued message over SMTP, retrying with backoff, until none is open."""
    settings = load_mail_settings()
    with vault_for(policy, data_dir, database_url) as vault:
        before = outbox.counts(vault)
        open_now = before["pending"] + before["sending"]
        with _progress() as progress:
            task = progress.add_task("delivering", total=open_now)
            sender = Sender(
                vault,
                SmtpTransport.from_settings(settings),
                settings,
                on_result=lambda _status: progress.advance(task),
            )
            report = sender.run()
        after = outbox.counts(vault)
    if as_json:
        print_json(
            {
                "sent": report.sent,
                "bounced": report.bounced,
                "failed": report.failed,
                "retried": report.retried,
                "errors": report.errors,
                "outbox": after,
            }
        )
    else:
        _print_delivery(report, after)


def _print_delivery(report: Delivery, after: dict[str, int]) -> None:
    console.print(
        f"sent {report.sent}, bounced {report.bounced}, failed {report.failed}, "
        f"retried {report.retried} times"
    )
    if report.errors:
        table = Table("SMTP error", "times", title="errors")
        for error, times in sorted(report.errors.items(), key=lambda kv: -kv[1]):
            table.add_row(error, str(times))
        console.print(table)
    console.print("outbox: " + ", ".join(f"{k} {v}" for k, v in after.items()))
