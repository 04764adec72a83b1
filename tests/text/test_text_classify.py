"""The segment classifier on the project's own labelled segments (never on OPP-115, which only
the benchmark reads)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pledge.text.classify import LABELS, classify, labelled_segments


def test_the_labelled_segments_cover_every_category() -> None:
    rows = labelled_segments()
    assert {label for labels, _ in rows for label in labels} == set(LABELS)
    assert len(LABELS) == 12


def test_most_labelled_segments_get_exactly_their_categories() -> None:
    rows = labelled_segments()
    exact = sum(set(classify(text)) == set(labels) for labels, text in rows)
    assert exact / len(rows) >= 0.85
    first_right = sum(classify(text)[0] in labels for labels, text in rows)
    assert first_right / len(rows) >= 0.95


def test_a_cue_alone_decides_the_unambiguous_categories() -> None:
    assert classify("We do not respond to Do Not Track signals.") == ["Do Not Track"]
    assert classify("Questions? Email privacy@example.org.")[0] == "Privacy contact information"
    assert classify("Click unsubscribe at the foot of any message to stop it.") == [
        "User Choice/Control"
    ]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gets_at_least_one_known_category(text: str) -> None:
    found = classify(text)
    assert found
    assert set(found) <= set(LABELS)
    assert len(found) == len(set(found))
