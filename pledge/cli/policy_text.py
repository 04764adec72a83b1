"""``pledge policy import`` and ``pledge policy lint``: from a policy's prose to a policy file,
and what the prose (or the file) fails to say.

``import`` writes a draft for a person to review, never a policy to deploy unread, so it prints
what it could not map beside the draft. ``lint`` exits 1 when it finds something serious, so it
can gate a change to a policy in CI; bad input exits 2, as every command does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.markup import escape

from pledge.cli._output import console, err_console, print_json
from pledge.errors import InputError
from pledge.policy import load_policy
from pledge.text.draft import draft_policy
from pledge.text.findings import Finding
from pledge.text.lint import lint_policy, lint_text, serious
from pledge.text.segment import Format, line_of, read_file

TextFile = Annotated[
    Path, typer.Argument(help="The policy text: plain text, Markdown or HTML.", show_default=False)
]
FormatOption = Annotated[
    str | None,
    typer.Option("--format", help="text, markdown or html; default: from the file name."),
]
FORMATS: tuple[Format, ...] = ("text", "markdown", "html")
SEVERITY_STYLE = {"serious": "bold red", "warning": "yellow", "info": "cyan"}


def _format(value: str | None) -> Format | None:
    if value is None:
        return None
    for fmt in FORMATS:
        if value == fmt:
            return fmt
    raise InputError(f"--format must be one of {', '.join(FORMATS)}, not '{value}'")


def import_text(
    file: TextFile,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the draft here, not to stdout.")
    ] = None,
    practices_file: Annotated[
        Path | None,
        typer.Option("--practices", help="Also write the practices found, as a JSON list."),
    ] = None,
    fmt: FormatOption = None,
) -> None:
    """Draft a policy file from a privacy policy's text; every rule cites its sentence."""
    document = read_file(file, _format(fmt))
    draft = draft_policy(document, file=file.name)
    if output:
        output.write_text(draft.text, encoding="utf-8")
    else:
        console.print(draft.text, markup=False, highlight=False, soft_wrap=True)
    if practices_file:
        found = [p.as_dict() for p in draft.practices]
        practices_file.write_text(json.dumps(found, indent=2, ensure_ascii=False), "utf-8")
    err_console.print(
        f"{len(draft.practices)} practices found; {len(draft.unmapped)} sentences not mapped "
        "to a rule (best guess of what each is about):",
        highlight=False,
    )
    for item in draft.unmapped:
        line = line_of(document.source, item.sentence.start)
        err_console.print(
            f"  {file.name}:{line}  [{escape(item.guess)}]  {escape(item.sentence.plain[:90])}",
            highlight=False,
        )
    if output:
        err_console.print(f"draft written to {output}; check it with `pledge policy check`")


def lint(
    file: Annotated[
        Path,
        typer.Argument(help="A policy file (.yaml) or a policy text.", show_default=False),
    ],
    text: Annotated[
        Path | None, typer.Option("--text", help="The policy's text, to lint beside the file.")
    ] = None,
    fmt: FormatOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of lines.")] = False,
) -> None:
    """Find what a policy fails to disclose, contradicts or says vaguely; exit 1 if serious."""
    findings: list[Finding] = []
    kind: Literal["policy", "text"] = "policy" if _is_policy_file(file) else "text"
    if kind == "policy":
        findings += lint_policy(load_policy(file).policy)
    else:
        findings += lint_text(read_file(file, _format(fmt)))
    if text is not None:
        findings += lint_text(read_file(text, _format(fmt)))
    if as_json:
        print_json({"file": str(file), "findings": [f.as_dict() for f in findings]})
    else:
        _print(findings)
    if serious(findings):
        raise typer.Exit(1)


def _is_policy_file(path: Path) -> bool:
    return path.suffix.lower() in {".yaml", ".yml"}


def _print(findings: list[Finding]) -> None:
    if not findings:
        console.print("no findings")
        return
    for f in findings:
        style = SEVERITY_STYLE[f.severity]
        console.print(
            f"[{style}]{f.severity}[/{style}] {escape(f.where)}: {escape(f.message)} "
            f"[dim]({escape(f.rule)}; {f.code})[/dim]",
            soft_wrap=True,
        )
        for sentence in f.sentences[:2]:
            console.print(f"    “{escape(sentence.plain[:160])}”", highlight=False, soft_wrap=True)
        console.print(f"    fix: {escape(f.fix)}", highlight=False, soft_wrap=True)
    counts = {s: sum(f.severity == s for f in findings) for s in SEVERITY_STYLE}
    console.print(", ".join(f"{n} {s}" for s, n in counts.items()))
