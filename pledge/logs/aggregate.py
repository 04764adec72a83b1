"""Counting identical visits together, batch by batch, so memory stays flat.

A log of ten million lines is never held at once: each batch of lines becomes a handful of
counted rows (same hour, visitor, page, referrer, browser, status: one row), which the store
keeps, and the batch is dropped. What reports may show is decided in the store, which knows
the policy's minimum group size (:meth:`pledge.store.vault.Vault.web_log_report`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from pledge.logs.minimise import Minimiser, Visit
from pledge.logs.parse import Hit

BATCH_LINES = 50_000
SHOWN_MALFORMED = 20


@dataclass
class Intake:
    """What one intake did: lines read, visits stored, and where the bad lines were."""

    lines: int = 0
    visits: int = 0
    rows: int = 0
    malformed: int = 0
    malformed_lines: list[int] = field(default_factory=list)
    underage: int = 0  # visits dropped: they state an age under the policy's minimum

    def bad(self, line: int) -> None:
        self.malformed += 1
        if len(self.malformed_lines) < SHOWN_MALFORMED:
            self.malformed_lines.append(line)


def batches(
    parsed: Iterable[Hit | int],
    minimise: Minimiser,
    intake: Intake,
    size: int = BATCH_LINES,
) -> Iterator[dict[Visit, int]]:
    """Counted visits, one dictionary per ``size`` lines; ``intake`` tallies as it goes."""
    counts: dict[Visit, int] = {}
    seen = 0
    for item in parsed:
        seen += 1
        if isinstance(item, int):
            intake.bad(item)
        else:
            visit = minimise(item)
            if visit is None:
                intake.underage += 1
            else:
                counts[visit] = counts.get(visit, 0) + 1
        if seen == size:
            intake.lines += seen
            seen = 0
            yield counts
            counts = {}
    intake.lines += seen
    if counts:
        yield counts


def ingest(
    parsed: Iterable[Hit | int],
    minimise: Minimiser,
    store: Callable[[dict[Visit, int]], int],
    size: int = BATCH_LINES,
) -> Intake:
    """Minimise, count and store every batch; ``store`` returns the rows it wrote."""
    intake = Intake()
    for counts in batches(parsed, minimise, intake, size):
        intake.visits += sum(counts.values())
        intake.rows += store(counts)
    return intake
