"""Every error Pledge raises on purpose.

    PledgeError                   base: a stable ``code``, a message a person can act on, ``fields``
    ├── PolicyError               a policy file is unreadable, malformed or contradicts itself
    ├── InputError                a caller asked something malformed (unknown role, bad value)
    │   ├── CollectionError       a collection refused: undeclared/missing field, wrong shape, age
    │   ├── MessageRefused        email: the message would break a promise, so nobody gets it
    │   ├── TextUnreadable        a policy's text is empty, binary, too large or not English
    │   ├── TokenInvalid          email: an unsubscribe token damaged, forged or expired
    │   ├── ConfirmationInvalid   a confirmation link damaged, forged, expired or used
    │   ├── SignInInvalid         a sign-in link damaged, forged, expired or used
    │   └── SecondFactorInvalid   staff: a TOTP code wrong, reused or late, or a role not held
    ├── DeniedError               the policy does not allow this use; carries the decision
    │   └── BudgetSpent           an aggregate would spend more privacy budget than is left
    ├── NotFoundError             no such subject, entry, key...
    ├── ConflictError             the request contradicts stored state (e.g. already erased)
    ├── IntegrityError            stored data failed verification (ciphertext, audit chain)
    ├── MasterKeyError            the master key is missing, wrong or unreadable
    ├── AuditWriteError           the audit entry could not be written, so nothing was done
    ├── AuditPendingError         queued audit leaves were not integrated in time (no sequencer)
    ├── Unauthenticated           HTTP: no API key, a malformed, unknown or revoked one
    ├── ScopeForbidden            HTTP: a valid key whose scope may not call this endpoint
    ├── ProofRequired             a write into a subject without proof that it is the person's
    ├── SessionRequired           pages: no session, or an expired or revoked one; sign in again
    ├── CsrfRefused               pages: a form posted without its session's CSRF token
    ├── BodyTooLarge              HTTP: the request body is over the configured limit
    ├── RateLimited               HTTP: too many requests or failed credentials; retry later
    │   └── TooManyAttempts       too many wrong attempts at one credential; wait, then retry
    ├── Unhealthy                 HTTP: the database does not answer the health check
    └── SmtpUnavailable           email: the SMTP server stayed unreachable; messages stay queued

Messages never contain personal values: they name fields, categories, subjects by id and
policy paths, so an error can be logged, shown and returned over HTTP as it is.

Each class also carries the ``pledge`` command's exit status for it (:class:`ExitCode`), so a
script can tell "no" from "wrong question" from "try again later"; subclasses inherit it.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import Any, ClassVar


class ExitCode(IntEnum):
    """The exit status of a ``pledge`` command, by what went wrong (0: it did what was asked).
    What each means is written once, in :mod:`pledge.cli.exit_codes`, which documents them."""

    DENIED = 1
    BAD_INPUT = 2
    NOT_FOUND = 3
    CONFLICT = 4
    INTEGRITY = 5
    UNAVAILABLE = 6
    INTERNAL = 70


class PledgeError(Exception):
    """Base of every deliberate Pledge error."""

    code = "pledge_error"
    status = 500
    exit_code = ExitCode.INTERNAL
    headers: ClassVar[dict[str, str]] = {}  # HTTP headers the status calls for

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.fields}


class PolicyError(PledgeError):
    """A policy file is unreadable, malformed or inconsistent; points at the file, line, column."""

    code = "policy_invalid"
    status = 422
    exit_code = ExitCode.BAD_INPUT

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, file=file, line=line, column=column, path=path)
        self.file, self.line, self.column, self.path = file, line, column, path

    def __str__(self) -> str:
        where = self.file or "<policy>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        at = f" (at {self.path})" if self.path else ""
        return f"{where}: {self.message}{at}"


class InputError(PledgeError):
    """A request was malformed: an unknown name, a value of the wrong shape."""

    code = "invalid_input"
    status = 422
    exit_code = ExitCode.BAD_INPUT


class CollectionError(InputError):
    """A collection point refused what it was given; ``field`` names the culprit."""

    code = "collection_refused"


class TextUnreadable(InputError):
    """A policy text cannot be read as a policy; ``file`` names it, ``reason`` says why."""

    code = "text_unreadable"


class DeniedError(PledgeError):
    """The policy does not allow this use; ``decision`` holds the reasons."""

    code = "denied"
    status = 403
    exit_code = ExitCode.DENIED

    def __init__(self, message: str, decision: Any = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.decision = decision


class BudgetSpent(DeniedError):
    """The recipient's privacy budget cannot pay for this aggregate; nothing was released."""

    code = "privacy_budget_spent"


class NotFoundError(PledgeError):
    """The named thing does not exist (or is not visible to this caller)."""

    code = "not_found"
    status = 404
    exit_code = ExitCode.NOT_FOUND


class ConflictError(PledgeError):
    """The request contradicts stored state."""

    code = "conflict"
    status = 409
    exit_code = ExitCode.CONFLICT


class IntegrityError(PledgeError):
    """Stored data failed verification: a ciphertext, a key wrap or the audit log."""

    code = "integrity_error"
    status = 500
    exit_code = ExitCode.INTEGRITY


class MasterKeyError(PledgeError):
    """The master key is missing, malformed, or not the one the data was written with."""

    code = "master_key_error"
    status = 500
    exit_code = ExitCode.INTEGRITY


class AuditWriteError(PledgeError):
    """The audit entry could not be written; the operation it covered was rolled back."""

    code = "audit_write_failed"
    status = 503
    exit_code = ExitCode.UNAVAILABLE


class AuditPendingError(PledgeError):
    """Queued audit leaves were not integrated in time: no sequencer reached the database."""

    code = "audit_pending"
    status = 503
    exit_code = ExitCode.UNAVAILABLE


class Unauthenticated(PledgeError):
    """The request has no usable API key. The message never says which part was wrong."""

    code = "unauthenticated"
    status = 401
    exit_code = ExitCode.DENIED
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="pledge"'}


class ScopeForbidden(PledgeError):
    """The key is valid, but keys of its scope do not call this endpoint."""

    code = "forbidden"
    status = 403
    exit_code = ExitCode.DENIED


class ProofRequired(PledgeError):
    """A write into an existing subject came without proof that it is that person's."""

    code = "proof_required"
    status = 403
    exit_code = ExitCode.DENIED


class BodyTooLarge(PledgeError):
    """The request body is larger than the service accepts."""

    code = "body_too_large"
    status = 413
    exit_code = ExitCode.BAD_INPUT


class RateLimited(PledgeError):
    """Too many requests from one API key, or too many failed credentials from one client
    address or for one key id; ``Retry-After`` says when to try again."""

    code = "rate_limited"
    status = 429
    exit_code = ExitCode.UNAVAILABLE

    def __init__(
        self, retry_after: float, what: str = "this API key made too many requests"
    ) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(f"{what}; retry in {seconds} s", retry_after=seconds)
        self.headers = {"Retry-After": str(seconds)}  # type: ignore[misc]


class TooManyAttempts(RateLimited):
    """Too many wrong attempts at one credential in a row; ``Retry-After`` says when to retry."""

    code = "too_many_attempts"

    def __init__(self, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        PledgeError.__init__(
            self,
            f"too many wrong attempts at this credential; retry in {seconds} s",
            retry_after=seconds,
        )
        self.headers = {"Retry-After": str(seconds)}  # type: ignore[misc]


class Unhealthy(PledgeError):
    """The service cannot reach its database."""

    code = "unhealthy"
    status = 503
    exit_code = ExitCode.UNAVAILABLE


class MessageRefused(InputError):
    """The message would break a promise of the policy (a misleading subject, a From domain
    the policy does not list, no way to unsubscribe, no postal address), so nobody gets it."""

    code = "message_refused"


class TokenInvalid(InputError):
    """An unsubscribe token we did not issue, that was altered, or that has expired."""

    code = "unsubscribe_token_invalid"
    status = 400


class SmtpUnavailable(PledgeError):
    """The SMTP server could not be reached, again and again; nothing was lost or sent twice."""

    code = "smtp_unavailable"
    status = 503
    exit_code = ExitCode.UNAVAILABLE


class ConfirmationInvalid(InputError):
    """A confirmation link we did not issue, that was altered, has expired or was used."""

    code = "confirmation_invalid"
    status = 400


class SignInInvalid(InputError):
    """A sign-in link we did not issue, that was altered, has expired or was used."""

    code = "sign_in_link_invalid"
    status = 400


class SessionRequired(PledgeError):
    """A page for a signed-in person or staff member, asked for without a live session."""

    code = "session_required"
    status = 401
    exit_code = ExitCode.DENIED


class CsrfRefused(PledgeError):
    """A form posted without the CSRF token of the session it came with: it may come from
    another site, so nothing was done."""

    code = "csrf_refused"
    status = 403
    exit_code = ExitCode.DENIED


class SecondFactorInvalid(InputError):
    """A staff member's TOTP code was wrong, reused or late, or named a role they do not
    hold; ``reason`` says which (``wrong``, ``reused``, ``role``, ``locked``)."""

    code = "second_factor_invalid"
    status = 400
