"""Who a policy text is from and when: the organisation's name, its privacy contact and postal
address, and the date the policy took effect. Policies say these in passing (a footer, a
"last updated" line, an address broken over lines), so each reader tries the plain forms first
and falls back to a weaker clue; a miss is reported in the draft, never guessed silently.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import Counter

from pledge.text.segment import Document, Sentence

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MONTHS = [dt.date(2000, m, 1).strftime("%B").lower() for m in range(1, 13)]
_DATE = re.compile(
    r"\b(\d{4})-(\d{2})-(\d{2})\b"  # 2015-04-13
    r"|\b([A-Z][a-z]{2,8})\.? (\d{1,2}),? (\d{4})\b"  # June 27, 2006
    r"|\b(\d{1,2}) ([A-Z][a-z]{2,8}),? (\d{4})\b"  # 26 January 2011
)
_DATED = re.compile(r"\b(?:updated|edited|effective|revised|modified|amended)\b", re.I)
_POSTAL = re.compile(
    r"(?:P\.?\s?O\.?\s?Box|\d+\s+(?:[A-Z][\w.]*\s){1,3}"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Way|Square|Place))"
    r"[^;:@]*\b\d{4,5}(?:-\d{4})?(?:\s+[A-Z]{2,}\b)?"
)
_LEGAL_FORM = r"(?:LLC|Inc|Ltd|Limited|GmbH|Corporation|Corp|AG|SA|BV)"
_NOT_NAMES = frozenset(
    {"the", "this", "we", "our", "you", "your", "if", "in", "for", "to", "a", "an", "please"}
    | {"when", "all", "any", "some", "these", "those", "as", "by", "with", "note", "yes", "no"}
    | {"it", "its"}
)


def organisation_name(sentences: list[Sentence]) -> tuple[str, Sentence] | None:
    """A name with its legal form ("Zabbix LLC"), else the proper name of the email or web
    domain, else the proper name said most often (a word never written in lower case outside
    addresses); with the sentence where it first appears."""
    text = "\n".join(s.plain for s in sentences)
    domains = [m.group(1) for m in re.finditer(r"@([\w-]+)\.", text)]
    domains += [
        m.group(1) for m in re.finditer(r"\b(?:www\.)?([\w-]+)\.(?:com|net|org|io)\b", text)
    ]
    for domain in [d for d in domains if d.lower() not in ("www", "web", "archive")][:1]:
        stem = re.escape(domain[:4])
        for pattern in (rf"\b({stem}\w*\s+{_LEGAL_FORM})\b", rf"(?<![\w.@/-])({stem}\w*)\b"):
            for sentence in sentences:
                found = re.search(pattern, sentence.plain, re.I)
                if found and found.group(1)[0].isupper():
                    return found.group(1), sentence
    lower = set(re.findall(r"(?<![\w.@/-])[a-z][a-z0-9]+\b", text))
    candidates = Counter(
        word
        for word in re.findall(r"(?<![\w.@/-])(?:[A-Z][A-Za-z0-9]+|\d+[A-Z]+[A-Za-z0-9]*)\b", text)
        if word.lower() not in lower and word.lower() not in _NOT_NAMES and len(word) > 1
    )
    for word, _ in candidates.most_common(1):
        first = next(s for s in sentences if re.search(rf"\b{re.escape(word)}\b", s.plain))
        return word, first
    return None


def privacy_contact(preferred: list[Sentence], sentences: list[Sentence]) -> str | None:
    """The first email address in the ``preferred`` sentences (those about contacting), else
    anywhere in the text."""
    for sentence in [*preferred, *sentences]:
        found = EMAIL.search(sentence.plain)
        if found:
            return found.group(0).rstrip(".")
    return None


def postal_address(document: Document) -> str | None:
    """A street or P.O. Box address in one sentence, else one written a part a line."""
    for sentence in document.sentences:
        match = _POSTAL.search(sentence.plain)
        if match:
            return match.group(0).strip(" ,")
    return _address_lines(document.sentences)


def _address_lines(sentences: list[Sentence]) -> str | None:
    """A run of three or more short lines, one of them with a number."""
    run: list[Sentence] = []
    for sentence in [*sentences, None]:
        if sentence is not None and _address_part(sentence.plain):
            run.append(sentence)
            continue
        if len(run) >= 3 and any(re.search(r"\d", s.plain) for s in run):
            return ", ".join(dict.fromkeys(s.plain for s in run))
        run = []
    return None


def _address_part(plain: str) -> bool:
    """A short line that is neither a web or email address nor a heading such as "Contact"."""
    return len(plain.split()) <= 4 and not re.search(
        r"[@/]|www\.|\.(?:com|org|net)\b|[.?:]$|©"
        r"|^(?:contact(?:ing)?(?: us)?|(?:our |mailing )?address)$",
        plain,
        re.I,
    )


def effective_date(sentences: list[Sentence]) -> dt.date | None:
    """The first date in a sentence that says "updated", "effective"...; else the first date."""
    dated = [s for s in sentences if _DATED.search(s.plain)]
    for sentence in [*dated, *sentences]:
        for match in _DATE.finditer(sentence.plain):
            day = _parse_date(match)
            if day:
                return day
    return None


def _parse_date(match: re.Match[str]) -> dt.date | None:
    """A matched date; a misspelt month ("Mach") is read as the closest month name."""
    try:
        if match.group(1):
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        month, day, year = (
            (match.group(4), match.group(5), match.group(6))
            if match.group(4)
            else (match.group(8), match.group(7), match.group(9))
        )
        close = difflib.get_close_matches(month.lower(), _MONTHS, n=1, cutoff=0.6)
        if not close:
            close = [m for m in _MONTHS if m.startswith(month.lower()[:3])]
        if not close:
            return None
        return dt.date(int(year), _MONTHS.index(close[0]) + 1, int(day))
    except ValueError:
        return None
