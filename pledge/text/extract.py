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
from dataclasses import dataclass, replace
from typing import Any

from pledge.text.segment import Document, Sentence, is_list_item

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
        r"\bcredit card|\bcard (?:number|details|data)|\bpayment (?:card|information|details)|\bcredit/?debit|\bsensitive/credit",
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
        r"\bprocess (?:your )?(?:transactions?|payments?|orders?)|\btak(?:e|es|ing) (?:your )?payments?\b|\bpayment processing|\bbilling\b|\bcredit card (?:transactions?|processing)|\bgateway provider",
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
        r"\blaw enforcement|\bpolice\b|\bcourts?\b|\bsubpoena|\blegal process|\bgovernment|\bauthorities|\bregulator|\bcomply with (?:the |any |applicable )?law|\bjudicial|\bwarrant\b|\brequired by law|\binterception",
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
# The sharing verbs as verbs: "provider", "shareholder", "trademark" or "giveaway" share nothing.
_SHARE_FORMS = r"(?:sell(?:s|ing)?|sold|rent(?:s|ed|ing)?|trad(?:e|es|ed|ing)|shar(?:e|es|ed|ing)|disclos(?:e|es|ed|ing)|transfer(?:s|red|ring)?|releas(?:e|es|ed|ing)|provid(?:e|es|ed|ing)|giv(?:e|es|en|ing)|gave|leas(?:e|es|ed|ing)|ma(?:ke|kes|de|king)\s+available|pass(?:es|ed|ing)?\s+on|distribut(?:e|es|ed|ing))"
# Using a processor is sharing with it: "we use the services of third parties, such as ...".
_ENGAGE = r"\b(?:use|uses|using|engage|engages|employ|employs|rel(?:y|ies) on|work with)\s+(?:the\s+services\s+of\s+)?(?:(?:other|outside|external|trusted)\s+)?(?:third[- ]part(?:y|ies)|service providers?|vendors?|contractors?|processors?|suppliers?)\b"
_COLLECT = r"(?:collect|gather|obtain|request|ask|require|record|log|store|receive|track)"

KIND_CUES = _cues(
    (rf"{_NEGATION}(?:\w+\s+)?{_SHARE}\b", "not_shared"),
    (
        rf"{_NEGATION}(?:knowingly\s+|intentionally\s+|specifically\s+)?(?:collect|gather|obtain|record|store|track)\w*\b",
        "not_collected",
    ),
    (rf"\b{_SHARE_FORMS}\b|\bprocessed through\b|{_ENGAGE}", "share"),
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
    kinds = _stated_kinds(text)
    if "share" in kinds and not recipients_in(text):
        kinds.remove("share")
    return kinds


def _stated_kinds(text: str) -> list[str]:
    """The kinds a clause states, sharing even when it names no recipient ("we share your
    data with:" leads into a list that names them)."""
    kinds = [
        kind
        for kind in _all(KIND_CUES, text)
        if kind not in _NEGATIVE or _refused_by_us(_NEGATIVE[kind], text)
    ]
    if "not_shared" in kinds and "share" in kinds and not _positive_share(text):
        kinds.remove("share")
    if "not_collected" in kinds and "collect" in kinds and not _positive_collect(text):
        kinds.remove("collect")
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
    receipts = _receipts(text)
    kinds = kinds_in(_masked(text, receipts))
    if not kinds and not receipts:
        return []
    categories = tuple(categories_in(text))
    purposes = tuple(purposes_in(text))
    recipients = recipients_in(text)
    condition, detail = condition_in(text)
    context = context_of(text)
    received = {(r.recipient, r.party) for r in receipts}
    found = []
    for kind in kinds:
        if kind not in ("share", "not_shared"):
            found.append(
                Practice(kind, categories, purposes, None, condition, detail, context, sentence)
            )
            continue
        recipient = recipients[0] if recipients else "any_third_party"
        for party, own_categories, own_purposes in _parties(text, recipient):
            if (recipient, party) in received:
                continue
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
    for receipt in receipts:
        found.append(
            Practice(
                "not_shared" if receipt.denied else "share",
                receipt.categories,
                receipt.purposes or purposes,
                receipt.recipient,
                condition,
                detail,
                context,
                sentence,
                receipt.party,
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class _Receipt:
    """A party a clause names as getting data: "our card processor receives your card
    number", "your address is seen by our courier"."""

    recipient: str
    party: str
    denied: bool
    categories: tuple[str, ...]
    purposes: tuple[str, ...]
    verb: re.Match[str]


def _masked(text: str, receipts: list[_Receipt]) -> str:
    """``text`` without the verbs that only say a party gets data: "has access to your data"
    grants the person no right, and "advertisers never receive your email" is no collection."""
    for receipt in receipts:
        verb = receipt.verb
        if receipt.denied or re.search(r"access|given", verb.group(0), re.I):
            text = text[: verb.start()] + " " * len(verb.group(0)) + text[verb.end() :]
    return text


_RECEIVE = re.compile(
    r"\b(?:receives?|received|gets?|(?:is|are|be|been) given"
    r"|(?:has|have|had|gets?|gains?|given) access to|can(?:not|'t| not)? (?:see|view|access)"
    r"|sees?|process(?:es)?|handles?|stores?|hosts?)\b",
    re.I,
)
_RECEIVED_BY = re.compile(
    r"\b(?:is|are|be|been)\s+(?:\w+\s+)?(?:received|processed|handled|stored|hosted|seen|viewed"
    r"|accessed|visible|accessible|(?:made\s+)?available)\s+(?:by|to)\b",
    re.I,
)
_NOT_A_PARTY = re.compile(
    r"\b(?:we|you|i|they)(?:\s+(?:may|might|will|would|can|could|shall|should|also|only|then|"
    r"never|not|do|does|did|\w+ly))*\s*$",
    re.I,
)
"""The organisation or the person as the subject right before the verb: "we may receive",
"you will receive"; as against "the courier we use gets"."""
_RELATIVE = re.compile(r"^\s*(?:which|who)\b", re.I)
_ANYONE = re.compile(r"\b(?:anyone|anybody|someone|somebody|others|no one|nobody)\b", re.I)
"""Said of whoever might get the data ("if anyone gets your password", "make sure others
cannot see your screen"): a warning to the person, not a recipient."""
_DENIED = re.compile(r"\b(?:no|never|not|cannot|nor|none)\b|n't\b", re.I)
_DATA = re.compile(
    r"\b(?:information|data|details|records?|files?|profiles?|posts?|reviews?|content|it|them)\b",
    re.I,
)


def _receipts(text: str) -> list[_Receipt]:
    """The parties a clause says get data, as the subject of receiving ("our host has access
    to your files", "our email provider processes your address on our behalf") or after a
    passive ("is processed by our payment provider"). A clause whose subject is the
    organisation or the person ("we receive your name from partners", "you will receive a
    newsletter") names none; "advertisers never receive your email address" names a refusal."""
    found = []
    active = list(_RECEIVE.finditer(text))
    for i, match in enumerate(active):
        pieces = _CLAUSE_BREAK.split(text[: match.start()])
        subject = pieces[-1]
        if (not subject.strip() or _RELATIVE.match(subject)) and len(pieces) > 1:
            subject = pieces[-2] + subject
        end = active[i + 1].start() if i + 1 < len(active) else len(text)
        receipt = _receipt(subject, text[match.end() : end], match, subject)
        if receipt:
            found.append(receipt)
    for match in _RECEIVED_BY.finditer(text):
        party = _CLAUSE_BREAK.split(text[match.end() :])[0]
        receipt = _receipt(party, text[: match.start()], match, "")
        if receipt:
            found.append(receipt)
    return found


def _receipt(party: str, data: str, verb: re.Match[str], subject: str) -> _Receipt | None:
    recipients = recipients_in(_ANYONE.sub("", party))
    if not recipients or _NOT_A_PARTY.search(party):
        return None
    categories = categories_in(data)
    if not categories and not _DATA.search(data):
        return None
    named = _PARTY.search(party) if recipients[0] == "processor" else None
    return _Receipt(
        recipients[0],
        named.group(0).lower() if named else "",
        bool(_DENIED.search(subject + verb.group(0))),
        tuple(categories),
        tuple(purposes_in(data)),
        verb,
    )


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
    """Every practice the document states, in text order. The items of a list finish the
    sentence that leads into it: after "we share your data with:", the item "payment
    processors, to take payment" is a share with a processor, citing the item."""
    found: list[Practice] = []
    lead: Practice | None = None
    for segment in document.segments:
        listed = lead is not None and is_list_item(document, segment)
        for sentence in segment.sentences:
            own = practices_of(sentence)
            if listed and lead:
                own = _finished(lead, own) or own + _listed(lead, sentence)
            found += own
        if not listed:
            lead = _lead_in(segment.sentences[-1])
    return found


def _lead_in(sentence: Sentence) -> Practice | None:
    """The sharing a sentence ending in a colon states for the list after it, recipient left
    to each item unless it names one itself."""
    text = sentence.plain
    if not text.endswith(":"):
        return None
    kinds = _stated_kinds(text)
    kind = next((k for k in ("not_shared", "share") if k in kinds), None)
    if kind is None:
        return None
    recipients = recipients_in(text)
    condition, detail = condition_in(text)
    return Practice(
        kind,
        tuple(categories_in(text)),
        tuple(purposes_in(text)),
        recipients[0] if recipients else None,
        condition,
        detail,
        context_of(text),
        sentence,
    )


def _finished(lead: Practice, own: list[Practice]) -> list[Practice]:
    """A list item's own sharing ("our email service provider"), with the data and purposes
    of the lead-in where the item names none; empty when the item states no sharing."""
    if not any(p.kind in ("share", "not_shared") for p in own):
        return []
    return [
        replace(p, categories=p.categories or lead.categories, purposes=p.purposes or lead.purposes)
        if p.kind in ("share", "not_shared")
        else p
        for p in own
    ]


def _listed(lead: Practice, item: Sentence) -> list[Practice]:
    """The lead-in's sharing, finished by a list item: the recipient, data, purposes and
    condition the item names, else the lead-in's. An item that names no recipient under a
    lead-in that names none shares with no one: the draft gives nothing to an unnamed party."""
    text = item.plain
    recipients = recipients_in(text)
    recipient = recipients[0] if recipients else lead.recipient
    if recipient is None:
        return []
    condition, detail = condition_in(text)
    if condition == "none":
        condition, detail = lead.condition, lead.condition_detail
    party = _PARTY.search(text) if recipient == "processor" else None
    return [
        Practice(
            lead.kind,
            tuple(categories_in(text)) or lead.categories,
            tuple(purposes_in(text)) or lead.purposes,
            recipient,
            condition,
            detail,
            context_of(text) or lead.context,
            item,
            party.group(0).lower() if party else "",
        )
    ]
