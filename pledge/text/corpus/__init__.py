"""The project's own labelled corpus of policy segments, the only data the classifier learns from.

OPP-115 is licensed for evaluation only, so the segment model is trained on text Pledge wrote:
``sentences.txt`` (sentences and templates, grouped by category) and ``slots.txt`` (the
vocabulary a template's ``{slot}`` draws from). :func:`segments` expands them into paragraphs
the way policies are written: one to six sentences of a category, sometimes with sentences of
a second category (then labelled with both). Every fifth sentence of each category is kept for
``dev`` only, so the dev segments are made of sentences the model never saw in training. The
draw is seeded: the same split gives the same segments on every machine.
"""

from __future__ import annotations

import random
import re
from functools import cache
from importlib import resources
from typing import Literal

Split = Literal["train", "dev"]

DEV_EVERY = 5
"""Sentence ``i`` of a category is dev when ``i % DEV_EVERY == DEV_EVERY // 2``."""
MAX_SENTENCES = 6
PER_CATEGORY = {"train": 160, "dev": 40}
SECOND_CATEGORY_RATE = 0.2
SEED = {"train": 1, "dev": 2}

_SLOT = re.compile(r"\{(\w+)\}")


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
def categories() -> dict[str, tuple[str, ...]]:
    """Category to its sentences, in file order."""
    grouped: dict[str, list[str]] = {}
    current = ""
    for line in _read("sentences.txt"):
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            grouped[current] = []
        else:
            grouped[current].append(line)
    return {label: tuple(sentences) for label, sentences in grouped.items()}


def _part(items: tuple[str, ...], split: Split) -> list[str]:
    dev = [i % DEV_EVERY == DEV_EVERY // 2 for i in range(len(items))]
    return [item for item, is_dev in zip(items, dev, strict=True) if is_dev == (split == "dev")]


def _fill(template: str, rng: random.Random) -> str:
    return _SLOT.sub(lambda m: rng.choice(slots()[m.group(1)]), template)


def segments(split: Split) -> list[tuple[frozenset[str], str]]:
    """Labelled segments (categories, text) of ``split``, the same on every call."""
    rng = random.Random(SEED[split])  # noqa: S311 (a reproducible draw, not a secret)
    parts = {label: _part(sentences, split) for label, sentences in categories().items()}
    labels = sorted(parts)
    found = []
    for label in labels:
        sentences = parts[label]
        for _ in range(PER_CATEGORY[split]):
            chosen = rng.sample(sentences, k=min(len(sentences), rng.randint(1, MAX_SENTENCES)))
            body = [_fill(s, rng) for s in chosen]
            tags = {label}
            if rng.random() < SECOND_CATEGORY_RATE:
                other = rng.choice([x for x in labels if x != label])
                extra = rng.sample(parts[other], k=rng.randint(1, 2))
                body += [_fill(s, rng) for s in extra]
                tags.add(other)
            found.append((frozenset(tags), " ".join(body)))
    return found


def handwritten() -> list[tuple[frozenset[str], str]]:
    """Segments written one by one for the project (``handwritten.txt``), never trained on."""
    rows = [line.split("\t", 1) for line in _read("handwritten.txt")]
    return [(frozenset(labels.split(";")), text) for labels, text in rows]
