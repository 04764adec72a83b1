"""``pledge demo``: the embedded default, set up and filled, with what to try next; with
``--serve``, the service itself on it, in development mode, for the privacy center journey:
sign in as a demo person with the link the development mailbox shows (no SMTP server)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.table import Table

from pledge.api.app import create_app
from pledge.api.config import ApiSettings
from pledge.api.logs import configure_logging
from pledge.cli._output import JsonOption, console, print_json
from pledge.cli._vault import DatabaseOption, DataDirOption, vault_for
from pledge.demo import (
    EXAMPLES,
    disclose_once,
    example_policy,
    fake_subjects,
    person_to_sign_in,
)
from pledge.errors import InputError
from pledge.mail.settings import MailSettings
from pledge.mail.sign_in import SignInMail, sign_in_communication
from pledge.store.collect import Collected
from pledge.store.vault import Vault


def demo(
    policy: Annotated[
        str,
        typer.Option(help="An example policy name (zabbix, zimbra, webix, 3cx, bitrix) or a file."),
    ] = "zabbix",
    subjects: Annotated[int, typer.Option(min=1, max=100_000, help="Subjects to create.")] = 25,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then serve the privacy center (development mode) until Ctrl-C; its emails "
            "show at /dev/mailbox.",
        ),
    ] = False,
    host: Annotated[str, typer.Option(help="With --serve: address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="With --serve: port to listen on.")
    ] = 8000,
) -> None:
    """Set up a store (SQLite + local key file), collect fake subjects, print what to try."""
    path = Path(policy) if policy.endswith((".yaml", ".yml")) else example_policy(policy)
    if not path.is_file():
        known = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))
        raise InputError(f"no policy '{policy}'; use a file or one of: {', '.join(known)}")
    with vault_for(path, data_dir, database_url) as vault:
        made = vault.collect_many(list(fake_subjects(vault.policy.policy, subjects)))
        if serve:
            serve_demo(vault, made, host, port)
            return
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


def serve_demo(vault: Vault, made: list[Collected], host: str, port: int) -> None:
    """Serve the service on ``vault`` in development mode, its mail in the dev mailbox, after
    saying who to sign in as and where the link arrives."""
    base = f"http://{host}:{port}"
    app = create_app(vault, settings=ApiSettings(dev=True))
    communication = sign_in_communication(vault, MailSettings())
    subject = person_to_sign_in(vault, made, communication) if communication else None
    if subject is None:
        raise InputError(
            "this policy has no transactional or service email to send sign-in links as, or "
            "no collection point that holds an email for it; try another policy"
        )
    domain = (vault.policy.policy.organisation.sender_domains or ["example.org"])[0]
    settings = MailSettings(
        from_address=f"Privacy <privacy@{domain}>", sign_in_url=f"{base}/sign-in"
    )
    app.state.sign_in_mail = SignInMail(vault, settings, app.state.dev_mailbox)
    recipient = disclose_once(vault, subject)
    email = next(
        d["value"]
        for d in vault.export(subject, actor="demo")["data"]
        if d["category"] == "user.contact.email"
    )
    console.print(
        f"[bold]{vault.policy.policy.organisation.name}'s privacy center[/]: {base}/sign-in"
    )
    console.print(f"  sign in as [bold]{email}[/] (a demo person; their data is made up)")
    console.print(f"  the sign-in link arrives in {base}/dev/mailbox (development only: no SMTP)")
    if recipient:
        console.print(
            f"  their data was disclosed to {recipient}: check its proof under Disclosures"
        )
    console.print("  Ctrl-C stops the server")
    configure_logging(json=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")
