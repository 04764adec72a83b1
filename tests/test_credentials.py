"""Credentials: a password is hashed with argon2id at collection and can only be checked,
never read, disclosed or exported; wrong guesses are slowed down; old hashes are upgraded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from pledge.errors import CollectionError, NotFoundError, TooManyAttempts
from pledge.store.schema import credentials, pending_changes, personal_values
from pledge.store.vault import Vault

EXAMPLES = Path(__file__).parents[1] / "examples" / "policies"
PASSWORD = "correct horse battery staple "  # the trailing space is part of it
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def vault(vault_factory: Callable[..., Vault]) -> Vault:
    opened = vault_factory("zimbra")
    opened.hasher = FAST
    return opened


def sign_up(vault: Vault, person: Any, password: str = PASSWORD) -> str:
    return vault.collect(
        "registration",
        {
            "name": person.name,
            "username": person.username,
            "email": person.email,
            "password": password,
        },
        age=person.age,
    ).subject


def test_a_password_is_never_stored_readable_nor_given_back(
    vault: Vault, person_factory: Callable[[], Any], tmp_path: Path
) -> None:
    person = person_factory()
    subject = sign_up(vault, person)
    with vault.engine.connect() as connection:
        fields = connection.execute(
            select(personal_values.c.field).where(personal_values.c.subject_id == subject)
        ).scalars()
        assert "password" not in set(fields)
        sealed = connection.execute(select(credentials.c.sealed_hash)).scalar_one()
    assert PASSWORD.encode() not in sealed
    assert b"argon2id" not in sealed  # the hash itself is sealed under the subject's key
    for file in tmp_path.iterdir():
        if file.is_file():
            assert PASSWORD.strip().encode() not in file.read_bytes(), file.name

    export = vault.export(subject)
    assert PASSWORD not in repr(export)
    assert [(c["point"], c["field"], c["set"]) for c in export["credentials"]] == [
        ("registration", "password", True)
    ]
    assert export["credentials"][0]["set_at"] == export["created_at"]
    for role in vault.policy.policy.roles:
        for purpose in vault.policy.policy.purposes:
            try:
                result = vault.read(subject, purpose, role)
            except Exception:
                continue
            assert "registration.password" not in result.values


def test_verify_says_yes_only_to_the_password_of_that_subject(
    vault: Vault, person_factory: Callable[[], Any]
) -> None:
    alice = sign_up(vault, person_factory())
    mallory = sign_up(vault, person_factory(), password="mallory's own")
    assert vault.verify_credential(alice, "registration", "password", PASSWORD)
    assert not vault.verify_credential(alice, "registration", "password", PASSWORD.strip())
    assert not vault.verify_credential(mallory, "registration", "password", PASSWORD)
    with pytest.raises(NotFoundError):
        vault.verify_credential(alice, "registration", "email", PASSWORD)


def test_wrong_guesses_in_a_row_are_slowed_down_and_a_right_one_resets(
    vault: Vault, person_factory: Callable[[], Any], clock: Any
) -> None:
    subject = sign_up(vault, person_factory())
    for _ in range(5):
        assert not vault.verify_credential(subject, "registration", "password", "guess")
    with pytest.raises(TooManyAttempts) as limited:
        vault.verify_credential(subject, "registration", "password", PASSWORD)
    assert limited.value.headers["Retry-After"] == "1"
    clock.advance(seconds=1)
    assert not vault.verify_credential(subject, "registration", "password", "guess")
    with pytest.raises(TooManyAttempts) as limited:
        vault.verify_credential(subject, "registration", "password", PASSWORD)
    assert limited.value.headers["Retry-After"] == "2"  # doubling
    clock.advance(seconds=2)
    assert vault.verify_credential(subject, "registration", "password", PASSWORD)
    assert not vault.verify_credential(subject, "registration", "password", "guess")


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_the_next_sign_in(
    vault: Vault, person_factory: Callable[[], Any]
) -> None:
    subject = sign_up(vault, person_factory())
    before = _stored_hash(vault, subject)
    vault.hasher = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    assert not vault.verify_credential(subject, "registration", "password", "wrong")
    assert _stored_hash(vault, subject) == before  # a wrong password upgrades nothing
    assert vault.verify_credential(subject, "registration", "password", PASSWORD)
    after = _stored_hash(vault, subject)
    assert "m=1024,t=1" in before
    assert "m=2048,t=2" in after
    assert vault.verify_credential(subject, "registration", "password", PASSWORD)


def _stored_hash(vault: Vault, subject: str) -> str:
    from pledge.store.credentials import seal_aad

    with vault.engine.connect() as connection:
        sealed = connection.execute(select(credentials.c.sealed_hash)).scalar_one()
    cipher = vault.ciphers([subject])[subject]
    return cipher.decrypt(
        sealed, seal_aad(subject, "registration", "password"), context="t"
    ).decode()


def test_erasure_takes_the_credential_with_it(
    vault: Vault, person_factory: Callable[[], Any]
) -> None:
    subject = sign_up(vault, person_factory())
    vault.erase(subject)
    with vault.engine.connect() as connection:
        assert connection.execute(select(credentials)).first() is None
    with pytest.raises(NotFoundError):
        vault.verify_credential(subject, "registration", "password", PASSWORD)


@pytest.mark.parametrize("bad", ["", "x" * 1025, 12345])
def test_an_unusable_secret_is_refused_by_name(
    vault: Vault, person_factory: Callable[[], Any], bad: object
) -> None:
    person = person_factory()
    with pytest.raises(CollectionError, match=r"registration\.password"):
        vault.collect(
            "registration",
            {
                "name": person.name,
                "username": person.username,
                "email": person.email,
                "password": bad,
            },  # type: ignore[dict-item]
            age=person.age,
        )


def test_a_password_in_a_pending_change_waits_hashed_and_applies_on_confirmation(
    vault: Vault, person_factory: Callable[[], Any], tmp_path: Path
) -> None:
    """Someone signs up again with Alice's email and a new password: the submission waits for
    Alice's confirmation with the password as its hash, sealed; Alice's old password works
    until she confirms, the new one after, and only then."""
    alice = person_factory()
    subject = sign_up(vault, alice)
    renewed = "a completely new passphrase 42"
    waiting = vault.collect(
        "registration",
        {
            "name": alice.name,
            "username": alice.username,
            "email": alice.email.upper(),
            "password": renewed,
        },
        age=alice.age,
    )
    assert waiting.pending is not None
    with vault.engine.connect() as connection:
        payload = connection.execute(select(pending_changes.c.payload)).scalar_one()
    assert renewed.encode() not in payload
    assert b"argon2id" not in payload  # sealed under Alice's data key, the hash too
    for file in tmp_path.iterdir():
        if file.is_file():
            assert renewed.encode() not in file.read_bytes(), file.name
    assert vault.verify_credential(subject, "registration", "password", PASSWORD)
    assert not vault.verify_credential(subject, "registration", "password", renewed)

    done = vault.confirm(vault.confirmation_token(waiting.pending))
    assert "password" in done.fields
    assert vault.verify_credential(subject, "registration", "password", renewed)
    assert not vault.verify_credential(subject, "registration", "password", PASSWORD)
    assert renewed not in repr(vault.export(subject))


def test_retention_ends_a_password_as_it_ends_any_value(
    vault_factory: Callable[..., Vault],
    person_factory: Callable[[], Any],
    clock: Any,
    tmp_path: Path,
) -> None:
    """A policy keeping credentials 90 days: the hash is gone on day 91 counted from when the
    password was last set, so a password changed since lives on; the audit log says which."""
    text = (EXAMPLES / "zimbra.yaml").read_text(encoding="utf-8")
    text += (
        "\nretention:\n  - categories: [user.authorization]\n    days: 90\n"
        "    reason: Unused sign-in secrets are not kept\n"
    )
    policy = tmp_path / "zimbra-retention.yaml"
    policy.write_text(text, encoding="utf-8")
    vault = vault_factory(policy)
    vault.hasher = FAST
    stale, renewed = person_factory(), person_factory()
    stale_id, renewed_id = sign_up(vault, stale), sign_up(vault, renewed)
    clock.advance(days=60)
    vault.collect(
        "registration",
        {
            "name": renewed.name,
            "username": renewed.username,
            "email": renewed.email,
            "password": "changed on day sixty",
        },
        subject=renewed_id,
        age=renewed.age,
    )
    clock.advance(days=31)
    report = vault.run_retention()
    assert report.deleted == {"user.authorization.credentials": 1}
    with pytest.raises(NotFoundError):
        vault.verify_credential(stale_id, "registration", "password", PASSWORD)
    assert vault.export(stale_id)["credentials"] == []
    assert vault.export(stale_id)["data"]  # the rest of the person is kept
    assert vault.verify_credential(renewed_id, "registration", "password", "changed on day sixty")
    retained = [e for e in vault.audit_entries_for(stale_id) if e["action"] == "retention_delete"]
    assert [e["detail"]["fields"] for e in retained] == [["registration.password"]]
