"""Store commands: a subject's export and erasure, the audit log, retention."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.table import Table

from pledge.cli._output import JsonOption, console, err_console, print_json
from pledge.cli._vault import DatabaseOption, DataDirOption, PolicyOption, vault_for
from pledge.errors import ExitCode, InputError
from pledge.store.audit.checkpoint import Checkpoint, parse_note

subjects = typer.Typer(no_args_is_help=True, help="A data subject's rights: export, erase.")
audit = typer.Typer(no_args_is_help=True, help="Check and prove the audit log.")
retention = typer.Typer(no_args_is_help=True, help="Delete what the policy no longer keeps.")


@subjects.command("export")
def export(
    subject: Annotated[str, typer.Argument(help="Subject id.")],
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Print everything held about SUBJECT as JSON (the right of access)."""
    with vault_for(policy, data_dir, database_url) as vault:
        print_json(vault.export(subject, actor="cli"))


@subjects.command("erase")
def erase(
    subject: Annotated[str, typer.Argument(help="Subject id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Erase SUBJECT: destroy its key and delete its data, keeping only legal holds."""
    with vault_for(policy, data_dir, database_url) as vault:
        vault.require_subject(subject)
        if not yes and not typer.confirm(f"Erase subject {subject}? This cannot be undone"):
            raise typer.Exit(ExitCode.DENIED)
        done = vault.erase(subject, actor="cli")
    if as_json:
        print_json(
            {
                "subject": subject,
                "deleted": list(done.deleted_fields),
                "held": list(done.held_fields),
                "held_until": done.held_until.isoformat() if done.held_until else None,
                "key_destroyed": done.key_destroyed,
            }
        )
        return
    console.print(
        f"erased {subject}: {len(done.deleted_fields)} value(s) deleted, "
        f"key {'destroyed' if done.key_destroyed else 'kept for legal holds'}"
    )
    for field in done.held_fields:
        console.print(f"  kept for the law until {done.held_until:%Y-%m-%d}: {field}")


@audit.command("verify")
def verify(
    as_json: JsonOption = False,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            help="A checkpoint kept apart from the database (a C2SP signed note) the log must "
            "still contain.",
        ),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Read every entry, not only those since the last run.")
    ] = False,
    every_checkpoint: Annotated[
        bool, typer.Option("--every-checkpoint", help="Also check each earlier checkpoint.")
    ] = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Check the log against its signed checkpoints (and CHECKPOINT); exit 5 on any tampering.

    Reads the entries added since the last verification unless --full."""
    with vault_for(policy, data_dir, database_url) as vault:
        kept = None if checkpoint is None else _read_checkpoint(vault.audit.public_key, checkpoint)
        result = vault.verify_audit(full=full, every_checkpoint=every_checkpoint, outside=kept)
        note = None if result.checkpoint is None else result.checkpoint.note(vault.audit.public_key)
    report = {
        "ok": result.ok,
        "entries": result.entries,
        "read": result.read,
        "checkpoint": None
        if result.checkpoint is None
        else {"size": result.checkpoint.size, "root": result.checkpoint.root.hex(), "note": note},
        "problem": None
        if result.problem is None
        else {
            "entry": result.problem.seq,
            "kind": result.problem.kind,
            "message": result.problem.message,
        },
    }
    if as_json:
        print_json(report)
    elif result.problem is None:
        console.print(
            f"[green]audit log verified[/]: {result.entries} entries ({result.read} read), "
            f"root {result.checkpoint.root.hex() if result.checkpoint else '-'}"
        )
    else:
        err_console.print(
            f"[red]audit log check failed[/] at entry {result.problem.seq} "
            f"({result.problem.kind}): {result.problem.message}"
        )
    if not result.ok:
        raise typer.Exit(ExitCode.INTEGRITY)


def _read_checkpoint(public_key: Ed25519PublicKey, path: Path) -> Checkpoint:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the checkpoint {path}: {type(exc).__name__}") from None
    return parse_note(text, public_key)


@audit.command("integrate")
def integrate(
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Integrate the queued audit leaves now, unless another process is the sequencer."""
    with vault_for(policy, data_dir, database_url, sequencer=False) as vault:
        done = vault.audit.sequencer.integrate()
    if done is None:
        console.print("another process is the audit sequencer; it integrates the queue")
    else:
        console.print(f"integrated {done} queued audit leaves")


@audit.command("prove")
def prove(
    entry: Annotated[int, typer.Argument(help="Entry number (its sequence in the log).")],
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Print an inclusion proof of ENTRY against the latest signed checkpoint, as JSON."""
    with vault_for(policy, data_dir, database_url) as vault:
        proof = vault.prove_entry(entry)
        proof["public_key"] = vault.audit.public_key.public_bytes_raw().hex()
    print_json(proof)


@audit.command("consistency")
def consistency(
    old_size: Annotated[int, typer.Argument(help="Size of the log you hold a checkpoint for.")],
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Print a proof that today's log only grew since it had OLD_SIZE entries, as JSON."""
    with vault_for(policy, data_dir, database_url) as vault:
        proof = vault.prove_consistency(old_size)
        proof["public_key"] = vault.audit.public_key.public_bytes_raw().hex()
    print_json(proof)


@retention.command("run")
def run(
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Delete values past their retention period and legal holds that have ended."""
    with vault_for(policy, data_dir, database_url) as vault:
        report = vault.run_retention()
    if as_json:
        print_json(
            {
                "deleted": dict(sorted(report.deleted.items())),
                "subjects": report.subjects,
                "keys_destroyed": report.keys_destroyed,
                "web_visits": report.web_visits,
                "cookie_receipts": report.cookie_receipts,
            }
        )
        return
    table = Table("category", "values deleted", title="retention run")
    for category, count in sorted(report.deleted.items()):
        table.add_row(category, str(count))
    console.print(table)
    console.print(f"{report.subjects} subject(s) touched, {report.keys_destroyed} key(s) destroyed")
    if report.web_visits:
        console.print(f"{report.web_visits} web-log row(s) past retention deleted")
    if report.cookie_receipts:
        console.print(f"{report.cookie_receipts} browser(s)' cookie-banner answers aged out")
