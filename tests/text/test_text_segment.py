"""Sentences and segments: every citation is the exact slice of the text it claims to be."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from text_support import SEEDS, seed_document

from pledge.errors import TextUnreadable
from pledge.text.segment import Document, decode, read_document, split


def exact(document: Document) -> None:
    previous_end = 0
    for sentence in document.sentences:
        assert document.source[sentence.start : sentence.end] == sentence.text
        assert sentence.start >= previous_end, "sentences overlap or go backwards"
        assert sentence.plain
        assert sentence.plain == sentence.plain.strip()
        previous_end = sentence.end


@pytest.mark.parametrize("name", SEEDS)
def test_seed_sentences_are_exact_slices(name: str) -> None:
    document = seed_document(name)
    exact(document)
    assert len(document.sentences) > 20


def test_markdown_marks_stay_in_the_citation_but_not_in_what_is_read() -> None:
    source = "# Our policy\n\n**•** We collect your **email address**. We never sell it.\n"
    document = read_document(source, "markdown")
    plains = [s.plain for s in document.sentences]
    assert plains == ["Our policy", "We collect your email address.", "We never sell it."]
    bullet = document.sentences[1]
    assert bullet.text == "We collect your **email address**."


def test_abbreviations_do_not_end_a_sentence() -> None:
    source = "Write to Acme Inc. at P.O. Box 5, e.g. by post. We answer within 30 days."
    sentences = read_document(source).sentences
    assert [s.plain for s in sentences] == [
        "Write to Acme Inc. at P.O. Box 5, e.g. by post.",
        "We answer within 30 days.",
    ]


def test_short_lines_without_punctuation_are_headings() -> None:
    source = (
        "Cookies\nWe use cookies to remember you. You may refuse them.\n"
        "Children\nWe do not collect data from children.\n"
    )
    segments = read_document(source).segments
    assert [[s.plain for s in seg.sentences] for seg in segments] == [
        ["Cookies"],
        ["We use cookies to remember you.", "You may refuse them."],
        ["Children"],
        ["We do not collect data from children."],
    ]


def test_html_citations_are_slices_of_the_html_with_their_tags() -> None:
    source = (
        "<html><head><title>Policy</title><style>p {color: red}</style></head><body>"
        "<h1>Privacy&nbsp;policy</h1><p>We <b>never</b> sell your data &amp; we "
        "tell you first.</p><script>var x = 'We share everything.';</script>"
        "<ul><li>We keep logs for 30 days.</li></ul></body></html>"
    )
    document = read_document(source, "html")
    exact(document)
    assert [s.plain for s in document.sentences] == [
        "Privacy policy",
        "We never sell your data & we tell you first.",
        "We keep logs for 30 days.",
    ]
    assert document.sentences[1].text == "We <b>never</b> sell your data &amp; we tell you first."


def test_unclosed_and_broken_html_is_still_read() -> None:
    source = "<div><p>We collect your name<p>We share it with <i>no one. <b>Ever</div></span>"
    document = read_document(source, "html")
    exact(document)
    assert document.sentences


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n\n\t ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary"),
        (b"We collect \xff\xfe your name.", "encoding"),
    ],
)
def test_unreadable_bytes_are_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(TextUnreadable) as caught:
        read_document(decode(data, name="policy.txt"), name="policy.txt")
    assert caught.value.fields["reason"] == reason
    assert "policy.txt" in caught.value.message


def test_a_policy_in_another_language_is_refused() -> None:
    german = (
        "Wir erheben Ihre personenbezogenen Daten nur, wenn Sie uns diese freiwillig mitteilen. "
        "Die Daten werden ausschließlich zur Bearbeitung Ihrer Anfrage verwendet und nicht an "
        "Dritte weitergegeben. Sie können jederzeit Auskunft über Ihre gespeicherten Daten "
        "verlangen."
    )
    with pytest.raises(TextUnreadable) as caught:
        read_document(german, name="datenschutz.txt")
    assert caught.value.fields["reason"] == "language"


def test_a_huge_text_is_refused_before_it_is_read() -> None:
    with pytest.raises(TextUnreadable) as caught:
        read_document("We collect your name. " * 250_000, name="big.txt")
    assert caught.value.fields["reason"] == "too_large"


WORDS = st.sampled_from(
    [
        "We",
        "collect",
        "your",
        "name",
        "the",
        "data",
        "Inc.",
        "e.g.",
        "U.S.",
        "P.O.",
        "3CX",
        "**bold**",
        "&amp;",
        "you",
        "may",
        "opt-out",
        "café",
        "(see",
        "below)",
        "“quoted”",
    ]
)
ENDS = st.sampled_from([".", "!", "?", "", ":", "  \n", "\n", "\n\n", ".\n\n## Heading\n"])
SENTENCE = st.builds(
    lambda ws, end: " ".join(ws) + end, st.lists(WORDS, min_size=1, max_size=12), ENDS
)
TEXT = st.lists(
    st.tuples(SENTENCE, st.sampled_from([" ", "\n", "\n\n", "\r\n", "\t", "  "])), max_size=30
).map(lambda parts: "".join(s + sep for s, sep in parts))


@settings(max_examples=80, deadline=None)
@given(TEXT)
def test_any_text_splits_into_exact_ordered_slices(source: str) -> None:
    segments = split(source, "markdown")
    exact(Document(source, "markdown", segments))
    words = [w for s in segments for sent in s.sentences for w in sent.plain.split()]
    assert words or not any(c.isalpha() for c in source)


TAGS = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<b>",
        "</b>",
        "<br>",
        "<li>",
        "&amp;",
        "&#39;",
        "&nbsp;",
        "<!-- c -->",
        "<div class='x'>",
    ]
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(SENTENCE, TAGS), max_size=40).map("".join))
def test_any_html_cites_exact_slices_of_the_source(source: str) -> None:
    exact(Document(source, "html", split(source, "html")))
