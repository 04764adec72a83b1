"""The errors only the email gate raises, in the tree of :mod:`pledge.errors`, so the CLI and
the HTTP problem handler show them like any other.

    PledgeError
    └── InputError
        ├── MessageRefused        the gate will not send this message at all (a broken promise)
        └── TokenInvalid          an unsubscribe token that is damaged, forged or expired
    └── SmtpUnavailable           the SMTP server stayed unreachable; messages stay queued

Like every Pledge error, the messages name communications, settings and policy paths, never
a person's address.
"""

from __future__ import annotations

from pledge.errors import InputError, PledgeError


class MessageRefused(InputError):
    """The message would break a promise of the policy (a misleading subject, a From domain
    the policy does not list, no way to unsubscribe), so nobody gets it."""

    code = "message_refused"


class TokenInvalid(InputError):
    """An unsubscribe token we did not issue, that was altered, or that has expired."""

    code = "unsubscribe_token_invalid"
    status = 400


class SmtpUnavailable(PledgeError):
    """The SMTP server could not be reached, again and again; nothing was lost or sent twice."""

    code = "smtp_unavailable"
    status = 503
