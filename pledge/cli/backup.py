"""``pledge backup create|restore``: backups of the database that erasure still reaches."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pledge.cli._output import console
from pledge.cli._vault import DatabaseOption, DataDirOption, PolicyOption, vault_for
from pledge.settings import load_settings
from pledge.store import backup as backups
from pledge.store.keys import DataKeyStore

app = typer.Typer(no_args_is_help=True, help="Back up and restore the database.")

PathArgument = Annotated[Path, typer.Argument(help="The backup file.")]


@app.command("create")
def create(
    path: PathArgument,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Write a backup of the database to PATH (no data keys in it) and snapshot the key store
    (kept for a week, see docs/operations.md)."""
    with vault_for(policy, data_dir, database_url) as vault:
        snapshot = vault.backup(path, actor="cli")
    console.print(f"backup written to {path}")
    if snapshot is not None:
        console.print(f"key store snapshot: {snapshot}")


@app.command("restore")
def restore(
    path: PathArgument,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Replace the database with the backup at PATH, then replay the erasure ledger so that
    nobody erased since the backup comes back. Stop every server and worker first."""
    if not yes and not typer.confirm("Replace the database with this backup?"):
        raise typer.Exit(1)
    settings = load_settings(policy=policy, data_dir=data_dir, database_url=database_url)
    url = settings.url()
    key_store = DataKeyStore.open(settings.keys_url())
    try:
        done = backups.restore(url, path, key_store)
    finally:
        key_store.close()
    with vault_for(policy, data_dir, database_url) as vault:
        replayed = vault.replayed_erasures
    console.print(
        f"restored {path}: {done.subjects} subject(s); {replayed} erased again from the "
        f"erasure ledger; {done.keys_recovered} key(s) recovered from key store snapshots"
    )
