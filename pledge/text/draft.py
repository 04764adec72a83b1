"""A draft policy file from a policy's text: every part cites the sentence it came from.

The draft is a starting point for a person, never a policy to deploy unread. Where the text is
vague it takes the reading that protects the person and says so in the part's ``source.note``:
marketing waits for an opt-in, partners and advertisers need the person's consent, legal
authorities a legal reference, figures go out in groups of ten or more, card data reaches no one
but the processor named for payments, a blanket "we do not share" beats a vague "we may share",
and a policy change keeps the old limits until the person agrees. What the text does not say is
left out (deny by default) and listed in :attr:`Draft.unmapped` or the lint report.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from pledge.policy import CompiledPolicy, load_policy_text
from pledge.policy.model import Policy
from pledge.policy.taxonomy import covers
from pledge.text.classify import classify
from pledge.text.extract import GENERAL, Practice, practices
from pledge.text.identity import effective_date, organisation_name, postal_address, privacy_contact
from pledge.text.segment import Document, Sentence

MARKETING = "marketing.communications.email"
NOTIFY = "essential.service.notifications.email"
LEGAL = "third_party_sharing.legal_obligation"
PAYMENT = "essential.service.payment_processing"
CARD = "user.financial.credit_card"
MIN_GROUP = 10
OPT_IN_NOTE = "The text does not ask for an opt-in; the draft does, to protect the person."
CONSENT_NOTE = "The text does not ask for permission; the draft does, to protect the person."
SENSITIVE = ("user.financial", "user.authorization", "user.content")
"""Never given to a recipient unless the sentence that shares names them."""

_NEED_TO_KNOW = re.compile(
    r"limited number of (?:persons|people|employees)|need to know|employees who need|"
    r"authori[sz]ed (?:personnel|employees|staff)|special access rights|only (?:employees|staff)",
    re.I,
)
_DURATION = re.compile(r"\b(\d+|thirty|sixty|ninety) (day|week|month|year)s?\b", re.I)
_WORD_NUMBERS = {"thirty": 30, "sixty": 60, "ninety": 90}
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_RIGHTS = (
    ("access", r"\baccess\b|\breview\b|\bview\b"),
    ("rectify", r"\bcorrect|\bupdate\b|\bamend|\bmodify|\bedit\b|\binaccura"),
    ("erase", r"\bdelet|\bremov|\berase"),
    ("deactivate", r"\bdeactivat|\bclose (?:your |the )?account|\bcancel (?:your |the )?account"),
    ("object", r"\bopt[- ]?out|\bunsubscrib"),
    ("export", r"\bexport|\bportab|\bcopy of"),
)
_PROTECTIVE_RIGHTS = ("access", "rectify", "erase", "object")
_RECIPIENT_NAMES = {
    "processor": ("service_providers", "processor"),
    "legal_authority": ("legal_authorities", "legal_authority"),
    "successor": ("successor", "successor"),
    "partner": ("partners", "partner"),
    "affiliate": ("affiliates", "partner"),
    "advertiser": ("advertisers", "advertiser"),
    "public": ("public", "public"),
    "other_users": ("community", "community"),
    "any_third_party": ("third_parties", "partner"),
}
_NEEDS_CONSENT = {"partner", "affiliate", "advertiser", "any_third_party", "public", "other_users"}


@dataclass(frozen=True, slots=True)
class Unmapped:
    """A sentence the draft could not turn into a rule, with what it most likely talks about."""

    sentence: Sentence
    guess: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.sentence.as_dict(), "best_guess": self.guess}


@dataclass
class Draft:
    compiled: CompiledPolicy
    text: str
    practices: list[Practice]
    unmapped: list[Unmapped] = field(default_factory=list)

    @property
    def policy(self) -> Policy:
        return self.compiled.policy


def cite(sentence: Sentence, note: str = "") -> dict[str, Any]:
    source: dict[str, Any] = sentence.as_dict()
    if note:
        source["note"] = note
    return source


def draft_policy(document: Document, *, file: str = "<draft>") -> Draft:
    """Draft a policy from ``document``; the result has passed every check the server runs."""
    found = [p for p in practices(document) if not p.sentence.plain.endswith("?")]
    data = _Builder(document, found).build()
    text = _render(data, file)
    compiled = load_policy_text(text, file=file)
    used = _cited_offsets(data)
    unmapped = [
        Unmapped(s, classify(s.plain)[0])
        for s in document.sentences
        if s.start not in used and len(s.plain.split()) > 3
    ]
    return Draft(compiled, text, found, unmapped)


def _cited_offsets(data: Any) -> set[int]:
    found: set[int] = set()
    if isinstance(data, dict):
        if {"start", "end", "text"} <= data.keys():
            found.add(data["start"])
        for value in data.values():
            found |= _cited_offsets(value)
    elif isinstance(data, list):
        for value in data:
            found |= _cited_offsets(value)
    return found


def _render(data: dict[str, Any], file: str) -> str:
    header = (
        f"# Draft policy read from {file} by `pledge policy import`.\n"
        "# Every part cites the sentence it came from (source: start, end, text). Where the text\n"
        "# is vague, the draft took the reading that protects the person and says so in\n"
        "# source.note. Review it against the text before you use it.\n"
    )
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return header + body


class _Dumper(yaml.SafeDumper):
    """Writes a value cited twice in full both times: a reviewer reads no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


class _Builder:
    def __init__(self, document: Document, found: list[Practice]) -> None:
        self.document = document
        self.found = found
        self.sentences = document.sentences

    def of(self, *kinds: str) -> list[Practice]:
        return [p for p in self.found if p.kind in kinds]

    def build(self) -> dict[str, Any]:
        organisation = self.organisation()
        version, effective = self.date()
        points = self.collection_points()
        collected = sorted({f["category"] for p in points.values() for f in p["fields"].values()})
        recipients = self.recipients(collected, points)
        purposes = self.purposes(points, recipients)
        data: dict[str, Any] = {
            "pledge": 1,
            "organisation": organisation,
            "version": version,
            "effective": effective,
        }
        categories = self.categories(collected)
        if categories:
            data["categories"] = categories
        data["purposes"] = purposes
        data["collection_points"] = points
        roles = self.roles(purposes, collected)
        if roles:
            data["roles"] = roles
        if recipients:
            data["recipients"] = recipients
        communications = self.communications(purposes, points)
        if communications:
            data["communications"] = communications
        passing = set(categories)
        retention, holds = self.retention(
            [c for c in collected if not any(covers(p, c) for p in passing)]
        )
        if retention:
            data["retention"] = retention
        if holds:
            data["legal_holds"] = holds
        data["rights"] = self.rights()
        cookies = self.cookies()
        if cookies:
            data["cookies"] = cookies
        data["changes"] = self.changes()
        return data

    # --- organisation and date ------------------------------------------------------------

    def organisation(self) -> dict[str, Any]:
        named = organisation_name(self.sentences)
        contacts = [p.sentence for p in self.of("contact")]
        contact = privacy_contact(contacts, self.sentences)
        org: dict[str, Any] = {
            "name": named[0] if named else "the organisation (name not found in the text)",
            "privacy_contact": contact or "not stated in the text: add where people send requests",
        }
        address = postal_address(self.document)
        if address:
            org["postal_address"] = address
        if named:
            note = "" if contact else "The text gives no contact address; add one."
            org["source"] = cite(named[1], note)
        return org

    def date(self) -> tuple[str, str]:
        day = effective_date(self.sentences)
        if day:
            return day.isoformat(), day.isoformat()
        today = dt.date.today().isoformat()
        return f"draft-{today}", today

    # --- collection -----------------------------------------------------------------------

    def collection_points(self) -> dict[str, Any]:
        points: dict[str, Any] = {}
        contexts: dict[str, list[Practice]] = {}
        for practice in self.of("collect"):
            contexts.setdefault(practice.context or "website", []).append(practice)
        for context, found in contexts.items():
            point = self._point(context, found)
            if point:
                points[context] = point
        self._spread_uses(points)
        paid = [p for p in self.of("collect", "not_collected", "use") if PAYMENT in p.purposes]
        if paid and not any(
            f["category"] == CARD for p in points.values() for f in p["fields"].values()
        ):
            order = points.setdefault(
                "order",
                {
                    "description": "Collected at: order",
                    "fields": {},
                    "purposes": [PAYMENT],
                    "source": cite(paid[0].sentence),
                },
            )
            order["fields"]["credit_card"] = {"category": CARD}
            if PAYMENT not in order["purposes"]:
                order["purposes"].append(PAYMENT)
        if not points:
            points["website"] = {
                "description": "The text names no data it collects",
                "fields": {"email": {"category": "user.contact.email"}},
                "purposes": ["essential.service"],
                "source": cite(self.sentences[0], "No collection is described; review this."),
            }
        age = self.min_age()
        for context, point in points.items():
            if age and context != "web_log":
                point["min_age"] = age[0]
                where = f"min_age {age[0]} from the sentence at {age[1].start}-{age[1].end}."
                note = point["source"].get("note", "")
                point["source"]["note"] = f"{note} {where}".strip()
        return points

    def _point(self, context: str, found: list[Practice]) -> dict[str, Any] | None:
        fields: dict[str, Any] = {}
        for practice in found:
            for category in practice.categories:
                if category not in (GENERAL, "user.device.cookie_id"):
                    fields.setdefault(category.rsplit(".", 1)[-1], {"category": category})
        note = ""
        if not fields:
            if context in ("website", "web_log", "cookies"):
                return None
            fields = {
                "name": {"category": "user.name"},
                "email": {"category": "user.contact.email"},
            }
            note = "The text does not list the fields; the draft assumes name and email."
        related = found + [p for p in self.of("use") if p.context == context]
        purposes = list(dict.fromkeys(k for p in related for k in p.purposes if k != LEGAL))
        if not purposes:
            purposes = ["analytics.reporting" if context == "web_log" else "essential.service"]
        return {
            "description": f"Collected at: {context.replace('_', ' ')}",
            "fields": fields,
            "purposes": purposes,
            "source": cite(found[0].sentence, note),
        }

    def _spread_uses(self, points: dict[str, Any]) -> None:
        """A use stated without a place of its own ("we may also use this information to...")
        applies to the point collected closest before it in the text, as "this" reads."""
        starts = sorted(
            (p["source"]["start"], name) for name, p in points.items() if name != "web_log"
        )
        for practice in self.of("use"):
            if practice.context in points or not practice.purposes or not starts:
                continue
            before = [name for start, name in starts if start <= practice.sentence.start]
            point = points[before[-1] if before else starts[0][1]]
            for purpose in practice.purposes:
                if purpose != LEGAL and purpose not in point["purposes"]:
                    point["purposes"].append(purpose)
        for point in points.values():
            choices = [p for p in point["purposes"] if p.startswith("marketing.")]
            if choices:
                point["choices"] = choices

    def min_age(self) -> tuple[int, Sentence] | None:
        for practice in self.of("children"):
            match = re.search(
                r"\bunder (?:the age of )?(13|16|18|thirteen)\b", practice.sentence.plain, re.I
            )
            if match:
                value = match.group(1)
                return (13 if value == "thirteen" else int(value)), practice.sentence
        return None

    def categories(self, collected: list[str]) -> dict[str, Any]:
        if CARD not in collected:
            return {}
        for practice in self.of("not_collected", "share"):
            text = practice.sentence.plain
            if re.search(r"\b(?:not|never) (?:be )?(?:stored?|kept|retained)\b", text, re.I) and (
                PAYMENT in practice.purposes or CARD in practice.categories
            ):
                return {CARD: {"storage": "pass_through", "source": cite(practice.sentence)}}
        return {}

    # --- purposes, roles, recipients, messages --------------------------------------------

    def purposes(self, points: dict[str, Any], recipients: dict[str, Any]) -> dict[str, Any]:
        keys = [k for p in points.values() for k in p["purposes"]]
        keys += [k for r in recipients.values() for k in r["purposes"]]
        result: dict[str, Any] = {}
        named_by = {
            k: part["source"]
            for part in [*recipients.values(), *points.values()]
            for k in part["purposes"]
        }
        for key in dict.fromkeys(keys):
            sentence = next((p.sentence for p in self.found if key in p.purposes), None)
            entry: dict[str, Any] = {"basis": "collection"}
            note = ""
            if key.startswith("marketing."):
                entry["basis"] = "opt_in"
                said = {p.condition for p in self.found if key in p.purposes}
                if "opt_in" not in said:
                    note = OPT_IN_NOTE
            elif key == LEGAL:
                entry["basis"] = "legal_obligation"
            if key in (MARKETING, NOTIFY):
                entry["channel"] = "email"
            if sentence:
                entry["source"] = cite(sentence, note)
            else:
                entry["source"] = {**named_by[key], "note": f"{note} Named by this rule.".strip()}
            result[key] = entry
        return result

    def roles(self, purposes: dict[str, Any], collected: list[str]) -> dict[str, Any]:
        need = next((s for s in self.sentences if _NEED_TO_KNOW.search(s.plain)), None)
        roles: dict[str, Any] = {}
        contact = [c for c in collected if c.startswith(("user.name", "user.contact"))]
        service = [k for k, p in purposes.items() if p["basis"] == "collection"]
        if need and service and contact:
            roles["staff"] = {
                "description": "Staff who need the data for the service",
                "purposes": service,
                "categories": contact,
                "source": cite(need, "Only name and contact details; add what each team needs."),
            }
        marketing = [k for k, p in purposes.items() if p["basis"] == "opt_in"]
        email = [c for c in collected if c in ("user.name", "user.contact.email")]
        if marketing and "user.contact.email" in email:
            sentence = next(p.sentence for p in self.found if marketing[0] in p.purposes)
            roles["marketing"] = {
                "description": "Sends the messages people opted in to",
                "purposes": marketing,
                "categories": email,
                "source": cite(sentence),
            }
        return roles

    def recipients(self, collected: list[str], points: dict[str, Any]) -> dict[str, Any]:
        refused = [p for p in self.of("not_shared")]
        result: dict[str, Any] = {}
        for practice in self.of("share", "aggregate"):
            aggregate = practice.kind == "aggregate" or practice.condition == "aggregate_only"
            if practice.kind == "aggregate" and not _shares(practice.sentence.plain):
                continue
            found = practice.recipient or "any_third_party"
            name, kind = _RECIPIENT_NAMES[found]
            if practice.party:
                name = re.sub(r"\W+", "_", practice.party).strip("_")
            if aggregate:
                name = f"{name}_aggregate"
            if name in result:
                continue
            blocked = next((r for r in refused if _blocks(r, found) and not aggregate), None)
            if blocked and found in _NEEDS_CONSENT:
                continue
            categories = self._shared_categories(practice, collected, found)
            if not categories:
                continue
            entry: dict[str, Any] = {"kind": kind}
            note = ""
            if found == "legal_authority":
                entry["purposes"] = [LEGAL]
                entry["condition"] = "legal_reference"
                note = "Each disclosure must name its legal ground."
            elif aggregate:
                entry["purposes"] = ["analytics.reporting"]
                entry["condition"] = "aggregate"
                entry["min_group_size"] = MIN_GROUP
                note = f"Figures only, about groups of at least {MIN_GROUP} people."
            elif found in ("processor", "successor"):
                essential = [k for k in practice.purposes if k.startswith("essential.")]
                entry["purposes"] = essential or ["essential.service"]
            else:
                entry["purposes"] = ["third_party_sharing"]
                entry["condition"] = "consent"
                if practice.condition not in ("consent", "opt_in"):
                    note = CONSENT_NOTE
            entry["categories"] = categories
            entry["source"] = cite(practice.sentence, note)
            if self._collect_for(entry, points):
                result[name] = entry
        return result

    def _shared_categories(self, practice: Practice, collected: list[str], found: str) -> list[str]:
        named = [c for c in practice.categories if c != GENERAL]
        if named:
            return [c for c in collected if any(covers(n, c) or covers(c, n) for n in named)]
        if found == "processor" and PAYMENT in practice.purposes:
            return [c for c in collected if c == CARD or c.startswith("user.name")]
        return [c for c in collected if not c.startswith(SENSITIVE)]

    def _collect_for(self, recipient: dict[str, Any], points: dict[str, Any]) -> bool:
        """A recipient's purpose must be one data is collected for. With the person's consent
        (or in aggregate only) the points that collect what it gets gain the purpose; a
        processor or successor keeps only purposes already collected for. False when none is
        left, and the recipient is dropped: nothing is disclosed that the text does not tie
        to a collection."""
        if recipient["purposes"] == [LEGAL]:
            return True
        if recipient.get("condition") in ("consent", "aggregate"):
            for point in points.values():
                categories = [f["category"] for f in point["fields"].values()]
                if any(
                    covers(g, c) or covers(c, g)
                    for g in recipient["categories"]
                    for c in categories
                ):
                    for purpose in recipient["purposes"]:
                        if not any(covers(p, purpose) for p in point["purposes"]):
                            point["purposes"].append(purpose)
            return True
        collected_for = [k for p in points.values() for k in p["purposes"]]
        kept = [
            k
            for k in recipient["purposes"]
            if any(covers(c, k) or covers(k, c) for c in collected_for)
        ]
        recipient["purposes"] = kept
        return bool(kept)

    def communications(self, purposes: dict[str, Any], points: dict[str, Any]) -> dict[str, Any]:
        """A message for each email purpose some point collects an email address for."""
        emailed = {
            k
            for p in points.values()
            if any(f["category"] == "user.contact.email" for f in p["fields"].values())
            for k in p["purposes"]
        }
        purposes = {k: v for k, v in purposes.items() if k in emailed}
        result: dict[str, Any] = {}
        if MARKETING in purposes:
            result["newsletter"] = {
                "class": "marketing",
                "purpose": MARKETING,
                "advertisement_notice": True,
                "source": purposes[MARKETING].get("source"),
            }
        if NOTIFY in purposes:
            result["notifications"] = {
                "class": "transactional",
                "purpose": NOTIFY,
                "source": purposes[NOTIFY].get("source"),
            }
        return {k: {f: v for f, v in m.items() if v is not None} for k, m in result.items()}

    # --- retention, rights, cookies, changes ----------------------------------------------

    def retention(self, stored: list[str]) -> tuple[list[Any], list[Any]]:
        rules: list[Any] = []
        holds: list[Any] = []
        for practice in self.of("retention"):
            match = _DURATION.search(practice.sentence.plain)
            if not match or not stored:
                continue
            amount = _WORD_NUMBERS.get(match.group(1).lower()) or int(match.group(1))
            days = amount * _UNIT_DAYS[match.group(2).lower()]
            named = [c for c in practice.categories if c != GENERAL]
            categories = [c for c in stored if not named or any(covers(n, c) for n in named)]
            if not categories:
                continue
            if re.search(r"\blaw|\blegal|\btax\b|\bcomply", practice.sentence.plain, re.I):
                holds.append(
                    {
                        "categories": categories,
                        "days": max(days, 1),
                        "reason": "The law, as the text says",
                        "source": cite(practice.sentence),
                    }
                )
            else:
                rules.append(
                    {"categories": categories, "days": days, "source": cite(practice.sentence)}
                )
        return rules, holds

    def rights(self) -> dict[str, Any]:
        sources: dict[str, Any] = {}
        for practice in self.of("access", "choice"):
            for right, pattern in _RIGHTS:
                if right not in sources and re.search(pattern, practice.sentence.plain, re.I):
                    if practice.kind == "choice" and right != "object":
                        continue
                    sources[right] = cite(practice.sentence)
        offered = list(sources) + [r for r in _PROTECTIVE_RIGHTS if r not in sources]
        days = 30
        for practice in self.of("access"):
            match = _DURATION.search(practice.sentence.plain)
            if match and match.group(2).lower() == "day":
                days = min(days, _WORD_NUMBERS.get(match.group(1).lower()) or int(match.group(1)))
        return {"offered": offered, "response_days": max(days, 1), "sources": sources}

    def cookies(self) -> list[Any]:
        about = self.of("cookies")
        if not about:
            return []
        cookies: list[Any] = [
            {
                "name": "session",
                "lifetime": "session",
                "category": "essential",
                "description": "Keeps a visit working",
                "source": cite(about[0].sentence),
            }
        ]
        kept = [p for p in about if not re.search(r"\bnot\b|\bnever\b", p.sentence.plain, re.I)]
        for category, pattern, provider in (
            ("analytics", r"analy|statistic|measure|traffic|usage|track", "first_party"),
            ("advertising", r"advertis|\bads\b|market", "third_party"),
        ):
            hit = next((p for p in kept if re.search(pattern, p.sentence.plain, re.I)), None)
            if hit:
                cookies.append(
                    {
                        "name": category,
                        "lifetime": "persistent",
                        "category": category,
                        "provider": provider,
                        "source": cite(hit.sentence, "Set only when the visitor allows it."),
                    }
                )
        return cookies

    def changes(self) -> dict[str, Any]:
        found = self.of("change")
        result: dict[str, Any] = {"notice_days": 30, "material_change_needs_consent": True}
        if not found:
            return result
        days = next((m for p in found if (m := _DURATION.search(p.sentence.plain))), None)
        note = "Older data keeps its limits until the person agrees to the new version."
        if days and days.group(2).lower() == "day":
            result["notice_days"] = _WORD_NUMBERS.get(days.group(1).lower()) or int(days.group(1))
        else:
            note = "The text sets no notice period; the draft gives 30 days. " + note
        result["source"] = cite(found[0].sentence, note)
        return result


def _shares(text: str) -> bool:
    return bool(re.search(r"\b(?:share|disclose|provide|sell|give|release|report)", text, re.I))


def _blocks(refusal: Practice, recipient: str) -> bool:
    """Whether "we do not share ..." covers this kind of recipient."""
    return refusal.recipient in ("any_third_party", recipient)
