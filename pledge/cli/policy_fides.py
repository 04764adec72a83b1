"""``pledge policy export --fides`` and ``pledge policy import-fides``: the policy as a Fides
data map and back, saying plainly what the crossing loses or assumes."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from pledge.cli._output import console, err_console, print_json
from pledge.errors import InputError
from pledge.policy import load_policy, load_policy_text
from pledge.policy.fides import export_fides, import_fides, not_carried

Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write here, not stdout.")]


def export(
    file: Annotated[Path, typer.Argument(help="The policy file.", show_default=False)],
    fides: Annotated[
        bool, typer.Option("--fides", help="As a Fides manifest (System, Dataset, taxonomy).")
    ] = False,
    output: Output = None,
) -> None:
    """Write FILE in another tool's format (today: Fides)."""
    if not fides:
        raise InputError("say which format to export to: --fides")
    policy = load_policy(file).policy
    _write(yaml.safe_dump(export_fides(policy), sort_keys=False, allow_unicode=True), output)
    report = console if output is not None else err_console
    report.print("not carried (Fides has no place for these):")
    for line in not_carried(policy):
        report.print(f"  - {line}")


def import_fides_command(
    file: Annotated[Path, typer.Argument(help="A Fides manifest (YAML).", show_default=False)],
    output: Output = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the draft and notes as JSON.")
    ] = False,
) -> None:
    """Draft a policy file from a Fides manifest, listing what had to be assumed."""
    try:
        manifest: Any = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read {file} as YAML: {exc}") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{file} is not a Fides manifest (a mapping with 'system' and 'dataset')")
    imported = import_fides(manifest, today=dt.datetime.now(dt.UTC).date())
    data = imported.policy.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    load_policy_text(text, file=f"<draft from {file}>")  # the draft passes every check
    if as_json:
        print_json({"policy": data, "assumed": list(imported.assumed)})
        return
    notes = "".join(f"# assumed: {line}\n" for line in imported.assumed)
    _write(
        f"# Drafted from the Fides manifest {file.name}; review before publishing.\n{notes}{text}",
        output,
    )


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")
