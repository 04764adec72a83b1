"""The practices a policy's sentences state: who collects, uses or shares what, for what, on
which condition, as one flat record each.

Each sentence is read by hand-written cues (``CATEGORY_CUES``, ``PURPOSE_CUES``...), never by a
model, so each record can be traced to the phrase that produced it. Categories and purposes are
fideslang keys; ``user`` stands for "personal information" said in general. A sentence may state
several practices ("we collect your email to send the newsletter": collect and use), and a
negated one ("we do not sell your information") becomes ``not_shared`` or ``not_collected``,
which is what lint needs to find contradictions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pledge.text.segment import Document, Sentence

KINDS = (
    "collect",
    "use",
    "share",
    "choice",
    "access",
    "retention",
    "security",
    "children",
    "change",
    "contact",
    "cookies",
    "aggregate",
    "not_collected",
    "not_shared",
)
CONDITIONS = (
    "none",
    "opt_in",
    "opt_out",
    "consent",
    "legal_basis",
    "aggregate_only",
    "confidentiality_agreement",
    "election",
    "notice_period",
    "regardless_of_choice",
)
RECIPIENTS = (
    "processor",
    "partner",
    "advertiser",
    "legal_authority",
    "successor",
    "public",
    "other_users",
    "affiliate",
    "any_third_party",
)
GENERAL = "user"
"""The category for personal information named in general: it covers every other."""


def _cues(*pairs: tuple[str, str]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(pattern, re.I), value) for pattern, value in pairs)


CATEGORY_CUES = _cues(
    (
        r"(?<!user )(?<!domain )(?<!brand )(?<!product )(?<!company )\b(?:full |first |last )?names?\b(?! of)",
        "user.name",
    ),
    (r"\be-?mail address|\byour e-?mail\b", "user.contact.email"),
    (
        r"\b(?:mailing|postal|street|shipping|billing|home|physical|delivery) address"
        r"|\b(?:your|names? and|names?,|and your) (?:home |full )?address(?:es)?\b",
        "user.contact.address",
    ),
    (r"\b(?:tele)?phone(?: number)?s?\b|\bmobile number", "user.contact.phone_number"),
    (r"\bfax\b", "user.contact.fax_number"),
    (
        r"\bcompany name|\bemployer\b|\borgani[sz]ation name|\bcompany\b(?= (?:name|information))",
        "user.workplace",
    ),
    (r"\bjob title|\btitle\b(?= and)|\bposition\b", "user.job_title"),
    (r"\buser ?names?\b|\blogin (?:name|id)|\bscreen name", "user.account.username"),
    (r"\bpasswords?\b|\bcredentials\b", "user.authorization.credentials"),
    (
        r"\bcredit card|\bcard number|\bpayment (?:card|information|details)|\bcredit/?debit|\bsensitive/credit",
        "user.financial.credit_card",
    ),
    (r"\bbank account|\bbilling information|\bfinancial information", "user.financial"),
    (r"\bip address|\binternet protocol address", "user.device.ip_address"),
    (
        r"\bbrowser type|\bkind of browser|\boperating system|\bdevice (?:type|information)|\binternet service provider|\bisp\b",
        "user.device",
    ),
    (
        r"\bpages? (?:you )?(?:visit|view)|\breferr(?:ing|er)|\bclickstream|\bbrowsing|\btime (?:spent|of (?:your )?visit)|\bdate and time",
        "user.behavior.browsing_history",
    ),
    (
        r"\bpurchase history|\border history|\bproducts? (?:you )?(?:purchase|buy)",
        "user.behavior.purchase_history",
    ),
    (r"\bcookies?\b", "user.device.cookie_id"),
    (r"\blocation\b|\bgeographic", "user.location"),
    (r"\bdate of birth|\bbirth ?date|\bage\b", "user.demographic.date_of_birth"),
    (r"\bgender\b", "user.demographic.gender"),
    (r"\berror reports?|\bcrash reports?|\bbug reports?", "user.content.private"),
    (
        r"\b(?:stored |private |your )?communications\b|\bmessages you|\be-?mail (?:content|messages)",
        "user.content.private",
    ),
    (
        r"\bpersonal(?:ly identifiable)? information\b|\bpersonal data\b|\bpii\b|\binformation about you\b|\byour information\b",
        GENERAL,
    ),
)

PURPOSE_CUES = _cues(
    (
        r"\bnewsletters?\b|\bmailing list|\bmarketing (?:communications?|messages|e-?mails?|materials?)|\bpromotional (?:e-?mails?|messages|materials|offers)|\bspecial offers|\bproduct (?:news|announcements|information)|\bnew (?:products|releases)|\bmarket to\b|\bnews about",
        "marketing.communications.email",
    ),
    (r"\badvertis(?:ing|ements?)\b|\btargeted ads|\bads\b", "marketing.advertising"),
    (
        r"\bprocess (?:your )?(?:transactions?|payments?|orders?)|\bpayment processing|\bbilling\b|\bcredit card (?:transactions?|processing)|\bgateway provider",
        "essential.service.payment_processing",
    ),
    (
        r"\bupdates? pertaining to (?:your )?orders?|\border confirmations?|\bservice (?:bulletins?|announcements?|alerts?|notices?)|\bregistration confirmation|\btransactional",
        "essential.service.notifications.email",
    ),
    (
        r"\brespond to (?:your )?(?:inquir|questions|requests|comments)|\bcustomer (?:service|support)|\btechnical support|\btroubleshoot|\bassistance requests?",
        "essential.service.operations.support",
    ),
    (
        r"\bimprove (?:our |the )?(?:web ?site|site|services?|products?|software|offerings)|\bproduct development|\bdevelop (?:new )?(?:products|services)",
        "functional.service.improve",
    ),
    (
        r"\bstatistic|\banaly[sz]e|\banalytics\b|\btraffic\b|\bmeasure\b|\busage (?:patterns|trends|data)|\baggregate",
        "analytics.reporting",
    ),
    (
        r"\bfor security|\bsecurity purposes|\bfraud\b|\bprotect (?:our|the) (?:site|rights|property|users)",
        "essential.service.security",
    ),
    (
        r"\bcontests?\b|\bpromotions?\b|\bsurveys?\b|\bsweepstakes\b|\bquestionnaires?\b",
        "functional.service",
    ),
    (
        r"\bcomply with (?:the |any |applicable )?law|\blegal (?:process|obligations?|requirements?)|\bsubpoena|\bcourt order|\blaw enforcement|\brequired by law|\bwarrant\b",
        "third_party_sharing.legal_obligation",
    ),
    (r"\bpersonali[sz]e|\bcustomi[sz]e|\btailor", "personalize.content"),
    (r"\blog ?in\b|\bauthenticat|\bsign in\b", "essential.service.authentication"),
    (
        r"\bprovide (?:you )?(?:with )?(?:the |our )?(?:services?|products?)|\bfulfil+ (?:your )?(?:orders?|requests?)|\byour experience|\bregist(?:er|ration)|\byour account",
        "essential.service",
    ),
)

_NAMED_PROCESSOR = (
    r"\b(?:delivery|shipping|courier|logistics|parcel|postal|freight|removal|mailing|printing|fulfil+ment|payment|card|billing|cloud|hosting|storage|email|e-mail|it|software|call[- ]cent(?:re|er)|customer service|answering) (?:compan(?:y|ies)|firms?|(?:services? )?providers?|services?|processors?|partners?|carriers?|houses?|centres?|centers?)\b"
    r"|\bcouriers?\b|\bcarriers?\b|\bpostal service|\bpost office|\bmail(?:ing)? houses?|\bprinters\b|\bcall cent(?:re|er)s?\b|\bdata cent(?:re|er)s?\b|\b(?:our|the|their) banks?\b"
)
"""A processor named by what it does ("our delivery company", "the email service provider"),
as against one named only as a processor ("service providers", "vendors")."""

RECIPIENT_CUES = _cues(
    (
        r"\blaw enforcement|\bcourts?\b|\bsubpoena|\blegal process|\bgovernment|\bauthorities|\bregulator|\bcomply with (?:the |any |applicable )?law|\bjudicial|\bwarrant\b|\brequired by law|\binterception",
        "legal_authority",
    ),
    (
        r"\bmerger|\bacqui(?:sition|red)|\bsale of (?:all|substantially|some|the company|assets)|\bbankruptcy|\bsuccessor|\breorgani[sz]",
        "successor",
    ),
    (
        r"\bservice providers?|\bvendors?\b|\bcontractors?\b|\bagents?\b|\bprocessors?\b|\bgateway|\bhosting|\bcompanies (?:that|who) (?:help|perform|assist|work)|\bon (?:our|its) behalf|\bperform (?:services|functions)|\bsuppliers?\b"
        r"|\bcompan(?:y|ies) (?:that|which|who) (?:\w+ ){0,2}(?:deliver|ship|print|host|store|process|send|handle|run|operate|support)"
        r"|" + _NAMED_PROCESSOR,
        "processor",
    ),
    (
        r"\badvertis(?:ers|ing (?:partners|networks|companies))|\bad networks?|\bad servers?",
        "advertiser",
    ),
    (r"\baffiliates?\b|\bsubsidiar|\bparent company|\bsister compan|\bgroup compan", "affiliate"),
    (
        r"\bpartners?\b|\bsponsors?\b|\bco-?brand|\bselected (?:companies|third parties|organi[sz]ations)|\bresellers?\b|\bdistributors?\b",
        "partner",
    ),
    (r"\bpublicly\b|\bpublic\b|\bcase stud|\btestimonial|\bpress releases?|\bpublish", "public"),
    (
        r"\bother (?:users|members|visitors|participants|registered users)|\bforums?\b|\bcommunity\b|\bbulletin boards?|\bmessage boards?",
        "other_users",
    ),
    (
        r"\bthird[- ]part(?:y|ies)|\boutside parties|\boutside (?:companies|organi[sz]ations)|\bunaffiliated|\bothers\b|\banyone\b"
        r"|\b(?:other|another|external|independent) (?:compan(?:y|ies)|businesses|firms?|organi[sz]ations|parties)",
        "any_third_party",
    ),
)

CONDITION_CUES = _cues(
    (
        r"\bregardless\b|\beven if you (?:have )?(?:opt|unsubscrib|choose|decline)|\bwhether or not you",
        "regardless_of_choice",
    ),
    (
        r"\bopt[- ]?in\b|\bonly (?:if|when) you (?:have )?(?:opted|agreed|chosen|elected)|\b(?:if|when) you (?:check|tick)",
        "opt_in",
    ),
    (
        r"\bopt[- ]?out\b|\bunsubscribe|\bat any time\b|\bchoose not to\b|\bno longer wish",
        "opt_out",
    ),
    (
        r"\byour (?:prior |express |explicit )?(?:consent|permission|authori[sz]ation|approval)|\bconsent\b|\bpermission\b",
        "consent",
    ),
    (
        r"\bcomply with (?:the |any |applicable )?law|\blegal process|\bsubpoena|\bcourt order|\blaw enforcement|\brequired by law|\bwarrant\b|\blegal (?:obligation|requirement)",
        "legal_basis",
    ),
    (
        r"\baggregate|\bstatistical|\banonymous|\bnon-personal|\bde-?identified|\bnot (?:personally )?identif",
        "aggregate_only",
    ),
    (
        r"\bconfidential|\bbound by|\bcontractual|\bagree(?:d|ment)? to (?:keep|protect|use)|\bonly (?:on|for) (?:our|its) behalf|\bnot (?:permitted|allowed|authori[sz]ed) to use"
        r"|\buse (?:it|them|this (?:data|information)|the (?:data|information)) only (?:to|for)\b",
        "confidentiality_agreement",
    ),
    (
        r"\b(?:if|when) you (?:choose|elect|decide) to (?:post|display|make|share|show|include|publish)|\bat your (?:option|election|discretion)|\byou (?:may|can) choose whether",
        "election",
    ),
    (
        r"\b(?:\d+|thirty|sixty|ninety) days?['’]? (?:prior )?notice|\bnotice of (?:at least )?(?:\d+|thirty) days|\bprior notice",
        "notice_period",
    ),
)

CONTEXT_CUES = _cues(
    (r"\berror reports?|\bcrash reports?|\bbug reports?", "error_report"),
    (r"\binstallation|\binstall\b", "installation"),
    (r"\bnewsletters?\b|\bmailing list|\bsubscribe\b", "newsletter"),
    (r"\bsurveys?\b|\bquestionnaires?\b", "survey"),
    (r"\bcontests?\b|\bsweepstakes|\bpromotions?\b", "contest"),
    (r"\bforums?\b|\bmessage boards?|\bbulletin boards?|\bcommunity\b", "forum"),
    (r"\bdownload|\btrials?\b|\bdemonstrations?\b|\bdemos?\b", "download"),
    (r"\border(?:s|ing)?\b|\bpurchas|\bcheckout|\bbuy\b|\bpayment", "order"),
    (
        r"\bregist(?:er|ration|ering)|\bsign(?:ing)? up|\bcreate an account|\bopen an account",
        "registration",
    ),
    (
        r"\bserver logs?|\bwhen you visit|\blog files?|\bip address|\bbrowser type|\breferr|\bpages (?:you )?visit|\bclickstream|\bautomatically",
        "web_log",
    ),
    (r"\bcookies?\b", "cookies"),
    (
        r"\binquir|\bsupport\b|\bcontact us|\bquestions\b|\brequest information|\bcustomer service|\bassistance",
        "support",
    ),
    (r"\bresum[eé]s?\b|\bjob applica|\bcareers?\b", "job_application"),
)

_NEGATION = r"(?:\b(?:do|does|will|shall|would|could|may|is|are)\s+not|\bnever|n't|\bnot)\b(?:\s+\w+){0,4}?\s+"
_SHARE = r"(?:sell|rent|trade|share|disclose|transfer|release|provide|give|lease|make\s+available|pass\s+on|distribute|sold|rented|traded|shared|disclosed|transferred|released|provided|given|passed\s+on)"
_COLLECT = r"(?:collect|gather|obtain|request|ask|require|record|log|store|receive|track)"

KIND_CUES = _cues(
    (rf"{_NEGATION}(?:\w+\s+)?{_SHARE}\b", "not_shared"),
    (
        rf"{_NEGATION}(?:knowingly\s+|intentionally\s+|specifically\s+)?(?:collect|gather|obtain|record|store|track)\w*\b",
        "not_collected",
    ),
    (rf"\b{_SHARE}\w*\b|\bprocessed through\b", "share"),
    (
        rf"\b{_COLLECT}\w*\b|\basked to (?:enter|provide)|\byou (?:provide|submit|give|enter|send)\b",
        "collect",
    ),
    (
        r"\b(?:we|zimbra|company) (?:may |will |also |only )*use\b|\bused? (?:to|for|only|in)\b|\bin order to\b|\bto (?:provide|improve|process|send|administer|respond|deliver|contact|notify)\b",
        "use",
    ),
    (
        r"\bopt[- ]?(?:out|in)\b|\bunsubscrib|\bchoose (?:not )?to\b|\bpreferences?\b|\bconsent\b|\bdecline\b|\byou (?:may|can) (?:elect|refuse|disable|turn off)",
        "choice",
    ),
    (
        r"\b(?:access|review|correct|update|delete|remove|modify|change|edit|erase|deactivate|cancel)\w*(?:,? (?:and|or|and/or))? (?:\w+ ){0,6}(?:your |the |any |such )?(?:personal )?(?:information|data|account|profile|details|preferences)",
        "access",
    ),
    (
        r"\bretain|\bretention\b|\bkeep (?:your |the |this |such )?(?:information|data|records)|\bas long as\b|\bfor (?:a period of )?\d+ (?:days|months|years)",
        "retention",
    ),
    (
        r"\bencrypt|\bssl\b|\bsecure|\bsecurity\b|\bfirewall|\bsafeguard|\bunauthori[sz]ed access|\bprotect (?:your|the) (?:information|data|privacy)",
        "security",
    ),
    (
        r"\bchild(?:ren|'s)?\b|\bunder (?:the age of )?(?:13|thirteen|16|18)\b|\bcoppa\b|\bminors?\b",
        "children",
    ),
    (
        r"\b(?:change|update|modify|revise|amend)\w* (?:to )?(?:this|our|the|its) (?:updated )?(?:privacy )?(?:policy|statement)|\bmaterial(?:ly)? chang|\bchanges to (?:this|our) (?:privacy )?(?:policy|statement)",
        "change",
    ),
    (
        r"\bcontact us\b|[\w.+-]+@[\w-]+\.\w+|\bwrite to us|\bquestions (?:about|regarding|concerning)|\bdirected to",
        "contact",
    ),
    (r"\bcookies?\b", "cookies"),
    (r"\baggregate|\bstatistic|\banonymous|\bde-?identified|\bnon-personal", "aggregate"),
)


@dataclass(frozen=True, slots=True)
class Practice:
    """One practice a sentence states, in the flat shape ``--practices`` writes."""

    kind: str
    categories: tuple[str, ...]
    purposes: tuple[str, ...]
    recipient: str | None
    condition: str
    condition_detail: str
    context: str
    sentence: Sentence
    party: str = ""
    """The words that name a processor by what it does ("delivery company"), so a draft can
    keep two processors of one sentence apart; not part of the ``--practices`` record."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "categories": list(self.categories),
            "purposes": list(self.purposes),
            "recipient": self.recipient,
            "condition": {"type": self.condition, "detail": self.condition_detail},
            "context": self.context,
            "sentence": self.sentence.as_dict(),
        }


def _all(cues: Iterable[tuple[re.Pattern[str], str]], text: str) -> list[str]:
    found: list[str] = []
    for pattern, value in cues:
        if value not in found and pattern.search(text):
            found.append(value)
    return found


def _first(cues: Iterable[tuple[re.Pattern[str], str]], text: str) -> tuple[str, str] | None:
    for pattern, value in cues:
        match = pattern.search(text)
        if match:
            return value, match.group(0)
    return None


def categories_in(text: str) -> list[str]:
    """The data categories a sentence names, most specific first; ``user`` when it speaks of
    personal information only in general."""
    found = _all(CATEGORY_CUES, text)
    return [c for c in found if c != GENERAL] or ([GENERAL] if GENERAL in found else [])


def purposes_in(text: str) -> list[str]:
    return _all(PURPOSE_CUES, text)


def recipients_in(text: str) -> list[str]:
    found = _all(RECIPIENT_CUES, text)
    named = [r for r in found if r != "any_third_party"]
    return named or found


def condition_in(text: str) -> tuple[str, str]:
    found = _first(CONDITION_CUES, text)
    return found if found else ("none", "")


def context_of(text: str) -> str:
    found = _first(CONTEXT_CUES, text)
    return found[0] if found else ""


def kinds_in(text: str) -> list[str]:
    kinds = [
        kind
        for kind in _all(KIND_CUES, text)
        if kind not in _NEGATIVE or _refused_by_us(_NEGATIVE[kind], text)
    ]
    if "not_shared" in kinds and "share" in kinds and not _positive_share(text):
        kinds.remove("share")
    if "not_collected" in kinds and "collect" in kinds and not _positive_collect(text):
        kinds.remove("collect")
    if "share" in kinds and not recipients_in(text):
        kinds.remove("share")
    return kinds


_NEGATIVE = {value: pattern for pattern, value in KIND_CUES if value.startswith("not_")}
_CLAUSE_BREAK = re.compile(r"[,;:(]|\b(?:and|but|if|when|unless|that|so)\b", re.I)
_PERSON = re.compile(
    r"\b(?:you|users?|visitors?|members?|customers?|they|third part(?:y|ies)|partners|"
    r"providers|vendors|entities|recipients)\b",
    re.I,
)
_ORGANISATION = re.compile(r"\b(?:we|us|our)\b", re.I)


def _refused_by_us(pattern: re.Pattern[str], text: str) -> bool:
    """Whether a negation is the organisation's refusal: in "if you do not provide your
    email", "they will not be permitted to distribute it" or "you may choose whether or not to disclose" the person declines, and in "we may
    not be able to provide the service" nothing is refused: no promise about sharing either way."""
    for match in pattern.finditer(text):
        clause = _CLAUSE_BREAK.split(text[: match.start()])[-1]
        if text[max(0, match.start() - 8) : match.start()].lower().endswith("whether "):
            continue
        if _PERSON.search(clause) and not _ORGANISATION.search(clause):
            continue
        if re.search(r"\bable to\b", match.group(0), re.I):
            continue
        return True
    return False


def _positive_share(text: str) -> bool:
    """A sentence that says "we do not sell..., except that we share with..." states both."""
    return bool(re.search(rf"\b(?:except|but|however|unless)\b.*\b{_SHARE}", text, re.I))


def _positive_collect(text: str) -> bool:
    return bool(re.search(rf"\b(?:except|but|however|unless)\b.*\b{_COLLECT}", text, re.I))


def practices_of(sentence: Sentence) -> list[Practice]:
    """The practices of each clause of ``sentence`` (clauses split at semicolons, each citing
    the whole sentence): in "we collect your address; we do not store card numbers" the
    refusal is about the card only, and the address is still collected."""
    return [p for clause in _CLAUSES.split(sentence.plain) for p in _practices_of(clause, sentence)]


_CLAUSES = re.compile(r"\s*;\s*")


def _practices_of(text: str, sentence: Sentence) -> list[Practice]:
    kinds = kinds_in(text)
    if not kinds:
        return []
    categories = tuple(categories_in(text))
    purposes = tuple(purposes_in(text))
    recipients = recipients_in(text)
    condition, detail = condition_in(text)
    context = context_of(text)
    found = []
    for kind in kinds:
        if kind not in ("share", "not_shared"):
            found.append(
                Practice(kind, categories, purposes, None, condition, detail, context, sentence)
            )
            continue
        recipient = recipients[0] if recipients else "any_third_party"
        for party, own_categories, own_purposes in _parties(text, recipient):
            found.append(
                Practice(
                    kind,
                    own_categories or categories,
                    own_purposes or purposes,
                    recipient,
                    condition,
                    detail,
                    context,
                    sentence,
                    party,
                )
            )
    return found


_PARTY = re.compile(_NAMED_PROCESSOR, re.I)


def _parties(text: str, recipient: str) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Each processor a clause names by what it does, with the categories named up to it and
    the purposes named after it: in "we share your address with our delivery company to
    deliver your order, and your email address with our email service provider to send
    receipts" the courier gets the address, the mail service the email. One unnamed party
    (empty tuples: the clause's own) when the recipient is no processor or none is named."""
    mentions: list[re.Match[str]] = []
    for match in _PARTY.finditer(text) if recipient == "processor" else ():
        if all(match.group(0).lower() != m.group(0).lower() for m in mentions):
            mentions.append(match)
    if len(mentions) < 2:
        return [(mentions[0].group(0).lower() if mentions else "", (), ())]
    found = []
    for i, match in enumerate(mentions):
        before = text[mentions[i - 1].end() if i else 0 : match.end()]
        after = text[match.start() : mentions[i + 1].start() if i + 1 < len(mentions) else None]
        found.append(
            (match.group(0).lower(), tuple(categories_in(before)), tuple(purposes_in(after)))
        )
    return found


def practices(document: Document) -> list[Practice]:
    """Every practice the document states, in text order."""
    return [p for sentence in document.sentences for p in practices_of(sentence)]
