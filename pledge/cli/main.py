"""The root ``pledge`` app. Command groups live in their own modules and register here.

Every command runs inside :class:`_Root`'s ``invoke``, so the one error handler
(:func:`pledge.cli._output.exit_on_error`) covers commands added later without their help.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from pledge.cli import (
    backup,
    cookies,
    decide,
    demo,
    keys,
    logs,
    mail,
    master_key,
    policy,
    policy_changes,
    policy_fides,
    policy_text,
    redact,
    requests,
    serve,
    staff,
    store,
    subject_tokens,
)
from pledge.cli._output import console, exit_on_error


class _Root(TyperGroup):
    # ctx is Any: Typer vendors its own click, whose Context type is not public.
    def invoke(self, ctx: Any) -> Any:
        with exit_on_error():
            return super().invoke(ctx)


app = typer.Typer(
    cls=_Root,
    name="pledge",
    no_args_is_help=True,
    help="A privacy policy, enforced at run time.",
)


def _show_version(value: bool) -> None:
    if value:
        console.print(f"pledge {version('pledge')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """A privacy policy, enforced at run time."""


policy.app.command(name="diff")(policy_changes.diff)
policy.app.command(name="render")(policy_changes.render)
policy.app.command(name="simulate")(policy_changes.simulate)
policy.app.command(name="publish")(policy_changes.publish)
policy.app.command(name="history")(policy_changes.history)
policy.app.command(name="notify")(policy_changes.notify)
policy.app.command(name="record-transfer")(policy_changes.record_transfer)
policy.app.command(name="export")(policy_fides.export)
policy.app.command(name="import-fides")(policy_fides.import_fides_command)
policy.app.command(name="import")(policy_text.import_text)
policy.app.command(name="lint")(policy_text.lint)
app.add_typer(policy.app, name="policy")
app.command(name="decide")(decide.decide)
app.command(name="demo")(demo.demo)
store.subjects.command(name="token")(subject_tokens.token)
app.add_typer(store.subjects, name="subjects")
app.add_typer(store.audit, name="audit")
app.add_typer(store.retention, name="retention")
app.add_typer(master_key.app, name="master-key")
app.add_typer(keys.app, name="keys")
app.command(name="serve")(serve.serve)
app.add_typer(mail.app, name="mail")
app.add_typer(cookies.app, name="cookies")
app.add_typer(logs.app, name="logs")
app.command(name="redact")(redact.redact)
app.add_typer(backup.app, name="backup")
app.add_typer(requests.app, name="requests")
app.add_typer(staff.app, name="staff")

if __name__ == "__main__":
    app()
