"""The options every store command shares, and opening the vault they describe."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from pledge.settings import load_settings, open_vault
from pledge.store.vault import Vault

PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy", help="Policy file to enforce (default: $PLEDGE_POLICY, or the store's last)."
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Embedded store folder (default: $PLEDGE_DATA_DIR or ./pledge-data)."
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Database URL (default: $PLEDGE_DATABASE_URL or SQLite)."),
]


@contextmanager
def vault_for(
    policy: Path | None,
    data_dir: Path | None,
    database_url: str | None,
    *,
    sequencer: bool | None = None,
) -> Iterator[Vault]:
    settings = load_settings(
        policy=policy, data_dir=data_dir, database_url=database_url, audit_sequencer=sequencer
    )
    vault = open_vault(settings)
    try:
        yield vault
    finally:
        vault.close()
