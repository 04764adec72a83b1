"""The OpenAPI document, told what the loaded policy allows.

The models in :mod:`pledge.api.schemas` describe any policy: a purpose is some text, a
collection point some name. That document lets a client (or a fuzzer) send requests that are
well formed yet name a purpose, point, category, choice or role this policy does not have,
which the server refuses with 422, so the document could not say which requests are valid.

Here the generic document is rewritten for the policy in force, when it is first asked for:

- names the policy defines become enums: purposes, data categories, roles, recipients,
  communications, collection points, segments, choice keys;
- each collection point gets a path of its own (``/v1/collect/registration``) whose body
  lists exactly its fields, each with the shape the store checks (email, phone, date,
  integer, text, secret), which of them are required, the choices the point offers and the
  minimum age; the same for correcting a field (``PATCH .../data/email``). Each such path
  names its template in ``x-pledge-template``;
- a decision request may not grant and withdraw the same choice, and gives ``subject`` or
  ``choices``, not both; a new key names an actor exactly when its scope has one.

A request the document allows is then one the policy and the input checks accept; what is
still refused is refused for who is asking (401, 403), for what is stored (404, 409) or for
the rate (429), never for its shape. ``tests/security/test_attack_schemathesis.py`` holds the
server to that with every key scope.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from pledge.api.schemas import CONTROLS
from pledge.errors import InputError
from pledge.policy import CompiledPolicy
from pledge.policy.children import consent_age
from pledge.policy.model import CollectionPoint
from pledge.store.collect import AGE, DATE_OF_BIRTH, minimum_age
from pledge.store.consents import check_offered, known_choices
from pledge.store.shapes import MAX_SECRET, MAX_TEXT, SECRET, shape_of

Schema = dict[str, Any]

# Printable text with at least one character that is not white space: the store strips a
# value and refuses it when nothing is left. White space is spelt out (what str.strip takes
# away), since \s means ASCII white space to some regular expression engines and all of
# Unicode's to others.
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_TEXT = rf"^[^{CONTROLS}]*[^{_SPACE}{CONTROLS}][^{CONTROLS}]*$"
_MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_DAY = r"(0[1-9]|1[0-9]|2[0-8])"  # every month has these days
_MONTHS = r"(0[1-9]|1[0-2])"
# Addresses email-validator takes: plain local parts and domains, common top-level domains.
_EMAIL = r"^[a-z0-9]{1,24}(\.[a-z0-9]{1,24})?@[a-z0-9]{1,24}\.(org|com|net)$"
# An E.164 number of a country whose possible lengths include ten digits (the US).
_PHONE = r"^\+1[2-9][0-9]{2}[2-9][0-9]{6}$"
_SHAPES: dict[str, Schema] = {
    "email": {"type": "string", "pattern": _EMAIL},
    "phone": {"type": "string", "pattern": _PHONE},
    "date": {"type": "string", "pattern": rf"^(19|20)[0-9]{{2}}-{_MONTHS}-{_DAY}$"},
    "integer": {"type": "string", "pattern": r"^[0-9]{1,9}$"},
    "text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT, "pattern": _TEXT},
    SECRET: {"type": "string", "minLength": 1, "maxLength": MAX_SECRET, "pattern": _TEXT},
}


_NON_BLANK = [("RequestTextIn", "text")]


def describe(document: Schema, policy: CompiledPolicy, today: dt.date) -> Schema:
    """A copy of the generic ``document``, precise for ``policy`` (as of ``today``, which
    decides the latest date of birth a minimum age allows)."""
    described = copy.deepcopy(document)
    names = _Names(policy)
    schemas = described["components"]["schemas"]
    _restrict_components(schemas, names)
    paths = described["paths"]
    _restrict_parameters(paths, names)
    points = policy.policy.collection_points
    bodies = {
        name: _collection_body(policy, names, name, spec, schemas["CollectIn"], today)
        for name, spec in points.items()
    }
    _split(
        paths,
        schemas,
        "/v1/collect/{point}",
        "point",
        {name: ("CollectAt_" + name, body) for name, body in bodies.items()},
    )
    _split(
        paths,
        schemas,
        "/v1/collect/{point}/bulk",
        "point",
        {
            name: (
                "BulkCollectAt_" + name,
                _bulk(schemas["BulkCollectIn"], "#/components/schemas/CollectAt_" + name),
            )
            for name in bodies
        },
    )
    _split(
        paths,
        schemas,
        "/v1/subjects/{subject}/data/{field}",
        "field",
        {
            field: ("RectifyOf_" + field, _rectify_body(schemas["RectifyIn"], shapes))
            for field, shapes in _rectifiable(policy, today).items()
        },
    )
    return described


class _Names:
    """The names the policy defines, each list sorted."""

    def __init__(self, policy: CompiledPolicy) -> None:
        p = policy.policy
        self.purposes = sorted(p.purposes)
        self.categories = sorted(
            {f.category for point in p.collection_points.values() for f in point.fields.values()}
        )
        self.roles = sorted(p.roles)
        self.recipients = sorted(p.recipients)
        self.communications = sorted(p.communications)
        self.points = sorted(p.collection_points)
        self.segments = ["all", *(f"point:{name}" for name in self.points)]
        self.choices = sorted(
            f"{prefix}:{name}" for prefix, known in known_choices(policy).items() for name in known
        )
        self.reports = sorted(p.reports)
        self.credentials = sorted(
            (point, field)
            for point, spec in p.collection_points.items()
            for field, f in spec.fields.items()
            if shape_of(f.category, f.shape) == SECRET
        )


def _enum(values: Iterable[str]) -> Schema:
    return {"type": "string", "enum": list(values)}


def _replace(owner: Schema, name: str, replacement: Schema) -> None:
    """Put ``replacement`` in place of property ``name`` of ``owner`` (of its non-null branch
    when the property is optional), keeping its title, description and default."""
    current = owner["properties"][name]
    branches = current.get("anyOf")
    if branches is not None:
        current["anyOf"] = [b if b.get("type") == "null" else replacement for b in branches]
        return
    kept = {k: v for k, v in current.items() if k in ("title", "description", "default")}
    owner["properties"][name] = {**replacement, **kept}


def _list_of(items: Schema, like: Schema) -> Schema:
    """An array of ``items`` with the size limits of the generic array ``like``."""
    limits = {k: v for k, v in like.items() if k in ("minItems", "maxItems")}
    return {"type": "array", "items": items, "uniqueItems": True, **limits}


def _restrict_components(schemas: Schema, names: _Names) -> None:
    purposes, categories = _enum(names.purposes), _enum(names.categories)
    choices = _enum(names.choices)
    for model in ("DecisionIn", "BulkDecisionIn", "AggregateIn", "DisclosureIn"):
        schema = schemas[model]
        _replace(schema, "purpose", purposes)
        _replace(schema, "categories", _list_of(categories, schema["properties"]["categories"]))
    for model in ("DecisionIn", "BulkDecisionIn"):
        _replace(schemas[model], "collected_under", _enum(names.points))
    schemas["ActorIn"] = _one_of_actors(schemas["ActorIn"], names)
    _replace(schemas["ChoiceIn"], "choice", choices)
    given = schemas["ChoicesIn"]
    for side in ("granted", "withdrawn"):
        _replace(given, side, _list_of(choices, given["properties"][side]))
    # A choice may not be granted and withdrawn at once.
    given["allOf"] = [
        {
            "not": {
                "required": ["granted", "withdrawn"],
                "properties": {
                    "granted": {"contains": {"const": key}},
                    "withdrawn": {"contains": {"const": key}},
                },
            }
        }
        for key in names.choices
    ]
    # Choices or a subject, not both: one of them is absent (or null).
    schemas["DecisionIn"]["anyOf"] = [
        {"properties": {side: {"type": "null"}}} for side in ("choices", "subject")
    ]
    schemas["BulkDecisionIn"]["oneOf"] = [
        {"required": [side], "properties": {side: {"type": "array"}}}
        for side in ("subjects", "choices")
    ]
    aggregate = schemas["AggregateIn"]
    _replace(aggregate, "segment", _enum(names.segments))
    for side in ("since", "until"):
        _replace(aggregate, side, {"type": "string", "pattern": _MONTH})
    for model in ("SendIn", "CampaignIn"):
        _replace(schemas[model], "communication", _enum(names.communications))
    _replace(schemas["CampaignIn"], "segment", _enum(names.segments))
    schemas["KeyIn"] = _one_of_scopes(schemas["KeyIn"], names)
    # Free text the store strips and refuses when nothing is left.
    for model, field in _NON_BLANK:
        if model in schemas:
            limits = schemas[model]["properties"][field]
            _replace(
                schemas[model],
                field,
                {"type": "string", "maxLength": limits.get("maxLength"), "pattern": _TEXT},
            )


def _one_of_actors(generic: Schema, names: _Names) -> Schema:
    """An actor is a role, a recipient or a communication the policy names."""
    kinds = {
        "role": names.roles,
        "recipient": names.recipients,
        "communication": names.communications,
    }
    return {
        "title": generic.get("title", "ActorIn"),
        "oneOf": [
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["kind", "name"],
                "properties": {"kind": {"const": kind}, "name": _enum(known)},
            }
            for kind, known in kinds.items()
            if known
        ],
    }


def _one_of_scopes(generic: Schema, names: _Names) -> Schema:
    """Admin and collector keys act for no one; role and agent keys for a role; recipient
    keys for a recipient."""
    label = generic["properties"]["name"]

    def variant(scopes: list[str], actors: list[str] | None) -> Schema:
        properties: Schema = {"scope": _enum(scopes), "name": label}
        required = ["scope"]
        if actors is None:
            properties["actor"] = {"type": "null"}
        else:
            properties["actor"] = _enum(actors)
            required.append("actor")
        return {
            "type": "object",
            "additionalProperties": False,
            "required": required,
            "properties": properties,
        }

    variants = [variant(["admin", "collector"], None)]
    if names.roles:
        variants.append(variant(["role", "agent"], names.roles))
    if names.recipients:
        variants.append(variant(["recipient"], names.recipients))
    return {"title": generic.get("title", "KeyIn"), "oneOf": variants}


def _restrict_parameters(paths: Schema, names: _Names) -> None:
    """Path and query parameters that name something of the policy."""
    by_parameter: dict[tuple[str, str], Callable[[Schema], Schema]] = {
        ("/v1/subjects/{subject}/data", "purpose"): lambda _: _enum(names.purposes),
        ("/v1/subjects/{subject}/data", "category"): lambda generic: {
            "anyOf": [_list_of(_enum(names.categories), generic["anyOf"][0]), {"type": "null"}]
        },
    }
    if names.credentials:
        verify = "/v1/subjects/{subject}/credentials/{point}/{field}/verify"
        by_parameter[(verify, "point")] = lambda _: _enum(sorted({p for p, _ in names.credentials}))
        by_parameter[(verify, "field")] = lambda _: _enum(sorted({f for _, f in names.credentials}))
    if names.reports:
        by_parameter[("/v1/reports/{kind}", "kind")] = lambda _: _enum(names.reports)
    for (path, parameter), make in by_parameter.items():
        for operation in paths[path].values():
            for declared in operation.get("parameters", []):
                if declared["name"] == parameter:
                    kept = {k: v for k, v in declared["schema"].items() if k in ("title",)}
                    declared["schema"] = {**make(declared["schema"]), **kept}


def _split(
    paths: Schema,
    schemas: Schema,
    template: str,
    parameter: str,
    bodies: dict[str, tuple[str, Schema]],
) -> None:
    """Replace ``template`` by one path per value of ``parameter``, each with its own body
    schema (``bodies``: value -> (component name, schema))."""
    generic = paths.pop(template)
    placeholder = "{" + parameter + "}"
    for value, (component, body) in sorted(bodies.items()):
        schemas[component] = body
        item: Schema = {"x-pledge-template": template}
        for method, operation in generic.items():
            concrete = copy.deepcopy(operation)
            concrete["operationId"] = f"{operation['operationId']}_{component}"
            concrete["parameters"] = [
                p for p in concrete.get("parameters", []) if p["name"] != parameter
            ]
            content = concrete["requestBody"]["content"]["application/json"]
            content["schema"] = {"$ref": f"#/components/schemas/{component}"}
            item[method] = concrete
        paths[template.replace(placeholder, value)] = item


def _collection_body(
    policy: CompiledPolicy,
    names: _Names,
    name: str,
    point: CollectionPoint,
    generic: Schema,
    today: dt.date,
) -> Schema:
    """What collection point ``name`` takes, field by field."""
    youngest = _youngest(policy, name)
    fields: Schema = {}
    required: list[str] = []
    for field, spec in point.fields.items():
        if policy.is_pass_through(spec.category):
            continue  # never sent to Pledge
        shape = shape_of(spec.category, spec.shape)
        fields[field] = _value_schema(spec.category, shape, youngest, today)
        if spec.required:
            required.append(field)
    offered = []
    for key in names.choices:
        try:
            check_offered(policy, name, key)
        except InputError:
            continue
        offered.append(key)
    properties = copy.deepcopy(generic["properties"])
    properties["fields"] = {
        "type": "object",
        "additionalProperties": False,
        "properties": fields,
        "required": required,
        "description": generic["properties"]["fields"].get("description", ""),
    }
    properties["choices"] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {key: {"type": "boolean"} for key in offered},
        "description": "The choices this point's form offers.",
    }
    age: Schema = {"type": "integer", "minimum": youngest or 0, "maximum": 150}
    needs_age = point.min_age is not None
    properties["age"] = age if needs_age else {"anyOf": [age, {"type": "null"}]}
    if youngest is not None:
        properties["age"]["description"] = f"The person's age; {youngest} or more."
    return {
        "title": f"Collection at {name}",
        "description": point.description,
        "type": "object",
        "additionalProperties": False,
        "required": ["fields", *(["age"] if needs_age else [])],
        "properties": properties,
    }


def _youngest(policy: CompiledPolicy, point: str) -> int | None:
    """The youngest age the document allows at ``point``: its minimum age, and where the
    policy has a children section, the highest consent age of any jurisdiction (a younger
    child may still be collected from with a parent's consent in some jurisdictions; the
    document describes the requests that need no such case)."""
    ages = [minimum_age(policy.policy, point), consent_age(policy.policy, None)]
    known = [a for a in ages if a is not None]
    return max(known) if known else None


def _value_schema(category: str, shape: str, youngest: int | None, today: dt.date) -> Schema:
    """A field's value: its shape, and for a date of birth or an age, old enough."""
    if youngest is not None and category == DATE_OF_BIRTH:
        latest = today.year - youngest - 1  # born that year, old enough on any day of it
        years = "|".join(str(y) for y in range(1900, latest + 1))
        return {"type": "string", "pattern": rf"^({years})-{_MONTHS}-{_DAY}$"}
    if youngest is not None and category == AGE:
        rest = rf"([^0-9{CONTROLS}][^{CONTROLS}]*)?"
        return {"type": "string", "pattern": rf"^({_at_least(youngest)}){rest}$"}
    return copy.deepcopy(_SHAPES[shape])


def _at_least(youngest: int) -> str:
    """A regular expression for the whole numbers from ``youngest`` to 150."""
    return "|".join(str(n) for n in range(youngest, 151))


def _bulk(generic: Schema, item: str) -> Schema:
    items = generic["properties"]["items"]
    return {
        "title": generic.get("title", "BulkCollectIn"),
        "type": "object",
        "additionalProperties": False,
        "required": ["items"],
        "properties": {
            "items": {
                "type": "array",
                "items": {"$ref": item},
                **{k: v for k, v in items.items() if k in ("minItems", "maxItems")},
            }
        },
    }


def _rectifiable(policy: CompiledPolicy, today: dt.date) -> dict[str, list[Schema]]:
    """Field names a correction may name, with the value schema of each point declaring it."""
    found: dict[str, list[Schema]] = {}
    for name, point in policy.policy.collection_points.items():
        youngest = _youngest(policy, name)
        for field, spec in point.fields.items():
            shape = shape_of(spec.category, spec.shape)
            if shape == SECRET or policy.is_pass_through(spec.category):
                continue
            schema = _value_schema(spec.category, shape, youngest, today)
            if schema not in found.setdefault(field, []):
                found[field].append(schema)
    return found


def _rectify_body(generic: Schema, shapes: list[Schema]) -> Schema:
    value = shapes[0] if len(shapes) == 1 else {"allOf": shapes}
    properties = copy.deepcopy(generic["properties"])
    properties["value"] = {**value, "description": "The corrected value."}
    return {**copy.deepcopy(generic), "properties": properties}
