"""What a privacy policy fails to say, where it contradicts itself, and how vague it is.

Three readings, each finding naming where it is (a sentence or a policy path), the rule it
comes from and how to fix it:

- **Missing disclosures**, from the text: the items of GDPR Art. 13, CalOPPA's Do Not Track
  and third-party tracking answers, COPPA's word on children, CAN-SPAM's opt-out for marketing
  email. From a policy file, the ones the file can express (rights, retention, age gate,
  the postal address marketing needs). An item is found when any sentence says it, in any
  words the cue allows: a false "missing" would teach people to ignore the lint.
- **Contradictions**, as PolicyLint finds them: "we do not share X" against "we share X with
  Y" (recipients and categories overlapping), each finding with both sentences.
- **Vague wording**: counts of hedges ("may", "from time to time", "such as") and the
  sentences that hold the most.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from pledge.policy.model import Basis, Condition, MessageClass, Policy, Right
from pledge.text.contradictions import contradictions
from pledge.text.extract import practices
from pledge.text.findings import Finding, Severity, where
from pledge.text.segment import Document, Sentence


@dataclass(frozen=True, slots=True)
class Disclosure:
    code: str
    rule: str
    what: str
    cue: str
    fix: str
    severity: Severity = "serious"


DISCLOSURES = (
    Disclosure(
        "controller",
        "GDPR Art. 13(1)(a)",
        "who is responsible for the data and how to reach them",
        r"[\w.+-]+@[\w-]+\.\w+|\bcontact (?:us|page|form)\b|\bwrite to us\b|\bP\.?\s?O\.? Box\b",
        "Name the organisation and give a postal and an email address for privacy requests.",
    ),
    Disclosure(
        "purposes",
        "GDPR Art. 13(1)(c)",
        "what the data is used for",
        r"\b(?:use|process)\w* (?:\w+ ){0,8}(?:to|for)\b|\bin order to\b",
        "Say what each kind of data is used for.",
    ),
    Disclosure(
        "legal_basis",
        "GDPR Art. 13(1)(c)",
        "the legal basis of each use",
        r"\blegal basis\b|\blawful basis\b|\blegitimate interests?\b|\bperformance of (?:a |the )?contract\b|\bart(?:icle|\.)? ?6\b|\blegal grounds?\b",
        "Give the legal basis of each purpose: consent, contract, legal obligation or "
        "legitimate interest (and which).",
    ),
    Disclosure(
        "recipients",
        "GDPR Art. 13(1)(e)",
        "who receives the data",
        r"\bthird[- ]part|\bshare\b|\bdisclos|\bservice providers?\b|\boutside parties\b|\bsell\b",
        "Name the recipients or kinds of recipient (processors, partners, authorities).",
    ),
    Disclosure(
        "transfers",
        "GDPR Art. 13(1)(f)",
        "transfers to other countries and their safeguards",
        r"\btransferr?\w* (?:\w+ ){0,8}(?:outside|abroad|other countries|countr|international|across (?:national )?(?:borders|boundaries))|\bsafe harbou?r\b|\bprivacy shield\b|\bstandard contractual clauses\b|\badequacy\b",
        "Say whether data leaves the country (or the EU), to where, and under which safeguard.",
    ),
    Disclosure(
        "retention",
        "GDPR Art. 13(2)(a)",
        "how long the data is kept",
        r"\bretain|\bretention\b|\bas long as\b|\bkeep (?:\w+ ){0,4}(?:for|until)\b|\bstored for\b|\bdeleted (?:after|within)\b",
        "State how long each kind of data is kept, or how that period is decided.",
    ),
    Disclosure(
        "right_access",
        "GDPR Art. 13(2)(b)",
        "the right of access",
        r"\baccess (?:\w+ ){0,6}(?:information|data|account)|\breview (?:\w+ ){0,4}(?:information|data)|\bcopy of (?:your|the)"
        r"|\b(?:see|view|know|obtain|get|receive|request|inspect)\b (?:\w+ ){0,5}(?:information|data|details|records?) (?:that )?(?:we (?:\w+ )?(?:hold|keep|have|store|process|maintain)|(?:held|kept|stored) about you)"
        r"|\bright to know\b|\bwhat (?:personal )?(?:information|data) we (?:hold|keep|have)",
        "Tell people they may see the data held about them, and how to ask.",
    ),
    Disclosure(
        "right_rectify",
        "GDPR Art. 13(2)(b)",
        "the right to rectification",
        r"\bcorrect|\brectif|\bupdate (?:\w+ ){0,4}(?:information|data|account|details)|\binaccura",
        "Tell people they may correct their data, and how.",
    ),
    Disclosure(
        "right_erase",
        "GDPR Art. 13(2)(b)",
        "the right to erasure",
        r"\bdelet|\beras(?:e|ure)|\bremove (?:\w+ ){0,4}(?:information|data|account)|\bdeactivat",
        "Tell people they may have their data deleted, and what the law makes you keep.",
    ),
    Disclosure(
        "right_restrict",
        "GDPR Art. 13(2)(b)",
        "the right to restriction of processing",
        r"\brestrict(?:ion)? (?:of )?(?:\w+ ){0,3}process",
        "Tell people they may have processing of their data restricted.",
        "warning",
    ),
    Disclosure(
        "right_object",
        "GDPR Art. 13(2)(b)",
        "the right to object",
        r"\bobject\b|\bopt[- ]?out|\bunsubscrib",
        "Tell people they may object to uses such as marketing, and how.",
    ),
    Disclosure(
        "right_portability",
        "GDPR Art. 13(2)(b)",
        "the right to data portability",
        r"\bportab|\bmachine[- ]readable\b|\bexport\b",
        "Tell people they may have their data in a machine-readable copy.",
        "warning",
    ),
    Disclosure(
        "withdraw_consent",
        "GDPR Art. 13(2)(c)",
        "the right to withdraw consent at any time",
        r"\bwithdraw|\brevoke|\bopt[- ]?out|\bunsubscrib",
        "Say that consent may be withdrawn at any time, as easily as it was given.",
    ),
    Disclosure(
        "complaint",
        "GDPR Art. 13(2)(d)",
        "the right to complain to a supervisory authority",
        r"\bsupervisory authority|\bdata protection (?:authority|commissioner)|\blodge a complaint|\bcomplain to\b|\binformation commissioner",
        "Tell people they may complain to the data protection authority, and name it.",
    ),
    Disclosure(
        "required",
        "GDPR Art. 13(2)(e)",
        "whether giving the data is required, and what happens if not",
        r"\brequired\b|\bmandatory\b|\boptional\b|\bmust (?:provide|enter|give)\b|\bnot (?:required|obliged)\b|\bvoluntar|\bnever have to\b|\bwithout revealing\b",
        "Say which fields are required and what happens if they are left out.",
        "warning",
    ),
    Disclosure(
        "do_not_track",
        "CalOPPA, Cal. Bus. & Prof. Code 22575(b)(5)",
        "how the site answers a browser's Do Not Track signal",
        r"\bdo[- ]not[- ]track\b|\bdnt\b",
        "Say how the site responds to Do Not Track signals (even if it ignores them).",
    ),
    Disclosure(
        "third_party_tracking",
        "CalOPPA, Cal. Bus. & Prof. Code 22575(b)(6)",
        "whether third parties track visitors across sites",
        r"third[- ]part\w* (?:\w+ ){0,10}(?:collect|track|cookies?|beacons?|analytics)|(?:cookies?|beacons?|analytics|track\w*) (?:\w+ ){0,10}third[- ]part|\bbehaviou?ral tracking|\b(?:do not|don't) (?:use|allow|permit) (?:\w+ ){0,3}track",
        "Say whether other parties collect information about visitors' online activities "
        "over time and across sites.",
    ),
    Disclosure(
        "children",
        "COPPA, 16 CFR 312.4",
        "whether the site collects data from children under 13",
        r"\bchild(?:ren|'s)?\b|\bunder (?:the age of )?(?:13|thirteen)\b|\bcoppa\b|\bminors?\b",
        "Say whether you collect data from children under 13; if you do, how parents consent.",
    ),
)
CAN_SPAM = Disclosure(
    "can_spam_opt_out",
    "CAN-SPAM Act, 15 U.S.C. 7704(a)(3)",
    "how to stop marketing email",
    r"\bunsubscrib|\bopt[- ]?out|\bremove (?:you|your (?:name|address|e-?mail))",
    "Say how to stop marketing email (an unsubscribe link in each message) and that "
    "requests are honoured within 10 business days.",
)
_MARKETING_EMAIL = re.compile(
    r"\bnewsletter|\bmarketing (?:e-?mails?|messages|communications)|\bpromotional (?:e-?mails?|messages|materials)|\bmailing list",
    re.I,
)

VAGUE = (
    "may",
    "might",
    "could",
    "possibly",
    "generally",
    "typically",
    "usually",
    "certain",
    "some",
    "from time to time",
    "as appropriate",
    "as necessary",
    "reasonable",
    "reasonably",
    "such as",
    "including but not limited to",
    "other information",
    "various",
    "periodically",
    "at our discretion",
    "sole discretion",
)
_VAGUE = re.compile(r"\b(" + "|".join(re.escape(v) for v in VAGUE) + r")\b", re.I)


def lint_text(document: Document) -> list[Finding]:
    """Findings on a policy's text, most serious first."""
    sentences = document.sentences
    findings: list[Finding] = []
    items = list(DISCLOSURES)
    if any(_MARKETING_EMAIL.search(s.plain) for s in sentences):
        items.append(CAN_SPAM)
    for item in items:
        cue = re.compile(item.cue, re.I)
        if not any(cue.search(s.plain) for s in sentences):
            findings.append(
                Finding(
                    item.severity,
                    f"missing.{item.code}",
                    item.rule,
                    f"The text does not say {item.what}.",
                    item.fix,
                    "text",
                )
            )
    findings += contradictions(document, practices(document))
    findings += vague_wording(document)
    return _ordered(findings)


def vague_wording(document: Document) -> list[Finding]:
    counts: Counter[str] = Counter()
    per_sentence: list[tuple[int, Sentence]] = []
    for sentence in document.sentences:
        hits = [m.group(1).lower() for m in _VAGUE.finditer(sentence.plain)]
        counts.update(hits)
        if hits:
            per_sentence.append((len(hits), sentence))
    if not counts:
        return []
    worst = [s for _, s in sorted(per_sentence, key=lambda x: -x[0])[:5]]
    total = sum(counts.values())
    words = sum(len(s.plain.split()) for s in document.sentences)
    return [
        Finding(
            "info",
            "vague_wording",
            "Reidenberg et al., vague terms in privacy policies (2016)",
            f"{total} vague terms in {len(per_sentence)} sentences "
            f"({total / max(words, 1) * 1000:.0f} per 1000 words); most often: "
            + ", ".join(f"'{term}' x{n}" for term, n in counts.most_common(5))
            + ".",
            "Replace hedges with what is done: 'we use' for 'we may use', a list for 'such as'.",
            where(document, worst[0]),
            tuple(worst),
            {
                "counts": dict(counts.most_common()),
                "places": [{"start": s.start, "end": s.end, "terms": n} for n, s in per_sentence],
            },
        )
    ]


def lint_policy(policy: Policy) -> list[Finding]:
    """Findings on a policy file, for what the file can express."""
    findings: list[Finding] = []

    def add(severity: Severity, code: str, rule: str, message: str, fix: str, path: str) -> None:
        findings.append(Finding(severity, code, rule, message, fix, path))

    offered = set(policy.rights.offered)
    for right, what in (
        (Right.access, "access"),
        (Right.rectify, "rectification"),
        (Right.erase, "erasure"),
    ):
        if right not in offered:
            add(
                "serious",
                f"missing.right_{right.value}",
                "GDPR Art. 13(2)(b), Art. 15-17",
                f"The policy does not offer the right of {what}.",
                f"Add '{right.value}' to rights.offered.",
                "rights.offered",
            )
    if not policy.retention and not policy.legal_holds:
        add(
            "serious",
            "missing.retention",
            "GDPR Art. 13(2)(a)",
            "No retention period: data is kept until the person asks for erasure.",
            "Add retention rules (and legal_holds for what the law makes you keep).",
            "retention",
        )
    if not any(p.min_age for p in policy.collection_points.values()):
        add(
            "serious",
            "missing.children",
            "COPPA, 16 CFR 312.4",
            "No collection point has an age gate, so children's data may be collected.",
            "Set min_age (13 or more) on the collection points people fill in.",
            "collection_points",
        )
    marketing = [
        name
        for name, c in policy.communications.items()
        if c.message_class is MessageClass.marketing
    ]
    if marketing and not policy.organisation.postal_address:
        add(
            "serious",
            "missing.postal_address",
            "CAN-SPAM Act, 15 U.S.C. 7704(a)(5)",
            "Marketing messages must carry a postal address; the gate refuses them without one.",
            "Set organisation.postal_address.",
            "organisation.postal_address",
        )
    for name in marketing:
        if not policy.communications[name].advertisement_notice:
            add(
                "warning",
                "can_spam.advertisement_notice",
                "CAN-SPAM Act, 15 U.S.C. 7704(a)(5)(A)",
                f"Marketing message '{name}' does not say it is an advertisement.",
                "Set advertisement_notice: true, or rely on the person's opt-in.",
                f"communications.{name}.advertisement_notice",
            )
    for key, purpose in policy.purposes.items():
        if key.startswith("marketing.") and purpose.basis is Basis.opt_out:
            add(
                "warning",
                "consent.marketing_opt_out",
                "GDPR Art. 6(1)(a); ePrivacy Directive Art. 13",
                f"Marketing purpose '{key}' runs until the person opts out; in the EU "
                "electronic marketing needs prior consent (opt-in).",
                "Use basis: opt_in, unless every recipient is an existing customer "
                "told of the opt-out at collection.",
                f"purposes.{key}.basis",
            )
    for name, recipient in policy.recipients.items():
        if (
            recipient.kind.value in ("partner", "advertiser")
            and recipient.condition is Condition.none
        ):
            add(
                "warning",
                "consent.recipient",
                "GDPR Art. 6(1)(a)",
                f"Recipient '{name}' ({recipient.kind.value}) receives data without the "
                "person's consent.",
                "Set condition: consent, or aggregate with min_group_size.",
                f"recipients.{name}.condition",
            )
    return _ordered(findings)


_SEVERITY_ORDER = {"serious": 0, "warning": 1, "info": 2}


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: _SEVERITY_ORDER[f.severity])


def serious(findings: list[Finding]) -> bool:
    return any(f.severity == "serious" for f in findings)
