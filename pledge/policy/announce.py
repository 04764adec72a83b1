"""What people are told when a version with material changes comes into force: the home-page
banner, and the lines of the notice mailed to those whose data a change touches.

The words come from the diff (:mod:`pledge.policy.diff`), so the notice says exactly what
changed, and from the version's notice period (:mod:`pledge.policy.windows`), so it says when
the change reaches the person's data and how to stop that. Pure: the store supplies which
points each person gave data at.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from pledge.policy.compiled import CompiledPolicy
from pledge.policy.consistency import taxonomy_for
from pledge.policy.diff import Change, PolicyDiff, diff_policies
from pledge.policy.impact import Touch
from pledge.policy.model import Policy, Recipient
from pledge.policy.notice import Names


@dataclass(frozen=True)
class Announcement:
    """The version in force, the one before it, what changed materially, and when its notice
    period ends (None: not known, or the new uses reach older data only with consent)."""

    version: str
    previous: str
    diff: PolicyDiff
    takes_effect: dt.datetime | None
    policy: Policy

    @property
    def organisation(self) -> str:
        return self.policy.organisation.name

    @cached_property
    def names(self) -> Names:
        return Names(taxonomy_for(self.policy))

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
        if self.policy.changes.material_change_needs_consent:
            return (
                "They apply to data you gave us earlier only if you agree to them; until then "
                "we keep to the rules you gave it under."
            )
        when = (
            f"from {self.takes_effect:%d %B %Y}"
            if self.takes_effect is not None
            else f"once {self.policy.changes.notice_days} days' notice are over"
        )
        return (
            f"They apply to data you gave us earlier {when}, unless you opt out before then; "
            "limits you set yourself stay as they are."
        )

    def lines_for(self, touches: Sequence[Touch], points: Iterable[str]) -> list[str]:
        """The changes that reach a person who gave data at ``points``, in plain words."""
        held = set(points)
        return [
            self.words(t.change)
            for t in touches
            if t.points is None or not held.isdisjoint(t.points)
        ]

    def words(self, change: Change) -> str:
        """One change as the person reads it: the names of uses and recipients rather than
        the file's keys, where the kind of change allows; else the diff's own summary."""
        item = _ITEM.search(change.summary)
        path = (change.new_path or "").split(".")
        named = item.group(1) if item else ""
        policy = self.policy
        if change.kind == "point_purpose_added" and path[1] in policy.collection_points:
            point = policy.collection_points[path[1]]
            return (
                f'What you gave us for "{point.description or path[1]}" may now also be '
                f"used for: {self.names.use(named)}."
            )
        if change.kind == "field_purpose_added" and path[1] in policy.collection_points:
            return (
                f"The {path[3].replace('_', ' ')} you gave us may now also be used for: "
                f"{self.names.use(named)}."
            )
        if change.kind == "recipient_added" and named in policy.recipients:
            recipient = policy.recipients[named]
            return (
                f"Your data may now go to a new recipient, {_called(named, recipient)}, for: "
                f"{self.names.uses(recipient.purposes)}."
            )
        if change.kind == "grant_purpose_added" and path[1] in policy.recipients:
            recipient = policy.recipients[path[1]]
            return (
                f"The recipient {_called(path[1], recipient)} may now receive your data for: "
                f"{self.names.use(named)}."
            )
        return _sentence(change.summary)


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
        policy.policy,
    )


_ITEM = re.compile(r"'([^']+)'$")


def _called(name: str, recipient: Recipient) -> str:
    words = name.replace("_", " ")
    return f"{words} ({recipient.description})" if recipient.description else words


def _sentence(summary: str) -> str:
    return summary[:1].upper() + summary[1:] + ("" if summary.endswith(".") else ".")
