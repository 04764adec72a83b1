"""The policy file as typed models: what a person writes, reviews and diffs in git.

One YAML file is one version of one organisation's policy. These models only check the shape
of each part; the rules that span parts (a role granted a purpose nothing is collected for...)
live in :mod:`pledge.policy.consistency`, and the fast form used by decisions in
:mod:`pledge.policy.compiled`. ``docs/policy-reference.md`` documents every field, and a test
keeps it in step with these models.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Key = Annotated[str, Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$", min_length=1)]
Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", min_length=1, max_length=64)]
Text = Annotated[str, Field(min_length=1)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Source(_Part):
    """Where a part of a drafted policy comes from in the policy's text: the sentence, at its
    character offsets, so a reviewer can check the rule against the words. Decisions ignore it."""

    start: int = Field(ge=0)
    end: int = Field(ge=1)
    text: Text
    note: str = Field(
        default="", description="Why the sentence was read this way (a protective reading)."
    )

    @model_validator(mode="after")
    def _offsets_span_the_text(self) -> Source:
        if self.end - self.start != len(self.text):
            raise ValueError("end - start must equal the length of text")
        return self


Cited = Annotated[Source | None, Field(description="The sentence it came from.")]


class Organisation(_Part):
    name: Text
    postal_address: Text | None = Field(
        default=None,
        description="Printed in every marketing message; without it, marketing is not sent.",
    )
    privacy_contact: Text = Field(description="Where people send requests and complaints.")
    sender_domains: list[Text] = Field(
        default_factory=list, description="Domains marketing mail may be sent from."
    )
    source: Cited = None


class TermDef(_Part):
    name: Text
    description: str = ""


class TaxonomyExtensions(_Part):
    """Keys the organisation adds to fideslang's default taxonomy; each needs a known parent."""

    data_categories: dict[Key, TermDef] = Field(default_factory=dict)
    data_uses: dict[Key, TermDef] = Field(default_factory=dict)
    data_subjects: dict[Key, TermDef] = Field(default_factory=dict)


class Storage(StrEnum):
    stored = "stored"
    pass_through = "pass_through"  # noqa: S105 (a storage mode, not a secret)


class CategoryHandling(_Part):
    storage: Storage = Storage.stored
    note: str = ""
    source: Cited = None


class Basis(StrEnum):
    """What a purpose needs beyond the data having been collected for it."""

    collection = "collection"
    opt_in = "opt_in"
    opt_out = "opt_out"
    legal_obligation = "legal_obligation"


class Channel(StrEnum):
    email = "email"
    sms = "sms"
    phone = "phone"
    post = "post"


class Purpose(_Part):
    basis: Basis
    channel: Channel | None = Field(
        default=None, description="Set for purposes that contact the person."
    )
    description: str = ""
    source: Cited = None
    double_opt_in: bool = Field(
        default=False,
        description="opt_in email purposes only: a grant counts once the person confirms it "
        "through a link mailed to their address.",
    )

    @model_validator(mode="after")
    def _double_opt_in_for_email_opt_in(self) -> Purpose:
        if self.double_opt_in and (
            self.basis is not Basis.opt_in or self.channel is not Channel.email
        ):
            raise ValueError(
                "double_opt_in is set only on a purpose with basis opt_in and channel email"
            )
        return self


class FieldSpec(_Part):
    category: Key
    required: bool = False
    shape: str | None = Field(
        default=None,
        description="email, phone, text, date, integer, secret; defaults from the category.",
    )
    visibility_choice: bool = Field(
        default=False, description="The person chooses whether others may see this field."
    )
    purposes: list[Key] | None = Field(
        default=None,
        description="The purposes this field is collected for, when fewer than its point's "
        "(each among the point's purposes). Default: all of the point's.",
    )


class CollectionPoint(_Part):
    description: str = ""
    subjects: list[Key] = Field(default_factory=lambda: ["customer"])
    fields: dict[Name, FieldSpec] = Field(min_length=1)
    purposes: list[Key] = Field(min_length=1)
    choices: list[Key] = Field(
        default_factory=list, description="Opt-in/opt-out purposes offered as a choice here."
    )
    min_age: int | None = Field(default=None, ge=0, le=130)
    source: Cited = None


class Role(_Part):
    description: str = ""
    purposes: list[Key] = Field(min_length=1)
    categories: list[Key] = Field(min_length=1)
    min_group_size: int | None = Field(
        default=None,
        ge=2,
        description="Set: the role sees only figures about groups of at least this many "
        "people, never one person's data. Default: not limited to aggregates.",
    )
    source: Cited = None


class RecipientKind(StrEnum):
    processor = "processor"
    partner = "partner"
    advertiser = "advertiser"
    legal_authority = "legal_authority"
    successor = "successor"
    public = "public"
    community = "community"


class Condition(StrEnum):
    """What must hold, beyond purpose and category, before data reaches a recipient."""

    none = "none"
    consent = "consent"
    legal_reference = "legal_reference"
    aggregate = "aggregate"
    subject_election = "subject_election"


class Event(StrEnum):
    """Something the organisation records that a recipient waits for."""

    business_transfer = "business_transfer"


class Recipient(_Part):
    kind: RecipientKind
    description: str = ""
    purposes: list[Key] = Field(min_length=1)
    categories: list[Key] = Field(min_length=1)
    condition: Condition = Condition.none
    after_event: Event | None = Field(
        default=None,
        description="The recipient receives nothing until this event is recorded in the store "
        "(`pledge policy record-transfer`). A `successor` always waits for a business "
        "transfer, whether or not this is set.",
    )
    min_group_size: int | None = Field(default=None, ge=2)
    noise_epsilon: float | None = Field(
        default=None,
        gt=0,
        le=10,
        description="Aggregate recipients: differential-privacy noise; each answer costs this.",
    )
    privacy_budget: float | None = Field(
        default=None, gt=0, description="Aggregate recipients: the epsilon all answers may cost."
    )
    source: Cited = None

    @model_validator(mode="after")
    def _group_size_for_aggregates(self) -> Recipient:
        if (self.condition is Condition.aggregate) != (self.min_group_size is not None):
            raise ValueError("min_group_size is set exactly when condition is 'aggregate'")
        if (self.noise_epsilon is None) != (self.privacy_budget is None):
            raise ValueError("noise_epsilon and privacy_budget are set together")
        if self.noise_epsilon is not None and self.condition is not Condition.aggregate:
            raise ValueError("noise_epsilon is set only when condition is 'aggregate'")
        if self.noise_epsilon and self.privacy_budget and self.noise_epsilon > self.privacy_budget:
            raise ValueError("noise_epsilon is more than the whole privacy_budget")
        return self


class MessageClass(StrEnum):
    transactional = "transactional"
    service = "service"
    marketing = "marketing"
    legal = "legal"


class Frequency(_Part):
    """At most ``max`` messages of one kind to one person within ``days`` days (a "one-time"
    confirmation: ``max: 1`` over the longest period that matters; "infrequent" alerts: a few
    a month)."""

    max: int = Field(ge=1)
    days: int = Field(ge=1, le=36500)


class Communication(_Part):
    message_class: MessageClass = Field(alias="class")
    purpose: Key
    description: str = ""
    advertisement_notice: bool = Field(
        default=False, description="Marketing only: say plainly that the message is an ad."
    )
    frequency: Frequency | None = Field(
        default=None,
        description="At most this many messages of this kind per person per period; the "
        "email gate refuses the one that would exceed it. Default: no limit.",
    )
    source: Cited = None


class RetentionRule(_Part):
    categories: list[Key] = Field(min_length=1)
    days: int = Field(ge=0)
    reason: str = ""
    source: Cited = None


class LegalHold(_Part):
    """Data kept after an erasure request because the law requires it."""

    categories: list[Key] = Field(min_length=1)
    days: int = Field(ge=1)
    reason: Text
    source: Cited = None


class Right(StrEnum):
    access = "access"
    export = "export"
    rectify = "rectify"
    erase = "erase"
    deactivate = "deactivate"
    object = "object"


class Law(StrEnum):
    """The data-protection law whose deadlines bind the answers to requests."""

    gdpr = "gdpr"
    ccpa = "ccpa"


class Rights(_Part):
    offered: list[Right] = Field(min_length=1)
    response_days: int = Field(ge=1, le=365)
    law: Law | None = Field(
        default=None,
        description="The law whose deadlines apply on top of response_days (gdpr, ccpa); "
        "it also decides whether and how far a deadline may be extended.",
    )
    sources: dict[Right, Source] = Field(
        default_factory=dict, description="The sentence each offered right came from."
    )


class CookieLifetime(StrEnum):
    session = "session"
    persistent = "persistent"


class CookieCategory(StrEnum):
    essential = "essential"
    preferences = "preferences"
    analytics = "analytics"
    advertising = "advertising"


class Cookie(_Part):
    name: Text
    lifetime: CookieLifetime
    category: CookieCategory
    days: int | None = Field(default=None, ge=1)
    provider: str = "first_party"
    description: str = ""
    source: Cited = None


class DoNotTrack(StrEnum):
    """How the site answers a browser's Do Not Track signal (``DNT: 1``), which California's
    CalOPPA asks a privacy policy to state."""

    ignored = "ignored"
    opt_out_of_sale_or_sharing = "opt_out_of_sale_or_sharing"
    refuse_optional = "refuse_optional"


class BannerCategory(_Part):
    description: Text = Field(description="What the visitor allows, in the banner's words.")
    sale_or_sharing: bool = Field(
        default=False,
        description="Cookies of this category sell or share data (cross-context advertising): "
        "Global Privacy Control turns it off.",
    )


class CookieConsent(_Part):
    """What the consent banner offers and how browser privacy signals are answered."""

    categories: dict[CookieCategory, BannerCategory] = Field(
        default_factory=dict,
        description="Categories the banner offers; default: each optional category a declared "
        "cookie uses.",
    )
    do_not_track: DoNotTrack = DoNotTrack.opt_out_of_sale_or_sharing
    sale_or_sharing_purposes: list[Key] = Field(
        default_factory=list,
        description="Purposes a Global Privacy Control signal opts a signed-in person out of.",
    )
    receipt_days: int = Field(
        default=395,
        ge=1,
        le=3650,
        description="How long a browser's banner answers are kept as proof of consent, counted "
        "from its latest answer (default 13 months, about when a banner asks again).",
    )


class LogElement(StrEnum):
    """What an access-log line can give, once minimised (see :mod:`pledge.logs.minimise`)."""

    ip_address = "ip_address"
    browser = "browser"
    page = "page"
    referrer = "referrer"
    isp = "isp"


class IpHandling(StrEnum):
    truncate = "truncate"
    hash = "hash"


class WebLogs(_Part):
    """How web-server access logs are taken in: only what a collection point declares."""

    point: Name = Field(description="The collection point whose fields a visit is stored as.")
    keep: dict[LogElement, Name] = Field(
        default_factory=dict,
        description="Each log element kept, and the point's field it is kept as; the rest "
        "is dropped at intake.",
    )
    ip_addresses: IpHandling = IpHandling.truncate
    min_group_size: int = Field(default=10, ge=2)


class ReportIntake(_Part):
    """Free text people send (error reports, installation notices), kept only once redacted."""

    point: Name = Field(description="The collection point the redacted text is collected at.")
    field: Name = Field(description="The point's field that holds the text.")


ConsentAge = Annotated[int, Field(ge=13, le=16)]
Jurisdiction = Annotated[str, Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]


class Children(_Part):
    """Children below the age they may consent at themselves: collected from only with a
    parent's consent, where the policy allows that at all (COPPA: under 13 in the US; GDPR
    Art. 8: 16, or as low as 13 where a member state's law says so)."""

    parental_consent: bool = Field(
        default=True,
        description="A parent's consent lets a child below the consent age be collected from; "
        "false: children below it are not collected from at all.",
    )
    consent_age: ConsentAge = Field(
        default=13, description="Below this age a person cannot consent for themselves."
    )
    jurisdictions: dict[Jurisdiction, ConsentAge] = Field(
        default_factory=dict,
        description="The consent age where a jurisdiction sets its own (ISO 3166 codes: "
        "DE: 16, FR: 15, US: 13...).",
    )
    source: Cited = None


class Changes(_Part):
    notice_days: int = Field(ge=0)
    material_change_needs_consent: bool = Field(
        default=True,
        description="Data collected under an older version keeps that version's limits "
        "unless the person consents to the new one.",
    )
    source: Cited = None


class Policy(_Part):
    """One version of one organisation's privacy policy."""

    pledge: Literal[1] = Field(description="Policy file format version; 1 today.")
    organisation: Organisation
    version: Text
    effective: dt.date
    taxonomy: TaxonomyExtensions = Field(default_factory=TaxonomyExtensions)
    categories: dict[Key, CategoryHandling] = Field(default_factory=dict)
    purposes: dict[Key, Purpose] = Field(min_length=1)
    collection_points: dict[Name, CollectionPoint] = Field(min_length=1)
    min_age: int | None = Field(
        default=None,
        ge=0,
        le=130,
        description="The youngest age collected from at all, wherever an age is stated.",
    )
    children: Children | None = Field(
        default=None,
        description="Whether, and with whose consent, children below the consent age are "
        "collected from. Default: no rule beyond `min_age`.",
    )
    roles: dict[Name, Role] = Field(default_factory=dict)
    recipients: dict[Name, Recipient] = Field(default_factory=dict)
    communications: dict[Name, Communication] = Field(default_factory=dict)
    retention: list[RetentionRule] = Field(default_factory=list)
    legal_holds: list[LegalHold] = Field(default_factory=list)
    rights: Rights
    cookies: list[Cookie] = Field(default_factory=list)
    cookie_consent: CookieConsent = Field(default_factory=CookieConsent)
    web_logs: WebLogs | None = None
    reports: dict[Name, ReportIntake] = Field(default_factory=dict)
    changes: Changes

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: object) -> object:
        """An unquoted ``2016-05-14`` arrives from YAML as a date; a version is its text."""
        return value.isoformat() if isinstance(value, dt.date) else value
