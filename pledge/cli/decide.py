"""``pledge decide``: ask the policy one question from the shell, and see why it answers so.

The same decision function the server enforces, so a reviewer can try "may support read
emails for marketing?" before any code asks it. Exit codes make it scriptable: 0 allowed,
1 denied, 2 the question itself was wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from pledge.cli._output import JsonOption, console, print_json
from pledge.errors import ExitCode, InputError
from pledge.policy import Actor, Choices, CompiledPolicy, Decision, Request, load_policy
from pledge.policy import decide as decide_request
from pledge.policy.consistency import declared_under
from pledge.policy.decision import ALLOWING_CODES
from pledge.policy.loader import suggest
from pledge.policy.model import Channel

CHOICE_PREFIXES = ("purpose", "recipient", "channel", "show", "policy")

ChoiceKeys = Annotated[
    list[str] | None,
    typer.Option(
        metavar="KEY",
        help="A choice key; a bare data use means purpose:<use>. "
        "Others: recipient:<name>, channel:<email|sms|phone|post>, show:<category>, "
        "policy:<version>. Repeat for more.",
        show_default=False,
    ),
]


def decide(
    policy_file: Annotated[
        Path, typer.Option("--policy", help="The policy YAML file.", show_default=False)
    ],
    purpose: Annotated[str, typer.Option(help="The data use asked for.", show_default=False)],
    category: Annotated[
        list[str], typer.Option(help="A data category wanted; repeat for more.", show_default=False)
    ],
    role: Annotated[str | None, typer.Option(help="A staff role that acts.")] = None,
    recipient: Annotated[str | None, typer.Option(help="A recipient data goes to.")] = None,
    communication: Annotated[str | None, typer.Option(help="A kind of message sent.")] = None,
    consent: ChoiceKeys = None,
    withdraw: ChoiceKeys = None,
    stop_all: Annotated[
        bool, typer.Option("--stop-all", help="The person asked for no correspondence at all.")
    ] = False,
    collected_under: Annotated[
        str | None,
        typer.Option(metavar="VERSION", help="Policy version the data was collected under."),
    ] = None,
    legal_ref: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Legal reference for the disclosure.")
    ] = None,
    group_size: Annotated[
        int | None, typer.Option(min=0, metavar="N", help="People in an aggregate.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """May this actor use these categories for this purpose? Exit 0 if allowed, 1 if denied."""
    actor = _actor(role, recipient, communication)
    compiled = load_policy(policy_file)
    request = Request(
        actor,
        purpose,
        tuple(category),
        _choices(compiled, consent or [], withdraw or [], stop_all),
        collected_under=collected_under,
        legal_ref=legal_ref,
        group_size=group_size,
    )
    decision = decide_request(compiled, request)
    if as_json:
        print_json({"actor": actor._asdict(), "purpose": purpose, **decision.to_dict()})
    else:
        _show(actor, purpose, decision)
    if not decision.allowed:
        raise typer.Exit(ExitCode.DENIED)


def _actor(role: str | None, recipient: str | None, communication: str | None) -> Actor:
    given = [
        make(name)
        for make, name in (
            (Actor.role, role),
            (Actor.recipient, recipient),
            (Actor.communication, communication),
        )
        if name is not None
    ]
    if len(given) != 1:
        raise typer.BadParameter(
            "give exactly one of them", param_hint="'--role' / '--recipient' / '--communication'"
        )
    return given[0]


def _choices(
    compiled: CompiledPolicy, consent: list[str], withdraw: list[str], stop_all: bool
) -> Choices:
    granted = [_choice_key(compiled, raw) for raw in consent]
    withdrawn = [_choice_key(compiled, raw) for raw in withdraw]
    try:
        return Choices.of(granted, withdrawn, stop_all=stop_all)
    except ValueError as exc:
        raise InputError(f"--consent and --withdraw disagree: {exc}") from None


def _choice_key(compiled: CompiledPolicy, raw: str) -> str:
    """``marketing.x`` means ``purpose:marketing.x``; a key naming something the policy does
    not have is refused, since a typo here would silently change the answer."""
    prefix, colon, name = raw.partition(":")
    if not colon:
        prefix, name = "purpose", raw
    if prefix not in CHOICE_PREFIXES:
        raise InputError(
            f"choice '{raw}': start it with one of "
            + ", ".join(f"{p}:" for p in CHOICE_PREFIXES)
            + " (or give a bare data use)"
        )
    policy = compiled.policy
    if prefix == "purpose" and not declared_under(policy, name):
        raise InputError(
            f"choice '{raw}': no declared purpose '{name}'{suggest(name, policy.purposes)}"
        )
    if prefix == "recipient" and name not in policy.recipients:
        raise InputError(f"choice '{raw}': no recipient '{name}'{suggest(name, policy.recipients)}")
    if prefix == "channel" and name not in Channel.__members__:
        raise InputError(f"choice '{raw}': channel is one of {', '.join(Channel.__members__)}")
    if prefix == "show":
        compiled.require_category(name)
    return f"{prefix}:{name}"


def _show(actor: Actor, purpose: str, decision: Decision) -> None:
    verdict = ("ALLOWED", "bold green") if decision.allowed else ("DENIED", "bold red")
    console.print(Text.assemble(verdict, f"  {actor} for '{purpose}'"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    grid.add_row("released", Text(", ".join(sorted(decision.released)) or "nothing"))
    for category, reason in decision.withheld:
        grid.add_row("withheld", Text(f"{category}: {reason}"))
    for reason in decision.reasons:
        mark = ("✓ ", "green") if reason.code in ALLOWING_CODES else ("✗ ", "red")
        grid.add_row("reason", Text.assemble(mark, str(reason)))
    for obligation in decision.obligations:
        detail = f": {obligation.detail}" if obligation.detail else ""
        grid.add_row("obligation", Text(f"{obligation.code}{detail}"))
    console.print(grid)
