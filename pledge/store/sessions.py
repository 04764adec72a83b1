"""Sign-in links and sessions of the web pages, for people and staff alike.

A principal is who a session acts for: a data subject (``subject``, their subject id) or a
staff member (``staff``, their staff id, acting as one of the policy's roles). Both sign in
the same way and hold the same kind of session; a staff session also records when its
second factor was checked, which the staff pages require.

A sign-in link is a link id and its expiry, sealed with a store secret (see
:mod:`pledge.store.signing`), so it cannot be forged and carries nothing about the person.
Its row names the principal; using it marks the row used under a row lock, in the transaction
that opens the session, so a link opens one session only, however many times it is clicked.

A session id is 32 random bytes, given to the browser once and never stored: the table holds
its SHA-256, with the principal, the expiry and when (if ever) it was revoked.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, insert, select, update

from pledge.errors import SignInInvalid
from pledge.store.audit import Record
from pledge.store.schema import sign_in_links, web_sessions
from pledge.store.signing import Sealer

if TYPE_CHECKING:
    from pledge.store.vault import Vault

KEY_NAME = "sign_in_key"
SUBJECT, STAFF = "subject", "staff"
KINDS = (SUBJECT, STAFF)
LINK_TTL = dt.timedelta(minutes=15)
SESSION_TTL = dt.timedelta(hours=2)
_VERSION = 1
_SIZE = 1 + 16 + 8
_ID_BYTES = 32


@dataclass(frozen=True)
class Session:
    """A live session, as the pages see it. ``key`` is the session's hash (its name in the
    store); the raw id stays in the browser's cookie."""

    key: str
    kind: str
    principal: str
    role: str | None
    created_at: dt.datetime
    expires_at: dt.datetime
    second_factor_at: dt.datetime | None


@dataclass(frozen=True)
class Opened:
    """A session just opened: the id to set in the cookie (shown once) and the session."""

    session_id: str
    session: Session


def session_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii", "replace")).hexdigest()


def _actor(kind: str, principal: str) -> str:
    return "subject" if kind == SUBJECT else f"{kind}:{principal}"


def _refused(reason: str) -> SignInInvalid:
    messages = {
        "damaged": "this sign-in link is damaged or was not issued by us; copy the whole link "
        "from the message, or ask for a new one",
        "expired": "this sign-in link has expired (links last 15 minutes); ask for a new one",
        "used": "this sign-in link was already used; ask for a new one",
    }
    return SignInInvalid(messages[reason], reason=reason)


class SignIns:
    """Issues sign-in links, opens sessions with them, and finds, upgrades and ends sessions."""

    def __init__(self, key: bytes) -> None:
        self._sealer = Sealer(key, "sign-in/v1")

    # --- links ------------------------------------------------------------------------------

    def issue(self, vault: Vault, kind: str, principal: str, ttl: dt.timedelta = LINK_TTL) -> str:
        """A new link's token for ``principal``; the caller mails it to them."""
        if kind not in KINDS:
            raise ValueError(f"a principal is one of {KINDS}")
        now = vault.clock()
        expires = (now + ttl).replace(microsecond=0)
        link_id = os.urandom(16)
        with vault.write() as connection:
            connection.execute(
                insert(sign_in_links).values(
                    link_id=link_id.hex(),
                    principal_kind=kind,
                    principal=principal,
                    created_at=now,
                    expires_at=expires,
                )
            )
        body = bytes([_VERSION]) + link_id + int(expires.timestamp()).to_bytes(8, "big")
        return self._sealer.seal(body)

    def check(self, vault: Vault, token: str) -> str:
        """The link id of a genuine, unexpired token (used or not: see :meth:`redeem`)."""
        body = self._sealer.open(token, _SIZE)
        if body is None or body[0] != _VERSION:
            raise _refused("damaged")
        if int.from_bytes(body[17:25], "big") <= vault.clock().timestamp():
            raise _refused("expired")
        return body[1:17].hex()

    def redeem(
        self,
        vault: Vault,
        token: str,
        kind: str,
        *,
        ttl: dt.timedelta = SESSION_TTL,
        role: str | None = None,
    ) -> Opened:
        """Use a link of a ``kind`` principal once: mark it used and open a session for its
        principal, together. A second use, or a concurrent one, is refused; so is a link of
        the other kind (a person's link on the staff sign-in page) and a subject erased since."""
        link_id = self.check(vault, token)
        now = vault.clock()
        with vault.write() as connection:
            row = connection.execute(
                select(sign_in_links).where(sign_in_links.c.link_id == link_id).with_for_update()
            ).first()
            if row is not None and row.principal_kind != kind:
                raise _refused("damaged")
            if row is None or row.used_at is not None:
                raise _refused("used")
            claimed = connection.execute(
                update(sign_in_links)
                .where(sign_in_links.c.link_id == link_id, sign_in_links.c.used_at.is_(None))
                .values(used_at=now)
            )
            if claimed.rowcount != 1:
                raise _refused("used")
            ref = None
            if row.principal_kind == SUBJECT:
                vault.subject_row(connection, row.principal)
                ref = vault.subject_ref(row.principal)
            opened = _open(connection, row.principal_kind, row.principal, role, now, ttl)
            vault.record(
                connection,
                Record(
                    action="sign_in",
                    actor=_actor(row.principal_kind, row.principal),
                    subject_ref=ref,
                    detail={"via": "link", "expires_at": opened.session.expires_at.isoformat()},
                ),
            )
        return opened

    # --- sessions ---------------------------------------------------------------------------

    def find(self, vault: Vault, session_id: str) -> Session | None:
        """The live session ``session_id`` names: None when unknown, expired or revoked."""
        with vault.snapshot() as connection:
            row = connection.execute(
                select(web_sessions).where(web_sessions.c.session_hash == session_key(session_id))
            ).first()
        if row is None or row.revoked_at is not None or row.expires_at <= vault.clock():
            return None
        return Session(
            row.session_hash,
            row.principal_kind,
            row.principal,
            row.role,
            row.created_at,
            row.expires_at,
            row.second_factor_at,
        )

    def second_factor(self, vault: Vault, key: str, *, role: str | None = None) -> None:
        """Record that ``key``'s principal passed a second factor now (and, for staff, the
        role it acts as from now on)."""
        values: dict[str, object] = {"second_factor_at": vault.clock()}
        if role is not None:
            values["role"] = role
        with vault.write() as connection:
            connection.execute(
                update(web_sessions).where(web_sessions.c.session_hash == key).values(**values)
            )

    def end(self, vault: Vault, key: str) -> None:
        """Revoke one session (signing out): its cookie opens nothing from now on."""
        with vault.write() as connection:
            connection.execute(
                update(web_sessions)
                .where(web_sessions.c.session_hash == key, web_sessions.c.revoked_at.is_(None))
                .values(revoked_at=vault.clock())
            )

    def end_all(self, vault: Vault, kind: str, principal: str) -> int:
        """Revoke every session of a principal and drop their unused links ("sign out
        everywhere"); how many sessions were live."""
        with vault.write() as connection:
            return revoke_all(connection, kind, principal, vault.clock())


def revoke_all(connection: Connection, kind: str, principal: str, now: dt.datetime) -> int:
    """In ``connection``'s transaction: revoke the principal's live sessions and delete their
    unused links (an erasure does this with the rest); how many sessions were live."""
    ended = connection.execute(
        update(web_sessions)
        .where(
            web_sessions.c.principal_kind == kind,
            web_sessions.c.principal == principal,
            web_sessions.c.revoked_at.is_(None),
            web_sessions.c.expires_at > now,
        )
        .values(revoked_at=now)
    ).rowcount
    connection.execute(
        delete(sign_in_links).where(
            sign_in_links.c.principal_kind == kind,
            sign_in_links.c.principal == principal,
            sign_in_links.c.used_at.is_(None),
        )
    )
    return int(ended)


def _open(
    connection: Connection,
    kind: str,
    principal: str,
    role: str | None,
    now: dt.datetime,
    ttl: dt.timedelta,
) -> Opened:
    session_id = base64.urlsafe_b64encode(os.urandom(_ID_BYTES)).decode("ascii").rstrip("=")
    session = Session(session_key(session_id), kind, principal, role, now, now + ttl, None)
    connection.execute(
        insert(web_sessions).values(
            session_hash=session.key,
            principal_kind=kind,
            principal=principal,
            role=role,
            created_at=now,
            expires_at=session.expires_at,
        )
    )
    return Opened(session_id, session)


def prune(vault: Vault, now: dt.datetime) -> int:
    """Forget expired links (their tokens carry their expiry, so a used link needs no record
    once it has expired) and ended sessions; how many rows went."""
    with vault.write() as connection:
        links = connection.execute(
            delete(sign_in_links).where(sign_in_links.c.expires_at <= now)
        ).rowcount
        ended = connection.execute(
            delete(web_sessions).where(
                (web_sessions.c.expires_at <= now) | web_sessions.c.revoked_at.is_not(None)
            )
        ).rowcount
    return int(links) + int(ended)
