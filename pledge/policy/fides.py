"""Moving a policy to and from Ethyca Fides' data map (a ``System`` and a ``Dataset``).

Fides describes *what* a system processes: privacy declarations (data use, categories,
subjects, legal basis, third parties, retention) and datasets (collections and their fields).
Pledge's policy says that too, and more: who inside may see what, on which condition a recipient
receives data, which choices a person has, what is kept after erasure, which messages are sent.
Both speak fideslang's taxonomy, so the shared part maps one to one; what Fides has no place for
is listed by :func:`not_carried`, so nobody believes a round trip kept it.

The mapping is built on the ``fideslang`` package's own models, so anything exported is a
manifest Fides itself accepts, and anything imported was first validated by them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fideslang import models as fides
from pydantic import ValidationError

from pledge.errors import InputError
from pledge.policy.model import (
    Basis,
    Changes,
    CollectionPoint,
    Condition,
    FieldSpec,
    Organisation,
    Policy,
    Purpose,
    Recipient,
    RecipientKind,
    RetentionRule,
    Right,
    Rights,
    TaxonomyExtensions,
    TermDef,
)
from pledge.policy.taxonomy import covers

LEGAL_BASIS = {
    Basis.collection: fides.LegalBasisForProcessingEnum.CONTRACT,
    Basis.opt_in: fides.LegalBasisForProcessingEnum.CONSENT,
    Basis.opt_out: fides.LegalBasisForProcessingEnum.LEGITIMATE_INTEREST,
    Basis.legal_obligation: fides.LegalBasisForProcessingEnum.LEGAL_OBLIGATION,
}
# Fides' bases with no Pledge equivalent become the basis that asks the person most.
BASIS_OF = {value.value: basis for basis, value in LEGAL_BASIS.items()}
_STRICTEST_FIRST = (Basis.opt_in, Basis.opt_out, Basis.collection, Basis.legal_obligation)
_DAYS = re.compile(r"^\s*(\d+)\s*(days?)?\s*$")
_SEPARATOR = ": "


@dataclass(frozen=True)
class Imported:
    """A draft policy read from Fides, and what had to be assumed to complete it."""

    policy: Policy
    assumed: tuple[str, ...]


def not_carried(policy: Policy) -> list[str]:
    """The parts of ``policy`` that a Fides manifest has no place for (lost on export)."""
    lost: list[str] = []
    if policy.roles:
        lost.append(f"roles ({len(policy.roles)}): who inside may see what, for which purpose")
    conditions = [n for n, r in policy.recipients.items() if r.condition is not Condition.none]
    if conditions:
        lost.append(f"recipient conditions and kinds ({', '.join(conditions)})")
    if policy.communications:
        lost.append(f"communications ({len(policy.communications)}): the messages sent")
    if policy.cookies:
        lost.append(f"cookies ({len(policy.cookies)})")
    if "cookie_consent" in policy.model_fields_set:
        lost.append("the cookie banner's categories and the answers to browser privacy signals")
    if policy.legal_holds:
        lost.append("legal holds (what is kept after erasure)")
    if any(p.choices for p in policy.collection_points.values()):
        lost.append("the choices offered at collection points")
    if any(p.min_age is not None for p in policy.collection_points.values()):
        lost.append("minimum ages at collection points")
    fields = [f for p in policy.collection_points.values() for f in p.fields.values()]
    if any(f.required or f.shape or f.visibility_choice for f in fields):
        lost.append("required fields, value shapes and visibility choices")
    if policy.categories:
        lost.append("category storage (pass-through categories)")
    lost.append("rights offered and the response time")
    lost.append("the notice period for changes")
    return lost


# --- export ------------------------------------------------------------------------------------


def export_fides(policy: Policy) -> dict[str, Any]:
    """A Fides manifest (``system``, ``dataset``, taxonomy extensions) for ``policy``."""
    system_key = _slug(policy.organisation.name)
    dataset_key = f"{system_key}_collection_points"
    retention = _retention_days(policy.retention)
    declarations = [
        _declaration(policy, point_name, point, purpose, dataset_key, retention)
        for point_name, point in policy.collection_points.items()
        for purpose in point.purposes
    ]
    system = fides.System(
        fides_key=system_key,
        name=policy.organisation.name,
        description=f"Personal data handled under privacy policy {policy.version}",
        system_type="Service",
        legal_address=policy.organisation.postal_address,
        dpo=policy.organisation.privacy_contact,
        meta={"policy_version": policy.version, "effective": policy.effective.isoformat()},
        privacy_declarations=declarations,
        dataset_references=[dataset_key],
    )
    dataset = fides.Dataset(
        fides_key=dataset_key,
        name=f"{policy.organisation.name}: collection points",
        collections=[
            fides.DatasetCollection(
                name=name,
                description=point.description or None,
                data_subjects=list(point.subjects),
                fields=[
                    fides.DatasetField(name=field, data_categories=[spec.category])
                    for field, spec in point.fields.items()
                ],
            )
            for name, point in policy.collection_points.items()
        ],
    )
    manifest: dict[str, Any] = {
        "system": [_plain(system)],
        "dataset": [_plain(dataset)],
    }
    for section, kind, items in (
        ("data_category", fides.DataCategory, policy.taxonomy.data_categories),
        ("data_use", fides.DataUse, policy.taxonomy.data_uses),
        ("data_subject", fides.DataSubject, policy.taxonomy.data_subjects),
    ):
        if items:
            manifest[section] = [
                _plain(
                    kind(
                        fides_key=key,
                        name=term.name,
                        description=term.description or None,
                        **({"parent_key": key.rsplit(".", 1)[0]} if "." in key else {}),
                    )
                )
                for key, term in items.items()
            ]
    return manifest


def _declaration(
    policy: Policy,
    point_name: str,
    point: CollectionPoint,
    purpose: str,
    dataset_key: str,
    retention: Mapping[str, int],
) -> fides.PrivacyDeclaration:
    categories = sorted({f.category for f in point.fields.values()})
    receiving = {
        name: r
        for name, r in policy.recipients.items()
        if any(covers(p, purpose) for p in r.purposes)
        and any(covers(c, k) or covers(k, c) for c in r.categories for k in categories)
    }
    days = [retention[c] for c in categories if c in retention]
    return fides.PrivacyDeclaration(
        name=f"{point_name}{_SEPARATOR}{purpose}",
        data_use=purpose,
        data_categories=categories,
        data_subjects=list(point.subjects),
        legal_basis_for_processing=LEGAL_BASIS[policy.purposes[purpose].basis],
        dataset_references=[dataset_key],
        retention_period=f"{max(days)} days" if days else None,
        data_shared_with_third_parties=bool(receiving),
        third_parties="; ".join(sorted(receiving)) or None,
        shared_categories=sorted({c for r in receiving.values() for c in r.categories}),
    )


def _retention_days(rules: Iterable[RetentionRule]) -> dict[str, int]:
    days: dict[str, int] = {}
    for rule in rules:
        for category in rule.categories:
            days[category] = max(days.get(category, 0), rule.days)
    return days


def _plain(model: Any) -> dict[str, Any]:
    """A fideslang model as the YAML Fides reads: its own field names, nothing left empty."""
    data: dict[str, Any] = model.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    return data


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "system"


# --- import ------------------------------------------------------------------------------------


def import_fides(manifest: Mapping[str, Any], *, today: dt.date) -> Imported:
    """A draft Pledge policy from a Fides manifest. What Fides does not say is filled with the
    reading that protects the person, and each such assumption is listed."""
    assumed: list[str] = []
    systems = [
        _model(fides.System, s, f"system[{i}]") for i, s in enumerate(_list(manifest, "system"))
    ]
    if not systems:
        raise InputError("the Fides manifest has no 'system': there is nothing to import")
    if len(systems) > 1:
        assumed.append(f"only the first system ('{systems[0].fides_key}') was imported")
    system = systems[0]
    datasets = {
        d.fides_key: d
        for d in (
            _model(fides.Dataset, d, f"dataset[{i}]")
            for i, d in enumerate(_list(manifest, "dataset"))
        )
    }
    meta = system.meta or {}
    contact = system.dpo
    if not contact:
        contact = "(set the privacy contact before publishing)"
        assumed.append("organisation.privacy_contact: Fides names none; set it")
    purposes: dict[str, Basis] = {}
    points: dict[str, dict[str, Any]] = {}
    recipients: dict[str, dict[str, set[str]]] = {}
    retention: dict[str, int] = {}
    for i, declaration in enumerate(system.privacy_declarations):
        basis = _basis(declaration, f"system.privacy_declarations[{i}]", assumed)
        use = declaration.data_use
        purposes[use] = _stricter(purposes.get(use), basis)
        for collection, fields in _sources(declaration, datasets):
            point = points.setdefault(
                collection.name,
                {
                    "fields": fields,
                    "subjects": list(collection.data_subjects or []),
                    "description": collection.description or "",
                    "uses": [],
                },
            )
            point["uses"].append(use)
        for party in filter(
            None, (p.strip() for p in (declaration.third_parties or "").split(";"))
        ):
            got = recipients.setdefault(party, {"purposes": set(), "categories": set()})
            got["purposes"].add(use)
            got["categories"].update(declaration.shared_categories or declaration.data_categories)
        days = _days(declaration.retention_period)
        for category in declaration.data_categories if days is not None else ():
            retention[category] = max(retention.get(category, 0), days or 0)
    if not points:
        raise InputError(
            "no privacy declaration of the first system references a dataset collection with "
            "categorised fields, so the draft would have no collection point; add "
            "dataset_references to the declarations"
        )
    if recipients:
        assumed.append(
            "recipients: Fides does not say on which condition each receives data, nor which "
            "of several third parties in one declaration receives which categories; each is "
            "drafted as a partner that needs the person's consent and receives every category "
            "shared in the declarations that name it (review and narrow)"
        )
    assumed.append("rights: every right is offered, answered within 30 days")
    assumed.append("changes: 30 days' notice; older data keeps its limits without consent")
    policy = Policy(
        pledge=1,
        organisation=Organisation(
            name=system.name or system.fides_key,
            postal_address=system.legal_address,
            privacy_contact=contact,
        ),
        version=str(meta.get("policy_version") or f"imported-{today.isoformat()}"),
        effective=dt.date.fromisoformat(str(meta.get("effective") or today.isoformat())),
        taxonomy=_taxonomy(manifest),
        purposes={use: Purpose(basis=basis) for use, basis in purposes.items()},
        collection_points={
            name: CollectionPoint(
                description=p["description"],
                subjects=p["subjects"] or ["customer"],
                fields=p["fields"],
                purposes=list(dict.fromkeys(p["uses"])),
            )
            for name, p in points.items()
        },
        recipients={
            name: Recipient(
                kind=RecipientKind.partner,
                purposes=sorted(got["purposes"]),
                categories=sorted(got["categories"]),
                condition=Condition.consent,
            )
            for name, got in recipients.items()
        },
        retention=[RetentionRule(categories=[c], days=d) for c, d in sorted(retention.items())],
        rights=Rights(offered=list(Right), response_days=30),
        changes=Changes(notice_days=30),
    )
    return Imported(policy, tuple(assumed))


def _list(manifest: Mapping[str, Any], key: str) -> list[Any]:
    value = manifest.get(key, [])
    if not isinstance(value, list):
        raise InputError(f"'{key}' in the Fides manifest must be a list")
    return value


def _model(kind: Any, data: Any, where: str) -> Any:
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{where}.{at}: {first['msg']}") from None


def _basis(declaration: Any, where: str, assumed: list[str]) -> Basis:
    legal = declaration.legal_basis_for_processing
    value = getattr(legal, "value", legal)
    if value in BASIS_OF:
        return BASIS_OF[value]
    assumed.append(
        f"{where}: legal basis {value or 'not stated'}; drafted as opt-in (the person's consent)"
    )
    return Basis.opt_in


def _stricter(current: Basis | None, new: Basis) -> Basis:
    if current is None:
        return new
    return min(current, new, key=_STRICTEST_FIRST.index)


def _sources(
    declaration: Any, datasets: Mapping[str, Any]
) -> Iterable[tuple[Any, dict[str, FieldSpec]]]:
    """The collections a declaration covers: by name when it was written as
    ``<collection>: <use>`` (Pledge's export), otherwise every collection of its datasets that
    holds one of its categories."""
    named = declaration.name.split(_SEPARATOR, 1)[0] if declaration.name else None
    for key in declaration.dataset_references or []:
        dataset = datasets.get(key)
        if dataset is None:
            continue
        for collection in dataset.collections:
            fields = {
                f.name: FieldSpec(category=f.data_categories[0])
                for f in collection.fields
                if f.data_categories
            }
            if not fields:
                continue
            matches = (
                collection.name == named
                if named in {c.name for c in dataset.collections}
                else any(
                    covers(d, s.category) or covers(s.category, d)
                    for d in declaration.data_categories
                    for s in fields.values()
                )
            )
            if matches:
                yield collection, fields


def _days(period: str | None) -> int | None:
    match = _DAYS.match(period or "")
    return int(match.group(1)) if match else None


def _taxonomy(manifest: Mapping[str, Any]) -> TaxonomyExtensions:
    def terms(key: str, kind: Any) -> dict[str, TermDef]:
        return {
            t.fides_key: TermDef(name=t.name or t.fides_key, description=t.description or "")
            for t in (
                _model(kind, item, f"{key}[{i}]") for i, item in enumerate(_list(manifest, key))
            )
        }

    return TaxonomyExtensions(
        data_categories=terms("data_category", fides.DataCategory),
        data_uses=terms("data_use", fides.DataUse),
        data_subjects=terms("data_subject", fides.DataSubject),
    )
