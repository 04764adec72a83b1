"""What comes in and what goes out, one model per direction.

Inputs forbid unknown fields, so a misspelt field is an error and not a silent default.
Outputs are built from the vault's results, field by field, never from stored rows: what a
response holds is written down here, and nothing else reaches the caller.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from pledge.policy import Decision, Reason

SUBJECT_PATTERN = r"^[0-9a-f]{32}$"
MAX_BATCH = 1000

ProofToken = Annotated[str, Field(min_length=1, max_length=200)]
SubjectRef = Annotated[
    str, Field(pattern=SUBJECT_PATTERN, description="A subject id (32 hex characters).")
]
Name = Annotated[str, Field(min_length=1, max_length=160)]


class _In(BaseModel):
    """Every input model: unknown fields refused, and no string (nor dict key) holding a lone
    surrogate or a control character other than tab and newlines, which no form sends and
    which would break storage, logs or mail headers further on."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=lambda schema: _document(schema))

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        if _unprintable(value):
            raise ValueError(
                "contains a lone surrogate or a control character (only tab, CR and LF are "
                "allowed in text)"
            )
        return value


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# The documented pattern leaves lone surrogates out: they are not characters (JSON Schema
# validates strings of Unicode scalar values), and a surrogate range in a pattern makes
# schema-driven generators (schemathesis) ignore the whole pattern. They are refused all the
# same, by _printable.
CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
PRINTABLE = rf"^[^{CONTROLS}]*$"


def _document(schema: Any) -> None:
    """Say in the schema what :meth:`_In._printable` refuses: every free string gets the
    pattern of printable text, unless it has a stricter pattern or a list of values."""
    if isinstance(schema, dict):
        strict = {"pattern", "enum", "const", "format"}
        if schema.get("type") == "string" and not strict & schema.keys():
            schema["pattern"] = PRINTABLE
        names = schema.get("propertyNames")
        if isinstance(names, dict) and not strict & names.keys():
            names["pattern"] = PRINTABLE
        for value in schema.values():
            _document(value)
    elif isinstance(schema, list):
        for value in schema:
            _document(value)


def _unprintable(value: Any) -> bool:
    if isinstance(value, str):
        return _CONTROL.search(value) is not None
    if isinstance(value, dict):
        return any(_unprintable(k) or _unprintable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_unprintable(v) for v in value)
    return False


# --- collection and lookup --------------------------------------------------------------------


class CollectIn(_In):
    fields: dict[Annotated[str, Field(max_length=64)], StrictStr | StrictInt] = Field(
        description="Values by the collection point's field names; undeclared fields are refused."
    )
    subject: SubjectRef | None = Field(
        default=None,
        description="Write into this known subject; needs `subject_token`. Without it, a new "
        "subject is made, or, when the email or username is someone's already, the "
        "submission waits for that person's emailed confirmation.",
    )
    subject_token: ProofToken | None = Field(
        default=None, description="From POST /v1/subject-tokens, minted for this key."
    )
    choices: dict[Name, bool] = Field(
        default_factory=dict,
        description="Choices the point's form offers, e.g. a marketing opt-in.",
    )
    age: int | None = Field(
        default=None, ge=0, le=150, description="Needed where a point has a minimum age."
    )
    jurisdiction: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$",
        description="Where the person is (ISO 3166), for the policy's consent age of children.",
    )
    parental_consent: bool = Field(
        default=False,
        description="The website obtained a parent's consent for a child below the consent "
        "age (where the policy's children section allows it).",
    )


class BulkCollectIn(_In):
    items: list[CollectIn] = Field(min_length=1, max_length=MAX_BATCH)


class ReportIn(_In):
    text: str = Field(min_length=1, max_length=100_000, description="The report, as sent.")
    subject: SubjectRef | None = Field(
        default=None,
        description="The known subject who sent it (needs `subject_token`); else a new one "
        "is created.",
    )
    subject_token: ProofToken | None = Field(
        default=None, description="From POST /v1/subject-tokens, minted for this key."
    )
    age: int | None = Field(
        default=None, ge=0, le=150, description="Needed where the point has a minimum age."
    )


class ReportOut(BaseModel):
    subject: str
    point: str
    redacted: dict[str, int] = Field(description="How many values of each kind were replaced.")


class CollectedOut(BaseModel):
    subject: str | None = Field(
        description="The subject written into; null when the submission waits for an "
        "existing person's confirmation (whose id is not told)."
    )
    point: str
    fields: list[str]
    policy_version: str
    created: bool = Field(description="True when this collection created the subject.")
    pending: str | None = Field(
        default=None,
        description="Set when (part of) the submission waits for the person to confirm it "
        "through the link mailed to them.",
    )


class BulkCollectedOut(BaseModel):
    items: list[CollectedOut]


class LookupIn(_In):
    kind: Literal["email", "username"]
    value: str = Field(min_length=1, max_length=320)


class SubjectOut(BaseModel):
    subject: str


# --- decisions and reasons --------------------------------------------------------------------


class ReasonOut(BaseModel):
    code: str
    message: str
    ref: str = Field(description="The policy path that decided it.")

    @classmethod
    def of(cls, reason: Reason) -> ReasonOut:
        return cls(code=reason.code, message=reason.message, ref=reason.ref)


class ObligationOut(BaseModel):
    code: str
    detail: str


class DecisionOut(BaseModel):
    allowed: bool
    released: list[str]
    withheld: dict[str, ReasonOut]
    reasons: list[ReasonOut]
    obligations: list[ObligationOut]

    @classmethod
    def of(cls, decision: Decision) -> DecisionOut:
        return cls(
            allowed=decision.allowed,
            released=sorted(decision.released),
            withheld={c: ReasonOut.of(r) for c, r in decision.withheld},
            reasons=[ReasonOut.of(r) for r in decision.reasons],
            obligations=[ObligationOut(code=o.code, detail=o.detail) for o in decision.obligations],
        )


class ActorIn(_In):
    kind: Literal["role", "recipient", "communication"]
    name: Name


class ChoicesIn(_In):
    granted: list[Name] = Field(default_factory=list, max_length=100)
    withdrawn: list[Name] = Field(default_factory=list, max_length=100)
    stop_all: bool = False


class _Question(_In):
    actor: ActorIn | None = Field(
        default=None, description="Who asks; role and recipient keys may only ask as themselves."
    )
    purpose: Name
    categories: list[Name] = Field(min_length=1, max_length=100)
    collected_under: Name | None = None
    legal_ref: str | None = Field(default=None, max_length=512)
    group_size: int | None = Field(default=None, ge=0)


class DecisionIn(_Question):
    """Give the person's ``choices``, or a ``subject`` whose recorded choices apply."""

    choices: ChoicesIn | None = None
    subject: SubjectRef | None = None

    @model_validator(mode="after")
    def _one_source_of_choices(self) -> DecisionIn:
        if self.choices is not None and self.subject is not None:
            raise ValueError("give choices or subject, not both")
        return self


class BulkDecisionIn(_Question):
    """One decision per subject (their recorded choices) or per entry of ``choices``."""

    subjects: list[SubjectRef] | None = Field(default=None, min_length=1, max_length=MAX_BATCH)
    choices: list[ChoicesIn] | None = Field(default=None, min_length=1, max_length=MAX_BATCH)

    @model_validator(mode="after")
    def _exactly_one_list(self) -> BulkDecisionIn:
        if (self.subjects is None) == (self.choices is None):
            raise ValueError("give exactly one of subjects and choices")
        return self


class BulkDecisionOut(BaseModel):
    decisions: list[DecisionOut] = Field(description="In the order of the request.")


# --- reads, consents, disclosures -------------------------------------------------------------


class ReadOut(BaseModel):
    subject: str
    purpose: str
    values: dict[str, str] = Field(
        description="Released values by point.field (the point each was collected at)."
    )
    withheld: dict[str, ReasonOut] = Field(description="Values not released (point.field), why.")


class ChoiceIn(_In):
    choice: Name = Field(
        description="A choice key, e.g. marketing.communications.email (a purpose), "
        "recipient:<name>, channel:email, show:<category>, policy:<version>, stop:all."
    )
    subject_token: ProofToken | None = Field(
        default=None, description="Collector keys: the person's subject token."
    )
    reason: str | None = Field(
        default=None,
        min_length=3,
        max_length=500,
        description="Agent and admin keys: why this is recorded on the person's behalf "
        "(e.g. 'phone call, ticket 4411'); kept in the audit log.",
    )


class ChoiceOut(BaseModel):
    subject: str
    choice: str
    granted: bool = Field(description="The choice's state from now on.")
    pending: str | None = Field(
        default=None,
        description="Set when the grant waits for the person's emailed confirmation "
        "(a double opt-in purpose); until then the choice is not granted.",
    )


class AggregateIn(_In):
    purpose: Name
    categories: list[Name] = Field(min_length=1, max_length=20)
    segment: str = Field(
        default="all",
        max_length=80,
        description="'all', or 'point:<collection point>': the people whose data was "
        "collected there. Never a list of people.",
    )
    since: str | None = Field(default=None, description="First calendar month, e.g. 2024-05.")
    until: str | None = Field(
        default=None, description="Last calendar month, inclusive; not before `since` (422)."
    )


class AggregateOut(BaseModel):
    recipient: str
    purpose: str
    segment: str
    counts: dict[str, int] = Field(description="Distinct people per category.")
    epsilon: float | None = Field(description="The privacy budget this answer spent, if noisy.")
    budget_left: float | None


class SubjectTokenIn(_In):
    subject: SubjectRef
    ttl_seconds: int = Field(
        default=900, ge=1, le=3600, description="How long the token works; at most an hour."
    )


class SubjectTokenOut(BaseModel):
    token: str
    subject: str
    audience: str = Field(description="The key id this token works with.")
    expires_at: dt.datetime


class ChoicesOut(BaseModel):
    granted: list[str]
    withdrawn: list[str]
    stop_all: bool


class ConsentEventOut(BaseModel):
    seq: int
    choice: str
    granted: bool
    source: str
    policy_version: str
    at: dt.datetime


class DisclosureIn(_In):
    subjects: list[SubjectRef] = Field(min_length=1, max_length=MAX_BATCH)
    purpose: Name
    categories: list[Name] = Field(min_length=1, max_length=100)
    legal_ref: str | None = Field(
        default=None, max_length=512, description="Court order, statute...: where the policy asks."
    )


class DisclosedOut(BaseModel):
    recipient: str
    purpose: str
    released: dict[str, dict[str, str]] = Field(description="Values by point.field, by subject.")
    refused: dict[str, ReasonOut] = Field(description="Subjects whose data was not released.")


class DisclosureOut(BaseModel):
    recipient: str
    purpose: str
    categories: list[str]
    legal_ref: str | None
    at: dt.datetime
    audit_entry: int | None  # None while its audit leaf waits to be integrated


# --- rights -----------------------------------------------------------------------------------


class RectifyIn(_In):
    value: StrictStr = Field(min_length=1, max_length=2000)


class RectifiedOut(BaseModel):
    subject: str
    fields: list[str] = Field(description="Where the value was corrected: point.field.")


class ExportValueOut(BaseModel):
    point: str
    field: str
    category: str
    value: str
    collected_at: dt.datetime
    policy_version: str


class ExportChoiceOut(BaseModel):
    choice: str
    granted: bool
    source: str
    at: dt.datetime
    policy_version: str


class ExportCredentialOut(BaseModel):
    """A credential is never exported: only that one is set, where, and since when."""

    point: str
    field: str
    category: str
    set: bool
    set_at: dt.datetime


class CredentialCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    candidate: str = Field(min_length=1, max_length=1024, description="The secret to check.")


class CredentialCheckOut(BaseModel):
    subject: str
    field: str
    valid: bool


class ExportDisclosureOut(BaseModel):
    recipient: str
    purpose: str
    categories: list[str]
    legal_ref: str | None
    at: dt.datetime


class ExportOut(BaseModel):
    subject: str
    status: str
    created_at: dt.datetime
    data: list[ExportValueOut]
    choices: list[ExportChoiceOut]
    credentials: list[ExportCredentialOut]
    disclosures: list[ExportDisclosureOut]
    audit_ref: str = Field(description="The subject's pseudonym in the audit log.")


class ErasureOut(BaseModel):
    subject: str
    deleted_fields: list[str]
    held_fields: list[str] = Field(
        description="Kept because the law requires it, until held_until."
    )
    held_until: dt.datetime | None
    key_destroyed: bool


# --- audit ------------------------------------------------------------------------------------


class CheckpointOut(BaseModel):
    size: int
    root: str
    note: str = Field(description="The checkpoint as a C2SP tlog-checkpoint signed note.")


class AuditProblemOut(BaseModel):
    seq: int
    kind: str
    message: str


class VerificationOut(BaseModel):
    ok: bool
    entries: int
    checkpoint: CheckpointOut | None
    problem: AuditProblemOut | None


class AuditEntryOut(BaseModel):
    seq: int
    at: str
    prev: str
    action: str
    actor: str
    subject: str | None = Field(description="The subject's pseudonym, never its id.")
    purpose: str | None
    detail: dict[str, Any]


class ProofOut(BaseModel):
    entry: AuditEntryOut
    leaf_index: int
    leaf_hash: str
    tree_size: int
    root: str
    checkpoint: str = Field(description="The signed checkpoint, a C2SP tlog-checkpoint note.")
    checkpoint_timestamp: str
    checkpoint_signature: str
    proof: list[str] = Field(description="RFC 6962 inclusion proof, hex hashes.")


# --- policy, keys, health ---------------------------------------------------------------------


class FieldOut(BaseModel):
    category: str
    required: bool


class PointOut(BaseModel):
    fields: dict[str, FieldOut]
    purposes: list[str]
    choices: list[str]
    min_age: int | None


class PurposeOut(BaseModel):
    basis: str
    channel: str | None


class GrantOut(BaseModel):
    purposes: list[str]
    categories: list[str]


class RecipientOut(GrantOut):
    kind: str
    condition: str


class PolicySummaryOut(BaseModel):
    version: str
    organisation: str
    effective: dt.date
    collection_points: dict[str, PointOut]
    purposes: dict[str, PurposeOut]
    roles: dict[str, GrantOut]
    recipients: dict[str, RecipientOut]


class KeyIn(_In):
    scope: Literal["collector", "role", "agent", "recipient", "admin"]
    actor: Name | None = Field(
        default=None,
        description="The role (role and agent keys) or recipient; none for admin and collector.",
    )
    name: str | None = Field(default=None, max_length=128, description="A label for people.")


class KeyOut(BaseModel):
    key_id: str
    scope: str
    actor: str | None
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class KeyCreatedOut(KeyOut):
    key: str = Field(description="The full key. Shown this once; store it now.")


class HealthOut(BaseModel):
    status: Literal["ok"]
    policy_version: str


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, with Pledge's stable ``code``."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None = None
    errors: list[FieldProblem] | None = None
    reason: ReasonOut | None = Field(default=None, description="Why the policy said no.")


class RequestOpenIn(_In):
    kind: Literal["access", "export", "rectify", "erase", "object", "complaint", "inquiry"]
    text: StrictStr | None = Field(default=None, min_length=1, max_length=4000)


class RequestTextIn(_In):
    text: StrictStr = Field(
        min_length=1, max_length=4000, description="The reason or answer; the person gets it."
    )


class RequestStepOut(BaseModel):
    step: str
    actor: str
    at: dt.datetime
    message: str | None = Field(description="What was written with the step, if anything.")


class RequestOut(BaseModel):
    request: str
    subject: str
    kind: str
    state: Literal["received", "verified", "in_progress", "done", "refused", "expired"]
    received_at: dt.datetime
    acknowledge_by: dt.date
    respond_by: dt.date
    extended: bool
    urgency: Literal["overdue", "due_this_week", "later"] | None = Field(
        description="Against respond_by, today; null once closed."
    )
    law: str | None
    closed_at: dt.datetime | None
    last_error: str | None = Field(description="Why its due work last failed, if it did.")
    steps: list[RequestStepOut] = Field(
        default_factory=list, description="Only when one request is asked for."
    )
