"""The one release operation: a value goes out only for a purpose of the point it was collected
at, and same-named fields from different points stay apart in every result.

Zimbra's member gives one email at registration (for the service, not the forum) and may give
another at the forum, electing to show it to other members. A forum disclosure must hand over
the forum address and never the registration one.
"""

from __future__ import annotations

import pytest

from pledge.errors import DeniedError, NotFoundError
from pledge.policy import Actor
from pledge.store.audit import Record
from tests.conftest import VaultFactory

FORUM = "functional.service.community_forum"
SUPPORT = "essential.service.operations.support"


def member(vault, *, shown: bool, forum_email: str = "forum@example.com") -> str:
    subject = vault.collect(
        "registration",
        {
            "name": "Ada Member",
            "username": "ada",
            "email": "private@example.com",
            "password": "correct horse",
        },
        age=30,
    ).subject
    vault.collect("forum", {"username": "ada_f", "email": forum_email}, subject=subject, age=30)
    if shown:
        vault.grant(subject, "show:user.contact.email")
    return subject


def test_forum_disclosure_releases_the_forum_email_not_the_registration_one(
    vault_factory: VaultFactory,
) -> None:
    vault = vault_factory("zimbra")
    subject = member(vault, shown=True)
    result = vault.disclose([subject], "forum_members_email", FORUM, ["user.contact.email"])
    assert result.released[subject] == {"forum.email": "forum@example.com"}
    assert "private@example.com" not in str(result)


def test_forum_email_not_shown_releases_no_email_at_all(vault_factory: VaultFactory) -> None:
    vault = vault_factory("zimbra")
    subject = member(vault, shown=False)
    result = vault.disclose([subject], "forum_members_email", FORUM, ["user.contact.email"])
    assert subject not in result.released
    assert result.refused[subject].code == "not_shown"


def test_release_keys_values_by_point_and_withholds_the_other_point(
    vault_factory: VaultFactory,
) -> None:
    vault = vault_factory("zimbra")
    subject = member(vault, shown=True)
    [outcome] = vault.release([subject], Actor.recipient("forum_members_email"), FORUM).outcomes
    assert not isinstance(outcome, Exception)
    assert outcome.values == {"forum.email": "forum@example.com"}
    assert outcome.withheld["registration.email"].code == "not_collected_for_purpose"
    assert {o.code for o in outcome.obligations} == {"record_disclosure"}


def test_support_reads_both_usernames_apart(vault_factory: VaultFactory) -> None:
    """Same-named fields from two points are two entries, never one overwriting the other."""
    vault = vault_factory("zimbra")
    subject = member(vault, shown=False)
    admin = Actor.role("site_admin")
    signing_in = vault.read(subject, "essential.service.authentication", admin)
    assert signing_in.values.get("registration.username") == "ada"
    assert "forum.username" not in signing_in.values  # the forum collects for the forum only
    assert signing_in.withheld["forum.username"].code == "not_collected_for_purpose"
    moderating = vault.read(subject, FORUM, admin)
    assert moderating.values == {"forum.username": "ada_f", "forum.email": "forum@example.com"}


def test_release_of_another_subject_or_an_unknown_one_is_not_found(
    vault_factory: VaultFactory,
) -> None:
    vault = vault_factory("zimbra")
    subject = member(vault, shown=True)
    outcomes = vault.release(
        [subject, "nobody"], Actor.recipient("forum_members_email"), FORUM
    ).outcomes
    assert isinstance(outcomes[1], NotFoundError)
    assert not isinstance(outcomes[0], Exception)


def test_a_refused_release_is_audited_and_opens_nothing(vault_factory: VaultFactory) -> None:
    vault = vault_factory("zimbra")
    subject = member(vault, shown=False)
    before = vault.audit.verify(vault.engine).entries
    with pytest.raises(DeniedError):
        vault.read(subject, FORUM, Actor.role("support"))
    assert vault.audit.verify(vault.engine).entries == before + 1


def test_release_fails_closed_when_the_audit_leaf_cannot_be_written(
    vault_factory: VaultFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A leaf that cannot be queued releases nothing: no value is decrypted."""
    vault = vault_factory("zimbra")
    subject = member(vault, shown=True)
    opened: list[str] = []
    real_open = vault.open_value
    monkeypatch.setattr(
        vault, "open_value", lambda *a: opened.append("x") or real_open(*a), raising=True
    )

    def broken(connection: object, *records: Record) -> list[int]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(vault, "record", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        vault.release([subject], Actor.recipient("forum_members_email"), FORUM)
    assert opened == []
