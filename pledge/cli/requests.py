"""``pledge requests``: the queue of data-subject requests, and answering them.

Each command acts as ``cli`` in the audit log (or the name given with ``--as``), and queues
the person's email about the step it took (see :mod:`pledge.mail.request_notices`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from pledge.cli._output import JsonOption, console, err_console, print_json
from pledge.cli._vault import DatabaseOption, DataDirOption, PolicyOption, vault_for
from pledge.errors import PledgeError
from pledge.mail.request_notices import NoticeReport, send_request_notices
from pledge.mail.request_notices import answer as answer_request
from pledge.store.requests import Request
from pledge.store.vault import Vault

app = typer.Typer(no_args_is_help=True, help="Data-subject requests: the queue, by what is due.")

RequestArg = Annotated[str, typer.Argument(help="The request's id (from `pledge requests list`).")]
ActorOption = Annotated[str, typer.Option("--as", help="Who acts, as the audit log names them.")]


def as_dict(request: Request) -> dict[str, Any]:
    """A request as plain data: ids, kind, state and dates; its steps' words when shown."""
    return {
        "request": request.request_id,
        "subject": request.subject,
        "kind": request.kind,
        "state": request.state,
        "received_at": request.received_at.isoformat(),
        "acknowledge_by": request.acknowledge_by.isoformat(),
        "respond_by": request.respond_by.isoformat(),
        "extended": request.extended,
        "urgency": request.urgency.value if request.urgency else None,
        "law": request.law,
        "closed_at": request.closed_at.isoformat() if request.closed_at else None,
        "last_error": request.last_error,
        "steps": [
            {"step": s.step, "actor": s.actor, "at": s.at.isoformat(), "message": s.message}
            for s in request.steps
        ],
    }


def notify_now(vault: Vault) -> None:
    """Queue the person's email about the step just taken; a problem is said on stderr and
    leaves the step standing (``pledge requests run`` retries)."""
    try:
        report = send_request_notices(vault)
    except PledgeError as error:
        report = NoticeReport(failed={"*": error.message})
    if report.waiting:
        err_console.print(
            "note: the person was not emailed: set PLEDGE_MAIL_FROM_ADDRESS (and "
            "PLEDGE_MAIL_REQUESTS_COMMUNICATION when the policy has no transactional one)"
        )
    for what, problem in report.failed.items():
        err_console.print(f"note: an email was not queued ({what}): {problem}", markup=False)


def _print(request: Request, as_json: bool) -> None:
    if as_json:
        print_json(as_dict(request))
        return
    due = f"due {request.respond_by}" + (" (extended)" if request.extended else "")
    console.print(f"{request.request_id} {request.kind} {request.state.replace('_', ' ')}, {due}")
    for s in request.steps:
        console.print(f"  {s.at:%Y-%m-%d %H:%M} {s.step} by {s.actor}")
        if s.message:
            console.print(f"    {s.message}", markup=False)


@app.command("list")
def list_requests(
    closed: Annotated[bool, typer.Option("--closed", help="Closed requests instead.")] = False,
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """The open requests, overdue first, then by due date (no personal value is shown)."""
    with vault_for(policy, data_dir, database_url) as vault:
        found = vault.request_queue(closed=closed)
    if as_json:
        print_json([as_dict(r) for r in found])
        return
    table = Table("request", "kind", "state", "due", "urgency", "subject")
    for r in found:
        table.add_row(
            r.request_id,
            r.kind,
            r.state.replace("_", " "),
            r.respond_by.isoformat() + (" (ext.)" if r.extended else ""),
            (r.urgency.value if r.urgency else "closed").replace("_", " "),
            r.subject,
        )
    console.print(table if found else "no requests")


@app.command("show")
def show(
    request_id: RequestArg,
    actor: ActorOption = "cli",
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """One request with its steps and what was written in them (the reading is audited)."""
    with vault_for(policy, data_dir, database_url) as vault:
        _print(vault.request(request_id, actor=actor), as_json)


@app.command("verify")
def verify(
    request_id: RequestArg,
    actor: ActorOption = "cli",
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Record that the person's identity was checked another way."""
    with vault_for(policy, data_dir, database_url) as vault:
        done = vault.verify_request(request_id, actor=actor)
        notify_now(vault)
    _print(done, as_json)


@app.command("extend")
def extend(
    request_id: RequestArg,
    reason: Annotated[str, typer.Option("--reason", help="Why; the person is told.")],
    actor: ActorOption = "cli",
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Extend the deadline as far as the policy's law allows, telling the person why."""
    with vault_for(policy, data_dir, database_url) as vault:
        done = vault.extend_request(request_id, reason, actor=actor)
        notify_now(vault)
    _print(done, as_json)


@app.command("answer")
def answer(
    request_id: RequestArg,
    text: Annotated[str, typer.Option("--text", help="The answer the person gets.")],
    refuse: Annotated[
        bool, typer.Option("--refuse", help="Refuse the request; --text says why.")
    ] = False,
    actor: ActorOption = "cli",
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Answer a request (done), or refuse it with a reason. An erasure is carried out."""
    with vault_for(policy, data_dir, database_url) as vault:
        if refuse:
            done = vault.refuse_request(request_id, text, actor=actor)
        else:
            done = answer_request(vault, request_id, text, actor=actor)
        notify_now(vault)
    _print(done, as_json)


@app.command("run")
def run(
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Do the due work (expire the unverified) and queue the emails not yet queued; each
    request on its own, so one failing holds up none of the others. For cron."""
    with vault_for(policy, data_dir, database_url) as vault:
        report = vault.run_requests()
        notices = send_request_notices(vault)
    if as_json:
        print_json(
            {
                "expired": report.expired,
                "failed": report.failed,
                "emails_queued": notices.queued,
                "emails_failed": notices.failed,
            }
        )
        return
    console.print(
        f"expired {report.expired}, failed {len(report.failed)}; "
        f"emails queued {notices.queued}, failed {len(notices.failed)}"
    )
    for request_id, error in {**report.failed, **notices.failed}.items():
        console.print(f"  {request_id}: {error}", markup=False)


@app.command("open")
def open_request(
    subject: Annotated[str, typer.Argument(help="Subject id.")],
    kind: Annotated[str, typer.Option("--kind", help="access, erase, complaint, inquiry...")],
    text: Annotated[str | None, typer.Option("--text", help="What the person wrote.")] = None,
    actor: ActorOption = "cli",
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Log a request that came by letter, phone or email: it waits until the person's
    identity is verified (`pledge requests verify`, or their signing in), else it expires."""
    with vault_for(policy, data_dir, database_url) as vault:
        done = vault.open_request(subject, kind, text, actor=actor, verified=False)
        notify_now(vault)
    _print(done, as_json)
