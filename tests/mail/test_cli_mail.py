"""``pledge mail send`` and ``pledge mail deliver`` from the shell's point of view, plus the
outbox table against its migration and the Global Privacy Control signal."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from mail_support import EXAMPLE_POLICIES, HOST, UNSUBSCRIBE_URL, Sink, collect, write_template
from sqlalchemy import inspect
from typer.testing import CliRunner, Result

from pledge.cli.mail import app
from pledge.mail.gate import record_gpc
from pledge.policy import Actor, Request, decide
from pledge.store.database import sqlite_url
from pledge.store.keys import LocalKeyFileProvider
from pledge.store.schema import mail_outbox
from pledge.store.vault import Vault

VaultFactory = Callable[..., Vault]
MARKETING = "marketing.communications.email"
ZABBIX = EXAMPLE_POLICIES / "zabbix.yaml"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Vault]:
    """A store in ``tmp_path`` laid out as ``--data-dir`` expects it."""
    vault = Vault.open(
        sqlite_url(tmp_path / "pledge.sqlite3"),
        LocalKeyFileProvider(tmp_path / "master.key", create=True),
        ZABBIX.read_text(encoding="utf-8"),
        policy_file=str(ZABBIX),
    )
    yield vault
    vault.close()


def mail(tmp_path: Path, sink: Sink, *args: str) -> Result:
    env = {
        "COLUMNS": "40",  # a pipe ignores the terminal: ids and rows stay whole
        "PLEDGE_MAIL_SMTP_HOST": HOST,
        "PLEDGE_MAIL_SMTP_PORT": str(sink.port),
        "PLEDGE_MAIL_FROM_ADDRESS": "Zabbix News <news@zabbix.com>",
        "PLEDGE_MAIL_UNSUBSCRIBE_URL": UNSUBSCRIBE_URL,
    }
    command = [*args, "--policy", str(ZABBIX), "--data-dir", str(tmp_path)]
    return CliRunner().invoke(app, command, env=env, catch_exceptions=False)


def test_dry_run_says_who_would_be_skipped_and_why_by_subject_id(
    store: Vault, sink: Sink, tmp_path: Path
) -> None:
    keen, keen_address = collect(store, "registration", 1)
    out, out_address = collect(store, "registration", 2, choices={MARKETING: False})
    survey, _ = collect(store, "survey", 3)
    template = write_template(tmp_path / "news", "News", "Hello {{ name }}\n")

    result = mail(
        tmp_path,
        sink,
        "send",
        "--type",
        "newsletter",
        "--template",
        str(template.folder),
        "--dry-run",
    )

    assert result.exit_code == 0, result.output
    assert "3 people, 1 would be queued, 2 skipped" in result.output
    assert re.search(
        rf"consent_withdrawn\s+│ purposes\.{MARKETING}\.basis\s+│\s+1 │", result.output
    )
    assert "not_collected_for_purpose" in result.output
    assert out in result.output
    assert survey in result.output
    assert keen not in result.output
    assert "@" not in result.output.replace("news@zabbix.com", "")
    assert keen_address not in result.output
    assert out_address not in result.output
    with store.engine.connect() as connection:
        assert connection.execute(mail_outbox.select()).first() is None


def test_dry_run_json_parses_and_ids_are_never_folded(
    store: Vault, sink: Sink, tmp_path: Path
) -> None:
    out = [collect(store, "registration", n, choices={MARKETING: False})[0] for n in range(12)]
    template = write_template(tmp_path / "news", "News", "Hello {{ name }}\n")
    args = ["send", "--type", "newsletter", "--template", str(template.folder), "--dry-run"]

    text = mail(tmp_path, sink, *args)
    row = next(line for line in text.output.splitlines() if "consent_withdrawn" in line)
    assert all(subject in row for subject in sorted(out)[:10])
    assert "… and 2 more" in row

    summary = json.loads(mail(tmp_path, sink, *args, "--json", "--show", "20").stdout)
    assert (summary["dry_run"], summary["seen"], summary["queued"]) == (True, 12, 0)
    assert [(s["code"], s["ref"], s["people"]) for s in summary["skipped"]] == [
        ("consent_withdrawn", f"purposes.{MARKETING}.basis", 12)
    ]
    assert sorted(summary["skipped"][0]["subjects"]) == sorted(out)


def test_dry_run_names_the_version_limit_of_data_collected_under_an_earlier_policy(
    sink: Sink, tmp_path: Path
) -> None:
    """Bitrix 2004 marketing email was opt-in; a later version makes it opt-out. People who
    signed up under 2004 without opting in keep that limit until they accept the new version,
    and the dry run says so, not "no_consent" at a path that now reads opt-out."""
    old_file = EXAMPLE_POLICIES / "bitrix.yaml"
    new_data = yaml.safe_load(old_file.read_text(encoding="utf-8"))
    new_data["version"] = new_data["effective"] = "2006-10-17"
    new_data["purposes"][MARKETING]["basis"] = "opt_out"
    new_file = tmp_path / "bitrix-2006.yaml"
    new_file.write_text(yaml.safe_dump(new_data, sort_keys=False), encoding="utf-8")

    def open_store(policy: Path) -> Vault:
        return Vault.open(
            sqlite_url(tmp_path / "pledge.sqlite3"),
            LocalKeyFileProvider(tmp_path / "master.key", create=True),
            policy.read_text(encoding="utf-8"),
            policy_file=str(policy),
        )

    with_2004 = open_store(old_file)
    keen, _ = collect(with_2004, "purchase", 1, choices={MARKETING: True})
    silent, _ = collect(with_2004, "purchase", 2)
    agreed, _ = collect(with_2004, "purchase", 3)
    with_2004.close()
    with_2006 = open_store(new_file)
    with_2006.grant(agreed, "policy:2006-10-17")
    newcomer, _ = collect(with_2006, "purchase", 4)
    with_2006.close()

    template = write_template(tmp_path / "offers", "Offers", "Hello {{ name }}\n")
    env = {
        "PLEDGE_MAIL_FROM_ADDRESS": "Bitrix <news@bitrixsoft.com>",
        "PLEDGE_MAIL_UNSUBSCRIBE_URL": UNSUBSCRIBE_URL,
        "PLEDGE_MAIL_SMTP_PORT": str(sink.port),
    }
    result = CliRunner().invoke(
        app,
        ["send", "--type", "offers", "--template", str(template.folder), "--dry-run", "--json",
         "--policy", str(new_file), "--data-dir", str(tmp_path)],
        env=env,
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["seen"], summary["queued"]) == (4, 3)  # keen, agreed, newcomer
    [skipped] = summary["skipped"]
    message = skipped.pop("message")
    assert skipped == {
        "code": "collected_under_earlier_version",
        "ref": "changes.material_change_needs_consent",
        "people": 1,
        "subjects": [silent],
    }
    # Bitrix lets its notice period carry older data forward, so the message says when; the
    # silent person's unticked opt-in still holds then (tests/policy_changes/test_windows.py).
    assert message.startswith(
        "the data was collected under policy version '2004-03-30', which did "
        f"not allow this ('{MARKETING}' needs the person's opt-in, and there is none); it "
        "follows version '2006-10-17' once the person consents to it "
        "(choice 'policy:2006-10-17'), or, unless they opt out, when the notice period of "
        "version '2006-10-17' ends ("
    )
    assert {keen, agreed, newcomer}.isdisjoint(result.stdout.split('"subjects"')[1])


def test_send_then_deliver(store: Vault, sink: Sink, tmp_path: Path) -> None:
    for n in range(3):
        collect(store, "registration", n)
    template = write_template(tmp_path / "news", "News", "Hello {{ name }}\n")
    sent = mail(
        tmp_path,
        sink,
        "send",
        "--type",
        "newsletter",
        "--template",
        str(template.folder),
        "--to-segment",
        "point:registration",
        "--campaign",
        "may-news",
    )
    assert sent.exit_code == 0, sent.output
    assert "campaign may-news (newsletter to point:registration): 3 people, 3 queued" in sent.output
    assert "pledge mail deliver" in sent.output

    delivered = mail(tmp_path, sink, "deliver")
    assert delivered.exit_code == 0, delivered.output
    assert "sent 3, bounced 0, failed 0" in delivered.output
    assert "outbox: pending 0, sending 0, sent 3" in delivered.output
    assert len(sink.received) == 3
    again = json.loads(mail(tmp_path, sink, "deliver", "--json").stdout)
    assert (again["sent"], again["outbox"]["sent"], again["outbox"]["pending"]) == (0, 3, 0)


def test_outbox_table_matches_its_migration(vault_factory: VaultFactory) -> None:
    vault = vault_factory("zabbix")
    found = {c["name"]: c for c in inspect(vault.engine).get_columns("mail_outbox")}
    assert list(found) == [c.name for c in mail_outbox.columns]
    for column in mail_outbox.columns:
        assert found[column.name]["nullable"] == column.nullable, column.name
        assert type(found[column.name]["type"]).__name__ != "NullType"
    primary = inspect(vault.engine).get_pk_constraint("mail_outbox")["constrained_columns"]
    assert primary == ["subject_id", "campaign_id"]
    indexes = {i["name"] for i in inspect(vault.engine).get_indexes("mail_outbox")}
    assert indexes == {i.name for i in mail_outbox.indexes}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_gpc_signal_withdraws_sale_and_sharing_but_not_legal_duties(
    vault_factory: VaultFactory,
) -> None:
    vault = vault_factory("zimbra")
    subject, _ = collect(vault, "registration", 1)
    counted = Request(
        Actor.recipient("advertisers"),
        "marketing.advertising.third_party",
        ("user.device.ip_address",),
        group_size=10,
    )
    assert decide(vault.policy, counted._replace(choices=vault.choices(subject))).allowed
    assert record_gpc(vault, subject) == ["purpose:marketing.advertising.third_party"]
    refused = decide(vault.policy, counted._replace(choices=vault.choices(subject)))
    assert not refused.allowed
    assert refused.denial is not None
    assert refused.denial.code == "consent_withdrawn"
    assert record_gpc(vault, subject) == []  # already recorded
    [event] = vault.consent_history(subject)
    assert (event.choice, event.granted, event.source) == (
        "purpose:marketing.advertising.third_party",
        False,
        "gpc",
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("policy", "point", "expected"),
    [
        ("zabbix", "registration", []),
        ("webix", "signup", ["purpose:third_party_sharing.partner_offers"]),
    ],
)
def test_gpc_follows_what_each_policy_shares(
    vault_factory: VaultFactory, policy: str, point: str, expected: list[str]
) -> None:
    vault = vault_factory(policy)
    subject, _ = collect(vault, point, 1)
    withdrawn = record_gpc(vault, subject)
    assert [w for w in withdrawn if w in expected] == expected
    assert all(
        w.startswith(("purpose:marketing.advertising.third_party", "purpose:third_party_sharing"))
        for w in withdrawn
    )
