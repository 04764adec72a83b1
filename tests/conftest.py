"""Shared fixtures: a fake clock, a master key, a real database (SQLite and PostgreSQL) per
test, and vaults opened on it with the example policies.

PostgreSQL tests run against ``PLEDGE_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Each test gets a schema of its own in
that database, dropped afterwards, so tests never see each other's rows. Without
a server they skip and say how to enable them; with ``CI`` set they fail instead, because CI
must run them.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from faker import Faker
from postgres_support import fresh_postgres_schema, postgres_url
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from pledge.errors import PledgeError
from pledge.store.keys import KeyProvider, LocalKeyFileProvider, default_key_store_url
from pledge.store.vault import Vault
from pledge.web.scan import launch

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_POLICIES = ROOT / "examples" / "policies"
START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def skip_or_fail(message: str) -> None:
    """Skip a test that needs something missing here; in CI (``CI`` set) fail instead."""
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this fails instead of skipping)")
    pytest.skip(message)


@pytest.fixture(name="skip_or_fail")
def skip_or_fail_fixture() -> Callable[[str], None]:
    """:func:`skip_or_fail`, for tests that find out at run time that something is missing."""
    return skip_or_fail


class FakeClock:
    """A clock that stands still until told to move; always aware UTC."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, when: dt.datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("the fake clock keeps aware UTC datetimes")
        self.now = when.astimezone(dt.UTC)

    def advance(self, **delta: float) -> dt.datetime:
        """Move forward by ``timedelta(**delta)`` (days=, hours=, seconds=...)."""
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def master_key(tmp_path: Path) -> LocalKeyFileProvider:
    return LocalKeyFileProvider(tmp_path / "master.key", create=True)


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the test server's database, for creating and dropping schemas."""
    url = postgres_url()
    shown = make_url(url).render_as_string(hide_password=True)
    engine = create_engine(
        url, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError:
        engine.dispose()
        skip_or_fail(
            f"PostgreSQL not reachable at {shown}; start it or set PLEDGE_TEST_POSTGRES_URL"
        )
    yield engine
    engine.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: SQLite (a file in tmp_path) or PostgreSQL (a schema of its
    own on the test server, see :func:`fresh_postgres_schema`)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pledge.sqlite3'}"
        return
    admin = request.getfixturevalue("postgres_admin")
    yield from fresh_postgres_schema(admin)


def policy_path(name: str | Path) -> Path:
    """``zabbix`` means examples/policies/zabbix.yaml; a Path is taken as it is."""
    return name if isinstance(name, Path) else EXAMPLE_POLICIES / f"{name}.yaml"


VaultFactory = Callable[..., Vault]


@pytest.fixture
def vault_factory(
    database_url: str, master_key: LocalKeyFileProvider, clock: FakeClock, tmp_path: Path
) -> Iterator[VaultFactory]:
    """``vault_factory("zabbix")`` opens a Vault on this test's database; all are closed after.

    Keyword arguments override the master key (``keys=``) and the clock (``clock=``).
    """
    opened: list[Vault] = []

    def open_vault(
        policy: str | Path = "zabbix",
        *,
        keys: KeyProvider | None = None,
        clock: Callable[[], dt.datetime] = clock,
    ) -> Vault:
        path = policy_path(policy)
        vault = Vault.open(
            database_url,
            keys or master_key,
            path.read_text(encoding="utf-8"),
            policy_file=str(path),
            clock=clock,
            key_store_url=default_key_store_url(database_url, tmp_path),
        )
        opened.append(vault)
        return vault

    yield open_vault
    for vault in opened:
        vault.close()


@dataclass(frozen=True)
class Person:
    """One made-up person: values as a web form would send them, and as Pledge stores them."""

    name: str
    email: str
    phone: str
    phone_e164: str
    address: str
    username: str
    birth_date: str
    job: str
    company: str
    age: int

    @property
    def email_stored(self) -> str:
        """email-validator keeps the local part and lower-cases the domain."""
        local, _, domain = self.email.rpartition("@")
        return f"{local}@{domain.lower()}"

    def secrets(self) -> list[str]:
        """Every personal string that must never appear in clear at rest."""
        found = {
            self.name,
            self.email,
            self.email.lower(),
            self.email_stored,
            self.phone,
            self.phone_e164,
            self.address,
            self.username,
            *(line for line in self.address.splitlines() if len(line) >= 6),
        }
        return sorted(found)


@pytest.fixture
def person_factory(faker: Faker) -> Callable[[], Person]:
    """Makes distinct people from the seeded ``faker`` (emails and usernames are unique)."""

    def make() -> Person:
        user = faker.unique.user_name()
        area, exchange, line = faker.numerify("%##"), faker.numerify("%##"), faker.numerify("####")
        return Person(
            name=faker.name(),
            email=f"{user}@{faker.domain_name().title()}",
            phone=f"+1 ({area}) {exchange}-{line}",
            phone_e164=f"+1{area}{exchange}{line}",
            address=faker.address(),
            username=f"{user}_{faker.random_int(10, 99)}",
            birth_date=faker.date_of_birth(minimum_age=20, maximum_age=80).isoformat(),
            job=faker.job(),
            company=faker.company(),
            age=faker.random_int(20, 80),
        )

    return make


@pytest.fixture(scope="module")
def chromium() -> Iterator[tuple[Any, str | None]]:
    """The module's browser, or why there is none. Not the session's: Playwright's sync API
    keeps an event loop running in the main thread while it is open, which would make every
    later test that runs a coroutine (``asyncio.run``) fail."""
    try:
        import playwright
    except ImportError:
        yield None, "Playwright is not installed: pip install -e '.[test]'"
        return
    try:
        with launch() as found:
            yield found, None
    except PledgeError as error:
        yield None, error.message


@pytest.fixture
def browser(chromium: tuple[Any, str | None], skip_or_fail: Any) -> Any:
    found, missing = chromium
    if found is None:
        skip_or_fail(f"no browser for the browser tests: {missing}")
    return found
