"""Policy file in, compiled policy out: parse, shape-check, then check the parts agree."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pledge.errors import PolicyError
from pledge.policy.compiled import CompiledPolicy, compile_policy
from pledge.policy.consistency import problems
from pledge.policy.loader import dotted, parse_policy, read_policy_text
from pledge.policy.windows import Windows


def load_policy_text(
    text: str,
    *,
    file: str = "<policy>",
    history: Iterable[CompiledPolicy] = (),
    windows: Windows | None = None,
) -> CompiledPolicy:
    policy, positions = parse_policy(text, file=file)
    found = problems(policy)
    if found:
        (loc, message), more = found[0], len(found) - 1
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        line, column = positions.find(loc)
        path = dotted(loc)
        raise PolicyError(message, file=file, line=line, column=column, path=path)
    return compile_policy(policy, history, windows)


def load_policy(path: str | Path, history: Iterable[CompiledPolicy] = ()) -> CompiledPolicy:
    """Read, check and compile the policy file at ``path``; any problem is a PolicyError that
    names the file, line and column."""
    return load_policy_text(read_policy_text(path), file=str(path), history=history)
