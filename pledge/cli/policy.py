"""``pledge policy``: check a policy file, and explain it in tables a person can review.

``check`` is the gate for CI and for anyone editing a policy: it loads the file with every
check the server runs, so a policy that passes here is one the server will accept.
``explain`` reads the policy back in plain terms, to compare it with the text it encodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from pledge.cli._output import JsonOption, console, print_json
from pledge.policy import load_policy
from pledge.policy.model import Basis, Condition, FieldSpec, Policy

app = typer.Typer(no_args_is_help=True, help="Check and explain a policy file.")

PolicyFile = Annotated[Path, typer.Argument(help="The policy YAML file.", show_default=False)]

BASIS_MEANING = {
    Basis.collection: "allowed for data collected for this purpose",
    Basis.opt_in: "only after the person opts in",
    Basis.opt_out: "until the person opts out",
    Basis.legal_obligation: "required by law, whatever the data was collected for",
}

CONDITION_MEANING = {
    Condition.none: "no condition beyond purpose and category",
    Condition.consent: "the person's permission for this recipient",
    Condition.legal_reference: "a legal reference (court order, statute) each time",
    Condition.aggregate: "figures about groups only, never one person's data",
    Condition.subject_election: "only fields the person chose to show",
}


@app.command()
def check(file: PolicyFile, as_json: JsonOption = False) -> None:
    """Validate FILE: its shape, its taxonomy keys and the rules between its parts."""
    policy = load_policy(file).policy
    summary = _summary(policy)
    if as_json:
        print_json({"file": str(file), "valid": True, **summary})
        return
    console.print(Text.assemble(("✓ ", "green"), f"{file} is a valid policy"))
    facts = [(key, summary[key]) for key in ("organisation", "version", "effective")]
    facts += [(part.replace("_", " "), str(n)) for part, n in summary["counts"].items()]
    console.print(_facts(None, facts))


def _summary(policy: Policy) -> dict[str, Any]:
    return {
        "organisation": policy.organisation.name,
        "version": policy.version,
        "effective": policy.effective.isoformat(),
        "counts": {
            "collection_points": len(policy.collection_points),
            "purposes": len(policy.purposes),
            "roles": len(policy.roles),
            "recipients": len(policy.recipients),
            "communications": len(policy.communications),
            "cookies": len(policy.cookies),
        },
    }


@app.command()
def explain(file: PolicyFile, as_json: JsonOption = False) -> None:
    """Show what FILE allows: who sees what, for which purpose, on which condition."""
    policy = load_policy(file).policy
    if as_json:
        print_json(policy.model_dump(mode="json", by_alias=True))
        return
    for part in _explanation(policy):
        console.print(part)
        console.print()


def _explanation(policy: Policy) -> Iterator[RenderableType]:
    org = policy.organisation
    yield _facts(
        f"{org.name}: privacy policy {policy.version}",
        [
            ("effective", policy.effective.isoformat()),
            ("postal address", org.postal_address or "not set: marketing email is refused"),
            ("privacy contact", org.privacy_contact),
            ("marketing sent from", _lines(org.sender_domains)),
        ],
    )
    added = [
        [kind, key, t.name, t.description]
        for kind, section in (
            ("data category", policy.taxonomy.data_categories),
            ("purpose", policy.taxonomy.data_uses),
            ("subject", policy.taxonomy.data_subjects),
        )
        for key, t in section.items()
    ]
    if added:
        yield _table("Keys added to the taxonomy", ["Kind", "Key", "Name", "Description"], added)
    yield from _collection_points(policy)
    yield _purposes(policy)
    if policy.categories:
        yield _table(
            "Category handling",
            ["Category", "Storage", "Note"],
            ([key, h.storage.value, h.note] for key, h in policy.categories.items()),
        )
    yield _table(
        "Roles (staff)",
        ["Role", "Purposes", "Categories", "Description"],
        (
            [name, _lines(r.purposes), _lines(r.categories), r.description]
            for name, r in policy.roles.items()
        ),
    )
    yield _recipients(policy)
    yield _communications(policy)
    yield from _keeping(policy)
    yield _facts(
        "Rights",
        [
            ("offered", _lines(r.value for r in policy.rights.offered)),
            ("answered within", f"{policy.rights.response_days} days"),
        ],
    )
    yield _table(
        "Cookies",
        ["Name", "Lifetime", "Category", "Days", "Provider", "Description"],
        (
            [
                c.name,
                c.lifetime.value,
                c.category.value,
                _or_dash(c.days),
                c.provider,
                c.description,
            ]
            for c in policy.cookies
        ),
    )
    yield _facts(
        "Changes to this policy",
        [
            ("notice", f"{policy.changes.notice_days} days"),
            (
                "material change",
                "needs the person's consent before older data follows the new version"
                if policy.changes.material_change_needs_consent
                else "reaches older data when the notice period ends, except for people who "
                "opted out; limits a person set still need their consent",
            ),
        ],
    )


def _collection_points(policy: Policy) -> Iterator[RenderableType]:
    for name, point in policy.collection_points.items():
        yield _table(
            f"Collection point '{name}'" + (f": {point.description}" if point.description else ""),
            ["Field", "Category", "Required", "Notes"],
            (
                [
                    field,
                    spec.category,
                    "required" if spec.required else "optional",
                    _field_notes(spec),
                ]
                for field, spec in point.fields.items()
            ),
        )
        yield _facts(
            None,
            [
                ("from", ", ".join(point.subjects)),
                ("for purposes", _lines(point.purposes)),
                ("choices offered", _lines(point.choices)),
                ("minimum age", _or_dash(point.min_age)),
            ],
        )


def _field_notes(spec: FieldSpec) -> str:
    notes = [f"shape {spec.shape}"] if spec.shape else []
    if spec.visibility_choice:
        notes.append("the person chooses who may see it")
    return "; ".join(notes)


def _purposes(policy: Policy) -> RenderableType:
    return _table(
        "Purposes",
        ["Purpose", "Basis", "Channel", "Description"],
        (
            [
                key,
                p.basis.value,
                p.channel.value if p.channel else "-",
                p.description,
            ]
            for key, p in policy.purposes.items()
        ),
        legend=_legend(BASIS_MEANING, (p.basis for p in policy.purposes.values())),
    )


def _recipients(policy: Policy) -> RenderableType:
    return _table(
        "Recipients (outside parties)",
        ["Recipient", "Kind", "Purposes", "Categories", "Condition"],
        (
            [
                name,
                r.kind.value,
                _lines(r.purposes),
                _lines(r.categories),
                r.condition.value
                + (f" (groups of {r.min_group_size} or more)" if r.min_group_size else ""),
            ]
            for name, r in policy.recipients.items()
        ),
        legend=_legend(CONDITION_MEANING, (r.condition for r in policy.recipients.values())),
    )


def _communications(policy: Policy) -> RenderableType:
    def channel(purpose: str) -> str:
        spec = policy.purposes.get(purpose)
        return spec.channel.value if spec and spec.channel else "-"

    return _table(
        "Communications",
        ["Message", "Class", "Purpose", "Channel", "Marked as an ad"],
        (
            [
                name,
                m.message_class.value,
                m.purpose,
                channel(m.purpose),
                "yes" if m.advertisement_notice else "no",
            ]
            for name, m in policy.communications.items()
        ),
    )


def _keeping(policy: Policy) -> Iterator[RenderableType]:
    yield _table(
        "Retention",
        ["Categories", "Kept for", "Reason"],
        ([_lines(r.categories), f"{r.days} days", r.reason] for r in policy.retention),
    )
    yield _table(
        "Legal holds (kept after erasure)",
        ["Categories", "Kept for", "Reason"],
        ([_lines(h.categories), f"{h.days} days", h.reason] for h in policy.legal_holds),
    )


def _table(
    title: str, columns: list[str], rows: Iterable[list[str]], legend: str | None = None
) -> RenderableType:
    """Long keys fold onto the next line rather than vanish behind an ellipsis."""
    table = Table(
        title=title,
        caption=legend,
        title_justify="left",
        caption_justify="left",
        show_lines=True,
        box=box.SIMPLE_HEAD,
    )
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    if not table.row_count:
        return Text.assemble((title, "italic"), ": none declared")
    return table


def _facts(title: str | None, facts: list[tuple[str, str]]) -> Table:
    grid = Table(title=title, title_justify="left", show_header=False, box=None)
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for label, value in facts:
        grid.add_row(label, Text(value))
    return grid


def _legend(meanings: Mapping[Any, str], used: Iterable[Any]) -> str:
    """What each value used in a column means, so the table itself stays narrow."""
    return "\n".join(f"{value.value}: {meanings[value]}" for value in dict.fromkeys(used))


def _lines(items: Iterable[str]) -> str:
    return "\n".join(items) or "-"


def _or_dash(value: int | None) -> str:
    return "-" if value is None else str(value)
