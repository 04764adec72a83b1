"""Where Pledge keeps things and which policy it enforces, from the environment (``PLEDGE_*``)
or a TOML file. The defaults are the embedded setup: a SQLite file and a local key file in
``./pledge-data``, so ``pledge demo`` runs with nothing else installed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from pledge.errors import InputError
from pledge.store.audit.settings import AuditSettings
from pledge.store.database import is_new_store, sqlite_url
from pledge.store.keys import (
    EnvKeyProvider,
    KeyProvider,
    LocalKeyFileProvider,
    default_key_store_url,
)

if TYPE_CHECKING:
    from pledge.store.vault import Vault


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLEDGE_", extra="forbid")

    data_dir: Path = Field(default=Path("pledge-data"), description="Embedded-default home.")
    database_url: str | None = Field(default=None, description="Default: SQLite in data_dir.")
    key_store_url: str | None = Field(
        default=None,
        description="Where data keys live. Default: a SQLite file of their own, beside a "
        "SQLite database or in data_dir beside a PostgreSQL one (never inside it).",
    )
    policy: Path | None = Field(default=None, description="The policy file to enforce.")
    master_key_source: str = Field(
        default="file", description="'file' (data_dir/master.key) or 'env' (PLEDGE_MASTER_KEY)."
    )
    audit_sequencer: bool = Field(
        default=True, description="Run an audit sequencer in this process (one works at a time)."
    )
    audit_max_wait: float = Field(
        default=1.0, gt=0, le=60, description="Longest wait, in s, of a queued audit leaf."
    )
    audit_batch_size: int = Field(default=10_000, ge=1, description="Most leaves per batch.")
    audit_checkpoint_dir: Path | None = Field(
        default=None, description="Where checkpoints are published; default data_dir/checkpoints."
    )
    audit_checkpoint_url: str | None = Field(
        default=None, description="An http(s) URL each checkpoint is also POSTed to."
    )

    def url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir / "pledge.sqlite3")

    def keys_url(self) -> str:
        return self.key_store_url or default_key_store_url(self.url(), self.data_dir)

    def audit(self) -> AuditSettings:
        return AuditSettings(
            sequencer=self.audit_sequencer,
            max_wait=self.audit_max_wait,
            batch_size=self.audit_batch_size,
            checkpoint_dir=self.audit_checkpoint_dir or self.data_dir / "checkpoints",
            checkpoint_url=self.audit_checkpoint_url,
        )

    def key_provider(self) -> KeyProvider:
        if self.master_key_source == "env":
            return EnvKeyProvider()
        if self.master_key_source == "file":
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            return LocalKeyFileProvider(
                self.data_dir / "master.key", create=is_new_store(self.url())
            )
        raise InputError(
            f"PLEDGE_MASTER_KEY_SOURCE must be 'file' or 'env', not '{self.master_key_source}'"
        )


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit values (CLI options) taking precedence."""
    try:
        given: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
        return Settings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"setting '{where}': {first['msg']}") from None


def open_vault(settings: Settings) -> Vault:
    """The vault these settings describe, enforcing the policy they name (or, when they name
    none, the one last activated in that store)."""
    from pledge.policy.loader import read_policy_text
    from pledge.store.vault import Vault

    path = settings.policy
    text = None if path is None else read_policy_text(path)
    return Vault.open(
        settings.url(),
        settings.key_provider(),
        text,
        policy_file=str(path),
        audit=settings.audit(),
        key_store_url=settings.keys_url(),
    )
