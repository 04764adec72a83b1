"""The project's own labelled corpus of policy segments, the only data the classifier learns from.

OPP-115 is licensed for evaluation only, so the segment model is trained on text Pledge wrote:
``sentences.txt`` (sentences and templates, grouped by category, with section titles) and
``slots.txt`` (the vocabulary a template's ``{slot}`` draws from). :func:`segments` expands
them into paragraphs the way policies are written: one to six sentences of a category,
sometimes under a section title, sometimes with sentences of a second category (then labelled
with both). Every fifth sentence and title of each category is kept for ``dev`` only, so the
dev segments are made of sentences the model never saw in training. The draw is seeded: the
same split gives the same segments on every machine.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

Split = Literal["train", "dev"]

DEV_EVERY = 5
"""Sentence ``i`` of a category is dev when ``i % DEV_EVERY == DEV_EVERY // 2``."""
MAX_SENTENCES = 6
PER_CATEGORY = {"train": 160, "dev": 40}
TITLE_RATE = 0.35
SECOND_CATEGORY_RATE = 0.2
SEED = {"train": 1, "dev": 2}

_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Category:
    titles: tuple[str, ...]
    sentences: tuple[str, ...]


def _read(name: str) -> list[str]:
    text = resources.files(__package__).joinpath(name).read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


@cache
def slots() -> dict[str, tuple[str, ...]]:
    """Slot name to its choices."""
    found = {}
    for line in _read("slots.txt"):
        name, _, choices = line.partition("=")
        found[name.strip()] = tuple(c.strip() for c in choices.split("|"))
    return found


@cache
def categories() -> dict[str, Category]:
    """Category to its section titles and sentences, in file order."""
    grouped: dict[str, tuple[list[str], list[str]]] = {}
    current = ""
    for line in _read("sentences.txt"):
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            grouped[current] = ([], [])
        elif line.startswith("## "):
            grouped[current][0].append(line[3:])
        else:
            grouped[current][1].append(line)
    return {label: Category(tuple(t), tuple(s)) for label, (t, s) in grouped.items()}


def _part(items: tuple[str, ...], split: Split) -> list[str]:
    dev = [i % DEV_EVERY == DEV_EVERY // 2 for i in range(len(items))]
    return [item for item, is_dev in zip(items, dev, strict=True) if is_dev == (split == "dev")]


def _fill(template: str, rng: random.Random) -> str:
    return _SLOT.sub(lambda m: rng.choice(slots()[m.group(1)]), template)


def segments(split: Split) -> list[tuple[frozenset[str], str]]:
    """Labelled segments (categories, text) of ``split``, the same on every call."""
    rng = random.Random(SEED[split])  # noqa: S311 (a reproducible draw, not a secret)
    parts = {
        label: (_part(c.titles, split), _part(c.sentences, split))
        for label, c in categories().items()
    }
    labels = sorted(parts)
    found = []
    for label in labels:
        titles, sentences = parts[label]
        for _ in range(PER_CATEGORY[split]):
            chosen = rng.sample(sentences, k=min(len(sentences), rng.randint(1, MAX_SENTENCES)))
            body = [_fill(s, rng) for s in chosen]
            tags = {label}
            if rng.random() < SECOND_CATEGORY_RATE:
                other = rng.choice([x for x in labels if x != label])
                extra = rng.sample(parts[other][1], k=rng.randint(1, 2))
                body += [_fill(s, rng) for s in extra]
                tags.add(other)
            text = " ".join(body)
            if titles and rng.random() < TITLE_RATE:
                text = f"{_fill(rng.choice(titles), rng)}\n{text}"
            found.append((frozenset(tags), text))
    return found


def handwritten() -> list[tuple[frozenset[str], str]]:
    """Segments written one by one for the project (``handwritten.txt``), never trained on."""
    rows = [line.split("\t", 1) for line in _read("handwritten.txt")]
    return [(frozenset(labels.split(";")), text) for labels, text in rows]
