"""What every command shares: where output goes, how JSON is printed, how errors end a run.

Errors are shown, never raised at the person: a :class:`PledgeError` becomes one red line on
stderr and exit code 2, the code that also means "bad arguments", so scripts can tell "the
answer is no" (1) from "the question was wrong" (2).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from pledge.errors import PledgeError

EXIT_ERROR = 2

console = Console()
err_console = Console(stderr=True)


def print_json(data: Any) -> None:
    """Machine-readable output: JSON on stdout, highlighted only when a person is watching."""
    console.print_json(data=data)


def print_error(error: PledgeError) -> None:
    """``error: file:line:col: message`` for a policy problem, ``error: message`` otherwise."""
    err_console.print(Text.assemble(("error: ", "bold red"), (str(error), "red")), soft_wrap=True)


@contextmanager
def exit_on_error() -> Iterator[None]:
    """Turn a PledgeError raised inside the block into a printed error and exit code 2."""
    try:
        yield
    except PledgeError as error:
        print_error(error)
        raise typer.Exit(EXIT_ERROR) from None
