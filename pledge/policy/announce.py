"""What people are told when a version with material changes comes into force: the home-page
banner, and the lines of the notice mailed to those whose data a change touches.

The words come from the diff (:mod:`pledge.policy.diff`), so the notice says exactly what
changed, and from the version's notice period (:mod:`pledge.policy.windows`), so it says when
the change reaches the person's data and how to stop that. Pure: the store supplies which
points each person gave data at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pledge.policy.compiled import CompiledPolicy
from pledge.policy.diff import Change, PolicyDiff, diff_policies
from pledge.policy.impact import Touch


@dataclass(frozen=True)
class Announcement:
    """The version in force, the one before it, what changed materially, and when the new
    uses reach older data (None: only with the person's express consent)."""

    version: str
    previous: str
    diff: PolicyDiff
    takes_effect: dt.datetime | None
    organisation: str

    @property
    def material(self) -> tuple[Change, ...]:
        return self.diff.material

    def banner(self) -> str:
        """The text for the website's home page while the notice period runs."""
        count = len(self.material)
        lead = (
            f"{self.organisation} has changed its privacy policy (version {self.version}): "
            f"{count} change{'s' if count != 1 else ''} affect{'s' if count == 1 else ''} "
            "how we use the data you gave us."
        )
        return f"{lead} {self.when()} Read what changed in the privacy notice."

    def when(self) -> str:
        """When the changes reach data already given, and what the person can do about it."""
        if self.takes_effect is None:
            return (
                "They apply to data you gave us earlier only if you agree to them; until then "
                "we keep to the rules you gave it under."
            )
        return (
            f"They apply to data you gave us earlier from {self.takes_effect:%d %B %Y}, "
            "unless you opt out before then; limits you set yourself stay as they are."
        )

    def lines_for(self, touches: Sequence[Touch], points: Iterable[str]) -> list[str]:
        """The changes that reach a person who gave data at ``points``, in plain words."""
        held = set(points)
        return [
            _sentence(t.change.summary)
            for t in touches
            if t.points is None or not held.isdisjoint(t.points)
        ]


def announcement(policy: CompiledPolicy) -> Announcement | None:
    """The announcement of the version ``policy`` enforces, against the version published
    before it; None for the first version, or when no earlier one is on record."""
    order = policy.windows.order
    if policy.version not in order or order.index(policy.version) == 0:
        return None
    previous = order[order.index(policy.version) - 1]
    if previous not in policy.history:
        return None
    diff = diff_policies(policy.history[previous].policy, policy.policy)
    window = not policy.policy.changes.material_change_needs_consent
    return Announcement(
        policy.version,
        previous,
        diff,
        policy.windows.end_of(policy.version) if window else None,
        policy.policy.organisation.name,
    )


def _sentence(summary: str) -> str:
    return summary[:1].upper() + summary[1:] + ("" if summary.endswith(".") else ".")
