"""docs/policy-reference.md keeps step with pledge/policy/model.py.

A field added to the policy model without a line in the reference fails here, as does a value
of one of its choices, and the reference's complete example must load as a policy.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from pledge.policy import load_policy_text
from pledge.policy.model import Policy

REFERENCE = Path(__file__).parents[1] / "docs" / "policy-reference.md"
TEXT = REFERENCE.read_text(encoding="utf-8")


def parts(annotation: Any) -> Iterator[type]:
    """The classes an annotation is made of: ``dict[str, list[X] | None]`` yields X."""
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        yield annotation
    for arg in typing.get_args(annotation):
        yield from parts(arg)


def walk(model: type[BaseModel], seen: set[type]) -> Iterator[type]:
    """``model`` and every model and enum its fields use, each once."""
    if model in seen:
        return
    seen.add(model)
    yield model
    for field in model.model_fields.values():
        for part in parts(field.annotation):
            if issubclass(part, BaseModel):
                yield from walk(part, seen)
            elif issubclass(part, Enum) and part not in seen:
                seen.add(part)
                yield part


TYPES = list(walk(Policy, set()))
MODELS = [t for t in TYPES if issubclass(t, BaseModel)]
ENUMS = [t for t in TYPES if issubclass(t, Enum)]

FIELDS = [
    pytest.param(field.alias or name, id=f"{model.__name__}.{field.alias or name}")
    for model in MODELS
    for name, field in model.model_fields.items()
]
VALUES = [
    pytest.param(str(member.value), id=f"{enum.__name__}.{member.value}")
    for enum in ENUMS
    for member in enum
]


def test_the_walk_reaches_nested_models() -> None:
    names = {model.__name__ for model in MODELS}
    assert {"Policy", "Organisation", "FieldSpec", "Recipient", "TermDef", "LegalHold"} <= names
    assert {"Basis", "Condition", "Right", "CookieCategory"} <= {e.__name__ for e in ENUMS}


@pytest.mark.parametrize("key", FIELDS)
def test_every_field_is_documented(key: str) -> None:
    assert f"`{key}`" in TEXT, f"docs/policy-reference.md does not mention `{key}`"


@pytest.mark.parametrize("value", VALUES)
def test_every_choice_of_value_is_documented(value: str) -> None:
    assert f"`{value}`" in TEXT, f"docs/policy-reference.md does not explain `{value}`"


def test_the_complete_example_is_a_valid_policy() -> None:
    section = TEXT.split("## A complete policy", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert example is not None
    policy = load_policy_text(example.group(1), file="docs/policy-reference.md").policy
    for section_name in Policy.model_fields:
        assert section_name in policy.model_fields_set, f"the example leaves out {section_name}"
