"""Contradictions in the way PolicyLint finds them: "we do not share X" against "we share X
with Y" (and the same for collecting), each finding with both sentences.

A sentence is about the data it names. Where it names none, two readings are sound enough to
report, as warnings only since they rest on a guess: "it" or "them" stands for the data the
sentence before it (in the same paragraph) names, and "information" or "data" said in general
stands for personal information in general. A refusal that names no recipient ("we do not sell
your personal information") refuses everyone. A refusal is not contradicted by what it leaves
room for: a group or purpose it is limited to, exceptions it says are stated elsewhere
("except as described in this policy"), or sharing on consent when it says "not without your
consent"; and "we do not sell" against sharing that is no sale is a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pledge.policy.taxonomy import covers
from pledge.text.extract import GENERAL, Practice, categories_in
from pledge.text.findings import Finding, where
from pledge.text.segment import Document

RULE = "PolicyLint (Andow et al., USENIX Security 2019)"
ROUTINE_RECIPIENTS = frozenset({"legal_authority", "processor", "successor"})
"""The usual exceptions to "we do not share": a contradiction with them is a warning."""
LAWFUL_CONDITIONS = frozenset({"aggregate_only", "legal_basis", "consent", "opt_in"})
_PAIRS = (("not_shared", "share"), ("not_collected", "collect"))
_PAST = {"share": "shared", "collect": "collected"}
_LIMITED = re.compile(
    r"child|minor|under 1[368]|track|sensitive"
    r"|\bfor (?:\w+ ){0,2}purposes\b|\bfor (?:their|its) own",
    re.I,
)
_SALE = re.compile(r"\b(?:sell|sold|rent|trade|traded|lease)\w*\b", re.I)
_OTHER_SHARING = re.compile(
    r"\b(?:share|disclos|transfer|release|provide|give|pass|distribut|make available)\w*", re.I
)
_SOMEONE_ELSE_COLLECTS = re.compile(
    r"\b(?:other|third[- ]party|external|linked) (?:web ?)?sites?\b|\bthird part(?:y|ies)\b"
    r"(?: \w+){0,3} (?:collect|gather|obtain|receive|use)",
    re.I,
)
_EXCEPTIONS_ELSEWHERE = re.compile(
    r"\bexcept (?:as|where|in the (?:\w+ )?(?:circumstances|cases)) (?:\w+ ){0,3}"
    r"(?:described|set out|stated|explained|outlined|provided|listed|noted)\b"
    r"|\b(?:other than|except) as (?:\w+ ){0,2}(?:described|set out|stated|explained) "
    r"(?:in|below|above)|\bnot otherwise\b"
    r"|\bexcept in (?:specific|certain|limited|particular|the following) (?:cases|circumstances)",
    re.I,
)
_WITHOUT_CONSENT = re.compile(
    r"\bwithout (?:your|the person's|their) (?:\w+ )?(?:consent|permission)", re.I
)
_ANAPHOR = re.compile(
    r"\b(?:it|them|this (?:information|data)|such (?:information|data)|these (?:details|data))\b",
    re.I,
)
_GENERIC = re.compile(r"\b(?:information|data|details)\b", re.I)


@dataclass(frozen=True, slots=True)
class About:
    """The data a practice is about, and whether that was read from its own words."""

    categories: tuple[str, ...]
    inferred: bool


def contradictions(document: Document, found: list[Practice]) -> list[Finding]:
    """One finding for each negative statement and kind of recipient it is contradicted
    for."""
    about = _about(document, found)
    findings = []
    for negative, positive in _PAIRS:
        claims = [p for p in found if p.kind == positive]
        for refusal in (p for p in found if p.kind == negative and not _limited(p)):
            reported: set[str | None] = set()
            for claim in claims:
                if (
                    claim.sentence.start == refusal.sentence.start
                    or claim.recipient in reported
                    or not _overlap(refusal, claim, about)
                    or _excepted(refusal, claim)
                    or (
                        positive == "collect"
                        and _SOMEONE_ELSE_COLLECTS.search(claim.sentence.plain)
                    )
                ):
                    continue
                reported.add(claim.recipient)
                routine = (
                    negative == "not_collected"
                    or claim.recipient in ROUTINE_RECIPIENTS
                    or claim.condition in LAWFUL_CONDITIONS
                    or about[id(refusal)].inferred
                    or about[id(claim)].inferred
                    or (_sale_only(refusal) and not _SALE.search(claim.sentence.plain))
                )
                findings.append(
                    Finding(
                        "warning" if routine else "serious",
                        f"contradiction.{positive}",
                        RULE,
                        f"One sentence says the data is not {_PAST[positive]}, another that it is"
                        + (f" ({claim.recipient})." if claim.recipient else "."),
                        "Make the exception explicit in the negative sentence "
                        '("except to ..."), or remove the sentence that is no longer true.',
                        where(document, refusal.sentence),
                        (refusal.sentence, claim.sentence),
                    )
                )
    return findings


def _about(document: Document, found: list[Practice]) -> dict[int, About]:
    previous = dict(_previous_sentences(document))
    result = {}
    for practice in found:
        if practice.categories:
            result[id(practice)] = About(practice.categories, inferred=False)
            continue
        text = practice.sentence.plain
        before = previous.get(practice.sentence.start)
        named = tuple(categories_in(before)) if before and _ANAPHOR.search(text) else ()
        if not named and _GENERIC.search(text):
            named = (GENERAL,)
        result[id(practice)] = About(named, inferred=True)
    return result


def _previous_sentences(document: Document) -> Iterator[tuple[int, str]]:
    """Each sentence's start, with the text of the sentence before it in its paragraph."""
    for segment in document.segments:
        for before, sentence in zip(segment.sentences, segment.sentences[1:], strict=False):
            yield sentence.start, before.plain


def _limited(refusal: Practice) -> bool:
    """ "We do not collect from children" or "do not use cookies for tracking" limit the
    negation to a group or a purpose; "except as described in this policy" points to
    exceptions stated elsewhere: neither is contradicted by a practice in general."""
    text = refusal.sentence.plain
    return bool(_LIMITED.search(text) or _EXCEPTIONS_ELSEWHERE.search(text))


def _sale_only(refusal: Practice) -> bool:
    """ "We do not sell" refuses a sale; sharing for another reason may still be meant, so
    a contradiction with it is a warning."""
    text = refusal.sentence.plain
    return bool(_SALE.search(text)) and not _OTHER_SHARING.search(text)


def _excepted(refusal: Practice, claim: Practice) -> bool:
    """ "Not without your consent" is kept by a claim made on consent."""
    return bool(_WITHOUT_CONSENT.search(refusal.sentence.plain)) and claim.condition in (
        "consent",
        "opt_in",
        "opt_out",
        "election",
    )


def _overlap(refusal: Practice, claim: Practice, about: dict[int, About]) -> bool:
    """Same recipients (or all of them refused) and the same data, where refusing personal
    information in general covers any category. Collection contradictions need a category
    named on both sides. A refusal for one processor named by what it does ("our delivery
    company never sees your card number") says nothing of another ("our card processor")."""
    if refusal.recipient not in (None, "any_third_party", claim.recipient):
        return False
    if refusal.party and claim.party and refusal.party != claim.party:
        return False
    refused, claimed = about[id(refusal)], about[id(claim)]
    if not refused.categories or not claimed.categories:
        return False
    if refusal.kind == "not_collected" and (
        refused.inferred
        or claimed.inferred
        or GENERAL in (*refused.categories, *claimed.categories)
    ):
        return False
    return any(covers(a, b) or covers(b, a) for a in refused.categories for b in claimed.categories)
