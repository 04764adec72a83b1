"""The personal-data store end to end, for every example policy, on SQLite and PostgreSQL.

Expectations are worked out from the policy file by the simple rules the product brief states
(a role reads only for its purposes and categories, only what was collected for that purpose,
opt-in needs a grant, the latest consent event wins...), not by asking the decision function,
so a wrong decision shows up as a failure here. ``zabbix`` is also tested with hand-written
expectations, and ``zabbix-extended`` (zabbix plus a legal authority, an aggregate-only and a
consent-bound recipient, a legal hold) covers the conditions zabbix itself does not use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from pledge.errors import (
    CollectionError,
    DeniedError,
    InputError,
    NotFoundError,
    PledgeError,
)
from pledge.policy import load_policy
from pledge.policy.model import (
    Basis,
    CollectionPoint,
    Condition,
    Policy,
    RecipientKind,
    Storage,
)
from pledge.policy.taxonomy import covers
from pledge.store.schema import audit_entries, personal_values, subjects
from pledge.store.shapes import SECRET, shape_of
from pledge.store.vault import Collection, Vault

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"
EXTENDED = "zabbix-extended"
LEGAL_REF = "Subpoena 2024-CV-0172, District Court"


def _seed_params() -> list[Any]:
    """Every example policy that exists; one that does not load yet is skipped, with why."""
    params = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        try:
            load_policy(path)
        except PledgeError as exc:
            params.append(
                pytest.param(path.stem, marks=pytest.mark.skip(reason=f"does not load: {exc}"))
            )
        else:
            params.append(pytest.param(path.stem))
    return [*params, pytest.param(EXTENDED)]


SEEDS = _seed_params()


def extended_zabbix(directory: Path) -> Path:
    """zabbix.yaml plus the recipient conditions and the legal hold it does not use itself."""
    data = yaml.safe_load((EXAMPLES / "zabbix.yaml").read_text(encoding="utf-8"))
    data["version"] = "2015-04-13+test-extras"
    data["purposes"]["essential.legal_obligation"] = {"basis": "legal_obligation"}
    data["purposes"]["analytics.reporting"] = {"basis": "collection"}
    data["collection_points"]["survey"]["purposes"].append("analytics.reporting")
    data["recipients"].update(
        {
            "law_enforcement": {
                "kind": "legal_authority",
                "purposes": ["essential.legal_obligation"],
                "categories": ["user.name", "user.contact"],
                "condition": "legal_reference",
            },
            "statistics": {
                "kind": "partner",
                "purposes": ["analytics.reporting"],
                "categories": ["user.contact.email"],
                "condition": "aggregate",
                "min_group_size": 5,
            },
            "reseller": {
                "kind": "partner",
                "purposes": ["essential.service.operations.support"],
                "categories": ["user.name", "user.contact.email"],
                "condition": "consent",
            },
        }
    )
    data["legal_holds"] = [
        {"categories": ["user.contact.address"], "days": 365, "reason": "tax records of orders"}
    ]
    path = directory / "zabbix-extended.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def open_seed(name: str, vault_factory: Callable[..., Vault], tmp_path: Path) -> Vault:
    return vault_factory(extended_zabbix(tmp_path) if name == EXTENDED else name)


# --- values for fields -------------------------------------------------------------------------


def _is(category: str, *general: str) -> bool:
    return any(covers(g, category) for g in general)


def field_value(person: Any, category: str, shape: str | None) -> tuple[str, str]:
    """(as the form sends it, as Pledge should store it) for a field of ``category``."""
    if shape == "email" or (shape is None and _is(category, "user.contact.email")):
        return person.email, person.email_stored
    if shape == "phone" or (
        shape is None and _is(category, "user.contact.phone_number", "user.contact.fax_number")
    ):
        return person.phone, person.phone_e164
    if shape == "date" or (shape is None and _is(category, "user.demographic.date_of_birth")):
        return person.birth_date, person.birth_date
    if shape == "integer":
        return str(person.age), str(person.age)
    if _is(category, "user.name"):
        value = person.name
    elif _is(category, "user.contact.address"):
        value = person.address
    elif _is(category, "user.account.username"):
        value = person.username
    elif "job" in category or "title" in category:
        value = person.job
    elif any(w in category for w in ("organization", "workplace", "employ", "company")):
        value = person.company
    else:
        value = f"{person.job} at {person.company}"
    return value, value.strip()


def pass_through(policy: Policy, category: str) -> bool:
    return any(
        covers(key, category) and h.storage is Storage.pass_through
        for key, h in policy.categories.items()
    )


@dataclass
class Submission:
    fields: dict[str, str]  # as sent
    stored: dict[str, str]  # field -> value as stored
    categories: dict[str, str]  # field -> category
    secrets: dict[str, str] = field(default_factory=dict)  # hashed, never stored readable


def submission(policy: Policy, point: CollectionPoint, person: Any) -> Submission:
    """Every field the point declares and Pledge stores (pass-through fields left out)."""
    sub = Submission({}, {}, {})
    for name, spec in point.fields.items():
        if pass_through(policy, spec.category):
            continue
        sent, stored = field_value(person, spec.category, spec.shape)
        if shape_of(spec.category, spec.shape) == SECRET:
            sub.fields[name] = sub.secrets[name] = f"{person.username} pass {name}"
            continue
        sub.fields[name], sub.stored[name], sub.categories[name] = sent, stored, spec.category
    return sub


def adult_age(point: CollectionPoint, person: Any) -> int:
    return max(person.age, (point.min_age or 0) + 1)


def offered_choices(point: CollectionPoint) -> dict[str, bool]:
    offered = dict.fromkeys(point.choices, True)
    offered.update(
        {f"show:{f.category}": True for f in point.fields.values() if f.visibility_choice}
    )
    return offered


# --- the oracle ---------------------------------------------------------------------------------


@dataclass
class Expected:
    denial: tuple[str, str] | None  # (code, ref) of the refusal, when the whole read is refused
    released: dict[str, str] = field(default_factory=dict)
    withheld: dict[str, str] = field(default_factory=dict)  # field -> reason code


def expected_read(
    policy: Policy,
    point: CollectionPoint,
    sub: Submission,
    role_name: str,
    purpose: str,
    granted: set[str] = frozenset(),  # type: ignore[assignment]
    withdrawn: set[str] = frozenset(),  # type: ignore[assignment]
) -> Expected | None:
    """What a read of one point's subject should give; None where the rules get subtle."""
    role = policy.roles[role_name]
    spec = policy.purposes[purpose]
    keys = {f"purpose:{a}" for a in _ancestors(purpose)}
    if not any(covers(p, purpose) for p in role.purposes):
        return Expected(("purpose_not_granted", f"roles.{role_name}.purposes"))
    if spec.basis is Basis.legal_obligation:
        return None
    if spec.basis in (Basis.opt_in, Basis.opt_out) and keys & withdrawn:
        return Expected(("consent_withdrawn", f"purposes.{purpose}.basis"))
    if spec.channel is not None and f"channel:{spec.channel}" in withdrawn:
        return None
    if spec.basis is Basis.opt_in and not keys & granted:
        return Expected(("no_consent", f"purposes.{purpose}.basis"))
    result = Expected(None)
    refs = {
        "category_not_granted": f"roles.{role_name}.categories",
        "not_collected_for_purpose": "collection_points",
    }
    by_category: dict[str, str] = {}
    for name, category in sub.categories.items():
        if not any(covers(c, category) for c in role.categories):
            result.withheld[name] = by_category[category] = "category_not_granted"
        elif not any(covers(p, purpose) for p in point.purposes):
            result.withheld[name] = by_category[category] = "not_collected_for_purpose"
        else:
            result.released[name] = sub.stored[name]
    if not result.released:
        # The refusal names why the first category (in sorted order) was withheld.
        code = by_category[min(by_category)]
        result.denial = (code, refs[code])
    return result


def _ancestors(key: str) -> list[str]:
    parts = key.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def check_read(vault: Vault, subject: str, role: str, purpose: str, expected: Expected) -> None:
    where = f"{role} reading for {purpose}"
    if expected.denial is not None:
        with pytest.raises(DeniedError) as refused:
            vault.read(subject, purpose, role)
        decision = refused.value.decision
        assert decision is not None, where
        assert decision.denial is not None, where
        assert (decision.denial.code, decision.denial.ref) == expected.denial, where
        assert refused.value.to_dict()["subject"] == subject
        withheld = {c: r.code for c, r in decision.withheld}
        for name, code in expected.withheld.items():
            assert code in withheld.values(), (where, name)
        return
    result = vault.read(subject, purpose, role)
    # This subject gave data at one point only: its keys are that point's fields.
    assert by_field(result.values) == expected.released, where
    assert by_field({f: r.code for f, r in result.withheld.items()}) == expected.withheld, where


def by_field(keyed: dict[str, Any]) -> dict[str, Any]:
    """``point.field`` keys of one point's values, by field."""
    assert len({key.partition(".")[0] for key in keyed}) <= 1, keyed
    return {key.partition(".")[2]: value for key, value in keyed.items()}


# --- helpers on the database ------------------------------------------------------------------


def count(vault: Vault, table: Any, *where: Any) -> int:
    if table is audit_entries:
        vault.audit.sync()  # leaves are queued first; count them once they are in the log
    with vault.engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(table).where(*where)
        ).scalar_one()


class AuditCounter:
    """The number of audit entries the test expects, checked against the log as it goes."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        vault.audit.sync()
        self.expected = count(vault, audit_entries)

    def add(self, n: int = 1) -> None:
        self.expected += n
        self.check()

    def check(self) -> None:
        self.vault.audit.sync()  # leaves are queued; integrated within a second, or now
        assert count(self.vault, audit_entries) == self.expected

    def verify(self) -> None:
        verification = self.vault.audit.verify(self.vault.engine)
        assert verification.ok, verification.problem
        assert verification.entries == self.expected
        assert verification.checkpoint is not None
        assert verification.checkpoint.size == self.expected


def export_values(exported: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(d["point"], d["field"]): d["value"] for d in exported["data"]}


def lookup_kind(category: str) -> str | None:
    if covers("user.contact.email", category):
        return "email"
    if covers("user.account.username", category):
        return "username"
    return None


# --- the lifecycle, per seed --------------------------------------------------------------------


@dataclass
class Member:
    subject: str
    person: Any
    sub: Submission


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_lifecycle(
    seed: str,
    vault_factory: Callable[..., Vault],
    person_factory: Callable[[], Any],
    clock: Any,
    tmp_path: Path,
) -> None:
    vault = open_seed(seed, vault_factory, tmp_path)
    policy = vault.policy.policy
    audit = AuditCounter(vault)

    # One subject per collection point, every stored field filled, no choices made.
    members: dict[str, Member] = {}
    for point_name, point in policy.collection_points.items():
        person = person_factory()
        sub = submission(policy, point, person)
        got = vault.collect(point_name, sub.fields, age=adult_age(point, person))
        audit.add()
        assert got.created
        assert got.fields == tuple(sorted([*sub.stored, *sub.secrets]))
        assert got.policy_version == policy.version
        members[point_name] = Member(got.subject, person, sub)
    assert count(vault, subjects) == len(members)

    for point_name, m in members.items():
        exported = vault.export(m.subject)
        audit.add()
        assert export_values(exported) == {(point_name, f): v for f, v in m.sub.stored.items()}
        assert sorted(c["field"] for c in exported["credentials"]) == sorted(m.sub.secrets)
        assert not any(secret in repr(exported) for secret in m.sub.secrets.values())
        assert exported["choices"] == []
        assert exported["disclosures"] == []
        assert exported["status"] == "active"
        for name, category in m.sub.categories.items():
            kind = lookup_kind(category)
            if kind:
                typed = m.sub.fields[name]
                assert vault.find(kind, typed) == m.subject
                assert vault.find(kind, typed.upper()) == m.subject
    assert vault.find("email", "nobody@nowhere.example.org") is None

    # Reads: every role, for each purpose it holds and one it does not, on every point's subject.
    for point_name, m in members.items():
        point = policy.collection_points[point_name]
        for role_name in policy.roles:
            for purpose in _purposes_to_try(policy, role_name):
                expected = expected_read(policy, point, m.sub, role_name, purpose)
                if expected is None:
                    continue
                check_read(vault, m.subject, role_name, purpose, expected)
                audit.add()

    # Consent: grant and withdraw each offered choice; the latest event wins, history keeps all.
    for point_name, m in members.items():
        point = policy.collection_points[point_name]
        events: list[tuple[str, bool]] = []
        for choice in point.choices:
            for granted in (True, False, True, False):
                clock.advance(minutes=1)
                key = (vault.grant if granted else vault.withdraw)(m.subject, choice)
                audit.add()
                assert key == f"purpose:{choice}"
                events.append((key, granted))
                now = vault.choices(m.subject)
                assert (key in now.granted, key in now.withdrawn) == (granted, not granted)
                _check_consent_reads(vault, policy, point, m, choice, granted, audit)
        history = vault.consent_history(m.subject)
        assert [(e.choice, e.granted) for e in history] == events
        assert [e.seq for e in history] == list(range(len(events)))
        assert all(e.source == "api" and e.policy_version == policy.version for e in history)
        assert [e.at for e in history] == sorted(e.at for e in history)
        assert all(e.at.utcoffset() == dt.timedelta(0) for e in history)

    # The main subject: one person through every point, with every choice offered accepted.
    person = person_factory()
    main = ""
    stored: dict[tuple[str, str], str] = {}
    main_events: list[tuple[str, bool, str]] = []
    for point_name, point in policy.collection_points.items():
        sub = submission(policy, point, person)
        choices = offered_choices(point)
        got = vault.collect(
            point_name,
            sub.fields,
            subject=main or None,
            choices=choices,
            age=adult_age(point, person),
        )
        audit.add()
        assert got.created == (not main)
        main = main or got.subject
        assert got.subject == main
        stored.update({(point_name, f): v for f, v in sub.stored.items()})
        for key in choices:
            full = key if ":" in key else f"purpose:{key}"
            main_events.append((full, True, f"point:{point_name}"))
    history = vault.consent_history(main)
    assert [(e.choice, e.granted, e.source) for e in history] == main_events

    disclosed = _check_disclosures(vault, policy, main, stored, person_factory, audit, members)

    exported = vault.export(main)
    audit.add()
    assert export_values(exported) == stored
    assert [(c["choice"], c["granted"]) for c in exported["choices"]] == [
        (e.choice, e.granted) for e in vault.consent_history(main)
    ]
    assert [
        (d["recipient"], d["purpose"], d["categories"], d["legal_ref"])
        for d in exported["disclosures"]
    ] == disclosed
    vault.audit.sync()  # a disclosure names its audit entry once the leaf is integrated
    listed = vault.disclosures(main)
    assert [(d["recipient"], d["purpose"], d["categories"], d["legal_ref"]) for d in listed] == (
        disclosed
    )
    for d in listed:
        entry = vault.audit.entry(vault.engine, d["audit_entry"])
        assert entry["action"] == "disclose"
        assert entry["actor"] == f"recipient '{d['recipient']}'"
        assert entry["subject"] == vault.subject_ref(main)

    stored = _check_rectify(vault, policy, main, stored, person_factory, audit)
    _check_erase(vault, policy, main, stored, audit)
    audit.verify()


def _purposes_to_try(policy: Policy, role_name: str) -> list[str]:
    held = [
        p for p in policy.purposes if any(covers(r, p) for r in policy.roles[role_name].purposes)
    ]
    return held + [p for p in policy.purposes if p not in held][:1]


def _check_consent_reads(
    vault: Vault,
    policy: Policy,
    point: CollectionPoint,
    m: Member,
    choice: str,
    granted: bool,
    audit: AuditCounter,
) -> None:
    """After each consent event, reads for the purposes under the choice follow it at once."""
    key = f"purpose:{choice}"
    for purpose in (p for p in policy.purposes if covers(choice, p)):
        for role_name in policy.roles:
            if not any(covers(r, purpose) for r in policy.roles[role_name].purposes):
                continue
            expected = expected_read(
                policy,
                point,
                m.sub,
                role_name,
                purpose,
                granted={key} if granted else set(),
                withdrawn=set() if granted else {key},
            )
            if expected is None:
                continue
            check_read(vault, m.subject, role_name, purpose, expected)
            audit.add()


def _released_fields(
    policy: Policy, stored: dict[tuple[str, str], str], recipient: str, purpose: str
) -> set[str]:
    """Values of the main subject (collected at every point) a recipient may get, before its
    condition is considered, by ``point.field``: only those whose own point collects them for
    the purpose (any, for a purpose the law imposes)."""
    spec = policy.recipients[recipient]
    legal = policy.purposes[purpose].basis is Basis.legal_obligation
    out = set()
    for point_name, name in stored:
        point = policy.collection_points[point_name]
        if not any(covers(c, point.fields[name].category) for c in spec.categories):
            continue
        if legal or any(covers(p, purpose) for p in point.purposes):
            out.add(f"{point_name}.{name}")
    return out


def _check_disclosures(
    vault: Vault,
    policy: Policy,
    main: str,
    stored: dict[tuple[str, str], str],
    person_factory: Callable[[], Any],
    audit: AuditCounter,
    members: dict[str, Member],
) -> list[tuple[str, str, list[str], str | None]]:
    """Disclose the main subject to each recipient, as its condition allows; return what
    the subject's disclosure list should show, oldest first."""
    with pytest.raises(InputError, match="names no recipient"):
        vault.disclose([main], "data_broker", next(iter(policy.purposes)), ["user"])
    audit.check()
    categories_of = {
        f"{point}.{name}": policy.collection_points[point].fields[name].category
        for point, name in stored
    }

    shown: list[tuple[str, str, list[str], str | None]] = []

    def released(result: Any, purpose: str, name: str, legal_ref: str | None = None) -> None:
        expect = _released_fields(policy, stored, name, purpose)
        assert main in result.released, (name, purpose, result.refused)
        got = result.released[main]
        assert set(got) == expect, (name, purpose)
        for key, value in got.items():
            assert value == stored[tuple(key.split(".", 1))]
        shown.append((name, purpose, sorted({categories_of[f] for f in got}), legal_ref))
        audit.add()

    def refused(result: Any, code: str | None, ref: str | None = None) -> None:
        assert main in result.refused
        assert main not in result.released
        if code is not None:
            assert result.refused[main].code == code, result.refused[main]
        if ref is not None:
            assert result.refused[main].ref == ref
        audit.add()

    for name, spec in policy.recipients.items():
        purposes = [p for p in policy.purposes if any(covers(rp, p) for rp in spec.purposes)]
        others = [p for p in policy.purposes if p not in purposes]
        cats = list(spec.categories)
        if spec.kind is RecipientKind.successor and purposes:
            # A successor receives nothing until the business passes to it, on record.
            refused(
                vault.disclose([main], name, purposes[0], cats),
                "event_not_recorded",
                f"recipients.{name}.kind",
            )
            vault.record_business_transfer(name, reference="Merger agreement, 2026-11-30")
            audit.add()
        if others and spec.condition is not Condition.aggregate:
            refused(
                vault.disclose([main], name, others[0], cats),
                "purpose_not_granted",
                f"recipients.{name}.purposes",
            )
        for purpose in purposes:
            basis = policy.purposes[purpose].basis
            if basis is Basis.opt_in and not any(
                covers(c, purpose) for p in policy.collection_points.values() for c in p.choices
            ):
                continue  # nobody could have opted in at collection; covered by reads
            expect = _released_fields(policy, stored, name, purpose)
            if spec.condition is Condition.aggregate:
                _check_aggregate(vault, policy, name, purpose, person_factory, audit)
                continue
            if not expect:
                refused(vault.disclose([main], name, purpose, cats), None)
                continue
            if spec.condition is Condition.none:
                released(vault.disclose([main], name, purpose, cats), purpose, name)
            elif spec.condition is Condition.legal_reference:
                refused(
                    vault.disclose([main], name, purpose, cats),
                    "legal_reference_missing",
                    f"recipients.{name}.condition",
                )
                refused(vault.disclose([main], name, purpose, cats, legal_ref="  "), None)
                released(
                    vault.disclose([main], name, purpose, cats, legal_ref=LEGAL_REF),
                    purpose,
                    name,
                    LEGAL_REF,
                )
            elif spec.condition is Condition.consent:
                refused(
                    vault.disclose([main], name, purpose, cats),
                    "no_consent",
                    f"recipients.{name}.condition",
                )
                vault.grant(main, f"recipient:{name}")
                audit.add()
                released(vault.disclose([main], name, purpose, cats), purpose, name)
                vault.withdraw(main, f"recipient:{name}")
                audit.add()
                refused(
                    vault.disclose([main], name, purpose, cats),
                    "consent_withdrawn",
                    f"recipients.{name}.condition",
                )
            elif spec.condition is Condition.subject_election:
                released(vault.disclose([main], name, purpose, cats), purpose, name)
                shy = [
                    m.subject
                    for p, m in members.items()
                    if any(
                        f.visibility_choice and any(covers(c, f.category) for c in cats)
                        for f in policy.collection_points[p].fields.values()
                    )
                ]
                for subject in shy[:1]:
                    result = vault.disclose([subject], name, purpose, cats)
                    assert subject in result.refused
                    audit.add()
    return shown


def _check_aggregate(
    vault: Vault,
    policy: Policy,
    name: str,
    purpose: str,
    person_factory: Callable[[], Any],
    audit: AuditCounter,
) -> None:
    """Counts go out only for groups of at least the minimum size, and nothing else does."""
    spec = policy.recipients[name]
    minimum = spec.min_group_size
    assert minimum is not None
    for point_name in policy.collection_points:
        point = policy.collection_points[point_name]
        wanted = sorted(
            {
                f.category
                for f in point.fields.values()
                if any(covers(c, f.category) for c in spec.categories)
                and not pass_through(policy, f.category)
            }
        )
        if wanted and any(covers(p, purpose) for p in point.purposes):
            break
    else:
        return
    # The group is a segment and a window (a month no one else was collected in), never a
    # list of people: the recipient cannot choose whom to count.
    clock: Any = vault.clock  # the test's FakeClock
    back = clock()
    clock.set(dt.datetime(2031, 1, 15, tzinfo=dt.UTC))
    people = [person_factory() for _ in range(minimum)]
    batch = [
        Collection(point_name, submission(policy, point, p).fields, age=adult_age(point, p))
        for p in people
    ]
    group = [c.subject for c in vault.collect_many(batch[:-1])]
    audit.add(len(group))
    segment = {"segment": f"point:{point_name}", "since": "2031-01", "until": "2031-01"}
    with pytest.raises(DeniedError, match=f"at least {minimum} .* gives {minimum - 1}$"):
        vault.aggregate(name, purpose, wanted, **segment)
    audit.add()  # the refusal is on record too
    group += [c.subject for c in vault.collect_many(batch[-1:])]
    audit.add()
    clock.set(back)

    result = vault.aggregate(name, purpose, wanted, **segment)
    audit.add()
    assert result.counts == dict.fromkeys(wanted, minimum)
    with pytest.raises(DeniedError, match="never chosen people"):
        vault.disclose(group, name, purpose, wanted)
    for subject in group:
        assert vault.disclosures(subject) == []


def _check_rectify(
    vault: Vault,
    policy: Policy,
    main: str,
    stored: dict[tuple[str, str], str],
    person_factory: Callable[[], Any],
    audit: AuditCounter,
) -> dict[tuple[str, str], str]:
    """Correct each kind of field once; a malformed correction changes nothing."""
    stored = dict(stored)
    other = person_factory()
    done: set[str] = set()
    for point_name, name in list(stored):
        if name in done:
            continue
        spec = policy.collection_points[point_name].fields[name]
        sent, clean = field_value(other, spec.category, spec.shape)
        kind = lookup_kind(spec.category)
        old = stored[(point_name, name)]
        if clean == old:
            continue
        changed = vault.rectify(main, name, sent)
        audit.add()
        done.add(name)
        points = sorted(p for p, f in stored if f == name)
        assert sorted(changed) == [f"{p}.{name}" for p in points]
        for p in points:
            stored[(p, name)] = clean
        if kind:
            assert vault.find(kind, sent) == main
            if old not in stored.values():
                assert vault.find(kind, old) is None
    exported = vault.export(main)
    audit.add()
    assert export_values(exported) == stored

    malformed = {other.email_stored: "not-an-address", other.phone_e164: "call me maybe"}
    shaped = {}
    for point_name, name in stored:
        spec = policy.collection_points[point_name].fields[name]
        bad = malformed.get(field_value(other, spec.category, spec.shape)[1])
        if bad:
            shaped[name] = bad
    for name, bad in shaped.items():
        with pytest.raises(CollectionError) as refused:
            vault.rectify(main, name, bad)
        assert bad not in str(refused.value)
        assert refused.value.fields["field"] == name
    audit.check()
    with pytest.raises(NotFoundError):
        vault.rectify(main, "no_such_field", "x")
    audit.check()
    return stored


def _check_erase(
    vault: Vault,
    policy: Policy,
    main: str,
    stored: dict[tuple[str, str], str],
    audit: AuditCounter,
) -> None:
    held = sorted(
        f"{p}.{f}"
        for p, f in stored
        if any(
            covers(c, policy.collection_points[p].fields[f].category)
            for h in policy.legal_holds
            for c in h.categories
        )
    )
    lookups = [
        (kind, value)
        for (p, f), value in stored.items()
        if (kind := lookup_kind(policy.collection_points[p].fields[f].category))
    ]
    erasure = vault.erase(main)
    audit.add()
    assert erasure.held_fields == tuple(held)
    assert sorted(erasure.deleted_fields) == sorted({f"{p}.{f}" for p, f in stored} - set(held))
    assert erasure.key_destroyed == (not held)
    for kind, value in lookups:
        assert vault.find(kind, value) is None
    with vault.engine.connect() as connection:
        row = connection.execute(select(subjects).where(subjects.c.subject_id == main)).one()
        left = connection.execute(
            select(personal_values.c.point, personal_values.c.field).where(
                personal_values.c.subject_id == main
            )
        ).all()
    assert sorted(f"{p}.{f}" for p, f in left) == held
    if held:
        assert vault.ciphers([main])
        assert row.status == "deactivated"
        assert erasure.held_until is not None
    else:
        assert vault.ciphers([main]) == {}
        assert [s for _, s in vault.key_store.ledger()] == [main]
        assert row.status == "erased"
    for attempt in (
        lambda: vault.read(main, next(iter(policy.purposes)), next(iter(policy.roles))),
        lambda: vault.export(main),
        lambda: vault.choices(main),
        lambda: vault.grant(main, next(iter(policy.purposes))),
        lambda: vault.erase(main),
    ):
        with pytest.raises(NotFoundError):
            attempt()
    audit.check()


# --- collection refusals, per seed ------------------------------------------------------------


def _refusal_cases(policy: Policy, point_name: str, point: CollectionPoint, person: Any):
    """(label, fields, age, culprit field, words the message must hold) for each refusal."""
    sub = submission(policy, point, person)
    age = adult_age(point, person)
    first = next(iter(sub.fields))
    cases = [
        (
            "undeclared field",
            {**sub.fields, f"{first}_x": "extra"},
            age,
            f"{first}_x",
            ["not declared", point_name, f"did you mean '{first}'"],
        ),
        (
            "unknown field",
            {**sub.fields, "favourite_colour": "teal"},
            age,
            "favourite_colour",
            ["not declared"],
        ),
    ]
    for name, spec in point.fields.items():
        if pass_through(policy, spec.category):
            cases.append(
                (
                    "pass-through",
                    {**sub.fields, name: "4111111111111111"},
                    age,
                    name,
                    ["pass-through", name],
                )
            )
            continue
        if spec.required:
            without = {k: v for k, v in sub.fields.items() if k != name}
            cases.append(("missing mandatory", without, age, name, ["required", name]))
        _sent, clean = field_value(person, spec.category, spec.shape)
        if clean == person.email_stored:
            cases.append(
                (
                    "malformed email",
                    {**sub.fields, name: "jane.doe(at)example"},
                    age,
                    name,
                    ["not a valid email", name],
                )
            )
        if clean == person.phone_e164:
            cases.append(
                (
                    "malformed phone",
                    {**sub.fields, name: "call me maybe"},
                    age,
                    name,
                    ["phone number", name],
                )
            )
    if point.min_age is not None:
        cases.append(("under age", sub.fields, point.min_age - 1, "age", [str(point.min_age)]))
        cases.append(("age missing", sub.fields, None, "age", ["age", str(point.min_age)]))
    return cases


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_collection_refusals(
    seed: str,
    vault_factory: Callable[..., Vault],
    person_factory: Callable[[], Any],
    tmp_path: Path,
) -> None:
    vault = open_seed(seed, vault_factory, tmp_path)
    policy = vault.policy.policy
    baseline = vault.collect(
        *next(
            (name, submission(policy, p, person_factory()).fields)
            for name, p in policy.collection_points.items()
        ),
        age=99,
    )
    before_subjects, before_entries = count(vault, subjects), count(vault, audit_entries)
    seen: set[str] = set()
    for point_name, point in policy.collection_points.items():
        person = person_factory()
        for label, fields, age, culprit, words in _refusal_cases(policy, point_name, point, person):
            seen.add(label)
            with pytest.raises(CollectionError) as refused:
                vault.collect(point_name, fields, age=age)
            error = refused.value
            assert error.fields["field"] == culprit, (point_name, label)
            for word in words:
                assert word in error.message, (point_name, label, error.message)
            for secret in person.secrets():
                assert secret not in error.message, (point_name, label)
            # A refused collection changes nothing, alone or in a batch with a good one.
            good = Collection(
                point_name, submission(policy, point, person).fields, age=adult_age(point, person)
            )
            with pytest.raises(CollectionError):
                vault.collect_many([good, Collection(point_name, fields, age=age)])
            assert count(vault, subjects) == before_subjects, (point_name, label)
            assert count(vault, audit_entries) == before_entries, (point_name, label)
            assert vault.find("email", person.email) is None
        # The same submission, corrected, goes through.
        ok = vault.collect(
            point_name, submission(policy, point, person).fields, age=adult_age(point, person)
        )
        assert ok.created
        before_subjects += 1
        before_entries += 1
    expected = {"undeclared field", "unknown field"}
    points = policy.collection_points.values()
    if any(p.min_age is not None for p in points):
        expected |= {"under age", "age missing"}
    if any(f.required for p in points for f in p.fields.values()):
        expected.add("missing mandatory")
    assert expected <= seen
    assert baseline.created
    verification = vault.audit.verify(vault.engine)
    assert verification.ok
    assert verification.entries == before_entries


# --- zabbix, with hand-written expectations ------------------------------------------------


def test_zabbix_reads_consents_and_disclosures(
    vault_factory: Callable[..., Vault], person_factory: Callable[[], Any], clock: Any
) -> None:
    vault = vault_factory("zabbix")
    audit = AuditCounter(vault)
    ann = person_factory()
    reg = vault.collect(
        "registration",
        {"name": ann.name, "email": ann.email, "phone": ann.phone},
        age=13,
        choices={"marketing.communications.email": True},
    )
    audit.add()

    support = vault.read(reg.subject, "essential.service.operations.support", "support")
    audit.add()
    assert support.values == {"registration.name": ann.name, "registration.email": ann.email_stored}
    assert support.withheld["registration.phone"].code == "category_not_granted"
    assert support.withheld["registration.phone"].ref == "roles.support.categories"

    sales = vault.read(reg.subject, "essential.service.notifications.email", "sales")
    audit.add()
    assert sales.values == {
        "registration.name": ann.name,
        "registration.email": ann.email_stored,
        "registration.phone": ann.phone_e164,
    }

    with pytest.raises(DeniedError) as denied:
        vault.read(reg.subject, "functional.service", "sales")
    audit.add()
    assert denied.value.decision.denial.ref == "roles.sales.purposes"
    assert "functional.service" in denied.value.message

    with pytest.raises(DeniedError) as denied:
        vault.read(reg.subject, "functional.service", "marketing")
    audit.add()
    assert {c: r.code for c, r in denied.value.decision.withheld} == {
        "user.name": "not_collected_for_purpose",
        "user.contact.email": "not_collected_for_purpose",
        "user.contact.phone_number": "category_not_granted",
    }

    # Marketing is opt-out: allowed until withdrawn, the latest event wins every time.
    marketing = "marketing.communications.email"
    assert vault.read(reg.subject, marketing, "marketing").values == {
        "registration.name": ann.name,
        "registration.email": ann.email_stored,
    }
    audit.add()
    for granted in (False, True, False):
        clock.advance(days=1)
        (vault.grant if granted else vault.withdraw)(reg.subject, marketing)
        audit.add()
        if granted:
            assert vault.read(reg.subject, marketing, "marketing").values
        else:
            with pytest.raises(DeniedError) as denied:
                vault.read(reg.subject, marketing, "marketing")
            assert denied.value.decision.denial.code == "consent_withdrawn"
            assert denied.value.decision.denial.ref == f"purposes.{marketing}.basis"
        audit.add()
    history = vault.consent_history(reg.subject)
    assert [(e.granted, e.source) for e in history] == [
        (True, "point:registration"),
        (False, "api"),
        (True, "api"),
        (False, "api"),
    ]
    assert [e.at for e in history] == [
        dt.datetime(2024, 5, d, 12, tzinfo=dt.UTC) for d in (1, 2, 3, 4)
    ]
    assert vault.choices(reg.subject).withdrawn == {f"purpose:{marketing}"}

    with pytest.raises(InputError, match=r"did you mean 'marketing\.communications\.email'"):
        vault.grant(reg.subject, "marketing.communication.email")
    with pytest.raises(InputError, match="does not offer"):
        vault.collect("survey", {"email": ann.email}, age=30, choices={marketing: True})
    audit.check()

    # The card passes through; the gateway gets the rest of the order, for payment only.
    with pytest.raises(CollectionError, match="pass-through"):
        vault.collect(
            "order",
            {
                "name": ann.name,
                "email": ann.email,
                "mailing_address": ann.address,
                "card_number": "4111111111111111",
            },
            age=30,
        )
    order = vault.collect(
        "order",
        {"name": ann.name, "email": ann.email, "mailing_address": ann.address},
        subject=reg.subject,  # the shop knows who is signed in
        age=30,
    )
    audit.add()
    assert order.subject == reg.subject
    assert not order.created
    sent = vault.disclose(
        [reg.subject],
        "payment_gateway",
        "essential.service.payment_processing",
        ["user.name", "user.contact.address", "user.financial.credit_card"],
    )
    audit.add()
    assert sent.released == {
        reg.subject: {
            "registration.name": ann.name,  # registration collects for the whole service
            "order.name": ann.name,
            "order.mailing_address": ann.address,
        }
    }
    refused = vault.disclose(
        [reg.subject], "payment_gateway", marketing, ["user.name", "user.contact.email"]
    )
    audit.add()
    assert refused.refused[reg.subject].ref == "recipients.payment_gateway.purposes"
    with pytest.raises(InputError, match="names no recipient 'advertiser'"):
        vault.disclose([reg.subject], "advertiser", marketing, ["user.contact.email"])
    assert [
        (d["recipient"], d["categories"], d["legal_ref"], d["at"])
        for d in vault.disclosures(reg.subject)
    ] == [
        (
            "payment_gateway",
            ["user.contact.address", "user.name"],
            None,
            "2024-05-04T12:00:00+00:00",
        )
    ]
    audit.verify()


def test_zabbix_export_times_are_utc(
    vault_factory: Callable[..., Vault], person_factory: Callable[[], Any]
) -> None:
    """The same store answers the same on both databases: timestamps come back aware UTC."""
    vault = vault_factory("zabbix")
    ann = person_factory()
    got = vault.collect(
        "newsletter",
        {"email": ann.email},
        age=40,
        choices={"marketing.communications.email": True},
    )
    exported = vault.export(got.subject)
    assert exported["created_at"] == "2024-05-01T12:00:00+00:00"
    assert exported["data"][0]["collected_at"] == "2024-05-01T12:00:00+00:00"
    assert exported["choices"][0]["at"] == "2024-05-01T12:00:00+00:00"


def test_erasure_with_legal_hold_keeps_only_held_values_for_the_law(
    vault_factory: Callable[..., Vault],
    person_factory: Callable[[], Any],
    clock: Any,
    tmp_path: Path,
) -> None:
    vault = vault_factory(extended_zabbix(tmp_path))
    ann = person_factory()
    got = vault.collect(
        "order",
        {"name": ann.name, "email": ann.email, "mailing_address": ann.address},
        age=30,
    )
    erasure = vault.erase(got.subject)
    assert erasure.held_fields == ("order.mailing_address",)
    assert not erasure.key_destroyed
    assert erasure.held_until == dt.datetime(2025, 5, 1, 12, tzinfo=dt.UTC)
    assert vault.find("email", ann.email) is None

    # Staff no longer see the person for ordinary purposes...
    with pytest.raises((DeniedError, NotFoundError)):
        vault.read(got.subject, "essential.service.notifications.email", "sales")
    # ...the law still can, with a reference...
    lawful = vault.disclose(
        [got.subject],
        "law_enforcement",
        "essential.legal_obligation",
        ["user.contact.address"],
        legal_ref=LEGAL_REF,
    )
    assert lawful.released == {got.subject: {"order.mailing_address": ann.address}}

    # ...and once the hold ends, retention shreds the key.
    clock.advance(days=366)
    report = vault.run_retention()
    assert report.keys_destroyed == 1
    with vault.engine.connect() as connection:
        row = connection.execute(select(subjects).where(subjects.c.subject_id == got.subject)).one()
    assert vault.ciphers([got.subject]) == {}
    assert row.status == "erased"
    assert count(vault, personal_values) == 0
    with pytest.raises(NotFoundError):
        vault.export(got.subject)
    verification = vault.audit.verify(vault.engine)
    assert verification.ok, verification.problem
