"""What every command shares: where output goes, how JSON is printed, how errors end a run.

Output is for people at a terminal and for scripts through a pipe. At a terminal Rich fits
it to the window; through a pipe or into a file nothing is wrapped or folded, so a subject id
or a summary line stays on one line whatever ``COLUMNS`` says, and no colour codes are sent.
Commands that print a table or a summary also take ``--json``.

Errors are shown, never raised at the person: a :class:`PledgeError` becomes one red line on
stderr and the exit status of its class (:class:`pledge.errors.ExitCode`, documented in
:mod:`pledge.cli.exit_codes`), so a script can tell "no" from "the question was wrong" from
"try again later".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from pledge.errors import PledgeError

# Wide enough that no line of ours is ever folded; Rich pads nothing to this width.
UNWRAPPED = 1_000_000


def _console(*, stderr: bool) -> Console:
    console = Console(stderr=stderr)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, width=UNWRAPPED, soft_wrap=True)


console = _console(stderr=False)
err_console = _console(stderr=True)

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON instead of text, for scripts.")
]


def print_json(data: Any) -> None:
    """Machine-readable output: JSON on stdout, highlighted only when a person is watching."""
    console.print_json(data=data)


def print_error(error: PledgeError) -> None:
    """``error: file:line:col: message`` for a policy problem, ``error: message`` otherwise."""
    err_console.print(Text.assemble(("error: ", "bold red"), (str(error), "red")), soft_wrap=True)


@contextmanager
def exit_on_error() -> Iterator[None]:
    """Turn a PledgeError raised inside the block into a printed error and its exit status."""
    try:
        yield
    except PledgeError as error:
        print_error(error)
        raise typer.Exit(int(error.exit_code)) from None
