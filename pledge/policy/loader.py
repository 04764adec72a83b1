"""Reading a policy file: YAML in, a checked :class:`Policy` out, or one error that says where.

YAML is composed node by node so that every key and value keeps its line and column; pydantic's
errors carry a path, which we turn back into that position. Unknown keys come with the nearest
valid key, because a typo in a privacy policy should never pass as a silent default.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from pledge.errors import PolicyError
from pledge.policy.model import Policy

Loc = tuple[str | int, ...]


class _Positions:
    """Line/column (1-based) of each key and value in a YAML document, by path."""

    def __init__(self) -> None:
        self.keys: dict[Loc, tuple[int, int]] = {}
        self.values: dict[Loc, tuple[int, int]] = {}

    def find(self, loc: Loc, *, key: bool = False) -> tuple[int | None, int | None]:
        """The position of ``loc``, or of its nearest enclosing part that has one."""
        table = self.keys if key else self.values
        for end in range(len(loc), -1, -1):
            found = table.get(loc[:end]) or self.values.get(loc[:end])
            if found:
                return found
        return None, None


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _index(node: yaml.Node, loc: Loc, positions: _Positions, file: str) -> None:
    positions.values[loc] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                line, column = _mark(key_node)
                raise PolicyError(
                    f"key '{key}' appears twice; keep one",
                    file=file,
                    line=line,
                    column=column,
                    path=dotted((*loc, key)),
                )
            seen.add(key)
            positions.keys[(*loc, key)] = _mark(key_node)
            _index(value_node, (*loc, key), positions, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*loc, i), positions, file)


def dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys allowed where ``loc`` points, for suggesting the one a typo meant."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                field = next((f for f in annotation.model_fields.values() if f.alias == part), None)
            if field is None:
                return []
            annotation = field.annotation
        elif typing.get_origin(annotation) in (dict, list):
            annotation = typing.get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or name for name, f in annotation.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip ``X | None`` and ``Annotated[X, ...]`` down to X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def suggest(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else nothing."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _describe(error: ErrorDetails) -> str:
    loc: Loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        allowed = _model_fields_at(Policy, loc[:-1])
        hint = suggest(str(loc[-1]), allowed) or (
            f"; allowed here: {', '.join(sorted(allowed))}" if allowed else ""
        )
        return f"unknown key '{loc[-1]}'{hint}"
    if error["type"] == "missing":
        return f"'{loc[-1]}' is required here"
    message = error["msg"].removeprefix("Value error, ")
    if isinstance(error.get("input"), str | int | float | bool):
        message += f" (got {error['input']!r})"
    return message


def _validation_error(exc: ValidationError, positions: _Positions, file: str) -> PolicyError:
    errors = exc.errors()
    # A misspelt key also makes the real one "missing"; the typo is the error to show.
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc: Loc = tuple(first["loc"])
    line, column = positions.find(loc, key=first["type"] == "extra_forbidden")
    message = _describe(first)
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return PolicyError(message, file=file, line=line, column=column, path=dotted(loc) or None)


# libyaml's parser, where PyYAML was built with it, is about ten times faster and gives the same
# nodes and marks; the pure-Python one is the fallback.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_policy(text: str, *, file: str = "<policy>") -> tuple[Policy, _Positions]:
    """Parse and shape-check policy text; consistency checks are the caller's next step."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise PolicyError("the file is empty; a policy needs at least 'pledge: 1'", file=file)
        positions = _Positions()
        _index(node, (), positions, file)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise PolicyError(
            f"not valid YAML: {exc.problem or exc.context}",
            file=file,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"not valid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise PolicyError(
            f"a policy is a mapping of keys to values, not a {type(data).__name__}",
            file=file,
            line=1,
            column=1,
        )
    try:
        return Policy.model_validate(data), positions
    except ValidationError as exc:
        raise _validation_error(exc, positions, file) from None


def read_policy_text(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError("no such file", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise PolicyError(f"cannot read the file: {reason}", file=str(path)) from None


def position_of(positions: _Positions, path: Sequence[str | int]) -> tuple[int | None, int | None]:
    return positions.find(tuple(path))
