"""``pledge redact``: personal data in free text replaced, standard input to standard output."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from pledge.cli._output import err_console
from pledge.text.redact import redact as redact_text


def redact(
    summary: Annotated[
        bool, typer.Option("--summary", help="Count what was replaced, on stderr.")
    ] = False,
) -> None:
    """Read text on stdin; write it with emails, phones, cards, names... replaced."""
    done = redact_text(sys.stdin.read())
    sys.stdout.write(done.text)
    if summary:
        counts = ", ".join(f"{kind} {n}" for kind, n in sorted(done.found.items()))
        err_console.print(f"replaced: {counts or 'nothing'}")
