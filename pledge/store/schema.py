"""The tables. Every per-subject table leads its primary key with ``subject_id``, so a
distributed PostgreSQL (Citus and the like) can shard them all by subject and keep one
person's rows together. ``subject_lookup``, the audit log and its queue, and ``meta`` are global.

Data keys are not here: they live in the key store (``pledge.store.keys``), so that erasing
one leaves no copy in this database's WAL, free pages, dead tuples or backups.

No column holds a personal value in clear: values are AES-GCM ciphertexts under the subject's
data key, lookups go through keyed blind-index tokens, and the audit log names subjects by a
keyed pseudonym.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
)

metadata = MetaData()


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime on every database: SQLite keeps no offset and hands back naive
    values, PostgreSQL answers in the session's time zone; both come back as UTC here."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", LargeBinary, nullable=False),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("version", String(128), primary_key=True),
    Column("text", Text, nullable=False),
    Column("activated_at", UtcDateTime(), nullable=False),
)

subjects = Table(
    "subjects",
    metadata,
    Column("subject_id", String(32), primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("policy_version", String(128), nullable=False),
    Column("status", String(16), nullable=False),  # active | deactivated | erased
    Column("status_at", UtcDateTime(), nullable=True),
)

# Keys waiting to move to the key store (migration 0005), and how far this database has
# caught up with the key store's erasure ledger (one row, id 1). See pledge.store.keys.sync.
key_handover = Table(
    "key_handover",
    metadata,
    Column("subject_id", String(32), primary_key=True),
    Column("wrapped_key", LargeBinary, nullable=False),
)

ledger_replay = Table(
    "ledger_replay",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
)

subject_lookup = Table(
    "subject_lookup",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("subject_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Index("ix_subject_lookup_subject", "subject_id"),
)

personal_values = Table(
    "personal_values",
    metadata,
    Column("subject_id", String(32), nullable=False),
    Column("point", String(64), nullable=False),
    Column("field", String(64), nullable=False),
    Column("category", String(128), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("policy_version", String(128), nullable=False),
    Column("collected_at", UtcDateTime(), nullable=False),
    Column("visible", Boolean, nullable=False, default=False),
    PrimaryKeyConstraint("subject_id", "point", "field"),
    ForeignKeyConstraint(["subject_id"], ["subjects.subject_id"], ondelete="CASCADE"),
)

# Passwords and other secrets: an argon2id hash, sealed under the subject's data key; never
# among personal_values, so no read path can reach it (see pledge.store.credentials).
credentials = Table(
    "credentials",
    metadata,
    Column("subject_id", String(32), nullable=False),
    Column("point", String(64), nullable=False),
    Column("field", String(64), nullable=False),
    Column("category", String(128), nullable=False),
    Column("sealed_hash", LargeBinary, nullable=False),
    Column("policy_version", String(128), nullable=False),
    Column("set_at", UtcDateTime(), nullable=False),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_failure_at", UtcDateTime(), nullable=True),
    PrimaryKeyConstraint("subject_id", "point", "field"),
    ForeignKeyConstraint(["subject_id"], ["subjects.subject_id"], ondelete="CASCADE"),
)

consent_events = Table(
    "consent_events",
    metadata,
    Column("subject_id", String(32), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("choice", String(160), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("source", String(64), nullable=False),
    Column("policy_version", String(128), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("subject_id", "seq"),
)

consent_state = Table(
    "consent_state",
    metadata,
    Column("subject_id", String(32), nullable=False),
    Column("choice", String(160), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("seq", Integer, nullable=False),
    PrimaryKeyConstraint("subject_id", "choice"),
)

disclosures = Table(
    "disclosures",
    metadata,
    Column("subject_id", String(32), nullable=False),
    Column("disclosure_id", String(32), nullable=False),
    Column("recipient", String(64), nullable=False),
    Column("purpose", String(128), nullable=False),
    Column("categories", JSON, nullable=False),
    Column("legal_ref", String(512), nullable=True),
    Column("policy_version", String(128), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    # Disclosures made before the audit queue point at their entry; later ones at their
    # queued leaf, which has an entry once the sequencer integrates it.
    Column("audit_seq", Integer, nullable=True),
    Column("audit_queue_id", BigInteger, nullable=True),
    PrimaryKeyConstraint("subject_id", "disclosure_id"),
)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("subject_ref", String(64), nullable=True),
    Column("entry", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary, nullable=False),
    Column("queue_id", BigInteger, nullable=True),  # the queued leaf it was; NULL before 0004
    Index("ix_audit_subject", "subject_ref"),
    Index("ix_audit_queue_id", "queue_id", unique=True),
)

audit_queue = Table(
    "audit_queue",
    metadata,
    # Ids are never reused (AUTOINCREMENT on SQLite, a sequence on PostgreSQL): an integrated
    # entry keeps its queue id, and no later leaf may take it.
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("subject_ref", String(64), nullable=True),
    Column("body", LargeBinary, nullable=False),
    Column("queued_at", Float, nullable=False),  # Unix time, to measure the wait
    sqlite_autoincrement=True,
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("size", Integer, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    Column("timestamp", String(40), nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("note", Text, nullable=True),  # the C2SP signed note; NULL before 0004
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", Integer, nullable=False),
    Column("frontier", LargeBinary, nullable=False),
    Column("last_leaf", LargeBinary, nullable=False),
)

# A cookie receipt is an anonymous visitor's record of consent: keyed by a random receipt id
# kept in the visitor's first-party cookie, holding no personal data, until the site links
# it to the subject who signs in (``subject_id``).
cookie_receipts = Table(
    "cookie_receipts",
    metadata,
    Column("receipt_id", String(32), primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("subject_id", String(32), nullable=True),
    Column("linked_at", UtcDateTime(), nullable=True),
)

cookie_choices = Table(
    "cookie_choices",
    metadata,
    Column("receipt_id", String(32), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("allowed", JSON, nullable=False),
    Column("refused", JSON, nullable=False),
    Column("gpc", Boolean, nullable=False),
    Column("dnt", Boolean, nullable=False),
    Column("policy_version", String(128), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("receipt_id", "seq"),
    ForeignKeyConstraint(["receipt_id"], ["cookie_receipts.receipt_id"], ondelete="CASCADE"),
)

# Minimised web-server log (pledge.logs): identical visits counted in one row. No column can
# hold a whole IP address: ``visitor`` is a /24 or /48 network, an ISP domain or a keyed hash.
# No index: one would cost a third of the intake's time, and the reports and the retention
# run read the whole table anyway.
web_visits = Table(
    "web_visits",
    metadata,
    Column("day", String(10), nullable=False),  # YYYY-MM-DD, UTC
    Column("hour", Integer, nullable=False),
    Column("visitor", String(64), nullable=True),
    Column("page", String(512), nullable=True),
    Column("referrer", String(255), nullable=True),
    Column("browser", String(64), nullable=True),
    Column("isp", String(255), nullable=True),
    Column("status", Integer, nullable=False),
    Column("hits", Integer, nullable=False),
)

pending_changes = Table(
    "pending_changes",
    metadata,
    Column("pending_id", String(32), primary_key=True),
    Column("subject_id", String(32), nullable=False),
    Column("payload", LargeBinary, nullable=False),  # under the subject's data key
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),  # pending | confirmed
    Column("done_at", UtcDateTime(), nullable=True),
    Index("ix_pending_subject", "subject_id"),
    ForeignKeyConstraint(["subject_id"], ["subjects.subject_id"], ondelete="CASCADE"),
)

privacy_spend = Table(
    "privacy_spend",
    metadata,
    Column("recipient", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("epsilon", Float, nullable=False),
    Column("segment", String(200), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("recipient", "seq"),
)

# Sign-in links and sessions of the web pages (people and staff alike: ``principal_kind``
# says which). Global tables, looked up by link id and by session hash; the session's own id
# is never stored, only its SHA-256, so a copy of the table opens no session.
sign_in_links = Table(
    "sign_in_links",
    metadata,
    Column("link_id", String(32), primary_key=True),
    Column("principal_kind", String(16), nullable=False),  # subject | staff
    Column("principal", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
    Index("ix_sign_in_links_principal", "principal_kind", "principal"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("principal_kind", String(16), nullable=False),
    Column("principal", String(64), nullable=False),
    Column("role", String(64), nullable=True),  # the policy role a staff member acts as
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("second_factor_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Index("ix_web_sessions_principal", "principal_kind", "principal"),
)

# Data-subject requests (pledge.store.requests): one row per request, one per step it took.
# What the person or staff wrote (a complaint, a reason, an answer) is sealed under the
# subject's data key, so an erasure shreds it with everything else.
requests = Table(
    "requests",
    metadata,
    Column("subject_id", String(32), nullable=False),
    Column("request_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("acknowledge_by", Date(), nullable=False),
    Column("respond_by", Date(), nullable=False),
    Column("extended", Boolean, nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),  # unverified requests only
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("law", String(8), nullable=True),
    Column("policy_version", String(128), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),  # failed runs of its due work
    Column("last_error", String(200), nullable=True),
    PrimaryKeyConstraint("subject_id", "request_id"),
    Index("ix_requests_id", "request_id", unique=True),
    Index("ix_requests_open", "state", "respond_by"),
    ForeignKeyConstraint(["subject_id"], ["subjects.subject_id"], ondelete="CASCADE"),
)

request_events = Table(
    "request_events",
    metadata,
    Column("subject_id", String(32), nullable=False),
    Column("request_id", String(32), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("step", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("message", LargeBinary, nullable=True),  # sealed under the subject's data key
    Column("notified_at", UtcDateTime(), nullable=True),  # when the person's email was queued
    Column("notice_attempts", Integer, nullable=False, default=0),
    Column("notice_error", String(200), nullable=True),
    PrimaryKeyConstraint("subject_id", "request_id", "seq"),
    Index("ix_request_events_unsent", "notified_at"),
    ForeignKeyConstraint(
        ["subject_id", "request_id"],
        ["requests.subject_id", "requests.request_id"],
        ondelete="CASCADE",
    ),
)

# Staff of the console (pledge.store.staff): the address and the TOTP secret sealed under a
# store secret, the address found by its blind-index token. Global: staff are no subjects.
staff = Table(
    "staff",
    metadata,
    Column("staff_id", String(32), primary_key=True),
    Column("email_token", String(64), nullable=False),
    Column("email", LargeBinary, nullable=False),
    Column("roles", JSON, nullable=False),
    Column("totp_secret", LargeBinary, nullable=False),
    Column("totp_last_step", BigInteger, nullable=True),  # the last code's step: no reuse
    Column("failures", Integer, nullable=False, default=0),
    Column("last_failure_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("disabled_at", UtcDateTime(), nullable=True),
    Index("ix_staff_email", "email_token", unique=True),
)

# Events a recipient waits for (a business transfer to a successor): the organisation's, not a
# person's, so not keyed by subject.
business_transfers = Table(
    "business_transfers",
    metadata,
    Column("transfer_id", String(32), primary_key=True),
    Column("recipient", String(64), nullable=False),
    Column("reference", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Index("ix_business_transfers_recipient", "recipient"),
)

# API keys of the REST service (pledge.store.api_keys; migration 0002). Only a SHA-256 of
# each key's secret is stored; ``key_id`` is the public half, safe to log and to show.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("secret_hash", LargeBinary(32), nullable=False),
    Column("scope", String(16), nullable=False),  # collector | role | agent | recipient | admin
    Column("actor", String(64), nullable=True),  # the role or recipient name; NULL for admin
    Column("name", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# The email outbox (pledge.store.outbox; migration 0003). One row is one message to one
# person: the primary key ``(subject_id, campaign_id)`` is the idempotency key, so running a
# campaign twice queues nobody twice. The rendered message (envelope recipient and RFC 5322
# bytes) is sealed under the subject's data key: erasing the person makes their queued
# messages unreadable with the rest of their data.
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
    # A farewell's own key id in the key store (pledge.store.outbox); None: the person's key.
    Column("sealed_by", String(32), nullable=True),
    PrimaryKeyConstraint("subject_id", "campaign_id"),
    Index("ix_mail_outbox_due", "status", "next_attempt_at"),
    Index("ix_mail_outbox_campaign", "campaign_id", "status"),
)

# Work asked for over HTTP and run by a worker thread of the service (pledge.store.jobs;
# migration 0009): campaigns today. No personal value is in it: parameters name a template
# and a segment; a result counts people and names some by subject id.
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
