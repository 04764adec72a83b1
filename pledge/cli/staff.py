"""``pledge staff``: enrol the people who work in the staff console."""

from __future__ import annotations

from typing import Annotated

import typer

from pledge.cli._output import JsonOption, console, print_json
from pledge.cli._vault import DatabaseOption, DataDirOption, PolicyOption, vault_for

app = typer.Typer(no_args_is_help=True, help="Staff of the console (/admin) and their roles.")


@app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="Where their sign-in links go.")],
    role: Annotated[
        list[str], typer.Option("--role", help="A policy role they may act as (repeatable).")
    ],
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Enrol EMAIL for the staff console and print their TOTP secret as an otpauth:// URI,
    once: give it to them to add to an authenticator app (or make it a QR code:
    `qrencode -t ansiutf8 'otpauth://...'`)."""
    with vault_for(policy, data_dir, database_url) as vault:
        enrolled = vault.add_staff(email, role, actor="cli")
    if as_json:
        print_json(
            {
                "staff": enrolled.staff_id,
                "roles": list(enrolled.roles),
                "otpauth_uri": enrolled.otpauth_uri,
            }
        )
        return
    console.print(f"enrolled staff {enrolled.staff_id} as {', '.join(enrolled.roles)}")
    console.print("their authenticator secret (shown once; it is not stored in clear):")
    console.print(enrolled.otpauth_uri, markup=False, soft_wrap=True)
