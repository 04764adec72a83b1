"""Web-log intake: a whole address never reaches the store, bad lines are counted by number
and never stop an intake, reports hide small groups, and retention deletes old days."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from collections.abc import Callable, Iterable
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from test_store_at_rest import pg_dump, sqlite_bytes

from pledge.errors import InputError
from pledge.logs.aggregate import Intake, ingest
from pledge.logs.minimise import Minimiser
from pledge.logs.parse import parse
from pledge.store.audit import decode
from pledge.store.schema import audit_entries
from pledge.store.vault import Vault

ZIMBRA = Path(__file__).parents[2] / "examples" / "policies" / "zimbra.yaml"
AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"


def policy_with(tmp_path: Path, web_logs: str, extra: str = "") -> Path:
    """Zimbra's policy with its web_logs section replaced (and ``extra`` sections added)."""
    text = ZIMBRA.read_text(encoding="utf-8")
    start = text.index("web_logs:")
    end = text.index("reports:")
    path = tmp_path / "policy.yaml"
    path.write_text(text[:start] + web_logs + "\n" + extra + "\n" + text[end:], encoding="utf-8")
    return path


def combined(ip: str, page: str, day: int = 10, hour: int = 13, agent: str = AGENT) -> str:
    return (
        f'{ip} - - [{day:02d}/Oct/2026:{hour:02d}:55:36 +0000] "GET {page} HTTP/1.1" 200 512 '
        f'"https://news.example.org/item?id=1" "{agent}"'
    )


def take_in(vault: Vault, lines: Iterable[str], size: int = 1000) -> Intake:
    minimise = Minimiser(
        vault.web_log_rules(), vault.web_log_hasher(), minimum_age=vault.web_log_minimum_age()
    )
    return ingest(parse(lines), minimise, lambda c: vault.store_web_visits(c.items()), size)


def addresses(n: int) -> list[str]:
    rng = random.Random(7)
    v4 = [f"198.51.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(n)]
    v6 = [
        f"2001:db8:{rng.randrange(65536):x}:{rng.randrange(65536):x}::{i + 1:x}" for i in range(n)
    ]
    return v4 + v6


def database_bytes(vault: Vault, url: str, skip_or_fail: Callable[[str], None]) -> bytes:
    if vault.engine.dialect.name != "sqlite":
        return pg_dump(url, skip_or_fail)
    path = Path(make_url(url).database or "")
    vault.close()
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sqlite_bytes(path)


@pytest.mark.parametrize("mode", ["truncate", "hash"])
def test_no_whole_address_is_in_the_database_after_intake(
    mode: str,
    tmp_path: Path,
    database_url: str,
    vault_factory: Callable[..., Vault],
    skip_or_fail: Callable[[str], None],
) -> None:
    policy = policy_with(
        tmp_path,
        "web_logs:\n  point: web_log\n  keep: {ip_address: ip_address, page: pages_visited}\n"
        f"  ip_addresses: {mode}\n  min_group_size: 2",
    )
    vault = vault_factory(policy)
    ips = addresses(150)
    intake = take_in(vault, [combined(ip, "/docs/install") for ip in ips], size=64)
    assert (intake.lines, intake.visits, intake.malformed) == (300, 300, 0)
    found = vault.web_log_report("page")
    assert found.groups[0].value == "/docs/install"
    assert found.groups[0].hits == 300
    blob = database_bytes(vault, database_url, skip_or_fail)
    assert b"/docs/install" in blob  # the scan sees what was stored
    for ip in ips:
        assert ip.encode() not in blob, f"{ip} is stored whole"
    if mode == "truncate":
        assert b".0/24" in blob
        assert b"::/48" in blob


def test_pages_keep_no_email_or_token_and_referrers_keep_only_their_host(
    vault_factory: Callable[..., Vault],
) -> None:
    vault = vault_factory("zimbra")
    lines = [
        combined(f"203.0.113.{i}", page)
        for i in range(1, 13)
        for page in (
            "/unsubscribe?email=ann%40example.com&token=abc",
            "/u/ann@example.com/settings",
            "/reset/9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        )
    ]
    take_in(vault, lines)
    pages = {g.value for g in vault.web_log_report("page").groups}
    assert pages == {"/unsubscribe", "/u/:email/settings", "/reset/:token"}
    referrers = {g.value for g in vault.web_log_report("referrer").groups}
    assert referrers == {"news.example.org"}


def test_malformed_lines_are_counted_by_number_and_the_rest_is_kept(
    vault_factory: Callable[..., Vault],
) -> None:
    vault = vault_factory("zimbra")
    good = combined("203.0.113.5", "/a")
    lines = [
        good,
        "not a log line",
        good,
        '203.0.113.5 - - [99/Zzz/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 1',
        '{"remote_addr": "203.0.113.6"}',
        "\x00\xff\ufffd" * 10,
        "",
        '{"remote_addr":"203.0.113.7","time":"2026-10-10T10:00:00Z","uri":"/b","status":404}',
    ]
    intake = take_in(vault, lines, size=3)
    assert intake.malformed == 4
    assert intake.malformed_lines == [2, 4, 5, 6]
    assert intake.visits == 3


def test_a_report_shows_only_groups_of_the_minimum_size(
    vault_factory: Callable[..., Vault],
) -> None:
    vault = vault_factory("zimbra")  # min_group_size 10, addresses hashed
    popular = [combined(f"203.0.113.{i}", "/pricing") for i in range(1, 11)]
    # one person reading a page fifty times is still one person
    lonely = [combined("198.51.100.9", "/careers/apply")] * 50
    take_in(vault, popular + lonely)
    found = vault.web_log_report("page")
    assert [(g.value, g.visitors) for g in found.groups] == [("/pricing", 10)]
    assert (found.withheld_groups, found.withheld_hits) == (1, 50)
    by_day = vault.web_log_report("day", actor="analyst")
    assert [(g.value, g.visitors, g.hits) for g in by_day.groups] == [("2026-10-10", 11, 60)]
    vault.audit.sync()
    with vault.engine.connect() as connection:
        raws = connection.execute(select(audit_entries.c.entry)).scalars().all()
    entries = [decode(raw) for raw in raws]
    asked = [(e["actor"], e["detail"]) for e in entries if e["action"] == "web_log_report"]
    assert asked == [
        ("operator", {"by": "page", "groups": 1, "withheld_groups": 1}),
        ("analyst", {"by": "day", "groups": 1, "withheld_groups": 0}),
    ]


def test_without_a_web_logs_section_nothing_is_taken_in(
    vault_factory: Callable[..., Vault],
) -> None:
    vault = vault_factory("zabbix")
    with pytest.raises(InputError, match="web_logs"):
        vault.web_log_rules()
    with pytest.raises(InputError, match="web_logs"):
        vault.store_web_visits([(("2026-10-10", 1, None, "/", None, None, None, 200), 1)])


def test_retention_deletes_days_past_the_rule_for_what_a_visit_keeps(
    tmp_path: Path, vault_factory: Callable[..., Vault], clock: Callable[[], dt.datetime]
) -> None:
    policy = policy_with(
        tmp_path,
        "web_logs:\n  point: web_log\n  keep: {page: pages_visited}\n  min_group_size: 2",
        "retention:\n  - categories: [user.behavior]\n    days: 30\n",
    )
    vault = vault_factory(policy)
    today = clock()
    old = today - dt.timedelta(days=45)
    lines = [
        f'203.0.113.1 - - [{when:%d/%b/%Y}:10:00:00 +0000] "GET /x HTTP/1.1" 200 1'
        for when in (old, today)
    ]
    take_in(vault, lines)
    assert vault.run_retention().web_visits == 1
    left = vault.web_log_report("day")
    assert (left.groups, left.withheld_groups, left.withheld_hits) == ([], 1, 1)  # today's


def test_a_visit_stating_an_age_under_the_minimum_is_not_kept(
    tmp_path: Path,
    database_url: str,
    vault_factory: Callable[..., Vault],
    skip_or_fail: Callable[[str], None],
) -> None:
    """Zimbra keeps no one under 13. Its web-log point states no minimum of its own, yet a
    visit whose URL or JSON record states age 12 (or a birth date 12 years before the visit)
    is dropped whole; 13, an adult's birth date and a non-age stay."""
    vault = vault_factory("zimbra")
    assert vault.web_log_minimum_age() == 13
    json_line = (
        '{{"remote_addr": "203.0.113.{i}", "time": "2026-10-10T13:00:00Z", '
        '"request_uri": "{page}", "status": 200, {extra}}}'
    )
    dropped = [
        combined("203.0.113.1", "/kid-query?age=12"),
        combined("203.0.113.2", "/kid-mixed-case?lang=en&Age=9"),
        combined("203.0.113.3", "/kid-born?dob=2014-10-11"),  # 11 on 10 Oct 2026
        json_line.format(i=4, page="/kid-json", extra='"age": 12'),
        json_line.format(i=5, page="/kid-json-dob", extra='"date_of_birth": "2014-01-01"'),
    ]
    kept = [
        combined("203.0.113.6", "/teen-query?age=13"),
        combined("203.0.113.7", "/adult-born?birthdate=1990-02-03"),
        combined("203.0.113.8", "/no-age?page=12"),
        json_line.format(i=9, page="/adult-json", extra='"age": "40"'),
    ]
    intake = take_in(vault, [*dropped, *kept])
    assert (intake.lines, intake.visits, intake.underage) == (9, 4, 5)
    blob = database_bytes(vault, database_url, skip_or_fail)
    assert b"/kid" not in blob
    for page in (b"/teen-query", b"/adult-born", b"/no-age", b"/adult-json"):
        assert page in blob
