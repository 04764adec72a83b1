"""What a segment of a policy talks about, in the 12 categories of the OPP-115 corpus.

The learned model (:mod:`pledge.text.model`: TF-IDF words and word pairs plus the hand-written
cue scores of :mod:`pledge.text.rules`, trained on the project's own corpus only) decides.
"""

from __future__ import annotations

from pledge.text.model import shipped
from pledge.text.rules import LABELS

__all__ = ["LABELS", "classify"]


def classify(text: str) -> list[str]:
    """The OPP-115 categories ``text`` (a segment) belongs to, most likely first."""
    return shipped().classify(text)
