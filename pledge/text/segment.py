"""A policy's text as segments (paragraphs) and sentences, each at exact character offsets.

Everything drafted from a text cites a sentence by ``start`` and ``end`` into the text as it
was given, so ``source[start:end]`` must be the cited text itself, whatever the format: for
HTML that slice keeps its inline tags, while ``plain`` (what the classifier and extractor read)
has the tags, entities and Markdown marks taken out. Segments are the unit OPP-115 labels;
sentences are the unit a rule cites.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal

from pledge.errors import TextUnreadable

Format = Literal["text", "markdown", "html"]

MAX_CHARS = 2_000_000
"""A long privacy policy is about 100,000 characters; twenty times that is not a policy."""

_ABBREVIATIONS = frozenset(
    [
        "e.g",
        "i.e",
        "etc",
        "inc",
        "ltd",
        "co",
        "corp",
        "llc",
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "no",
        "vs",
        "u.s",
        "u.k",
        "approx",
        "dept",
        "fig",
        "jr",
        "sr",
        "p.o",
    ]
)
_END = re.compile(r"""[.!?]+["'”’)\]*_]*(?=\s+["'“‘(\[*_#>•\-]*[A-Z0-9])""")
_LINE_MARK = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]+|>[ \t]*|(?:\*\*)?[-*+•](?:\*\*)?[ \t]+|\d{1,3}[.)][ \t]+)", re.M
)
_BLOCK_START = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]|>|(?:\*\*)?[-*+•](?:\*\*)?[ \t]|\d{1,3}[.)][ \t])", re.M
)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_ENGLISH = frozenset(
    [
        "the",
        "and",
        "of",
        "to",
        "we",
        "you",
        "your",
        "our",
        "or",
        "in",
        "is",
        "for",
        "with",
        "not",
        "be",
        "that",
        "this",
        "by",
        "may",
        "on",
        "are",
        "as",
        "information",
        "it",
        "will",
        "us",
        "any",
        "if",
        "from",
        "at",
        "such",
    ]
)


@dataclass(frozen=True, slots=True)
class Sentence:
    """``text`` is exactly ``source[start:end]``; ``plain`` is what it says, markup removed."""

    start: int
    end: int
    text: str
    plain: str

    def as_dict(self) -> dict[str, int | str]:
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True, slots=True)
class Segment:
    """A paragraph, a heading or a list item: the unit OPP-115 labels."""

    start: int
    end: int
    sentences: tuple[Sentence, ...]

    @property
    def plain(self) -> str:
        return " ".join(s.plain for s in self.sentences)


@dataclass(frozen=True, slots=True)
class Document:
    source: str
    format: Format
    segments: tuple[Segment, ...]

    @property
    def sentences(self) -> list[Sentence]:
        return [s for segment in self.segments for s in segment.sentences]


def format_of(path: Path, source: str) -> Format:
    """The format a file's name says, else what its first characters look like."""
    suffix = path.suffix.lower()
    if suffix in {".html", ".htm", ".xhtml"}:
        return "html"
    if suffix in {".md", ".markdown"}:
        return "markdown"
    head = source.lstrip()[:200].lower()
    if head.startswith(("<!doctype html", "<html", "<body", "<div", "<p>", "<h1")):
        return "html"
    return "text"


def read_file(path: Path, fmt: Format | None = None) -> Document:
    """Read and split a policy text file; a file that is not readable text is refused."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise TextUnreadable(
            f"cannot read {path}: {error.strerror}", file=str(path), reason="unreadable"
        ) from None
    source = decode(data, name=str(path))
    return read_document(source, fmt or format_of(path, source), name=str(path))


def decode(data: bytes, *, name: str = "<text>") -> str:
    if b"\x00" in data[:65536]:
        raise TextUnreadable(
            f"{name} is binary, not text; give a plain text, Markdown or HTML file",
            file=name,
            reason="binary",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TextUnreadable(
            f"{name} is not UTF-8 text (bad byte at offset {error.start}); save it as UTF-8",
            file=name,
            reason="encoding",
        ) from None


def read_document(source: str, fmt: Format = "text", *, name: str = "<text>") -> Document:
    """Split ``source``; refuses a text that is empty, huge or not written in English."""
    if len(source) > MAX_CHARS:
        raise TextUnreadable(
            f"{name} has {len(source):,} characters; a policy text may have at most "
            f"{MAX_CHARS:,}. Give the privacy policy alone",
            file=name,
            reason="too_large",
        )
    document = Document(source, fmt, split(source, fmt))
    _check_language(document, name)
    return document


def split(source: str, fmt: Format = "text") -> tuple[Segment, ...]:
    """The segments of ``source``, with no check of size or language."""
    if fmt == "html":
        text, starts, ends = _html_text(source)
        return tuple(_mapped(source, text, starts, ends))
    return tuple(_segments(source, markdown=True))


def _check_language(document: Document, name: str) -> None:
    words = [w.lower() for s in document.sentences for w in _WORD.findall(s.plain)]
    if not words:
        raise TextUnreadable(f"{name} holds no text to read", file=name, reason="empty")
    english = sum(w in _ENGLISH for w in words) / len(words)
    if len(words) >= 12 and english < 0.08:
        raise TextUnreadable(
            f"{name} does not read as English ({english:.0%} common English words); "
            "policy import reads English policies only",
            file=name,
            reason="language",
        )


def _segments(source: str, *, markdown: bool) -> list[Segment]:
    segments = []
    for start, end in _blocks(source):
        sentences = [s for s in _sentences(source, start, end, markdown) if s.plain]
        if sentences:
            segments.append(Segment(sentences[0].start, sentences[-1].end, tuple(sentences)))
    return segments


def _blocks(source: str) -> list[tuple[int, int]]:
    """Paragraphs: runs of lines broken by a blank line, a heading, a list item or a quote.
    A short line without closing punctuation is a heading even without a Markdown mark."""
    blocks: list[tuple[int, int]] = []
    start: int | None = None
    offset = 0
    for line in source.splitlines(keepends=True):
        blank = not line.strip()
        heading = not blank and _is_heading(line)
        if start is not None and (blank or heading or _BLOCK_START.match(line)):
            blocks.append((start, offset))
            start = None
        if start is None and not blank:
            start = offset
        offset += len(line)
        if heading and start is not None:
            blocks.append((start, offset))
            start = None
    if start is not None:
        blocks.append((start, offset))
    return blocks


def _is_heading(line: str) -> bool:
    body = line.strip()
    return len(body.split()) <= 8 and not body.endswith((".", ",", ";", ":", "!", "?", ")"))


def _sentences(source: str, start: int, end: int, markdown: bool) -> list[Sentence]:
    """Sentences of one block: ends at ``.!?`` before a capital, and at a line that ends a
    thought (terminal punctuation or a Markdown hard break) or starts a new mark."""
    cuts = [start]
    block = source[start:end]
    for match in _END.finditer(block):
        if not _abbreviation(block, match.start()):
            cuts.append(start + match.end())
    offset = start
    for line in block.splitlines(keepends=True)[:-1]:
        offset += len(line)
        body = line.rstrip("\r\n")
        if (
            body.endswith("  ")
            or body.rstrip().endswith((".", "!", "?", ":"))
            or _LINE_MARK.match(source, offset)
        ):
            cuts.append(offset)
    cuts = [*sorted(set(cuts)), end]
    return [s for a, b in itertools.pairwise(cuts) if (s := _sentence(source, a, b, markdown))]


def _sentence(source: str, start: int, end: int, markdown: bool) -> Sentence | None:
    if markdown:
        mark = _LINE_MARK.match(source, start, end)
        if mark:
            start = mark.end()
    while start < end and source[start].isspace():
        start += 1
    while end > start and source[end - 1].isspace():
        end -= 1
    if start == end:
        return None
    text = source[start:end]
    plain = _plain(text) if markdown else _SPACE.sub(" ", text).strip()
    return Sentence(start, end, text, plain) if any(c.isalpha() for c in plain) else None


def _plain(text: str) -> str:
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_EMPHASIS.sub("", text)
    return _SPACE.sub(" ", text).strip()


def _abbreviation(block: str, dot: int) -> bool:
    word = re.search(r"([\w.]+)$", block[:dot])
    if not word:
        return False
    token = word.group(1).lower().rstrip(".")
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


# --- HTML ------------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "title",
        "tr",
        "ul",
    ]
)
_HIDDEN_TAGS = frozenset({"script", "style", "noscript", "template", "head", "svg"})


class _TextCollector(HTMLParser):
    """Visible text, each character with the span of source it came from."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.hidden = 0

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def _put(self, text: str, start: int, end: int) -> None:
        for i, char in enumerate(text):
            self.chars.append(char)
            self.starts.append(start + i if end - start == len(text) else start)
            self.ends.append(start + i + 1 if end - start == len(text) else end)

    def _break(self) -> None:
        """A paragraph break in the visible text; never inside a sentence, so never cited."""
        at = self._offset()
        for char in "\n\n":
            self.chars.append(char)
            self.starts.append(at)
            self.ends.append(at)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden += 1
        if tag in _BLOCK_TAGS:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden = max(0, self.hidden - 1)
        if tag in _BLOCK_TAGS:
            self._break()

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            start = self._offset()
            self._put(data, start, start + len(data))

    def _reference(self, raw: str) -> None:
        if self.hidden:
            return
        start = self._offset()
        match = re.compile(r"&#?\w+;?").match(self.source, start)
        end = match.end() if match else start + len(raw)
        self._put(unescape(self.source[start:end]), start, end)

    def handle_entityref(self, name: str) -> None:
        self._reference(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._reference(f"&#{name};")


def _html_text(source: str) -> tuple[str, list[int], list[int]]:
    collector = _TextCollector(source)
    collector.feed(source)
    collector.close()
    return "".join(collector.chars), collector.starts, collector.ends


def _mapped(source: str, text: str, starts: list[int], ends: list[int]) -> list[Segment]:
    """Split the visible text, then cite each sentence by the source span it came from."""
    segments = []
    for segment in _segments(text, markdown=False):
        sentences = []
        for s in segment.sentences:
            start, end = starts[s.start], ends[s.end - 1]
            sentences.append(Sentence(start, end, source[start:end], s.plain))
        segments.append(Segment(sentences[0].start, sentences[-1].end, tuple(sentences)))
    return segments


_ITEM_MARK = re.compile(r"[ \t]*(?:(?:\*\*)?[-*+•](?:\*\*)?|\d{1,3}\\?[.)])[ \t]+")
_HTML_ITEM = re.compile(r"<li\b[^>]*>(?:\s|<[^>]*>)*$", re.I)


def is_list_item(document: Document, segment: Segment) -> bool:
    """Whether ``segment`` is an item of a list ("- payment processors", "1\\. ...", ``<li>``):
    it may only finish the sentence that leads into the list ("we share your data with:")."""
    source = document.source
    if document.format == "html":
        return bool(_HTML_ITEM.search(source[max(0, segment.start - 200) : segment.start]))
    line = source[source.rfind("\n", 0, segment.start) + 1 : segment.start]
    return bool(_ITEM_MARK.fullmatch(line) or _ITEM_MARK.match(source, segment.start))


def line_of(source: str, offset: int) -> int:
    """The 1-based line ``offset`` is on, for messages that point into the text."""
    lines = [0] + [m.end() for m in re.finditer("\n", source)]
    return bisect_right(lines, offset)
