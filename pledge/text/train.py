"""Fit the segment model on the project's corpus and write ``weights.tsv``.

Trains on the corpus's ``train`` split, picks the regularisation and the threshold by the mean
macro-F1 on its ``dev`` split, on the made-up policies of ``devpolicies.txt`` (long, mixed
segments written apart from the training sentences) and on the hand-labelled segments of the
seed policies (``devseeds.tsv``, real text, where the seeds are beside the repository), and
prints those, the scores on ``devstyles.txt`` (segments in other voices, never used to choose
anything, so they show whether a choice carries over) and the hand-written scores. OPP-115
plays no part: it is licensed for evaluation only. Needs scikit-learn (the ``bench`` extra);
the model it writes does not::

    .venv/bin/python -m pledge.text.train
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

from pledge.text.corpus import (
    Split,
    dev_policies,
    dev_seeds,
    dev_styles,
    handwritten,
    segments,
)
from pledge.text.model import WEIGHTS, Model, features, terms
from pledge.text.rules import LABELS

C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)
SEED_SUPPORT = 3
"""The seed policies' segments count in the macro-F1 only for categories they hold at least
this often (they have one retention segment and no Do Not Track one)."""
THRESHOLD_GRID = (0.3, 0.4, 0.5, 0.6, 0.7)
MIN_DF = 2


def f1_table(
    gold: Sequence[frozenset[str]], predicted: Sequence[Sequence[str]], min_support: int = 0
) -> dict[str, float]:
    """Per-class F1, plus ``macro`` (their mean over the classes with at least
    ``min_support`` gold segments) and ``micro`` (over all decisions)."""
    result: dict[str, float] = {}
    tp_all = fp_all = fn_all = 0
    for label in LABELS:
        tp = sum(label in g and label in p for g, p in zip(gold, predicted, strict=True))
        fp = sum(label not in g and label in p for g, p in zip(gold, predicted, strict=True))
        fn = sum(label in g and label not in p for g, p in zip(gold, predicted, strict=True))
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        result[label] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    counted = [label for label in LABELS if sum(label in g for g in gold) >= min_support]
    result["macro"] = statistics.fmean(result[label] for label in counted)
    result["micro"] = 2 * tp_all / (2 * tp_all + fp_all + fn_all)
    return result


def score(
    classify: Callable[[str], list[str]],
    rows: list[tuple[frozenset[str], str]],
    min_support: int = 0,
) -> dict[str, float]:
    return f1_table(
        [labels for labels, _ in rows], [classify(text) for _, text in rows], min_support
    )


def idf_of(texts: list[str]) -> dict[str, float]:
    """Smoothed idf of every term in at least :data:`MIN_DF` texts."""
    df = Counter(t for text in texts for t in terms(text))
    n = len(texts)
    return {t: math.log((1 + n) / (1 + d)) + 1 for t, d in df.items() if d >= MIN_DF}


def fit(rows: list[tuple[frozenset[str], str]], cs: Sequence[float]) -> list[Model]:
    """One model per regularisation strength in ``cs``, all on the same features."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    idf = idf_of([text for _, text in rows])
    names = sorted(idf) + [f"rule:{label}" for label in LABELS]
    column = {name: i for i, name in enumerate(names)}
    data, indices, indptr = [], [], [0]
    for _, text in rows:
        for name, value in features(text, idf).items():
            data.append(value)
            indices.append(column[name])
        indptr.append(len(data))
    x = csr_matrix((data, indices, indptr), shape=(len(rows), len(names)))
    models = []
    for c in cs:
        intercepts, weights = [], []
        for label in LABELS:
            y = [label in labels for labels, _ in rows]
            model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(x, y)
            intercepts.append(round(float(model.intercept_[0]), 3))
            weights.append(model.coef_[0])
        coefficients = {
            name: tuple(round(float(w[i]), 3) for w in weights) for name, i in column.items()
        }
        rounded_idf = {t: round(v, 3) for t, v in idf.items()}
        models.append(Model(LABELS, 0.5, tuple(intercepts), rounded_idf, coefficients))
    return models


def with_threshold(model: Model, threshold: float) -> Model:
    return Model(model.labels, threshold, model.intercepts, model.idf, model.coefficients)


def main() -> None:
    train, dev, policies, seeds = segments("train"), segments("dev"), dev_policies(), dev_seeds()
    best: tuple[float, Model] | None = None
    for c, fitted in zip(C_GRID, fit(train, C_GRID), strict=True):
        for threshold in THRESHOLD_GRID:
            model = with_threshold(fitted, threshold)
            on_dev = score(model.classify, dev)["macro"]
            on_policies = score(model.classify, policies)["macro"]
            on_seeds = score(model.classify, seeds, SEED_SUPPORT)["macro"] if seeds else None
            chosen_by = [on_dev, on_policies] + ([on_seeds] if on_seeds is not None else [])
            macro = statistics.fmean(chosen_by)
            print(
                f"C={c:<5} threshold={threshold}: macro-F1 dev {on_dev:.3f}, "
                f"dev policies {on_policies:.3f}, dev seeds "
                + (f"{on_seeds:.3f}" if on_seeds is not None else "(seeds not found)")
            )
            if best is None or macro > best[0]:
                best = (macro, model)
    assert best is not None
    model = best[1]
    path = Path(str(resources.files("pledge.text").joinpath(WEIGHTS)))
    path.write_text(model.dump(), "utf-8")
    split: Split
    for split in ("train", "dev"):
        table = score(model.classify, segments(split))
        print(f"{split}: macro {table['macro']:.3f} micro {table['micro']:.3f}")
    for name, rows, support in (
        ("dev policies", policies, 0),
        ("dev seeds", seeds, SEED_SUPPORT),
        ("dev styles (never used to choose)", dev_styles(), 0),
        ("handwritten", handwritten(), 0),
    ):
        if not rows:
            continue
        table = score(model.classify, rows, support)
        print(f"{name}: macro {table['macro']:.3f} micro {table['micro']:.3f}")
        print("  " + ", ".join(f"{label} {table[label]:.2f}" for label in LABELS))
    print(f"wrote {path} (threshold {model.threshold}, {len(model.coefficients)} features)")


if __name__ == "__main__":
    main()
