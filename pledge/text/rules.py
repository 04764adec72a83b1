"""Cue phrases for the 12 categories of the OPP-115 corpus, written by hand.

Rules and lexicons from how privacy policies are phrased, so nothing here comes from OPP-115
(licensed for research and evaluation only, and used by ``bench/policy_text.py`` solely to
measure). The cue scores are features of the learned model (:mod:`pledge.text.model`), and
:func:`classify` is the rules alone, which the benchmark reports beside it. The cues and
thresholds were checked against ``corpus/handwritten.txt``, segments written for the project.
Each category has cue phrases, each with a weight: 3 for a phrase that alone says the
category ("do not track", "opt out"), 2 for a strong cue, 1 for a hint. A segment gets every category whose cues add up to at least
:data:`THRESHOLD` and reach half the best category's score; a segment with no cue at all is
"Introductory/Generic" if it is short and "Practice not covered" otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

FIRST_PARTY = "First Party Collection/Use"
THIRD_PARTY = "Third Party Sharing/Collection"
CHOICE = "User Choice/Control"
ACCESS = "User Access, Edit and Deletion"
RETENTION = "Data Retention"
SECURITY = "Data Security"
AUDIENCES = "International and Specific Audiences"
DO_NOT_TRACK = "Do Not Track"
POLICY_CHANGE = "Policy Change"
GENERIC = "Introductory/Generic"
NOT_COVERED = "Practice not covered"
CONTACT = "Privacy contact information"

LABELS = (
    FIRST_PARTY,
    THIRD_PARTY,
    ACCESS,
    RETENTION,
    SECURITY,
    AUDIENCES,
    DO_NOT_TRACK,
    POLICY_CHANGE,
    CHOICE,
    GENERIC,
    NOT_COVERED,
    CONTACT,
)

THRESHOLD = 2.0
RELATIVE = 0.5

_INFO = r"(?:personal |personally identifiable |your |the |this |such |any |of )*(?:information|data|pii)"

CUES: dict[str, tuple[tuple[str, float], ...]] = {
    FIRST_PARTY: (
        (
            "\\b(?:reads?|records?|logs?|stores?|keeps? a (?:history|record|log)) (?:of )?(?:your|the|each|every) (?:\\w+ ){0,2}(?:location|searches|visits?|address|activity|history|device)",
            2,
        ),
        (
            r"\bwe (?:may |also |will |automatically |only )*(?:collect|gather|obtain|record|log|receive|store)\b",
            3,
        ),
        (rf"\b(?:collect|gather|obtain)s? {_INFO}", 2),
        (
            r"\b(?:information|data) (?:that |which )?(?:we|you) (?:collect|provide|submit|give|enter)",
            2,
        ),
        (r"\bwe (?:may |also |will |only )*(?:use|process|analy[sz]e)\b", 2),
        (rf"\buse (?:of )?{_INFO} (?:to|for)\b", 2),
        (
            r"\b(?:your|the user'?s?) (?:name|e-?mail address|mailing address|postal address|phone number|telephone number|date of birth|birth date|zip code|gender|age|location)\b",
            2,
        ),
        (r"\bip address(?:es)?\b", 1),
        (
            r"\bbrowser type\b|\boperating system\b|\bdevice (?:identifier|id|type)\b|\breferring (?:url|page|site)",
            1,
        ),
        (r"\blog files?\b|\bserver logs?\b|\bclickstream\b", 1),
        (r"\bregist(?:er|ration)\b|\bsign[- ]up\b|\bcreate an account\b", 1),
        (
            r"\b(?:to|in order to) (?:provide|improve|personali[sz]e|process|fulfil+|deliver|respond|customi[sz]e|send you|contact you|administer|operate)\b",
            1,
        ),
        (r"\bpurchase|\border\b|\bpayment information\b|\bcredit card\b|\bbilling\b", 1),
        (r"\bgeolocation\b|\bprecise location\b|\blocation data\b", 1),
        (r"\bsurvey|\bcontest|\bsweepstakes|\bpromotion", 1),
        (r"\bautomatically\b", 1),
    ),
    THIRD_PARTY: (
        (
            "\\b(?:pass|hand|send|transfer|forward|disclose|give|provide|sell|rent|share)\\w* (?:\\w+ ){0,5}to (?:the |a |an |our |their |other |another )?(?:\\w+ )?(?:compan(?:y|ies)|firms?|couriers?|partners?|police|regulators?|owners?|suppliers?|providers?|businesses|organi[sz]ations)\\b",
            3,
        ),
        (
            "\\b(?:another|a separate|other|outside) (?:company|companies|firms?|businesses|organi[sz]ations)\\b|\\bnew owner\\b|\\b(?:bought|acquired|purchased) by\\b|\\bsuppliers?\\b",
            2,
        ),
        ("\\b(?:their|its) own (?:tags|cookies|pixels|trackers)\\b", 2),
        (r"\bthird[- ]part(?:y|ies)\b", 2),
        (
            r"\b(?:share|disclose|sell|rent|trade|lease|transfer|release|provide|give)s? (?:your |the |this |such |any |some |certain |aggregated? |non-personal )*(?:personal |personally identifiable )*(?:information|data|pii)\b",
            2,
        ),
        (r"\b(?:sell|rent|trade|share|disclose)\b", 1),
        (
            r"\bwith (?:our |its |their |trusted |selected |carefully selected )*(?:affiliates|partners|subsidiaries|service providers|vendors|contractors|advertisers|sponsors)\b",
            3,
        ),
        (r"\b(?:service providers?|vendors?|contractors?|agents?|processors?)\b", 1),
        (
            r"\b(?:affiliates?|subsidiar(?:y|ies)|parent company|business partners?|marketing partners?)\b",
            1,
        ),
        (
            r"\badvertis(?:ers?|ing (?:networks?|partners?|companies))\b|\bad networks?\b|\bad servers?\b",
            2,
        ),
        (
            r"\blaw enforcement\b|\bsubpoena|\bcourt order|\blegal process|\bgovernment (?:agencies|authorities|request)",
            2,
        ),
        (
            r"\bmerger|\bacquisition|\bbankruptcy|\bsale of (?:all|some|substantially)|\bsuccessor",
            2,
        ),
        (
            r"\bgoogle analytics\b|\bweb beacons?\b|\bpixel tags?\b|\bclear gifs?\b|\bsocial (?:media |network(?:ing)? )?(?:plug-?ins?|widgets|buttons|features)",
            2,
        ),
        (r"\bfacebook\b|\btwitter\b|\bgoogle\b|\bdoubleclick\b", 1),
        (r"\boutside (?:parties|companies|organi[sz]ations)\b|\bunaffiliated\b", 2),
    ),
    CHOICE: (
        (
            "\\byou (?:decide|choose|can decide|get to choose)\\b|\\bonly if you (?:want|wish|agree)\\b|\\b(?:tick|check|untick|uncheck) the box\\b|\\bif you (?:would )?(?:rather|prefer) not\\b",
            3,
        ),
        ("\\bwhether (?:or not )?(?:other|we|to)\\b", 1),
        (r"\bopt[- ]?(?:out|in)\b|\bopting[- ]?(?:out|in)\b", 3),
        (r"\bunsubscrib", 3),
        (
            r"\b(?:you|users?) (?:may|can|could|have the (?:right|option|ability) to|are able to) (?:also )?(?:choose|elect|decline|refuse|disable|reject|limit|set|adjust|control|withdraw)\b",
            3,
        ),
        (r"\bwithdraw (?:your )?consent\b|\brevoke (?:your )?consent\b", 3),
        (
            r"\b(?:browser|cookie|privacy|account|notification|communication|email) (?:settings|preferences|options)\b",
            2,
        ),
        (r"\bpreferences?\b|\bchoices?\b|\bchoose\b", 1),
        (r"\bconsent\b|\bpermission\b", 1),
        (
            r"\b(?:disable|block|reject|delete|refuse|turn off) (?:all |some |the )?cookies\b|\bcookies? (?:are |is )?(?:disabled|blocked|refused)",
            2,
        ),
        (r"\bif you (?:do not|don't) (?:wish|want) to\b|\bif you prefer\b|\bno longer wish\b", 2),
        (
            r"\bnetwork advertising initiative\b|\baboutads\b|\bdigital advertising alliance\b|\binterest-based ads?\b",
            2,
        ),
        (r"\bvoluntar(?:y|ily)\b|\boptional\b", 1),
    ),
    ACCESS: (
        (
            "\\bcorrect (?:it|them|any (?:errors|mistakes)|the (?:errors|mistakes))\\b|\\b(?:is|are) (?:wrong|incorrect|inaccurate|out of date)\\b|\\bclose (?:their|an|his|her) account\\b",
            3,
        ),
        (
            "\\b(?:view|see|download) (?:and (?:change|edit|correct) )?(?:the )?(?:details|data|information) (?:in|we hold)\\b|\\bview and (?:change|edit)\\b",
            3,
        ),
        (
            r"\b(?:access|review|update|correct|amend|edit|modify|change|delete|remove|erase)(?:,? (?:and|or|and/or))? (?:access |review |update |correct |amend |edit |modify |change |delete |remove |erase )*(?:your |the |any |such )*(?:personal |personally identifiable |account |profile )*(?:information|data|details|account|profile|records?)\b",
            3,
        ),
        (r"\bright (?:of|to) (?:access|rectif|eras|delet|correct|portab)", 3),
        (
            r"\b(?:deletion|rectification|erasure) of\b|\bclose (?:your|the) account\b|\bdeactivat|\bcancel (?:your|the) account",
            3,
        ),
        (
            r"\binaccura(?:te|cies)\b|\bout of date\b|\bkeep (?:it|your information) (?:accurate|up to date|current)\b",
            2,
        ),
        (r"\b(?:account|profile) (?:settings|page|information)\b|\bmy account\b", 1),
        (r"\bcopy of (?:your|the) (?:personal )?(?:information|data)\b|\bportab", 2),
    ),
    RETENTION: (
        (
            "\\b(?:erased|deleted|removed|destroyed|purged|overwritten|discarded|anonymi[sz]ed) (?:after|within|once|when|at the end)\\b",
            3,
        ),
        (
            "\\b(?:one|two|three|four|five|six|seven|ten|twelve|thirty|sixty|ninety|\\d+) (?:days|weeks|months|years)\\b",
            1,
        ),
        (
            "\\b(?:keep|retain|hold|store)s? (?:\\w+ ){0,3}for (?:up to |at least |about )?(?:one|two|three|four|five|six|seven|ten|twelve|thirty|sixty|ninety|\\d+|a|an) (?:days?|weeks?|months?|years?)\\b|\\bstays? with us\\b",
            3,
        ),
        (r"\bretain|\bretention\b", 3),
        (
            r"\b(?:keep|store|hold|maintain)s? (?:your |the |this |such |any |some )?(?:personal |personally identifiable )?(?:information|data|records?|logs?)\b",
            2,
        ),
        (r"\bas long as (?:is |it is )?(?:necessary|needed|required|reasonably|your account)", 3),
        (
            r"\bfor (?:a period of |up to |at least |approximately )?\d+ (?:days|weeks|months|years)\b",
            2,
        ),
        (
            r"\bno longer (?:needed|necessary|required)\b|\b(?:deleted|destroyed|purged|anonymi[sz]ed) (?:after|within|once|when)\b",
            2,
        ),
        (r"\bperiod of time\b|\bindefinitely\b|\bbackup (?:copies|copy|systems?)\b|\barchiv", 1),
    ),
    SECURITY: (
        (
            "\\bloss,? (?:or )?misuse\\b|\\bmisuse\\b|\\balteration\\b|\\bunauthori[sz]ed (?:changes|alteration|disclosure|access|use)\\b",
            2,
        ),
        (
            "\\bneed (?:it|them|the (?:data|information)) (?:for|to do) their (?:work|jobs?)\\b|\\bevery access is logged\\b|\\bintrusion detection\\b|\\baudits?\\b|\\bguard\\b",
            2,
        ),
        (r"\bsecur(?:e|ity|ed|ing)\b", 2),
        (r"\bencrypt|\bssl\b|\btls\b|\bsecure socket|\bhttps\b", 3),
        (
            r"\bsafeguard|\bfirewall|\bunauthori[sz]ed (?:access|use|disclosure)|\bprotect (?:the |your )?(?:security|confidentiality|personal|information|data|privacy)\b",
            2,
        ),
        (
            r"\b(?:physical|technical|administrative|electronic|managerial|organi[sz]ational) (?:safeguards|measures|procedures|security)\b",
            3,
        ),
        (r"\bpasswords?\b|\bconfidential", 1),
        (
            r"\bno (?:method|data transmission|transmission|system)\b.{0,80}\b(?:100%|completely|perfectly|guarantee)",
            3,
        ),
        (
            r"\baccess (?:is |are )?(?:limited|restricted)\b|\bneed to know\b|\bauthori[sz]ed (?:personnel|employees)",
            2,
        ),
    ),
    AUDIENCES: (
        ("\\byounger than (?:13|thirteen|16|sixteen|18|eighteen)\\b|\\bcross(?:es)? borders\\b", 3),
        (r"\bchild(?:ren|'s)?\b|\bkids\b|\bminors?\b|\bteens?\b", 3),
        (r"\bunder (?:the age of )?(?:13|thirteen|16|sixteen|18|eighteen)\b|\bcoppa\b", 3),
        (r"\bparents?\b|\bguardians?\b", 1),
        (r"\bcalifornia\b|\bshine the light\b|\bnevada\b|\bvermont\b", 3),
        (
            r"\beuropean (?:union|economic area)\b|\b(?:eu|eea|gdpr)\b|\bswitzerland\b|\bcanad(?:a|ian)\b|\baustralia",
            2,
        ),
        (
            r"\binternational\b|\boutside (?:of )?(?:the |your )?(?:united states|country|european)\b|\bother countries\b|\bcross-border\b",
            2,
        ),
        (
            r"\b(?:transferred|transfer|processed|stored) (?:to|in) (?:the )?(?:united states|u\.s\.|us)\b|\bsafe harbor\b|\bprivacy shield\b",
            3,
        ),
        (
            r"\bresidents? of\b|\bcitizens? of\b|\bif you (?:are|reside) (?:located )?(?:in|outside)\b",
            2,
        ),
    ),
    DO_NOT_TRACK: (
        (r"\bdo[- ]not[- ]track\b|\bdnt\b", 4),
        (r"\btracking (?:signals?|mechanisms?)\b|\bbrowser signals?\b", 2),
    ),
    POLICY_CHANGE: (
        (
            "\\bnew version\\b|\\bcontinu\\w* to use (?:the|our|this) (?:site|service|website)s? after\\b|\\b(?:when|whether) (?:it|this (?:notice|policy)) (?:last )?changed\\b|\\banything has changed\\b",
            2,
        ),
        (
            r"\b(?:change|update|modify|revise|amend|alter)s? (?:to )?(?:this|our|the) (?:online )?(?:privacy )?(?:policy|statement|notice)\b",
            3,
        ),
        (
            r"\b(?:this|our|the) (?:privacy )?(?:policy|statement|notice) (?:may|will|might|can) (?:be )?(?:change|update|modif|revis|amend)",
            3,
        ),
        (
            r"\b(?:changes|updates|modifications|revisions|amendments) (?:to|in) (?:this|our|the)\b",
            2,
        ),
        (
            r"\bmaterial(?:ly)? chang|\beffective date\b|\blast (?:updated|modified|revised|edited)\b",
            2,
        ),
        (r"\bfrom time to time\b|\bperiodically\b|\bcontinued use\b", 1),
        (r"\bpost(?:ed|ing)? (?:the |any )?(?:changes|updated|revised|new)\b|\bnotify you\b", 1),
    ),
    GENERIC: (
        (
            '\\b(?:sections|parts|paragraphs) below\\b|\\bthis (?:page|document|notice|statement) (?:explains|describes|sets out|covers)\\b|\\bin this (?:notice|policy|statement),? [\\"“]?we[\\"”]? means\\b',
            3,
        ),
        ("\\bmatters to us\\b|\\bwe care about\\b", 2),
        (
            r"\b(?:this|our) (?:online )?(?:privacy )?(?:policy|statement|notice) (?:describes|explains|applies|governs|sets|covers|outlines|discloses|informs|is (?:intended|designed))",
            3,
        ),
        (
            r"\b(?:committed to|respects?|value) (?:protecting |safeguarding )?(?:your|the|our users'?) privacy\b|\bprivacy is important\b|\btake your privacy seriously\b",
            3,
        ),
        (
            r"\bby (?:using|visiting|accessing|browsing) (?:this|our|the)\b|\byou (?:agree|consent) to (?:the terms|this)\b",
            2,
        ),
        (r"\bprivacy (?:policy|statement|notice)\b", 1),
        (
            r"\bterms of (?:use|service)\b|\bwelcome\b|\bplease read\b|\bdefin(?:itions?|ed)\b|\bas used in this\b",
            1,
        ),
        (r"\b(?:table of )?contents\b|\bintroduction\b|\boverview\b", 1),
    ),
    NOT_COVERED: (
        ("\\blaws? of (?:the )?[A-Z]|\\bdisputes?\\b|\\bcourts\\b(?! order)", 2),
        (r"\bnot responsible for (?:the )?(?:privacy )?(?:practices|content|policies)\b", 3),
        (
            r"\blinks? to (?:other|third[- ]party|external) (?:web)?sites?\b|\bother (?:web)?sites\b",
            2,
        ),
        (
            r"\bgoverning law\b|\bjurisdiction\b|\barbitration\b|\bdisclaim|\bwarrant(?:y|ies)\b|\bliabilit",
            2,
        ),
        (r"\bintellectual property\b|\bcopyright\b|\btrademarks?\b|\bindemnif", 2),
        (r"\bspam\b|\bphishing\b|\bfraud", 1),
    ),
    CONTACT: (
        (r"\bcontact (?:us|our|the)\b|\bget in touch\b|\breach us\b|\bwrite to us\b", 3),
        (r"[\w.+-]+@[\w-]+\.[\w.]+", 3),
        (
            r"\bif you have (?:any )?(?:questions|concerns|comments|complaints)\b|\bquestions (?:about|regarding|concerning)\b",
            2,
        ),
        (r"\b(?:privacy officer|data protection officer|privacy team|privacy department)\b", 2),
        (
            r"\b(?:attn|attention)\b|\bp\.? ?o\.? box\b|\bsuite \d|\b\d{5}(?:-\d{4})?\b|\btel(?:ephone)?[:.]|\bphone[:.]|\bcall us\b|\b\(\d{3}\) ?\d{3}-\d{4}\b",
            2,
        ),
        (r"\bmailing address\b|\baddress(?:ed)? (?:is|to|below)\b", 1),
    ),
}


HEADINGS: dict[str, str] = {
    FIRST_PARTY: r"(?:the )?(?:information|data|personal information) (?:that )?we (?:collect|gather)|(?:collection|use) of (?:your )?(?:personal )?(?:information|data)|how (?:do )?we use|what (?:information|data) (?:do )?we collect|information (?:collection|we collect)|registration\b|orders?\b|log files|surveys?\b",
    THIRD_PARTY: r"(?:information |data )?(?:sharing|disclosure)|third[- ]part|(?:do we|how (?:do )?we) (?:share|disclose)|service providers|business transfers|legal (?:requirements|disclosures)|advertis",
    CHOICE: r"(?:your )?choices?\b|opt[- ]?(?:out|in)\b|unsubscrib|managing (?:your )?preferences|your preferences",
    ACCESS: r"(?:accessing|updating|correcting|reviewing|deleting|access to|access and|updating and)\b|your rights|how (?:to|can you|you can) (?:access|update|correct|delete|change)",
    RETENTION: r"(?:data |information )?retention|how long",
    SECURITY: r"(?:data |information )?security|how (?:do )?we protect|protect(?:ion|ing)? (?:of )?(?:your )?(?:personal )?(?:information|data)",
    AUDIENCES: r"children|child's|(?:your )?california|international|(?:eu|european|non-u\.?s\.?)\b|coppa|notice to (?:california|eu|european|non)",
    DO_NOT_TRACK: r"do[- ]not[- ]track",
    POLICY_CHANGE: r"(?:changes|updates|amendments|modifications) (?:to|in|of) (?:this|our|the)|(?:privacy )?(?:policy|statement|notice) (?:changes|updates)|effective date|last (?:updated|modified|revised)",
    GENERIC: r"privacy (?:policy|statement|notice)\b|introduction|overview|scope\b|our commitment|welcome",
    NOT_COVERED: r"links? to (?:other|third)|external links|governing law|terms of (?:use|service)|disclaimer",
    CONTACT: r"contact(?:ing)? us|contact information|questions\b|how to (?:contact|reach)|privacy contact",
}
"""Section titles: a segment that opens with one is about it (OPP-115's segments keep them)."""
HEADING_WEIGHT = 3.0


@dataclass(frozen=True, slots=True)
class Scored:
    label: str
    score: float


@cache
def _compiled() -> tuple[tuple[str, tuple[tuple[re.Pattern[str], float], ...]], ...]:
    return tuple(
        (
            label,
            (
                (re.compile(rf"\W*(?:{HEADINGS[label]})", re.I), HEADING_WEIGHT),
                *((re.compile(pattern, re.I), weight) for pattern, weight in cues),
            ),
        )
        for label, cues in CUES.items()
    )


def scores(text: str) -> list[Scored]:
    """Every category's cue score for ``text``, best first: the heading cue must open the
    text, the others may be anywhere."""
    found = []
    for label, ((heading, heading_weight), *cues) in _compiled():
        score = heading_weight if heading.match(text) else 0.0
        score += sum(weight for pattern, weight in cues if pattern.search(text))
        found.append(Scored(label, score))
    return sorted(found, key=lambda s: -s.score)


def classify(text: str) -> list[str]:
    """The OPP-115 categories ``text`` (a segment) belongs to by the cues alone, most likely
    first."""
    ranked = scores(text)
    best = ranked[0].score
    if best < THRESHOLD:
        if best > 0:
            return [ranked[0].label]
        return [GENERIC if len(text.split()) <= 40 else NOT_COVERED]
    return [s.label for s in ranked if s.score >= THRESHOLD and s.score >= RELATIVE * best]
