"""Staff members of the console: who they are, the roles they may act as, their second factor.

A staff member signs in with a one-time link mailed to their address (the sessions of
:mod:`pledge.store.sessions`, principal kind ``staff``) and then a TOTP code (RFC 6238, 30 s
steps, one step of drift either way). A code works once: the step it was made in is
recorded, and a code of that step or an earlier one is refused, so one read over a shoulder
or out of a log opens nothing. Five wrong codes in a row lock the second factor for a while.

The address and the TOTP secret are sealed under a store secret (``staff_key``), and the
address is found through its blind-index token, as a subject's is: nothing about a staff
member is in clear in the database. Enrolment, each second factor passed or failed, and
each change are audited.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pyotp
from sqlalchemy import insert, select, update

from pledge.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PledgeError,
    SecondFactorInvalid,
)
from pledge.policy import Actor
from pledge.policy.loader import suggest
from pledge.store import release as read_path
from pledge.store.audit import Record
from pledge.store.crypto import SubjectCipher, normalise
from pledge.store.release import Grant, Released
from pledge.store.schema import staff
from pledge.store.signing import named_secret

if TYPE_CHECKING:
    from pledge.store.vault import Vault

KEY_NAME = "staff_key"
INDEX_KIND = "staff_email"
ISSUER = "Pledge"
MAX_FAILURES = 5
LOCKED_FOR = dt.timedelta(minutes=15)
STEP_SECONDS = 30


def lookup_token(vault: Vault, email: str) -> str:
    """The blind-index token of a staff address, written as a person would (case-blind)."""
    return vault.index.token(INDEX_KIND, normalise("email", email))


@dataclass(frozen=True)
class Enrolled:
    staff_id: str
    roles: tuple[str, ...]
    otpauth_uri: str  # shown once, for the authenticator app; holds the secret


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    roles: tuple[str, ...]


class Staff:
    def __init__(self, vault: Vault) -> None:
        self._cipher = SubjectCipher(named_secret(vault.engine, vault.keys, KEY_NAME))

    def _seal(self, staff_id: str, what: str, value: str) -> bytes:
        return self._cipher.encrypt(value.encode(), f"staff|{staff_id}|{what}".encode())

    def _open(self, staff_id: str, what: str, blob: bytes) -> str:
        return self._cipher.decrypt(
            blob, f"staff|{staff_id}|{what}".encode(), context=f"staff {staff_id}, {what}"
        ).decode()

    def add(self, vault: Vault, email: str, roles: list[str], *, actor: str) -> Enrolled:
        """Enrol a staff member who may act as ``roles``; the otpauth URI of their secret."""
        address = email.strip()
        if "@" not in address.strip("@") or len(address) > 254:
            raise InputError("give the staff member's email address, like ann@example.org")
        known = vault.policy.policy.roles
        if not roles:
            raise InputError("give at least one role (--role) the staff member acts as")
        for role in roles:
            if role not in known:
                raise InputError(
                    f"the policy has no role '{role}'{suggest(role, known)}", role=role
                )
        staff_id = secrets.token_hex(16)
        secret = pyotp.random_base32()
        token = lookup_token(vault, address)
        with vault.write() as connection:
            taken = connection.execute(select(staff.c.staff_id).where(staff.c.email_token == token))
            if taken.first() is not None:
                raise ConflictError("a staff member with that address is enrolled already")
            connection.execute(
                insert(staff).values(
                    staff_id=staff_id,
                    email_token=token,
                    email=self._seal(staff_id, "email", address),
                    roles=sorted(set(roles)),
                    totp_secret=self._seal(staff_id, "totp", secret),
                    totp_last_step=None,
                    failures=0,
                    created_at=vault.clock(),
                )
            )
            vault.record(
                connection,
                Record(
                    action="staff_add",
                    actor=actor,
                    detail={"staff": staff_id, "roles": sorted(set(roles))},
                ),
            )
        uri = pyotp.TOTP(secret).provisioning_uri(name=address, issuer_name=ISSUER)
        return Enrolled(staff_id, tuple(sorted(set(roles))), uri)

    def find(self, vault: Vault, email: str) -> str | None:
        """The staff id enrolled with exactly this address (blind index), or None."""
        with vault.snapshot() as connection:
            found: str | None = connection.execute(
                select(staff.c.staff_id).where(
                    staff.c.email_token == lookup_token(vault, email),
                    staff.c.disabled_at.is_(None),
                )
            ).scalar()
        return found

    def address(self, vault: Vault, staff_id: str) -> str:
        """Where a staff member's sign-in link goes."""
        return self._open(staff_id, "email", self._row(vault, staff_id).email)

    def member(self, vault: Vault, staff_id: str) -> StaffMember:
        row = self._row(vault, staff_id)
        return StaffMember(row.staff_id, tuple(row.roles))

    def _row(self, vault: Vault, staff_id: str) -> Any:
        with vault.snapshot() as connection:
            row = connection.execute(select(staff).where(staff.c.staff_id == staff_id)).first()
        if row is None or row.disabled_at is not None:
            raise NotFoundError("no such staff member", staff=staff_id)
        return row

    def check_code(self, vault: Vault, staff_id: str, code: str, role: str) -> None:
        """Accept ``code`` once for ``staff_id`` acting as ``role``; SecondFactorInvalid for
        a wrong, reused or late code, or a role they do not hold. Audited either way."""
        now = vault.clock()
        with vault.write() as connection:
            row = connection.execute(
                select(staff).where(staff.c.staff_id == staff_id).with_for_update()
            ).first()
            if row is None or row.disabled_at is not None:
                raise NotFoundError("no such staff member", staff=staff_id)
            if row.failures >= MAX_FAILURES and row.last_failure_at + LOCKED_FOR > now:
                raise SecondFactorInvalid(
                    "too many wrong codes; wait 15 minutes and sign in again", reason="locked"
                )
            step = self._matching_step(self._open(staff_id, "totp", row.totp_secret), code, now)
            reason = None
            if role not in row.roles:
                reason = "role"
            elif step is None:
                reason = "wrong"
            elif row.totp_last_step is not None and step <= row.totp_last_step:
                reason = "reused"
            passed = reason is None
            connection.execute(
                update(staff)
                .where(staff.c.staff_id == staff_id)
                .values(
                    totp_last_step=step if passed else row.totp_last_step,
                    failures=0 if passed else row.failures + 1,
                    last_failure_at=row.last_failure_at if passed else now,
                )
            )
            vault.record(
                connection,
                Record(
                    action="staff_second_factor",
                    actor=f"staff:{staff_id}",
                    detail={"role": role, "outcome": "passed" if passed else reason},
                ),
            )
        if reason == "role":
            raise SecondFactorInvalid("you may not act as that role", reason=reason)
        if reason is not None:
            raise SecondFactorInvalid(
                "that code is wrong or was used already; wait for the next one", reason=reason
            )

    @staticmethod
    def _matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
        """The time step (one either side of now) whose code is ``code``, or None."""
        given = code.strip().replace(" ", "")
        if not (given.isascii() and given.isdigit() and len(given) == 6):
            return None
        totp = pyotp.TOTP(secret)
        current = int(now.timestamp()) // STEP_SECONDS
        for step in (current - 1, current, current + 1):
            if secrets.compare_digest(totp.at(step * STEP_SECONDS), given):
                return step
        return None


def read_as(vault: Vault, staff_id: str, role: str, subject: str, purpose: str) -> Released:
    """A staff member's read of one person: decided for ``role`` as any read by that role is,
    through the one read path, with the audit leaf naming the staff member as well. Nothing
    released is a DeniedError, audited all the same."""
    actor = Actor.role(role)
    plain = read_path.read_record(actor, purpose)

    def leaf(grant: Grant, ref: str) -> Record:
        return replace(plain(grant, ref), actor=f"staff:{staff_id} as {actor}")

    outcome = read_path.as_reads(
        actor, purpose, vault.release([subject], actor, purpose, record=leaf)
    )
    result = outcome[0]
    if isinstance(result, PledgeError):
        raise result
    return result
