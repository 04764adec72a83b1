"""Finding personal data in free text (error reports, installation notices) and replacing it.

Structured values are found by a pattern and then proved by their own rules, so that a build
number, a UUID or a transaction id is not mistaken for one: card numbers pass Luhn and start
like a card, IBANs and national identifiers pass their check digits (python-stdnum), phone
numbers are possible numbers for their country (phonenumbers), IP addresses parse. Names are
found with a gazetteer (U.S. Census given names and surnames, shipped in ``data/``) and the
words people put before a name ("Hi, I'm", "Regards,", "Mr"); street addresses by their
street word ("Road", "rue", "Straße", "Via"...) next to a house number, with the postcode and
town that follow. Each finding is replaced by its kind in brackets: ``[EMAIL]``, ``[NAME]``.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import phonenumbers
from stdnum import iban, luhn
from stdnum.it import codicefiscale
from stdnum.us import ssn

KINDS = (
    "credentials",
    "secret",
    "email",
    "iban",
    "card",
    "national_id",
    "ip",
    "phone",
    "address",
    "name",
)
_DATA = Path(__file__).parent / "data"


@dataclass(frozen=True, order=True)
class Finding:
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Redacted:
    text: str
    found: Counter[str]


# --- structured values ------------------------------------------------------------------------

_CREDENTIALS = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://([^\s/@:]+:[^\s/@]*)@")
_SECRET_PARAM = re.compile(
    r"[?&;](?:access_token|token|api_?key|key|password|passwd|pwd|secret|signature|sig|auth)"
    r"=([^&\s#\"'<>]+)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,9}\b")
_CARD = re.compile(r"(?<![\w.\-])\d(?:[ \-]?\d){11,18}(?![\w\-]|\.\d)")
_SSN = re.compile(r"(?<![\w\-])\d{3}-\d{2}-\d{4}(?![\w\-])")
_CODICE = re.compile(r"\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:]{2,37}(?![\w:])")
_VERSION_BEFORE = re.compile(r"\b(?:v|version|build|release|ver\.?)\s*$", re.IGNORECASE)
_EXTENSION = re.compile(r"\s?(?:x|ext\.?)\s?\d{1,5}$")
_SSN_SHAPE = re.compile(r"\d{3}-\d{2}-\d{4}$")
_PHONE = re.compile(
    r"(?<![\w+\-./:])(?:\+|00)?\(?\d{1,4}\)?(?:[ .\-]?\(?\d{1,5}\)?){1,6}"
    r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w\-/:]|\.\d)"
)
_DATE_LIKE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")
_PHONE_REGIONS = ("US", "GB", "DE", "FR", "IT", "ES", "NL", "IE")
# Issuer prefixes and the lengths each issues (Visa, Mastercard, Amex, Diners, JCB, Discover
# and UnionPay, Maestro): a Luhn-valid 18-digit id starting with 4 is no Visa card.
_CARD_RANGES = tuple(
    (re.compile(prefix), lengths)
    for prefix, lengths in (
        (r"4", (13, 16, 19)),
        (r"5[1-5]|2(?:2[2-9]|[3-6]|7[01]|720)", (16,)),
        (r"3[47]", (15,)),
        (r"3(?:0[0-5]|[689])", (14, 16)),
        (r"35", (16, 17, 18, 19)),
        (r"2131|1800", (15,)),
        (r"6(?:011|5|4[4-9]|2)", (16, 17, 18, 19)),
        (r"5[06-8]|6", tuple(range(12, 20))),
    )
)


def _compact(text: str) -> str:
    return text.replace(" ", "").replace("-", "")


def _credentials(text: str) -> Iterator[Finding]:
    for m in _CREDENTIALS.finditer(text):
        yield Finding(m.start(1), m.end(1), "credentials")
    for m in _SECRET_PARAM.finditer(text):
        yield Finding(m.start(1), m.end(1), "secret")


def _emails(text: str) -> Iterator[Finding]:
    if "@" in text:
        for m in _EMAIL.finditer(text):
            yield Finding(m.start(), m.end(), "email")


def _ibans(text: str) -> Iterator[Finding]:
    for m in _IBAN.finditer(text):
        candidate = m.group()
        # a greedy match may have taken the next word: give groups back until it checks out
        while len(_compact(candidate)) >= 15:
            if iban.is_valid(candidate):
                yield Finding(m.start(), m.start() + len(candidate), "iban")
                break
            cut = candidate.rfind(" ")
            if cut < 0:
                break
            candidate = candidate[:cut]


def _cards(text: str) -> Iterator[Finding]:
    for m in _CARD.finditer(text):
        digits = _compact(m.group())
        issued = any(p.match(digits) and len(digits) in n for p, n in _CARD_RANGES)
        if issued and luhn.is_valid(digits):
            yield Finding(m.start(), m.end(), "card")


def _national_ids(text: str) -> Iterator[Finding]:
    for pattern, module in ((_SSN, ssn), (_CODICE, codicefiscale)):
        for m in pattern.finditer(text):
            if module.is_valid(m.group()):
                yield Finding(m.start(), m.end(), "national_id")


def _ips(text: str) -> Iterator[Finding]:
    for m in _IPV4.finditer(text):
        if _VERSION_BEFORE.search(text, max(0, m.start() - 12), m.start()):
            continue
        if all(int(part) <= 255 for part in m.group().split(".")):
            yield Finding(m.start(), m.end(), "ip")
    if ":" in text:
        for m in _IPV6.finditer(text):
            try:
                ipaddress.IPv6Address(m.group())
            except ValueError:
                continue
            yield Finding(m.start(), m.end(), "ip")


def _is_phone(candidate: str) -> bool:
    number_part = _EXTENSION.sub("", candidate)
    digits = sum(c.isdigit() for c in number_part)
    if digits < 7 or digits > 15 or _DATE_LIKE.match(candidate) or _SSN_SHAPE.match(candidate):
        return False
    if "." in number_part and any(len(g) < 2 for g in number_part.split(".")):
        return False  # 10.4.2.1234 is a version, not a number
    international = candidate.startswith(("+", "00"))
    if not international and digits > 11:
        return False
    for region in (None,) if international else _PHONE_REGIONS:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return True
    return False


def _phones(text: str) -> Iterator[Finding]:
    for m in _PHONE.finditer(text):
        candidate = m.group().strip()
        if _VERSION_BEFORE.search(text, max(0, m.start() - 12), m.start()):
            continue
        if _is_phone(candidate):
            start = m.start() + m.group().index(candidate)
            yield Finding(start, start + len(candidate), "phone")


# --- street addresses -------------------------------------------------------------------------

_CAP = r"[A-ZÀ-ÖØ-Þ][\w'’.\-]*"
_WORD = r"[\w'’.\-]+"
_STREET_AFTER = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|"
    "Square|Sq|Terrace|Ter|Close|Crescent|Cres|Parkway|Pkwy|Highway|Hwy|Row|Gardens|Mews|Walk|"
    "Green|Circle|Cir|Trail|Trl|Alley|Bend|Bluff|Bluffs|Branch|Bridge|Brook|Brooks|Burg|Burgs|"
    "Bypass|Camp|Canyon|Cape|Causeway|Center|Centers|Circles|Cliff|Cliffs|Club|Common|Commons|"
    "Corner|Corners|Course|Courts|Cove|Coves|Creek|Crest|Crossing|Crossroad|Curve|Dale|Dam|"
    "Divide|Drives|Estate|Estates|Expressway|Extension|Extensions|Falls|Ferry|Field|Fields|"
    "Flat|Flats|Ford|Fords|Forest|Forge|Forges|Fork|Forks|Fort|Freeway|Garden|Gateway|Glen|"
    "Glens|Greens|Grove|Groves|Harbor|Harbors|Haven|Heights|Hill|Hills|Hollow|Inlet|Island|"
    "Islands|Isle|Junction|Junctions|Key|Keys|Knoll|Knolls|Lake|Lakes|Landing|Light|Lights|"
    "Loaf|Lock|Locks|Lodge|Loop|Mall|Manor|Manors|Meadow|Meadows|Mill|Mills|Mission|Motorway|"
    "Mount|Mountain|Mountains|Neck|Orchard|Oval|Overpass|Park|Parks|Parkways|Pass|Passage|"
    "Path|Pike|Pine|Pines|Plain|Plains|Plaza|Point|Points|Port|Ports|Prairie|Radial|Ramp|"
    "Ranch|Rapid|Rapids|Rest|Ridge|Ridges|River|Roads|Route|Shoal|Shoals|Shore|Shores|Skyway|"
    "Spring|Springs|Spur|Spurs|Squares|Station|Stravenue|Stream|Streets|Summit|Throughway|"
    "Trace|Track|Trafficway|Tunnel|Turnpike|Underpass|Union|Unions|Valley|Valleys|Via|Viaduct|"
    "View|Views|Village|Villages|Ville|Vista|Walks|Wall|Ways|Well|Wells"
)
_STREET_BEFORE = (
    "rue|avenue|boulevard|bd|allée|chemin|place|impasse|quai|route|cours|passage|square|"
    "via|viale|piazza|piazzale|corso|largo|vicolo|contrada|borgo|rotonda|strada|stretto|"
    "incrocio|canale|calle|avenida|paseo|plaza|camino|carrera|callejón|cuesta|urbanización|"
    "ronda|travesía|glorieta|vía|pasaje|alameda|carretera|acceso|sector|rambla|vial|"
    "pasadizo|c\\.|cl\\.|avda\\.|pza\\.|ctra\\.|urb\\.|camí|carrer"
)
_STREET_SUFFIX = (
    "straße|strasse|str\\.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|steig|pfad|"
    "straat|laan|plein|gracht|kade|hof|boulevard|singel|dijk|markt|pad|dreef|park|baan|"
    "steeg|wal|kanaal|haven|erf|veld|burg"
)
_UNIT = (
    r"(?:,?\s*(?:Apt\.?|Suite|Ste\.?|Unit|Flat|Piano|Etage|Puerta|Piso|Appartamento|Interno)"
    r"\s*\w+)?"
)
_TOWN = (
    r"(?:\s*,?\s*(?:\d{4,5}(?:\s?[A-Z]{2})?|[A-Z]\d{2}\s?[A-Z0-9]{4}|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})"
    r"\s+"
    + _CAP
    + r"(?:[ \-]"
    + _CAP
    + r"){0,3}(?:,?\s*[A-Z]{2}\s+\d{5})?|,\s*"
    + _CAP
    + r"(?:[ \-]"
    + _CAP
    + r"){0,2}(?:,\s*[A-Z]{2})?\s+\d{5}(?:-\d{4})?)?"
)
_ADDRESS = re.compile(
    r"(?:(?:Flat|Apt\.?|Unit)\s+\d+\w?,?\s+)?"
    r"(?:\b\d{1,5}[A-Za-z]?(?:-\d+)?,?\s+(?:" + _CAP + r"\s+){0,4}(?:" + _STREET_AFTER + r")\b\.?"
    r"|\b(?i:" + _STREET_BEFORE + r")\s+(?:" + _WORD + r",?\s+){0,4}?\d{1,5}[a-zA-Z]?\b"
    r"|\b"
    + _CAP
    + r"(?:-"
    + _CAP
    + r")*(?i:"
    + _STREET_SUFFIX
    + r")\s*\d{1,5}(?:[-/]\d+)?[a-zA-Z]?\b"
    r"|\b\d{1,5},\s+(?i:" + _STREET_BEFORE + r")\s+(?:" + _CAP + r"\s*){1,4})" + _UNIT + _TOWN,
)


def _addresses(text: str) -> Iterator[Finding]:
    for m in _ADDRESS.finditer(text):
        yield Finding(m.start(), m.start() + len(m.group().rstrip(" ,")), "address")


# --- names ------------------------------------------------------------------------------------


def _fold(word: str) -> str:
    """``MULLER`` for ``Müller``: the gazetteer is upper-case ASCII."""
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().upper()


@cache
def _gazetteer() -> tuple[frozenset[str], frozenset[str]]:
    def read(name: str) -> frozenset[str]:
        lines = (_DATA / name).read_text(encoding="utf-8").splitlines()
        return frozenset(_fold(x) for x in lines if x and not x.startswith("#"))

    return read("first_names.txt"), read("surnames.txt")


_NAME_WORD = r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’]+(?:-[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’]+)?"
_PARTICLE = r"(?:(?:van|von|de|der|den|da|del|della|di|du|le|la|dos|das|ter|ten|mac|al)\s+){0,2}"
_NAME = re.compile(_NAME_WORD + r"(?:\s+" + _PARTICLE + _NAME_WORD + r"){1,2}")
_CUE = re.compile(
    r"(?:\b(?:I'm|I am|my name is|name:|name is|Mr\.?|Mrs\.?|Ms\.?|Miss|Dr\.?|Prof\.?|Herr|Frau|"
    r"Mme|M\.|Sig\.?|Sra?\.?|Dhr\.?|Mevr\.?|regards,?|thanks,?|thank you,?|cheers,?|best,?|"
    r"sincerely,?|from|by|contact|customer|user|client|dear|hi|hello|attn:?|cc:?|this is|"
    r"caller|agent|with|"
    r"signed,?|reported by|submitted by|assigned to|for)\s*:?\s*$)",
    re.IGNORECASE,
)
_COMMON_CAPITALISED = """
    Error Exception Server Internal Service Gateway Payment Request Response Not Found The This
    That And Of On In At To For With From Is Are Was Please Thanks Hello Dear Hi Java Python
    Windows Linux Mac Chrome Firefox Safari Edge Android Update Version Build Release Install
    Installer Support Ticket Order Customer User Client Team Desk Account Street Road Avenue
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
    June July August September October November December Card Visa Mastercard Bank Transfer
    Invoice Refund Phone Email Address Name Code Timeout Null Pointer Database Connection Failed
    Failure Crash Report Log Stack Trace Debug Info Warning Fatal Critical Admin Administrator
    Manager Product Desktop Mobile Web Cloud Mail Call Ship Send Contact Regards
"""
_NOT_NAMES = frozenset(_fold(w) for w in _COMMON_CAPITALISED.split())


def _is_name(words: list[str], cued: bool) -> bool:
    first_names, surnames = _gazetteer()
    folded = [_fold(w) for w in words]
    if folded[0] in _NOT_NAMES or folded[-1] in _NOT_NAMES:
        return False
    known_first = folded[0] in first_names or folded[0].split("-")[0] in first_names
    known_last = folded[-1] in surnames or folded[-1].split("-")[0] in surnames
    return (
        cued
        or (known_first and (known_last or len(words) == 3))
        or (known_last and len(words[0]) > 2 and "-" not in words[0][1:] and len(words) == 2)
    )


def _names(text: str) -> Iterator[Finding]:
    at = 0
    while (m := _NAME.search(text, at)) is not None:
        cued = _CUE.search(text, max(0, m.start() - 24), m.start()) is not None
        if _is_name(m.group().split(), cued):
            yield Finding(m.start(), m.end(), "name")
            at = m.end()
        else:  # "Mail Martyn Barnes": try again from the next word
            at = m.start() + len(m.group().split(None, 1)[0])


# --- putting it together ----------------------------------------------------------------------

DETECTORS: tuple[Callable[[str], Iterator[Finding]], ...] = (
    _credentials,
    _emails,
    _ibans,
    _cards,
    _national_ids,
    _ips,
    _addresses,
    _phones,
    _names,
)


def find(text: str) -> list[Finding]:
    """Every finding, earliest first; where two overlap, the one found by the earlier
    (more certain) detector wins."""
    taken: list[Finding] = []
    for detector in DETECTORS:
        for found in detector(text):
            if not any(found.start < t.end and t.start < found.end for t in taken):
                taken.append(found)
    return sorted(taken)


def redact(text: str) -> Redacted:
    """``text`` with each finding replaced by its kind, e.g. ``[EMAIL]``, and the counts."""
    parts: list[str] = []
    at = 0
    found: Counter[str] = Counter()
    for f in find(text):
        parts.append(text[at : f.start])
        parts.append(f"[{f.kind.upper()}]")
        found[f.kind] += 1
        at = f.end
    parts.append(text[at:])
    return Redacted("".join(parts), found)
