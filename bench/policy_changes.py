"""How long the policy lifecycle commands take: ``pledge policy diff`` (goal: under 50 ms for
two policies) and ``pledge policy render``, with a textual diff of the same two files (what a
reviewer sees in git, via difflib) measured in the same run for reference.

    python bench/policy_changes.py [--repeat N]

Writes the ``policy-changes`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_summary, write_section

from pledge.policy import load_policy_text
from pledge.policy.diff import diff_policies
from pledge.policy.notice import build_notice, render_notice

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"


def changed(text: str) -> str:
    """A new version of a policy with several material and non-material edits."""
    data = yaml.safe_load(text)
    new = copy.deepcopy(data)
    new["version"] = "next"
    new["changes"]["notice_days"] = max(0, new["changes"]["notice_days"] - 10)
    first = next(iter(new["collection_points"].values()))
    first["description"] = "Reworded"
    new["recipients"]["bench_broker"] = {
        "kind": "partner",
        "purposes": [first["purposes"][0]],
        "categories": [next(iter(first["fields"].values()))["category"]],
        "condition": "consent",
    }
    return yaml.safe_dump(new, sort_keys=False)


def median_ms(work: Callable[[], object], repeat: int) -> float:
    work()  # warm caches (taxonomy, templates) as a running process has them
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    rows = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        old_text = path.read_text()
        new_text = changed(old_text)
        old = load_policy_text(old_text).policy
        new = load_policy_text(new_text).policy
        load_both = median_ms(
            lambda o=old_text, n=new_text: (load_policy_text(o), load_policy_text(n)), args.repeat
        )
        semantic = median_ms(lambda o=old, n=new: diff_policies(o, n), args.repeat)
        textual = median_ms(
            lambda o=old_text, n=new_text: list(
                difflib.unified_diff(o.splitlines(), n.splitlines(), lineterm="")
            ),
            args.repeat,
        )
        render = median_ms(
            lambda o=old, n=new: render_notice(build_notice(n, [o]), "html"), args.repeat
        )
        changes = diff_policies(old, new)
        rows.append(
            f"| {path.stem} | {len(changes.changes)} ({len(changes.material)} material) | "
            f"{load_both + semantic:.1f} | {semantic:.2f} | {textual:.2f} | {render:.1f} |"
        )
    body = "\n".join(
        [
            "## Policy changes: diff and rendered notice",
            "",
            machine_summary(("pledge", "fideslang", "jinja2")),
            f"- Command: `python bench/policy_changes.py --repeat {args.repeat}` (median of the "
            "repeats, warm process)",
            "",
            "Each example policy against a derived version with a new recipient, a shorter "
            "notice period and a reworded description. *diff total* is what `pledge policy diff` "
            "does: load and check both files, then compare; *difflib* is a line diff of the same "
            "two YAML texts (the reference: what git shows a reviewer, with no meaning attached).",
            "",
            "| policy | changes found | diff total (ms) | semantic compare alone (ms) | "
            "difflib, same files (ms) | render notice with history (ms) |",
            "|---|---|---:|---:|---:|---:|",
            *rows,
            "",
            "Goal: a diff of two policies in under 50 ms (diff total above).",
        ]
    )
    write_section("policy-changes", body)
    print(body)


if __name__ == "__main__":
    main()
