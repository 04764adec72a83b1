"""Notice windows: when the new uses of a published version reach data collected before it.

A material change may reach data already held only after the people it touches were told and
had time to say no. Each version's window opens when it is published and lasts its notice
period: the longer of what the version before it promised and what it says itself (a shorter
period is a change people are told about under the longer one). Data collected under an older
version moves on like this:

* express consent to a version (the choice ``policy:<version>`` granted) makes the person's
  data follow that version at once;
* where a version sets ``changes.material_change_needs_consent: false``, its new uses reach
  older data when its window closes, for everyone who did not opt out (``policy:<version>``
  withdrawn); versions are taken one at a time, so an opt-out of one holds the later ones back
  too, and a version that asks for consent stops the walk;
* however the data moved on, a limit the person set under the version it followed before
  (a choice refused, an opt-in never given) holds until they consent expressly.

Pure: the moment is an input (:meth:`Windows.at`), never read from a clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pledge.policy.decision import Choices, version_choice
from pledge.policy.model import Policy


def window_ends(published: Sequence[tuple[Policy, dt.datetime]]) -> dict[str, dt.datetime]:
    """When each version's window closes, from the versions and when each was published
    (oldest first)."""
    ends: dict[str, dt.datetime] = {}
    before: Policy | None = None
    for policy, at in published:
        days = policy.changes.notice_days
        if before is not None:
            days = max(days, before.changes.notice_days)
        ends[policy.version] = at + dt.timedelta(days=days)
        before = policy
    return ends


@dataclass(frozen=True, slots=True)
class Followed:
    """Which version a value's limits come from now.

    ``version``: the version whose rules the value follows; ``base``: the version whose
    limits of the person's own still hold (where it was collected, or the latest the person
    consented to); ``waiting``: the next version, whose window is still open; ``opted_out``:
    the next version, which the person refused."""

    version: str
    base: str
    waiting: str | None = None
    opted_out: str | None = None


@dataclass(frozen=True)
class Windows:
    """Every version on record (oldest first), when each one's window closes, and which had
    closed at the moment this value stands for."""

    order: tuple[str, ...]
    ends: Mapping[str, dt.datetime] = field(default_factory=dict)
    closed: frozenset[str] = frozenset()

    def closed_at(self, now: dt.datetime) -> frozenset[str]:
        return frozenset(version for version, end in self.ends.items() if end <= now)

    def at(self, now: dt.datetime) -> Windows:
        closed = self.closed_at(now)
        return self if closed == self.closed else Windows(self.order, self.ends, closed)

    def follows(
        self, collected: str, active: str, choices: Choices, opt_out: Mapping[str, bool]
    ) -> Followed:
        """The versions a value collected under ``collected`` follows, while ``active`` is in
        force; ``opt_out`` says, per version, whether its window (not consent) carries data
        forward."""
        if collected not in self.order or active not in self.order:
            return Followed(collected, collected)
        start, stop = self.order.index(collected), self.order.index(active)
        if start >= stop:
            return Followed(collected, collected)
        later = self.order[start + 1 : stop + 1]
        base = collected
        for version in reversed(later):
            if version_choice(version) in choices.granted:
                base = version
                break
        follows = base
        for version in later[later.index(base) + 1 if base in later else 0 :]:
            if version_choice(version) in choices.withdrawn:
                return Followed(follows, base, opted_out=version)
            if not opt_out.get(version, False):
                return Followed(follows, base)
            if version not in self.closed:
                return Followed(follows, base, waiting=version)
            follows = version
        return Followed(follows, base)

    def end_of(self, version: str) -> dt.datetime | None:
        return self.ends.get(version)
