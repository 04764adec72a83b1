"""Consent receipts in the store: every banner answer recorded without personal data, and
moved into a subject's consent ledger once the site links the receipt at sign-in."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import Table, inspect, select

from pledge.errors import ConflictError, InputError, NotFoundError
from pledge.store.audit import decode
from pledge.store.schema import audit_entries, cookie_choices, cookie_receipts
from pledge.store.vault import Vault
from tests.conftest import FakeClock

EMAIL_OUT = "purpose:marketing.communications.email"


def sign_up(vault: Vault, email: str = "reader@example.org") -> str:
    return vault.collect("newsletter", {"email": email}, age=30).subject


def test_a_first_answer_gets_a_new_random_receipt(site_vault: Vault) -> None:
    first = site_vault.record_cookie_choice(None, ["analytics"])
    second = site_vault.record_cookie_choice(None, ["analytics"])
    assert re.fullmatch(r"[0-9a-f]{32}", first.receipt_id)
    assert first.receipt_id != second.receipt_id
    assert first.allowed == ("analytics",)
    assert first.refused == ("advertising", "preferences")
    assert first.policy_version == site_vault.policy.version


def test_later_answers_append_to_the_same_receipt(site_vault: Vault) -> None:
    first = site_vault.record_cookie_choice(None, ["analytics", "advertising"])
    site_vault.record_cookie_choice(first.receipt_id, [])
    history = site_vault.cookie_receipt(first.receipt_id)
    assert [(r.seq, r.allowed) for r in history] == [(0, ("advertising", "analytics")), (1, ())]


def test_a_receipt_id_we_never_issued_is_not_adopted(site_vault: Vault) -> None:
    planted = "ab" * 16
    recorded = site_vault.record_cookie_choice(planted, ["analytics"])
    assert recorded.receipt_id != planted
    assert site_vault.cookie_receipt(planted) == []


def test_global_privacy_control_turns_sharing_off_whatever_was_clicked(site_vault: Vault) -> None:
    recorded = site_vault.record_cookie_choice(None, ["analytics", "advertising"], gpc=True)
    assert recorded.allowed == ("analytics",)
    assert "advertising" in recorded.refused
    assert recorded.gpc


@pytest.mark.parametrize(
    ("receipt", "allowed", "field"),
    [
        (None, ["essential"], "allowed"),
        (None, ["tracking"], "allowed"),
        ("not-a-receipt", [], "receipt"),
        ("AB" * 16, [], "receipt"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_stored(
    site_vault: Vault, receipt: str | None, allowed: list[str], field: str
) -> None:
    with pytest.raises(InputError) as caught:
        site_vault.record_cookie_choice(receipt, allowed)
    assert caught.value.fields["field"] == field
    with site_vault.engine.connect() as connection:
        assert connection.execute(select(cookie_receipts)).first() is None


def test_a_receipt_holds_nothing_about_the_visitor(site_vault: Vault) -> None:
    site_vault.record_cookie_choice(None, ["preferences"], gpc=True, dnt=True)
    with site_vault.engine.connect() as connection:
        assert [c.name for c in cookie_receipts.columns] == [
            "receipt_id",
            "created_at",
            "subject_id",
            "linked_at",
        ]
        row = connection.execute(select(cookie_receipts)).one()
        assert row.subject_id is None
        assert set(cookie_choices.columns.keys()) == {
            "receipt_id",
            "seq",
            "allowed",
            "refused",
            "gpc",
            "dnt",
            "policy_version",
            "at",
        }


def test_linking_puts_the_latest_answer_in_the_subjects_ledger(site_vault: Vault) -> None:
    subject = sign_up(site_vault)
    receipt = site_vault.record_cookie_choice(None, ["analytics", "advertising"]).receipt_id
    site_vault.record_cookie_choice(receipt, ["analytics", "advertising"], gpc=True)
    latest = site_vault.link_cookie_receipt(receipt, subject)
    assert latest is not None
    assert latest.allowed == ("analytics",)
    choices = site_vault.choices(subject)
    assert "cookies:analytics" in choices.granted
    assert {"cookies:advertising", "cookies:preferences", EMAIL_OUT} <= choices.withdrawn
    # Once linked, a new answer's refusals are the subject's at once; what it allows, once
    # the site relays it.
    site_vault.record_cookie_choice(receipt, ["preferences"])
    choices = site_vault.choices(subject)
    assert "cookies:analytics" in choices.withdrawn
    assert "cookies:preferences" not in choices.granted
    site_vault.link_cookie_receipt(receipt, subject)
    assert "cookies:preferences" in site_vault.choices(subject).granted
    sources = {
        e.source for e in site_vault.consent_history(subject) if e.choice.startswith("cookies:")
    }
    assert sources == {"cookie_banner"}


def test_linking_twice_to_the_same_subject_changes_nothing(site_vault: Vault) -> None:
    subject = sign_up(site_vault)
    receipt = site_vault.record_cookie_choice(None, ["analytics"]).receipt_id
    site_vault.link_cookie_receipt(receipt, subject)
    events = len(site_vault.consent_history(subject))
    site_vault.link_cookie_receipt(receipt, subject)
    assert len(site_vault.consent_history(subject)) == events


def test_a_receipt_cannot_be_linked_to_someone_else(site_vault: Vault) -> None:
    owner, other = sign_up(site_vault), sign_up(site_vault, "other@example.org")
    assert owner != other
    receipt = site_vault.record_cookie_choice(None, ["analytics"]).receipt_id
    site_vault.link_cookie_receipt(receipt, owner)
    with pytest.raises(ConflictError):
        site_vault.link_cookie_receipt(receipt, other)
    assert not any(e.choice.startswith("cookies:") for e in site_vault.consent_history(other))


def test_linking_needs_a_known_receipt_and_subject(site_vault: Vault) -> None:
    subject = sign_up(site_vault)
    with pytest.raises(NotFoundError):
        site_vault.link_cookie_receipt("cd" * 16, subject)
    receipt = site_vault.record_cookie_choice(None, []).receipt_id
    with pytest.raises(NotFoundError):
        site_vault.link_cookie_receipt(receipt, "ef" * 16)
    with pytest.raises(InputError):
        site_vault.link_cookie_receipt("../../etc", subject)


def test_erasure_unlinks_the_receipt_and_the_visitor_still_gets_one(site_vault: Vault) -> None:
    subject = sign_up(site_vault)
    receipt = site_vault.record_cookie_choice(None, ["analytics"]).receipt_id
    site_vault.link_cookie_receipt(receipt, subject)
    site_vault.erase(subject)
    with site_vault.engine.connect() as connection:
        row = connection.execute(select(cookie_receipts)).one()
    assert row.subject_id is None
    again = site_vault.record_cookie_choice(receipt, [])
    assert again.seq == 1


def test_concurrent_clicks_on_one_receipt_each_get_their_own_place(site_vault: Vault) -> None:
    receipt = site_vault.record_cookie_choice(None, []).receipt_id
    errors: list[BaseException] = []

    def click(n: int) -> None:
        try:
            site_vault.record_cookie_choice(receipt, ["analytics"] if n % 2 else [])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=click, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [r.seq for r in site_vault.cookie_receipt(receipt)] == list(range(9))


@pytest.mark.parametrize("table", [cookie_receipts, cookie_choices], ids=lambda t: t.name)
def test_migration_0007_creates_the_tables_the_store_uses(site_vault: Vault, table: Table) -> None:
    found = inspect(site_vault.engine)
    assert [c["name"] for c in found.get_columns(table.name)] == list(table.columns.keys())
    primary = found.get_pk_constraint(table.name)["constrained_columns"]
    assert primary == [c.name for c in table.primary_key.columns]


def test_a_receipt_id_alone_only_ever_refuses_for_the_person(site_vault: Vault) -> None:
    """Whoever holds a linked receipt's id (a copied cookie) can send banner answers, but what
    those answers allow reaches the person only when the website, which knows who is signed
    in, relays them by linking again; what they refuse counts at once."""
    subject = sign_up(site_vault)
    receipt = site_vault.record_cookie_choice(None, []).receipt_id
    site_vault.link_cookie_receipt(receipt, subject)
    analytics = "cookies:analytics"

    site_vault.record_cookie_choice(receipt, ["analytics"])  # the copied cookie says yes
    assert analytics not in site_vault.choices(subject).granted

    site_vault.link_cookie_receipt(receipt, subject)  # the site relays it for the signed-in person
    assert analytics in site_vault.choices(subject).granted

    site_vault.record_cookie_choice(receipt, [])  # a no counts straight away
    assert analytics in site_vault.choices(subject).withdrawn


def test_each_answer_is_an_audit_leaf_that_names_no_browser(site_vault: Vault) -> None:
    """The record of consent is tamper-evident: every answer is in the audit log, under a
    keyed pseudonym of the receipt id, never the id itself (the log is never erased)."""
    first = site_vault.record_cookie_choice(None, ["analytics"], gpc=True)
    site_vault.record_cookie_choice(first.receipt_id, [])
    site_vault.audit.sync()
    with site_vault.engine.connect() as connection:
        raws = connection.execute(select(audit_entries.c.entry)).scalars().all()
    answers = [e for e in map(decode, raws) if e["action"] == "cookie_answer"]
    assert [(a["detail"]["seq"], a["detail"]["gpc"]) for a in answers] == [(0, True), (1, False)]
    assert answers[1]["detail"]["allowed"] == []
    refs = {a["detail"]["receipt_ref"] for a in answers}
    assert len(refs) == 1
    assert first.receipt_id not in refs
    assert not any(first.receipt_id.encode() in raw for raw in raws)


def test_retention_forgets_browsers_silent_longer_than_the_policy_keeps_answers(
    site_vault: Vault, clock: FakeClock
) -> None:
    days = site_vault.policy.policy.cookie_consent.receipt_days
    silent = site_vault.record_cookie_choice(None, ["analytics"]).receipt_id
    subject = sign_up(site_vault)
    linked = site_vault.record_cookie_choice(None, ["analytics"]).receipt_id
    site_vault.link_cookie_receipt(linked, subject)
    active = site_vault.record_cookie_choice(None, []).receipt_id
    clock.advance(days=days - 1)
    site_vault.record_cookie_choice(active, ["analytics"])  # answered again: its clock restarts
    assert site_vault.run_retention().cookie_receipts == 0
    clock.advance(days=2)

    assert site_vault.run_retention().cookie_receipts == 2
    assert site_vault.cookie_receipt(silent) == []
    assert site_vault.cookie_receipt(linked) == []
    assert [r.allowed for r in site_vault.cookie_receipt(active)] == [(), ("analytics",)]
    assert "cookies:analytics" in site_vault.choices(subject).granted  # the person's own record
    fresh = site_vault.record_cookie_choice(silent, [])  # the old cookie comes back: a new receipt
    assert fresh.receipt_id != silent
