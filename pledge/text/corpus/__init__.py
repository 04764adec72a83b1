"""The project's own labelled corpus of policy segments, the only data the classifier learns from.

OPP-115 is licensed for evaluation only, so the segment model is trained on text Pledge wrote:
``sentences.txt``, ``formal.txt``, ``voices.txt`` and ``second.txt`` (sentences and templates
grouped by category, with the section titles a segment of each may open with; the last by a
second hand, so the corpus is not one writer's habits) and ``slots.txt`` (the
vocabulary a template's ``{slot}`` draws from, and linking phrases and asides). :func:`segments`
expands them into paragraphs the way policies are written: one to seven sentences of a
category, often under a section title, some opening with a linking phrase, some with an aside
that says nothing of a practice, and sometimes with sentences of a second category mixed in
(then labelled with both). Every fifth sentence and title of each category is kept for ``dev``
only, so the dev segments are made of sentences the model never saw in training. The draw is
seeded: the same split gives the same segments on every machine. ``devpolicies.txt`` holds
whole segments of made-up policies, the second dev set; ``devstyles.txt`` segments in other
voices, a third kept apart from every choice; ``devseeds.tsv`` labels for segments of the
seed policies, the only real text; and ``handwritten.txt`` a check. None is trained on.
"""

from __future__ import annotations

import random
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

Split = Literal["train", "dev"]

SENTENCE_FILES = ("sentences.txt", "formal.txt", "voices.txt", "second.txt")
TITLE = "## "
TITLE_RATE = 0.3
"""How often a segment opens with a section title of its category, as in real policies."""
LEAD_RATE = 0.15
ASIDE_RATE = 0.15
"""How often a sentence opens with a linking phrase, and a segment carries an aside that
says nothing of a practice (both from slots.txt)."""
DEV_EVERY = 5
"""Sentence ``i`` of a category is dev when ``i % DEV_EVERY == DEV_EVERY // 2``."""
MAX_SENTENCES = 7
PER_CATEGORY = {"train": 240, "dev": 60}
SECOND_CATEGORY_RATE = 0.25
SEED = {"train": 1, "dev": 2}

_SLOT = re.compile(r"\{(\w+)\}")


def _read(name: str, *, titles: bool = False) -> list[str]:
    """The lines of ``name`` that say something: comments dropped, and "## " section titles
    too unless ``titles``."""
    text = resources.files(__package__).joinpath(name).read_text("utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [line for line in lines if line[0] != "#" or (titles and line.startswith(TITLE))]


@cache
def slots() -> dict[str, tuple[str, ...]]:
    """Slot name to its choices."""
    found = {}
    for line in _read("slots.txt"):
        name, _, choices = line.partition("=")
        found[name.strip()] = tuple(c.strip() for c in choices.split("|"))
    return found


@cache
def _grouped() -> dict[str, tuple[list[str], list[str]]]:
    """Category to its sentences and its section titles, in file order."""
    grouped: dict[str, tuple[list[str], list[str]]] = {}
    for name in SENTENCE_FILES:
        current = ""
        for line in _read(name, titles=True):
            if line.startswith("[") and line.endswith("]"):
                current = line[1:-1]
                grouped.setdefault(current, ([], []))
            elif line.startswith(TITLE):
                grouped[current][1].append(line.removeprefix(TITLE))
            else:
                grouped[current][0].append(line)
    return grouped


def categories() -> dict[str, tuple[str, ...]]:
    """Category to its sentences, in file order."""
    return {label: tuple(sentences) for label, (sentences, _) in _grouped().items()}


def titles() -> dict[str, tuple[str, ...]]:
    """Category to the section titles a segment of it may open with."""
    return {label: tuple(found) for label, (_, found) in _grouped().items()}


def _part(items: tuple[str, ...], split: Split) -> list[str]:
    dev = [i % DEV_EVERY == DEV_EVERY // 2 for i in range(len(items))]
    return [item for item, is_dev in zip(items, dev, strict=True) if is_dev == (split == "dev")]


def _fill(template: str, rng: random.Random) -> str:
    return _SLOT.sub(lambda m: rng.choice(slots()[m.group(1)]), template)


def segments(split: Split) -> list[tuple[frozenset[str], str]]:
    """Labelled segments (categories, text) of ``split``, the same on every call."""
    rng = random.Random(SEED[split])  # noqa: S311 (a reproducible draw, not a secret)
    parts = {label: _part(sentences, split) for label, sentences in categories().items()}
    heads = {label: _part(found, split) for label, found in titles().items()}
    labels = sorted(parts)
    found = []
    for label in labels:
        sentences = parts[label]
        for _ in range(PER_CATEGORY[split]):
            chosen = rng.sample(sentences, k=min(len(sentences), rng.randint(1, MAX_SENTENCES)))
            body = [_varied(_fill(s, rng), rng) for s in chosen]
            tags = {label}
            if rng.random() < SECOND_CATEGORY_RATE:
                other = rng.choice([x for x in labels if x != label])
                extra = [_fill(s, rng) for s in rng.sample(parts[other], k=rng.randint(1, 2))]
                at = rng.randint(0, len(body))
                body[at:at] = extra
                tags.add(other)
            if rng.random() < ASIDE_RATE:
                body.insert(rng.randint(0, len(body)), rng.choice(slots()["aside"]))
            if heads[label] and rng.random() < TITLE_RATE:
                body.insert(0, _title(_fill(rng.choice(heads[label]), rng), rng))
            found.append((frozenset(tags), " ".join(body)))
    return found


def _varied(sentence: str, rng: random.Random) -> str:
    """Sometimes opened with a linking phrase ("In addition, we ..."), as sentences in a
    paragraph often are."""
    if rng.random() >= LEAD_RATE or not sentence[:1].isupper() or sentence[:2].isupper():
        return sentence
    return f"{rng.choice(slots()['lead'])} {sentence[0].lower()}{sentence[1:]}"


def _title(title: str, rng: random.Random) -> str:
    """A section title as policies print it: as written, in capitals, or ending in a colon."""
    return rng.choice((title, title.upper(), f"{title}:"))


def handwritten() -> list[tuple[frozenset[str], str]]:
    """Segments written one by one for the project (``handwritten.txt``), never trained on."""
    return _labelled("handwritten.txt")


def dev_policies() -> list[tuple[frozenset[str], str]]:
    """Long, mixed segments of made-up policies (``devpolicies.txt``): the dev set that
    chooses the model's settings, never trained on."""
    return _labelled("devpolicies.txt")


def dev_styles() -> list[tuple[frozenset[str], str]]:
    """Segments in voices no training file uses (``devstyles.txt``): app-store listings, US
    legalese in capitals, phrasing translated from German, FAQ pages, cookie banners, notices of
    children's sites. Neither trained on nor used to pick settings, so a score here says whether
    a change carries over."""
    return _labelled("devstyles.txt")


def _labelled(name: str) -> list[tuple[frozenset[str], str]]:
    rows = [line.split("\t", 1) for line in _read(name)]
    return [(frozenset(labels.split(";")), text) for labels, text in rows]


def dev_seeds() -> list[tuple[frozenset[str], str]]:
    """Segments of the five seed policies, real text, with the categories ``devseeds.tsv``
    gives them by hand: the dev set nearest to what the classifier meets. The seeds are not
    the project's to ship, so the file holds only offsets, and this is empty where the seeds
    are not beside the repository (``../shared/seeds``)."""
    from pledge.text.segment import read_file

    root = Path(__file__).resolve().parents[3]
    seeds = next(
        (p / "shared" / "seeds" for p in root.parents if (p / "shared" / "seeds").is_dir()), None
    )
    if seeds is None:
        return []
    rows = [line.split("\t") for line in _read("devseeds.tsv")]
    found = []
    for name in sorted({row[0] for row in rows}):
        by_start = {segment.start: segment for segment in read_file(seeds / name).segments}
        for _, start, end, labels in (row for row in rows if row[0] == name):
            segment = by_start[int(start)]
            if segment.end != int(end):
                raise ValueError(f"devseeds.tsv no longer matches how {name} is segmented")
            found.append((frozenset(labels.split(";")), segment.plain))
    return found
