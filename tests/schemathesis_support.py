"""What the schemathesis runs share: the served OpenAPI document minus the one constraint
schemathesis cannot generate from, and the test that skips the cases it would exclude.

A decision's choices may not grant and withdraw the same key. The document says so as one
``not`` per choice key (``pledge.api.openapi_policy``), which schemathesis cannot generate
from (the intersection grows with every key), so it is taken out of what cases are generated
from, and the cases it excludes are skipped: no case sent breaks it.
"""

from __future__ import annotations

from typing import Any


def generated_from(document: dict[str, Any]) -> dict[str, Any]:
    """The served document without the one constraint schemathesis cannot generate from (see
    the module's docstring); :func:`contradicts` skips what it excludes."""
    choices = document["components"]["schemas"]["ChoicesIn"]
    assert all("not" in rule for rule in choices.pop("allOf"))
    return document


def contradicts(body: Any) -> bool:
    """Whether a decision request grants and withdraws the same choice."""
    if not isinstance(body, dict):
        return False
    given = body.get("choices")
    for choices in given if isinstance(given, list) else [given]:
        if isinstance(choices, dict) and (
            set(choices.get("granted") or ()) & set(choices.get("withdrawn") or ())
        ):
            return True
    return False
