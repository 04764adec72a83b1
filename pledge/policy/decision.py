"""The question every use of personal data must answer, and the shape of the answer.

May this actor (a staff role, a recipient, or a kind of message) use these categories of a
subject's data for this purpose, given what the subject has chosen and which version of the
policy the data was collected under? The answer is a :class:`Decision`: allowed or not, what
is released, why (each reason pointing at the part of the policy that decided it), and the
obligations that come with a yes.

Everything here is a plain value. The function that computes decisions lives in
:mod:`pledge.policy.compiled`, next to the precomputed plans that make it fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

ActorKind = Literal["role", "recipient", "communication"]


class Actor(NamedTuple):
    """Who acts: a staff ``role``, a ``recipient`` of a disclosure, or a ``communication``
    type (the email gate acting for a kind of message)."""

    kind: ActorKind
    name: str

    @classmethod
    def role(cls, name: str) -> Actor:
        return cls("role", name)

    @classmethod
    def recipient(cls, name: str) -> Actor:
        return cls("recipient", name)

    @classmethod
    def communication(cls, name: str) -> Actor:
        return cls("communication", name)

    def __str__(self) -> str:
        return f"{self.kind} '{self.name}'"


def purpose_choice(purpose: str) -> str:
    return "purpose:" + purpose


def recipient_choice(recipient: str) -> str:
    return "recipient:" + recipient


def channel_choice(channel: str) -> str:
    return "channel:" + channel


def visibility_choice(category: str) -> str:
    return "show:" + category


def version_choice(version: str) -> str:
    return "policy:" + version


def cookie_choice(category: str) -> str:
    return "cookies:" + category


@dataclass(frozen=True, slots=True)
class Choices:
    """A subject's current choices: the latest event per choice key, split by outcome.

    Keys are ``purpose:<data use>``, ``recipient:<name>``, ``channel:<email|sms|...>``,
    ``show:<category>`` (a field the person elected to show), ``policy:<version>`` (express
    consent to a newer policy) and ``cookies:<category>`` (the website's cookie banner).
    ``stop_all`` is "remove me from all correspondence": only messages the law requires still
    go.
    """

    granted: frozenset[str] = frozenset()
    withdrawn: frozenset[str] = frozenset()
    stop_all: bool = False

    @classmethod
    def of(
        cls,
        granted: tuple[str, ...] | list[str] = (),
        withdrawn: tuple[str, ...] | list[str] = (),
        *,
        stop_all: bool = False,
    ) -> Choices:
        overlap = set(granted) & set(withdrawn)
        if overlap:
            raise ValueError(f"a choice cannot be both granted and withdrawn: {sorted(overlap)}")
        return cls(frozenset(granted), frozenset(withdrawn), stop_all)


NO_CHOICES = Choices()


class Request(NamedTuple):
    """Everything a decision depends on. ``categories`` are data category keys; ``points``,
    when given, limits the collection points the subject's data came from."""

    actor: Actor
    purpose: str
    categories: tuple[str, ...]
    choices: Choices = NO_CHOICES
    collected_under: str | None = None
    points: frozenset[str] | None = None
    legal_ref: str | None = None
    group_size: int | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    """One step of the argument; ``ref`` is the policy path that decided it."""

    code: str
    message: str
    ref: str

    def __str__(self) -> str:
        return f"{self.message} [{self.ref}]"


@dataclass(frozen=True, slots=True)
class Obligation:
    """Something the caller must do when acting on an allowed decision."""

    code: Literal[
        "record_disclosure",
        "record_legal_reference",
        "aggregate_only",
        "marketing_footer",
        "advertisement_notice",
        "unsubscribe_link",
    ]
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """``allowed`` means every requested category is released; ``released`` may be non-empty
    on a denial, for callers that show what they can and say what they withheld."""

    allowed: bool
    released: frozenset[str]
    withheld: tuple[tuple[str, Reason], ...]
    reasons: tuple[Reason, ...]
    obligations: tuple[Obligation, ...] = ()

    @property
    def denial(self) -> Reason | None:
        """The most specific reason against, for a one-line refusal: a reason that stopped the
        whole use, else why the first category was withheld."""
        if self.allowed:
            return None
        for reason in self.reasons:
            if reason.code not in ALLOWING_CODES and reason.code != "nothing_released":
                return reason
        if self.withheld:
            return self.withheld[0][1]
        return next((r for r in self.reasons if r.code == "nothing_released"), None)

    def to_dict(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "released": sorted(self.released),
            "withheld": {c: _reason_dict(r) for c, r in self.withheld},
            "reasons": [_reason_dict(r) for r in self.reasons],
            "obligations": [{"code": o.code, "detail": o.detail} for o in self.obligations],
        }


def _reason_dict(reason: Reason) -> dict[str, str]:
    return {"code": reason.code, "message": reason.message, "ref": reason.ref}


ALLOWING_CODES = frozenset({"actor_granted", "collected_for_purpose", "basis_met", "consent_given"})
