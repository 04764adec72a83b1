"""``pledge keys``: API keys for the REST service, from the machine that runs it.

The first admin key can only come from here: whoever can read the server's settings and
master key is already trusted with everything. ``create`` prints the key alone on stdout
(``KEY=$(pledge keys create --admin)``), once; only its hash is kept.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pledge.api.keys import KeyStore, Scope
from pledge.cli._output import JsonOption, console, err_console, print_json
from pledge.cli._vault import DatabaseOption, DataDirOption, PolicyOption, vault_for

app = typer.Typer(no_args_is_help=True, help="Create, list and revoke API keys.")


@app.command()
def create(
    role: Annotated[str | None, typer.Option(help="A staff role of the policy.")] = None,
    on_behalf: Annotated[
        bool,
        typer.Option(
            "--on-behalf",
            help="With --role: may also record a person's choices on their behalf, with a "
            "reason (an agent key).",
        ),
    ] = False,
    recipient: Annotated[str | None, typer.Option(help="A recipient of the policy.")] = None,
    collector: Annotated[
        bool,
        typer.Option(
            "--collector",
            help="The website's backend: collects and records the person's own choices.",
        ),
    ] = False,
    admin: Annotated[bool, typer.Option("--admin", help="An administrator key.")] = False,
    name: Annotated[str | None, typer.Option(help="A label, e.g. the system using it.")] = None,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Create a key for a collector (the website), a staff role, a recipient, or an
    administrator."""
    scope, actor = _scope(role, recipient, admin, collector)
    if on_behalf:
        if scope != "role":
            raise typer.BadParameter("only with --role", param_hint="'--on-behalf'")
        scope = "agent"
    with vault_for(policy, data_dir, database_url) as vault:
        key, text = KeyStore(vault).create(scope, actor, name, by="cli")
    err_console.print(
        f"created {key.scope} key {key.key_id}"
        + (f" for '{key.actor}'" if key.actor else "")
        + "; this is the only time it is shown, so store it now:",
        soft_wrap=True,
    )
    typer.echo(text)


def _scope(
    role: str | None, recipient: str | None, admin: bool, collector: bool
) -> tuple[Scope, str | None]:
    given: list[tuple[Scope, str | None]] = []
    if collector:
        given.append(("collector", None))
    if role is not None:
        given.append(("role", role))
    if recipient is not None:
        given.append(("recipient", recipient))
    if admin:
        given.append(("admin", None))
    if len(given) != 1:
        raise typer.BadParameter(
            "give exactly one of them",
            param_hint="'--collector' / '--role' / '--recipient' / '--admin'",
        )
    return given[0]


@app.command("list")
def listing(
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Every key, live and revoked (never a secret)."""
    with vault_for(policy, data_dir, database_url) as vault:
        keys = KeyStore(vault).all_keys()
    if as_json:
        print_json(
            [
                {
                    "key_id": k.key_id,
                    "scope": k.scope,
                    "actor": k.actor,
                    "name": k.name,
                    "created_at": k.created_at.isoformat(),
                    "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                }
                for k in keys
            ]
        )
        return
    table = Table("key id", "scope", "acts as", "name", "created", "revoked")
    for k in keys:
        table.add_row(
            k.key_id,
            k.scope,
            k.actor or "",
            k.name,
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        )
    console.print(table)


@app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id shown by create and list.")],
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Revoke KEY_ID: its next request is refused."""
    with vault_for(policy, data_dir, database_url) as vault:
        key = KeyStore(vault).revoke(key_id, by="cli")
    if as_json:
        print_json({"key_id": key.key_id, "scope": key.scope, "revoked": True})
        return
    console.print(f"revoked {key.scope} key {key.key_id}")
