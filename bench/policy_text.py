"""Policy text: how well segments are classified, and how fast a policy is drafted and linted.

1. The shipped classifier (``pledge.text.classify``: hand-written rules, trained on nothing)
   on the OPP-115 majority test split (697 segments, 12 categories): macro-, micro- and
   per-class F1. In the same run, the peer: TF-IDF + logistic regression trained on the
   OPP-115 train split (one-vs-rest, scikit-learn). OPP-115 is licensed for research and
   evaluation only: it is read here to measure, and nothing that ships is trained or tuned
   on it; the reference model is thrown away when the script ends.
2. Seconds per policy for the classifier and for import (segment, classify, extract, draft)
   of each seed text, and draft + lint of all five seeds.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/policy_text.py            # full run, rewrites its section
    .venv/bin/python bench/policy_text.py --quick    # 100 test segments, writes nothing
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

from _report import ROOT, machine_summary, write_section

from pledge.text.classify import LABELS, classify

SHARED = next(
    (p / "shared" for p in ROOT.parents if (p / "shared" / "seeds").is_dir()), ROOT / "shared"
)  # ../shared beside the repository, or beside the folder of worktrees
DATA = SHARED / "data" / "opp115" / "polisis_benchmark_majority"
SEEDS = SHARED / "seeds"

Split = list[tuple[str, frozenset[str]]]


def load(name: str) -> Split:
    """Rows of (segment, label), grouped by segment into a set of labels, in file order."""
    grouped: dict[str, set[str]] = defaultdict(set)
    with (DATA / f"{name}_dataset.csv").open(newline="", encoding="utf-8") as f:
        for text, label in csv.reader(f):
            grouped[text].add(label)
    return [(text, frozenset(labels)) for text, labels in grouped.items()]


def f1_table(
    gold: Sequence[frozenset[str]], predicted: Sequence[Sequence[str]]
) -> dict[str, float]:
    """Per-class F1, plus ``macro`` (their mean) and ``micro`` (over all decisions)."""
    result: dict[str, float] = {}
    tp_all = fp_all = fn_all = 0
    for label in LABELS:
        tp = sum(label in g and label in p for g, p in zip(gold, predicted, strict=True))
        fp = sum(label not in g and label in p for g, p in zip(gold, predicted, strict=True))
        fn = sum(label in g and label not in p for g, p in zip(gold, predicted, strict=True))
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        result[label] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    result["macro"] = statistics.fmean(result[label] for label in LABELS)
    result["micro"] = 2 * tp_all / (2 * tp_all + fp_all + fn_all)
    return result


def reference(train: Split) -> Callable[[list[str]], list[list[str]]]:
    """TF-IDF + one-vs-rest logistic regression trained on OPP-115's train split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    binarizer = MultiLabelBinarizer(classes=list(LABELS))
    y = binarizer.fit_transform([labels for _, labels in train])
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x = vectorizer.fit_transform([text for text, _ in train])
    model = OneVsRestClassifier(LogisticRegression(C=10, max_iter=1000, class_weight="balanced"))
    model.fit(x, y)

    def predict(texts: list[str]) -> list[list[str]]:
        rows = model.predict(vectorizer.transform(texts))
        return [[LABELS[i] for i, on in enumerate(row) if on] for row in rows]

    return predict


TRIED = """\
**Goal missed** (macro-F1 >= 0.75 without training on OPP-115). What was tried: weighted
cue phrases per category, written from how policies are phrased, with a threshold and a
relative cut for multi-label output (0.627 macro / 0.665 micro); then cues for section titles
that open a segment (0.638 / 0.678). Cues and thresholds were checked only against the
project's own labelled segments (`pledge/text/labelled_segments.txt`); the OPP-115 test split
was scored three times in all, and no cue was written from its errors, because tuning on it
would make the figure meaningless and break its licence. Not tried, for want of time: a
classical model trained on a larger project-written corpus, and the packaged MiniLM
embedding model (its zero-shot use with keyword rules measured about 0.63 / 0.68 here, at the
cost of torch in the install). The weakest categories are "Practice not covered" and "User
Access, Edit and Deletion", where the peer trained on OPP-115 is also weak or far ahead.
"""


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def seed_timings() -> tuple[dict[str, float], float]:
    from pledge.text.draft import draft_policy
    from pledge.text.lint import lint_text
    from pledge.text.segment import read_file

    files = sorted(SEEDS.glob("*.txt"))
    per_policy = {f.name: timed(lambda f=f: draft_policy(read_file(f))) for f in files}

    def all_five() -> None:
        for f in files:
            document = read_file(f)
            draft_policy(document)
            lint_text(document)

    return per_policy, timed(all_five, repeat=3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 test segments; writes nothing")
    parser.add_argument("--write", action="store_true", help="write the section even if quick")
    args = parser.parse_args()

    test = load("test")
    if args.quick:
        test = test[:100]
    texts, gold = [t for t, _ in test], [g for _, g in test]

    start = time.perf_counter()
    ours = [classify(t) for t in texts]
    ours_seconds = time.perf_counter() - start
    ours_f1 = f1_table(gold, ours)

    start = time.perf_counter()
    peer_predict = reference(load("train"))
    peer_train_seconds = time.perf_counter() - start
    peer_f1 = f1_table(gold, peer_predict(texts))

    per_policy, five = seed_timings()

    lines = [
        "## Policy text: segment classification, import and lint",
        "",
        machine_summary(packages=("pledge", "scikit-learn")),
        "",
        f"Command: `.venv/bin/python bench/policy_text.py{' --quick' if args.quick else ''}`. "
        f"OPP-115 majority test split: {len(test)} segments, 12 categories. Ours: the shipped "
        "rules (`pledge/text/classify.py`), trained on nothing. Peer, same run: TF-IDF (1-2 "
        "grams) + one-vs-rest logistic regression trained on the OPP-115 train split "
        f"({peer_train_seconds:.1f} s to train; evaluation only, never shipped). "
        "Goal: macro-F1 >= 0.75 without training on OPP-115.",
        "",
        "| F1 | ours (rules) | peer (TF-IDF + LR, trained on OPP-115) |",
        "|---|---|---|",
        f"| **macro** | **{ours_f1['macro']:.3f}** | **{peer_f1['macro']:.3f}** |",
        f"| **micro** | **{ours_f1['micro']:.3f}** | **{peer_f1['micro']:.3f}** |",
    ]
    lines += [f"| {label} | {ours_f1[label]:.3f} | {peer_f1[label]:.3f} |" for label in LABELS]
    lines += [
        "",
        f"Classifying the {len(test)} segments took {ours_seconds:.2f} s "
        f"({ours_seconds / len(test) * 1000:.2f} ms a segment).",
        "",
        "| seed text | import (segment, classify, extract, draft), best of 5 |",
        "|---|---|",
    ]
    lines += [f"| {name} | {seconds:.3f} s |" for name, seconds in per_policy.items()]
    lines += ["", f"Draft + lint of all five seeds: {five:.2f} s (goal < 5 s; best of 3)."]
    lines += ["", TRIED]
    report = "\n".join(lines)
    print(report)
    if not args.quick or args.write:
        write_section("policy-text", report)


if __name__ == "__main__":
    main()
