"""A real ``pledge serve`` for the security suite: a subprocess over SQLite or PostgreSQL (a
schema of its own), with keys of every scope made before it starts.

The policy is 3CX's (roles, recipients, an aggregate-only recipient) with differential-privacy
noise and a privacy budget added to its aggregate recipient, so that every promise under
attack is one the server enforces.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from postgres_support import fresh_postgres_schema
from serve_support import environment, serve

from pledge.api.keys import KeyStore, Scope
from pledge.settings import Settings, load_settings, open_vault

EXAMPLE_POLICIES = Path(__file__).resolve().parents[2] / "examples" / "policies"
BUDGET = 3.0
WHO: dict[str, tuple[Scope, str | None]] = {
    "collector": ("collector", None),
    "other_website": ("collector", None),
    "role": ("role", "support"),
    "agent": ("agent", "support"),
    "recipient": ("recipient", "contractors"),
    "statistics": ("recipient", "statistics_recipients"),
    "admin": ("admin", None),
}
SCOPES: tuple[Scope, ...] = ("collector", "role", "agent", "recipient", "admin")


def suite_policy(folder: Path) -> Path:
    text = (EXAMPLE_POLICIES / "3cx.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "    condition: aggregate\n    min_group_size: 10\n",
        f"    condition: aggregate\n    min_group_size: 10\n"
        f"    noise_epsilon: 1.0\n    privacy_budget: {BUDGET}\n",
    )
    # An optional password at registration, so credentials are attacked too.
    text = text.replace(
        "      phone: {category: user.contact.phone_number}\n    purposes: [essential.service,",
        "      phone: {category: user.contact.phone_number}\n"
        "      password: {category: user.authorization.credentials}\n"
        "    purposes: [essential.service,",
        1,
    )
    path = folder / "3cx-security.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Server:
    """A running server, its keys (by role in the tests) and a client."""

    base: str
    log: Path
    keys: dict[str, str]
    settings: Settings
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base, timeout=30)

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def post(self, path: str, who: str, **options: Any) -> httpx.Response:
        return self.client.post(path, headers=self.as_(who), **options)

    def get(self, path: str, who: str, **options: Any) -> httpx.Response:
        return self.client.get(path, headers=self.as_(who), **options)

    def collect(self, point: str, fields: dict[str, str], **extra: Any) -> dict[str, Any]:
        response = self.post(f"/v1/collect/{point}", "collector", json={"fields": fields, **extra})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def token(self, subject: str, who: str = "collector") -> str:
        response = self.post("/v1/subject-tokens", who, json={"subject": subject})
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def value(self, subject: str, field_name: str) -> str | None:
        export = self.get(f"/v1/subjects/{subject}/export", "admin").json()
        return next((v["value"] for v in export["data"] if v["field"] == field_name), None)

    def confirmation_link(self, pending: str) -> str:
        """The link the confirmation message for ``pending`` carries (as the person gets it
        in their mailbox; the mail tests follow it through a real SMTP server)."""
        vault = open_vault(self.settings)
        try:
            return f"/confirm/{vault.confirmation_token(pending)}"
        finally:
            vault.close()

    def no_tracebacks(self) -> None:
        text = self.log.read_text(errors="replace")
        assert "Traceback" not in text, text[-3000:]


def start(request: pytest.FixtureRequest, folder: Path, **settings: str) -> Iterator[Server]:
    """A server over a fresh database of the kind ``request.param`` names."""
    policy = suite_policy(folder)
    database: Iterator[str] | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'pledge.sqlite3'}"
    else:
        database = fresh_postgres_schema(request.getfixturevalue("postgres_admin"))
        url = next(database)
    opened = load_settings(data_dir=folder, database_url=url, policy=policy)
    vault = open_vault(opened)
    try:
        store = KeyStore(vault)
        keys = {
            who: store.create(scope, actor, who, by="test")[1]
            for who, (scope, actor) in WHO.items()
        }
    finally:
        vault.close()
    env = environment(
        PLEDGE_DATA_DIR=str(folder),
        PLEDGE_DATABASE_URL=url,
        PLEDGE_POLICY=str(policy),
        PLEDGE_RATE_LIMIT_PER_SECOND="100000",
        PLEDGE_RATE_LIMIT_BURST="100000",
        **settings,
    )
    log = folder / "server.log"
    try:
        with serve(env, log) as (_, base):
            server = Server(base, log, keys, opened)
            yield server
            server.client.close()
    finally:
        if database is not None:
            database.close()
