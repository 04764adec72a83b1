"""``pledge subjects token``: a subject token for a website backend that cannot ask the API.

A backend that signs people in but only reaches Pledge through files or a queue (a batch
import, a legacy site behind a relay) still needs the person's subject token to write into
them. The operator's machine, which already holds the master key, mints it here for one
collector key (the audience); the token works with that key only, for at most an hour.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

import typer

from pledge.api.keys import KeyStore
from pledge.cli._output import JsonOption, err_console, print_json
from pledge.cli._vault import DatabaseOption, DataDirOption, PolicyOption, vault_for
from pledge.errors import InputError, NotFoundError
from pledge.store.subject_tokens import DEFAULT_TTL, MAX_TTL

_SUBJECT = re.compile(r"[0-9a-f]{32}")


def token(
    subject: Annotated[str, typer.Argument(help="Subject id (32 hex characters).")],
    audience: Annotated[
        str,
        typer.Option(
            "--audience",
            help="The key id of the collector key that will send the token (pledge keys list).",
        ),
    ],
    ttl: Annotated[
        int,
        typer.Option(
            "--ttl",
            help=f"Seconds the token works, 1 to {int(MAX_TTL.total_seconds())}.",
        ),
    ] = int(DEFAULT_TTL.total_seconds()),
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Print a subject token proving SUBJECT to the collector key AUDIENCE, alone on stdout
    (``TOKEN=$(pledge subjects token ...)``)."""
    if not _SUBJECT.fullmatch(subject):
        raise InputError("a subject id is 32 lower-case hex characters", field="SUBJECT")
    if not 1 <= ttl <= MAX_TTL.total_seconds():
        raise InputError(
            f"--ttl is between 1 and {int(MAX_TTL.total_seconds())} seconds", field="--ttl"
        )
    with vault_for(policy, data_dir, database_url) as vault:
        key = next((k for k in KeyStore(vault).all_keys() if k.key_id == audience), None)
        if key is None:
            raise NotFoundError(f"no API key '{audience}' (see pledge keys list)", key_id=audience)
        if key.scope != "collector" or key.revoked_at is not None:
            state = "revoked" if key.revoked_at is not None else f"a {key.scope} key"
            raise InputError(
                f"key '{audience}' is {state}: a subject token is for a live collector key",
                field="--audience",
            )
        minted = vault.subject_token(subject, audience, dt.timedelta(seconds=ttl))
    if as_json:
        print_json(
            {
                "token": minted.token,
                "subject": minted.subject,
                "audience": minted.audience,
                "expires_at": minted.expires.isoformat(),
            }
        )
        return
    err_console.print(f"token for {subject}, key {audience}, until {minted.expires:%H:%M:%S} UTC")
    typer.echo(minted.token)
