"""``pledge demo``: the embedded default, set up and filled, with what to try next."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pledge.cli._output import JsonOption, console, print_json
from pledge.cli._vault import DatabaseOption, DataDirOption, vault_for
from pledge.demo import EXAMPLES, example_policy, fake_subjects
from pledge.errors import InputError


def demo(
    policy: Annotated[
        str,
        typer.Option(help="An example policy name (zabbix, zimbra, webix, 3cx, bitrix) or a file."),
    ] = "zabbix",
    subjects: Annotated[int, typer.Option(min=1, max=100_000, help="Subjects to create.")] = 25,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Set up a store (SQLite + local key file), collect fake subjects, print what to try."""
    path = Path(policy) if policy.endswith((".yaml", ".yml")) else example_policy(policy)
    if not path.is_file():
        known = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))
        raise InputError(f"no policy '{policy}'; use a file or one of: {', '.join(known)}")
    with vault_for(path, data_dir, database_url) as vault:
        made = vault.collect_many(list(fake_subjects(vault.policy.policy, subjects)))
        verified = vault.verify_audit()
        org = vault.policy.policy.organisation.name
        roles = list(vault.policy.policy.roles)
        purposes = list(vault.policy.policy.purposes)
    if as_json:
        print_json(
            {
                "organisation": org,
                "policy_version": vault.policy.version,
                "subjects": [
                    {"subject": m.subject, "point": m.point, "fields": list(m.fields)} for m in made
                ],
                "audit": {"entries": verified.entries, "verified": verified.ok},
            }
        )
        return
    table = Table(
        "subject", "collected at", "fields", title=f"{org} — policy {vault.policy.version}"
    )
    for item in made[:8]:
        table.add_row(item.subject, item.point, ", ".join(item.fields))
    if len(made) > 8:
        table.add_row("…", f"{len(made) - 8} more", "")
    console.print(table)
    console.print(f"audit log: {verified.entries} entries, verified={verified.ok}\n")
    first = made[0].subject
    where = f" --data-dir {data_dir}" if data_dir else ""
    console.print("[bold]Try next[/]")
    console.print(f"  pledge policy explain {path}")
    console.print(
        f"  pledge decide --policy {path} --role {roles[0]} --purpose {purposes[-1]} "
        "--category user.contact.email"
    )
    console.print(f"  pledge subjects export {first}{where}")
    console.print(f"  pledge audit verify{where}")
    console.print(f"  pledge subjects erase {first}{where}")
