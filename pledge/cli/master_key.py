"""``pledge master-key rotate``: move every wrapped key to a new master key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from pledge.cli._output import JsonOption, console, print_json
from pledge.cli._vault import DatabaseOption, DataDirOption, PolicyOption, vault_for
from pledge.errors import InputError
from pledge.store.keys import EnvKeyProvider, KeyProvider, LocalKeyFileProvider
from pledge.store.rotation import Rotation
from pledge.store.vault import Vault

app = typer.Typer(no_args_is_help=True, help="The master key that wraps every data key.")


@app.command("rotate")
def rotate(
    new_key_env: Annotated[
        str | None,
        typer.Option(help="Take the new key from this environment variable (env key source)."),
    ] = None,
    destroy_old: Annotated[
        bool,
        typer.Option(
            "--destroy-old",
            help="Delete the old key file instead of keeping it as master.key.retired-<id>.",
        ),
    ] = False,
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Re-wrap every data key and store secret under a new master key (no data re-encrypted).

    With the local key file, a new file is made and swapped in; the old one is kept beside it
    as master.key.retired-<key id> until you delete it, or deleted at once with
    --destroy-old. Destroying it is what erases for good whatever the database's own files and
    backups keep under it (with a key store in PostgreSQL: erased subjects' wrapped keys).
    With --new-key-env, point PLEDGE_MASTER_KEY at the new key once this succeeds, and
    destroy the old value wherever it was kept.
    """
    if destroy_old and new_key_env is not None:
        raise InputError(
            "--destroy-old deletes the local key file; an old key from the environment is "
            "yours to destroy wherever it is kept"
        )
    with vault_for(policy, data_dir, database_url) as vault:
        current = vault.keys
        if new_key_env is not None:
            new: KeyProvider = EnvKeyProvider(new_key_env)
            done = vault.rotate_master_key(new, actor="cli")
        elif isinstance(current, LocalKeyFileProvider):
            done = _rotate_file(vault, current, destroy_old=destroy_old)
        else:
            raise InputError("the master key comes from the environment: pass --new-key-env VAR")
    if as_json:
        print_json(
            {
                "old_key_id": done.old_key_id,
                "new_key_id": done.new_key_id,
                "subject_keys": done.subject_keys,
                "store_secrets": done.store_secrets,
            }
        )
        return
    console.print(
        f"master key rotated: {done.old_key_id} -> {done.new_key_id}; "
        f"{done.subject_keys} subject key(s) and {done.store_secrets} store secret(s) re-wrapped"
    )


def _rotate_file(vault: Vault, current: LocalKeyFileProvider, *, destroy_old: bool) -> Rotation:
    path = Path(current.path)
    staged = path.with_name(path.name + ".next")
    if staged.exists():
        raise InputError(
            f"{staged} exists from an earlier rotation that did not finish; check which key the "
            "store uses (opening it names the key id) and remove the other file"
        )
    done = vault.rotate_master_key(LocalKeyFileProvider(staged, create=True), actor="cli")
    retired = path.with_name(f"{path.name}.retired-{done.old_key_id}")
    os.replace(path, retired)
    os.replace(staged, path)
    if destroy_old:
        retired.unlink()
    return done
