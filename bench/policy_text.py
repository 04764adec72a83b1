"""Policy text: how well segments are classified, and how fast a policy is drafted and linted.

1. The shipped classifier (``pledge.text.classify``: a linear model over TF-IDF terms and the
   hand-written cue scores, trained on the project's own corpus ``pledge/text/corpus``) and
   the cue rules alone, on the OPP-115 majority test split (697 segments, 12 categories):
   macro-, micro- and per-class F1, beside their scores on the corpus's dev split and the
   hand-written segments. In the same run, the peer: TF-IDF + logistic regression trained on
   the OPP-115 train split (one-vs-rest, scikit-learn). OPP-115 is licensed for research and
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
import time
from collections import defaultdict
from collections.abc import Callable

from _report import ROOT, machine_summary, write_section

from pledge.text import rules
from pledge.text.classify import LABELS, classify
from pledge.text.corpus import dev_policies, dev_styles, handwritten, segments
from pledge.text.train import f1_table, score

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
**Goal missed** (macro-F1 >= 0.75 without training on OPP-115): the shipped model scores 0.684
/ 0.705, no better than the model before it (0.686 / 0.718), above the rules alone (0.638 /
0.678), below the peer trained on OPP-115 (0.723 / 0.787). What was tried, in order: weighted
cue phrases per category (0.627 / 0.665), section titles as cues (0.638 / 0.678); then a
logistic regression per category over TF-IDF words and word pairs plus the cue scores, trained
on a project-written corpus (386 sentences and templates expanded into 1,920 segments): 0.849
macro-F1 on the corpus's dev split, 0.659 / 0.685 on OPP-115; then word stems as features and
82 more corpus sentences in a more formal register: dev 0.870, OPP-115 0.655 / 0.676; then
`formal.txt` and `voices.txt` (long legal drafting, enumerations, list items, questions and
answers, app notices), section titles opening 30% of the generated segments, linking phrases
and asides, a second category in a quarter of the segments: dev 0.897, OPP-115 0.686 / 0.718.
This model: the same features and generator, and a corpus written by a second hand,
`second.txt` (237 more sentences and templates, 1,274 in all, 266 section titles): terse
app-store listings, capitalised US legalese, phrasing translated from German, FAQ answers,
cookie banners, notices for children and parents, B2B terms, and much text that is no data
practice (terms of service, definitions, governing law, disclaimers, product descriptions,
house rules). Before writing it, a third dev set was written in those voices, `devstyles.txt`
(65 segments, never trained on, never used to choose a setting); it then tracked OPP-115
closely (the previous model: 0.727 there, 0.686 on OPP-115). The new corpus raised every dev
set (corpus dev 0.897 to 0.913, dev policies 0.877 to 0.894, dev styles 0.727 to 0.869) and
left OPP-115 where it was: the dev-styles gain measured the voices now in the corpus (the ones
`second.txt` was written in), not real policies, so a dev set stops predicting once training
text is written in its voices. C (0.3 to 30) and the threshold (0.3 to 0.7) were chosen, as
before, by the mean macro-F1 on the corpus dev split and `devpolicies.txt` (whose errors guided
a batch of the new third-party and first-party sentences, so that set is not untouched). Tried
on the dev sets and not kept: a threshold per category chosen by coordinate ascent on the two
choosing dev sets (dev policies 0.843 to 0.910, dev styles 0.827 to 0.788: fitted to 67
segments, did not carry over), a second category in 40% of the generated segments instead of
25% (dev policies 0.861, dev styles 0.811), 31 more access, retention, choice and non-practice
sentences (dev policies 0.885, dev styles 0.850); earlier, unweighted classes, 400 segments per
category and a sentence-level vote. The OPP-115 test split has now been scored seven times in
all: three times for the rules, four times for a model (once per model above; this run, which
also scores the rules alone, is the seventh); its errors were never read, and no cue, sentence
or setting came from it; the choice to keep this model was made on the dev sets before this
run. The weakest classes on OPP-115 are still "Practice not covered" (0.31), "User Access, Edit
and Deletion" (0.53) and "Data Retention" (0.57). Two hands writing in more voices did not
close the gap between dev (0.87-0.91) and OPP-115 (0.68): writing more of the same kind of
sentence has stopped paying. Not tried, for want of time: character n-grams, a linear SVM or
word-embedding features, and the packaged MiniLM embedding model (its zero-shot use with
keyword rules measured about 0.63 / 0.68 here, at the cost of torch in the install). The
machine was loaded by other work during this run (load average about 8 on 2 cores), so the
timings are pessimistic.
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
    rows = [(labels, text) for text, labels in test]

    start = time.perf_counter()
    ours_f1 = score(classify, rows)
    ours_seconds = time.perf_counter() - start
    rules_f1 = score(rules.classify, rows)
    dev_f1 = score(classify, segments("dev"))
    hand_f1 = score(classify, handwritten())
    policies_f1 = score(classify, dev_policies())
    styles_f1 = score(classify, dev_styles())

    start = time.perf_counter()
    peer_predict = reference(load("train"))
    peer_train_seconds = time.perf_counter() - start
    peer_f1 = f1_table([g for g, _ in rows], peer_predict([t for _, t in rows]))

    per_policy, five = seed_timings()

    lines = [
        "## Policy text: segment classification, import and lint",
        "",
        machine_summary(packages=("pledge", "scikit-learn")),
        "",
        f"Command: `.venv/bin/python bench/policy_text.py{' --quick' if args.quick else ''}`. "
        f"OPP-115 majority test split: {len(test)} segments, 12 categories. Ours: the shipped "
        "model (`pledge/text/classify.py`: logistic regression over TF-IDF words, stems and "
        "word pairs plus the hand-written cue scores, trained by `python -m pledge.text.train` on "
        "the project's own corpus, `pledge/text/corpus`, never on OPP-115). Rules: the cue "
        "scores alone (`pledge/text/rules.py`). Peer, same run: TF-IDF (1-2 grams) + "
        "one-vs-rest logistic regression trained on the OPP-115 train split "
        f"({peer_train_seconds:.1f} s to train; evaluation only, never shipped). "
        "Goal: macro-F1 >= 0.75 without training on OPP-115. The corpus columns are ours on "
        f"the project corpus's dev split ({len(segments('dev'))} generated segments made of "
        f"sentences held out of training), on {len(dev_policies())} segments of made-up "
        "policies written as a dev set (`devpolicies.txt`, never trained on; they choose the "
        f"model's settings), on {len(dev_styles())} segments in other voices (`devstyles.txt`: "
        "app-store listings, capitalised US legalese, phrasing translated from German, FAQ "
        "pages, cookie banners, children's sites; never trained on, never used to choose "
        f"settings) and on {len(handwritten())} hand-written segments "
        "(never trained on; the cues were checked against them).",
        "",
        "| F1 | ours (model) | rules alone | peer (TF-IDF + LR, trained on OPP-115) "
        "| ours, corpus dev | ours, dev policies | ours, dev styles | ours, hand-written |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {'**' + k + '**' if k in ('macro', 'micro') else k} | {ours_f1[k]:.3f} "
        f"| {rules_f1[k]:.3f} | {peer_f1[k]:.3f} | {dev_f1[k]:.3f} | {policies_f1[k]:.3f} "
        f"| {styles_f1[k]:.3f} | {hand_f1[k]:.3f} |"
        for k in ("macro", "micro", *LABELS)
    ]
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
