"""``pledge policy diff`` and ``pledge policy render``: a policy file as a reviewer and as a
reader meet it.

``diff`` is meant to gate a pull request that edits a policy file: it exits 1 when any change
is material, so the change cannot slip through without the notice the policy promises.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from pledge.cli._output import console, print_json
from pledge.cli._vault import DatabaseOption, DataDirOption, PolicyOption, vault_for
from pledge.errors import ConflictError, InputError
from pledge.mail.policy_notice import NoticeRun, send_policy_notices
from pledge.mail.settings import load_mail_settings
from pledge.policy import load_policy
from pledge.policy.diff import diff_policies
from pledge.policy.impact import impact
from pledge.policy.notice import build_notice, render_notice
from pledge.store.vault import Vault

OldFile = Annotated[Path, typer.Argument(help="The policy file as it was.", show_default=False)]
NewFile = Annotated[Path, typer.Argument(help="The policy file as proposed.", show_default=False)]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

EXIT_MATERIAL = 1


def diff(old: OldFile, new: NewFile, as_json: AsJson = False) -> None:
    """List every change from OLD to NEW in plain words; exit 1 when any is material."""
    result = diff_policies(load_policy(old).policy, load_policy(new).policy)
    if as_json:
        print_json(result.as_dict())
    elif not result.changes:
        console.print(f"no changes between {old} and {new}")
    else:
        table = Table(title=f"{result.old_version} -> {result.new_version}", title_justify="left")
        for column in ("Material", "Change", "Old path", "New path"):
            table.add_column(column, overflow="fold")
        for change in result.changes:
            table.add_row(
                Text("MATERIAL", "bold red") if change.material else Text("-"),
                Text(change.summary),
                Text(change.old_path or "(new)"),
                Text(change.new_path or "(removed)"),
            )
        console.print(table)
        count = len(result.material)
        console.print(
            f"{count} material change{'s' if count != 1 else ''}: people must be told "
            "before they take effect"
            if count
            else "no material change"
        )
    if result.material:
        raise typer.Exit(EXIT_MATERIAL)


class NoticeFormat(StrEnum):
    html = "html"
    md = "md"


def render(
    file: Annotated[Path, typer.Argument(help="The policy file.", show_default=False)],
    fmt: Annotated[
        NoticeFormat, typer.Option("--format", help="html for a web page, md for Markdown.")
    ] = NoticeFormat.html,
    previous: Annotated[
        list[Path] | None,
        typer.Option(
            "--previous",
            help="An earlier version of the policy, oldest first (repeat the option); "
            "the notice lists what changed in each version, material changes marked.",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
) -> None:
    """Write the privacy notice a person reads, generated from FILE."""
    earlier = [load_policy(path).policy for path in previous or []]
    text = render_notice(build_notice(load_policy(file).policy, earlier), fmt.value)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote the notice to {output}")


def simulate(
    new: NewFile,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
    as_json: AsJson = False,
) -> None:
    """Before publishing NEW: what each material change would touch in the store (values by
    version, people to tell), and which new uses would wait for consent."""
    proposed = load_policy(new).policy
    with vault_for(policy, data_dir, database_url, sequencer=False) as vault:
        current = vault.policy.policy
        result = diff_policies(current, proposed)
        touches = impact(current, proposed, result, vault.holdings())
        rows = [(touch, vault.people_holding(touch.points)) for touch in touches]
        reached = [t.points for t in touches if t.values or t.points is None]
        union: set[str] | None = set()
        for points in reached:
            union = None if points is None or union is None else union | points
        notices = vault.people_holding(union) if reached else 0
    summary = {
        "old_version": result.old_version,
        "new_version": result.new_version,
        "notices": notices,
        "changes": [
            {
                **touch.change.as_dict(),
                "values": touch.values,
                "values_by_version": touch.by_version,
                "people": people,
                "waits_for_consent": touch.waits_for_consent,
                "waits_for_notice": touch.waits_for_notice,
            }
            for touch, people in rows
        ],
    }
    if as_json:
        print_json(summary)
        return
    if not rows:
        console.print(f"{result.new_version} makes no material change: no notice is needed")
        return
    table = Table(
        title=f"{result.old_version} -> {result.new_version}: material changes",
        title_justify="left",
    )
    for column in ("Change", "Values touched", "By version", "People", "Older data waits for"):
        table.add_column(column, overflow="fold")
    for touch, people in rows:
        table.add_row(
            Text(touch.change.summary),
            str(touch.values),
            Text(", ".join(f"{v}: {n}" for v, n in touch.by_version.items()) or "-"),
            "everyone" if touch.points is None else str(people),
            "consent"
            if touch.waits_for_consent
            else f"{proposed.changes.notice_days} days' notice"
            if touch.waits_for_notice
            else "-",
        )
    console.print(table)
    console.print(f"{notices} people would be sent a notice of these changes")


def publish(
    file: Annotated[Path, typer.Argument(help="The new policy file.", show_default=False)],
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
    as_json: AsJson = False,
) -> None:
    """Make FILE the policy this store enforces; every earlier version stays on record, and data
    keeps the limits of the version it was collected under. With material changes: prints the
    home-page banner and mails each person they touch one notice (see `pledge policy notify`)."""
    with vault_for(file, data_dir, database_url, sequencer=False) as vault:
        history = vault.policy_history()
        current = vault.policy
        latest = history[-1][0]
        if current.version != latest:
            raise ConflictError(
                f"version '{current.version}' was published before '{latest}', which is in "
                "force; to go back, publish the old rules under a new version"
            )
        change = vault.policy_change()
        run, unsent = _notify(vault) if change and change.material else (None, None)
    report: dict[str, object] = {
        "version": current.version,
        "previous": change.previous if change else None,
        "material": [c.as_dict() for c in change.material] if change else [],
    }
    if change and change.material:
        report |= {
            "banner": change.banner(),
            "takes_effect": change.takes_effect.isoformat() if change.takes_effect else None,
            "notices": run.to_dict()["notices"] if run else None,
            "notices_not_sent": unsent or (run.not_sent if run else None),
        }
    if as_json:
        print_json(report)
        return
    console.print(f"policy {current.version} is in force")
    if change is None:
        return
    console.print(f"{len(change.material)} material change(s) since {change.previous}")
    if change.material:
        console.print(Text(f"home-page banner: {change.banner()}"))
        _say_notices(run, unsent)


def notify(
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
    as_json: AsJson = False,
) -> None:
    """Mail the notices of the version in force to the people its material changes touch, who
    were not mailed yet (run it again after a failure: nobody gets two)."""
    with vault_for(None, data_dir, database_url, sequencer=False) as vault:
        run, unsent = _notify(vault)
    if as_json:
        print_json(run.to_dict() if run else {"notices": None, "not_sent": unsent})
        return
    _say_notices(run, unsent)


def _notify(vault: Vault) -> tuple[NoticeRun | None, str | None]:
    """Queue the notices; without the mail settings they need, why none were."""
    try:
        return send_policy_notices(vault, load_mail_settings()), None
    except InputError as missing:
        return None, missing.message


def _say_notices(run: NoticeRun | None, unsent: str | None) -> None:
    if unsent is not None:
        console.print(f"notices not mailed: {unsent}; then run `pledge policy notify`")
    elif run is None or run.summary is None:
        console.print(f"no notice to mail: {run.not_sent if run else 'no earlier version'}")
    else:
        skipped = sum(run.summary.skipped.values())
        console.print(
            f"{run.summary.queued} notice(s) queued for delivery ({run.summary.already_queued} "
            f"queued before, {skipped} skipped by the policy); `pledge mail deliver` sends them"
        )


def record_transfer(
    recipient: Annotated[
        str, typer.Argument(help="The policy's successor recipient.", show_default=False)
    ],
    reference: Annotated[
        str, typer.Option("--reference", help="The deal, as your records name it.")
    ],
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Record that the business passed to RECIPIENT (the policy's successor): from now on it
    may receive data as the policy says. Audited; it cannot be undone."""
    with vault_for(None, data_dir, database_url, sequencer=False) as vault:
        transfer = vault.record_business_transfer(recipient, reference=reference, actor="cli")
    console.print(f"business transfer to '{recipient}' recorded ({transfer})")


def history(
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
    as_json: AsJson = False,
) -> None:
    """Every policy version the store has enforced, oldest first."""
    with vault_for(None, data_dir, database_url, sequencer=False) as vault:
        versions = vault.policy_history()
    if as_json:
        print_json([{"version": v, "activated_at": at.isoformat()} for v, at in versions])
        return
    table = Table(title="Policy versions", title_justify="left")
    table.add_column("Version")
    table.add_column("Activated (UTC)")
    for version, at in versions:
        table.add_row(Text(version), at.isoformat(timespec="seconds"))
    console.print(table)
