"""How the gate reaches the outside world, from ``PLEDGE_MAIL_*`` variables (or arguments).

Kept apart from :mod:`pledge.settings` because only mail needs them; the defaults send to a
local MTA on port 25 without TLS, which is what a relay on the same host expects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from pledge.errors import InputError

MIN_TOKEN_DAYS = 30


class MailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLEDGE_MAIL_", extra="forbid")

    smtp_host: str = Field(default="localhost", description="The SMTP server (relay) to use.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="none", description="'starttls' upgrades a plain connection; 'tls' is SMTPS."
    )
    smtp_username: str | None = Field(default=None, description="Log in when set.")
    smtp_password: SecretStr | None = None
    smtp_timeout: float = Field(default=30.0, gt=0, description="Seconds per SMTP command.")
    smtp_ca_file: Path | None = Field(
        default=None, description="CA bundle to verify the server with; default the system's."
    )
    from_address: str | None = Field(
        default=None, description="The From header, e.g. 'Zabbix <news@zabbix.com>'."
    )
    unsubscribe_url: str | None = Field(
        default=None,
        description="https:// base of the unsubscribe pages; the token is appended.",
    )
    unsubscribe_domain: str | None = Field(
        default=None,
        description="Domain of the unsubscribe+TOKEN@ mailbox; default the From domain.",
    )
    token_days: int = Field(
        default=60,
        ge=MIN_TOKEN_DAYS,
        description="Days an unsubscribe link keeps working (the law asks for 30 at least).",
    )
    templates_dir: Path = Field(
        default=Path("templates"),
        description="Folder of template folders the API sends by name (templates/<name>/).",
    )
    confirm_communication: str | None = Field(
        default=None,
        description="The policy's transactional communication that confirmation messages "
        "(pending changes, double opt-in) are sent as; unset, none is sent.",
    )
    confirm_template: str = Field(
        default="confirm",
        description="Template folder (under templates_dir) of confirmation messages; it gets "
        "the variable confirm_url.",
    )
    confirm_url: str | None = Field(
        default=None,
        description="https:// base of the confirmation pages; the token is appended.",
    )
    sign_in_communication: str | None = Field(
        default=None,
        description="The policy's transactional communication that sign-in links are sent "
        "as; default the policy's first transactional one.",
    )
    sign_in_template: Path | None = Field(
        default=None,
        description="Template folder of sign-in messages (variables sign_in_url, minutes); "
        "default the one Pledge ships.",
    )
    sign_in_url: str | None = Field(
        default=None,
        description="Public base of the sign-in page (https://.../sign-in); the token is "
        "appended. Unset, no sign-in link is sent (never built from a request's Host).",
    )
    staff_sign_in_url: str | None = Field(
        default=None,
        description="Public base of the staff console's sign-in page (https://.../admin/"
        "sign-in); default beside sign_in_url.",
    )
    requests_communication: str | None = Field(
        default=None,
        description="The policy's transactional communication that tells people each step of "
        "their requests; default the one sign-in links go as.",
    )
    notice_communication: str | None = Field(
        default=None,
        description="The policy's service communication that notices of a material policy "
        "change are sent as; unset, none is sent (the home-page banner still is shown).",
    )
    notice_url: str | None = Field(
        default=None,
        description="https:// base of the pages where a person opts out of a policy change; "
        "the token is appended.",
    )
    chunk_size: int = Field(default=1000, ge=1, description="Recipients gated per transaction.")
    batch_size: int = Field(default=100, ge=1, description="Messages a worker claims at once.")
    connections: int = Field(
        default=4, ge=1, le=64, description="SMTP connections a worker sends over in parallel."
    )
    lease_seconds: float = Field(
        default=300.0, gt=0, description="A claim older than this is taken to be abandoned."
    )
    max_attempts: int = Field(default=12, ge=1)
    backoff_seconds: float = Field(default=60.0, gt=0, description="Delay before retry 1.")
    backoff_max_seconds: float = Field(default=3600.0, gt=0)


def load_mail_settings(**overrides: object) -> MailSettings:
    """Settings from the environment, explicit values (CLI options) taking precedence."""
    try:
        given: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
        return MailSettings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(
            f"mail setting '{where}' (PLEDGE_MAIL_{where.upper()}): {first['msg']}"
        ) from None
