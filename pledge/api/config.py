"""The service's settings: the store's (:class:`pledge.settings.Settings`) plus the limits only
a server has. Read from ``PLEDGE_*`` variables and, with ``pledge serve --config FILE``, from a
TOML file of the same names; a command-line option beats the environment, which beats the file.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from pledge.errors import InputError
from pledge.settings import Settings

MIB = 1024 * 1024


class ApiSettings(Settings):
    rate_limit_per_second: float = Field(
        default=20.0, gt=0, description="Requests each API key may make per second, sustained."
    )
    rate_limit_burst: int = Field(
        default=40, ge=1, description="Requests a key may make at once before the rate applies."
    )
    failures_per_minute: float = Field(
        default=10.0,
        gt=0,
        description="Failed authentications and token checks allowed per client address and "
        "per key id each minute, sustained; more get 429 until the bucket refills.",
    )
    failures_burst: int = Field(
        default=20, ge=1, description="Failures allowed at once before that rate applies."
    )
    max_body_bytes: int = Field(
        default=MIB, ge=1, description="Largest request body accepted; more is refused (413)."
    )
    api_key_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How long a worker trusts a checked API key before looking again: a key "
        "revoked by another process is refused at most this long after. 0 checks every time.",
    )
    sign_ins_per_address: int = Field(
        default=5,
        ge=1,
        description="Sign-in links one email address may be sent per hour (asked for by "
        "anyone: an address no one holds counts the same).",
    )
    sign_ins_per_client: int = Field(
        default=30, ge=1, description="Sign-in links one client address may ask for per hour."
    )
    dev: bool = Field(
        default=False,
        description="Development mode: readable logs, a local key file if no master key, and "
        "the emails the service sends kept in memory and shown at /dev/mailbox.",
    )

    def as_environment(self) -> dict[str, str]:
        """These settings as ``PLEDGE_*`` variables, so worker processes started by the
        server read exactly what the parent validated."""
        values = self.model_dump(exclude_none=True)
        return {f"PLEDGE_{name.upper()}": _env_text(value) for name, value in values.items()}


def _env_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load_api_settings(config_file: Path | None = None, **overrides: object) -> ApiSettings:
    """Settings from (in rising precedence) ``config_file``, the environment and ``overrides``.

    Values from the file are dropped where the environment sets the same name, then passed
    like the overrides, so one validation covers all three and an unknown name in the file
    is an error rather than a silently ignored typo.
    """
    in_env = {name.lower() for name in os.environ}
    from_file = {
        name: value
        for name, value in (_read_toml(config_file) if config_file else {}).items()
        if f"pledge_{name}".lower() not in in_env
    }
    given = {**from_file, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return ApiSettings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        source = f" in {config_file}" if config_file and where in from_file else ""
        raise InputError(f"setting '{where}'{source}: {first['msg']}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise InputError(f"cannot read the config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"the config file {path} is not valid TOML: {exc}") from None
