"""A linear segment model learned from the project's own corpus, run without scikit-learn.

Features are what a TF-IDF vectoriser gives (lower-cased words of two letters or more, their
first letters as a crude stem, word pairs; sublinear term frequency, smoothed idf, unit length)
plus one feature per category: the hand-written cue score from :mod:`pledge.text.rules`, so
the model learns how far to trust each rule. One logistic regression per category
(``python -m pledge.text.train`` fits them on :mod:`pledge.text.corpus`, never on OPP-115) and
the weights ship as ``weights.tsv``: a dictionary lookup and a sum per word at run time, no
numeric library in the install.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pledge.text.rules import LABELS, scores

WEIGHTS = "weights.tsv"
_TOKEN = re.compile(r"\b\w\w+\b")
STEM = 5
"""Words longer than this also count by their first letters ("collec~"), so "collects",
"collected" and "collection" share a feature."""
RULE_SCALE = 10.0
"""Cue scores run from 0 to about 20; divided by this they sit beside TF-IDF values."""


def terms(text: str) -> Counter[str]:
    """Words, their stems and adjacent word pairs of ``text``, counted."""
    words = _TOKEN.findall(text.lower())
    stems = [f"{w[:STEM]}~" for w in words if len(w) > STEM]
    return Counter(words + stems + [f"{a} {b}" for a, b in itertools.pairwise(words)])


def rule_features(text: str) -> dict[str, float]:
    return {f"rule:{s.label}": min(s.score, 20.0) / RULE_SCALE for s in scores(text)}


def features(text: str, idf: dict[str, float]) -> dict[str, float]:
    """The sparse feature vector of ``text``; terms without an idf are not in the vocabulary."""
    weighted = {t: (1 + math.log(n)) * idf[t] for t, n in terms(text).items() if t in idf}
    norm = math.sqrt(sum(v * v for v in weighted.values())) or 1.0
    return {t: v / norm for t, v in weighted.items()} | rule_features(text)


@dataclass(frozen=True, slots=True)
class Model:
    labels: tuple[str, ...]
    threshold: float
    intercepts: tuple[float, ...]
    idf: dict[str, float]
    coefficients: dict[str, tuple[float, ...]]

    def probabilities(self, text: str) -> dict[str, float]:
        """Each category's probability for ``text``, from its own logistic regression."""
        totals = list(self.intercepts)
        for name, value in features(text, self.idf).items():
            for i, c in enumerate(self.coefficients.get(name, ())):
                totals[i] += c * value
        return {
            label: 1 / (1 + math.exp(-max(-30.0, min(30.0, t))))
            for label, t in zip(self.labels, totals, strict=True)
        }

    def classify(self, text: str) -> list[str]:
        """Categories at or above the threshold, most likely first; at least the likeliest."""
        ranked = sorted(self.probabilities(text).items(), key=lambda item: -item[1])
        return [ranked[0][0]] + [label for label, p in ranked[1:] if p >= self.threshold]

    def dump(self) -> str:
        lines = [
            "# Segment model trained by `python -m pledge.text.train` on pledge/text/corpus.",
            "labels\t" + "\t".join(self.labels),
            f"threshold\t{self.threshold}",
            "intercept\t-\t" + "\t".join(f"{c:g}" for c in self.intercepts),
        ]
        for name, row in sorted(self.coefficients.items()):
            idf = f"{self.idf[name]:g}" if name in self.idf else "-"
            lines.append(f"{name}\t{idf}\t" + "\t".join(f"{c:g}" for c in row))
        return "\n".join(lines) + "\n"


def parse(text: str) -> Model:
    rows = [line.split("\t") for line in text.splitlines() if line and line[0] != "#"]
    head = {row[0]: row[1:] for row in rows[:3]}
    labels = tuple(head["labels"])
    if labels != LABELS:
        raise ValueError(f"{WEIGHTS} is for other categories: retrain the model")
    idf: dict[str, float] = {}
    coefficients: dict[str, tuple[float, ...]] = {}
    for name, name_idf, *row in rows[3:]:
        if name_idf != "-":
            idf[name] = float(name_idf)
        coefficients[name] = tuple(float(c) for c in row)
    return Model(
        labels=labels,
        threshold=float(head["threshold"][0]),
        intercepts=tuple(float(c) for c in head["intercept"][1:]),
        idf=idf,
        coefficients=coefficients,
    )


@cache
def shipped() -> Model:
    """The model in the package, read once."""
    return parse(resources.files(__package__).joinpath(WEIGHTS).read_text("utf-8"))
