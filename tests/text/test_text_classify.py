"""The segment classifier and its cue rules on the project's own labelled segments (never on
OPP-115, which only the benchmark reads)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pledge.text import rules
from pledge.text.classify import LABELS, classify
from pledge.text.corpus import handwritten


def test_the_hand_written_segments_cover_every_category() -> None:
    rows = handwritten()
    assert {label for labels, _ in rows for label in labels} == set(LABELS)
    assert len(LABELS) == 12


def test_most_hand_written_segments_get_exactly_their_categories() -> None:
    rows = handwritten()
    for decide in (classify, rules.classify):
        exact = sum(set(decide(text)) == set(labels) for labels, text in rows)
        assert exact / len(rows) >= 0.85, decide
        first_right = sum(decide(text)[0] in labels for labels, text in rows)
        assert first_right / len(rows) >= 0.95, decide


def test_a_cue_alone_decides_the_unambiguous_categories() -> None:
    assert classify("We do not respond to Do Not Track signals.") == ["Do Not Track"]
    assert classify("Questions? Email privacy@example.org.")[0] == "Privacy contact information"
    assert classify("Click unsubscribe at the foot of any message to stop it.") == [
        "User Choice/Control"
    ]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gets_at_least_one_known_category(text: str) -> None:
    for decide in (classify, rules.classify):
        found = decide(text)
        assert found
        assert set(found) <= set(LABELS)
        assert len(found) == len(set(found))
