"""The email gate: every outbound message is classed by the policy, checked against consent,
given the legal footer and one-click unsubscribe, queued in an outbox and sent over SMTP.

    gate.Gate           decides per recipient, renders, queues (with audit) in one transaction
    campaign            a communication type + template + segment, gated chunk by chunk
    jobs                a campaign asked for over HTTP, run by a worker thread under a lease
    sender              the SMTP worker that empties the outbox

The rows (the outbox, the jobs, who is in a segment) and their transactions are the store's:
pledge.store.outbox, pledge.store.jobs, pledge.store.segments.
    tokens / unsubscribe / web / inbound
                        signed unsubscribe tokens, honoured by link, one-click POST or email

See ``docs/email.md`` for the guarantees.
"""

from pledge.errors import MessageRefused, SmtpUnavailable, TokenInvalid
from pledge.mail.campaign import Summary, run_campaign
from pledge.mail.gate import Gate, Skip, record_gpc
from pledge.mail.segments import Segment
from pledge.mail.sender import Delivery, Sender, SmtpTransport
from pledge.mail.settings import MailSettings, load_mail_settings
from pledge.mail.templates import TemplateSet
from pledge.mail.unsubscribe import Unsubscribed, Unsubscribes

__all__ = [
    "Delivery",
    "Gate",
    "MailSettings",
    "MessageRefused",
    "Segment",
    "Sender",
    "Skip",
    "SmtpTransport",
    "SmtpUnavailable",
    "Summary",
    "TemplateSet",
    "TokenInvalid",
    "Unsubscribed",
    "Unsubscribes",
    "load_mail_settings",
    "record_gpc",
    "run_campaign",
]
