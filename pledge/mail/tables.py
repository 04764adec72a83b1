"""The ``mail_outbox`` table, kept with the email gate rather than in the store's schema (the
store works without mail). Migration ``0003_mail_outbox`` creates it; a test checks the two
agree.

One row is one message to one person: the primary key ``(subject_id, campaign_id)`` is the
idempotency key, so running a campaign twice queues nobody twice, and it leads with
``subject_id`` so a sharded PostgreSQL keeps a person's messages with the rest of their rows.

The rendered message (envelope recipient and RFC 5322 bytes) is stored encrypted under the
subject's data key: the outbox holds no personal value in clear, and erasing the subject
makes their queued messages unreadable along with the rest of their data.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)

from pledge.store.schema import UtcDateTime

metadata = MetaData()

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
BOUNCED = "bounced"
FAILED = "failed"
SUPPRESSED = "suppressed"
OPEN_STATUSES = (PENDING, SENDING)
FINAL_STATUSES = (SENT, BOUNCED, FAILED, SUPPRESSED)

mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("subject_id", String(32), nullable=False),
    Column("campaign_id", String(64), nullable=False),
    Column("communication", String(64), nullable=False),
    Column("message_id", String(255), nullable=False),
    Column("sender", String(255), nullable=False),  # envelope MAIL FROM: the organisation's
    Column("payload", LargeBinary, nullable=False),  # encrypted: recipient + message bytes
    Column("stop_keys", JSON, nullable=False),  # choices that, once withdrawn, suppress it
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("last_error", String(300), nullable=True),  # SMTP code and text, addresses removed
    Column("queued_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    PrimaryKeyConstraint("subject_id", "campaign_id"),
    Index("ix_mail_outbox_due", "status", "next_attempt_at"),
    Index("ix_mail_outbox_campaign", "campaign_id", "status"),
)

# --- campaign jobs ------------------------------------------------------------------------------
# A campaign asked for over HTTP runs as a job: the request is a row here, a worker thread of
# the service (pledge.mail.jobs) claims it with a lease, and its status is what a client polls.
# Migration ``0009_jobs`` creates the table. No personal value is in it: parameters name a
# template and a segment; the result counts people and names some by subject id.

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
JOB_FAILED = "failed"

jobs = Table(
    "jobs",
    metadata,
    Column("job_id", String(32), nullable=False),
    Column("kind", String(32), nullable=False),  # what runs it: "mail_campaign"
    Column("params", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # queued | running | done | failed
    Column("progress", Integer, nullable=False),  # people gated so far in this attempt
    Column("total", Integer, nullable=True),  # people in the segment when the attempt began
    Column("result", JSON, nullable=True),
    Column("error", JSON, nullable=True),  # {"code", "message"} of a failed job
    Column("attempts", Integer, nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("started_at", UtcDateTime(), nullable=True),
    Column("finished_at", UtcDateTime(), nullable=True),
    PrimaryKeyConstraint("job_id"),
    Index("ix_jobs_status", "status", "lease_until"),
)
