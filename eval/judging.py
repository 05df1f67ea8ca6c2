"""The judging rule of `/work/shared/eval/README.md`, in one place.

Text is compared after `norm`: lower-cased, keeping only letters and digits. That makes a judgement
independent of line breaks, punctuation and of hyphenation repaired (or not) in PDF-extracted text:
"informatie-\\nbeveiliging" and "informatiebeveiliging" both become "informatiebeveiliging".

"Letters and digits" means Python's `str.isalnum` (Unicode), so non-ASCII letters such as ë, é and ï are
KEPT as they are (no accent folding: "financiële" and "financiele" differ, as they do for a reader).
Before that the text is put in Unicode NFC form, so that an "ë" written as one code point and one
written as "e" + combining diaeresis compare equal (otherwise the combining mark, not being alnum,
would be dropped from one spelling only). NFC changes no character of already-composed text; the
stronger NFKC is deliberately not used, since it would rewrite characters (ligatures, superscripts)
and so depart from the README's rule.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable

SHOWN_PASSAGE_CHARS = 1000  # a passage is judged on the first 1,000 characters shown to the user
SHOWN_ANSWER_CHARS = 500  # an answer is a quote, not a passage: judged on its first 500 characters


def norm(text: str) -> str:
    """Lower-case `text` and keep only its letters and digits (see the module docstring)."""
    composed = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in composed.lower() if ch.isalnum())


def is_relevant(passage_text: str, quotes: Iterable[str]) -> bool:
    """True when the normalised text of at least one quote occurs in the shown passage.

    A quote that normalises to "" (only punctuation) would match every passage, so it never counts.
    """
    shown = norm(passage_text[:SHOWN_PASSAGE_CHARS])
    return any(needle and needle in shown for needle in map(norm, quotes))


def is_correct(answer: str, shown_answer: str) -> bool:
    """True when the expected `answer` occurs in the answer shown to the user (its first 500 characters).

    An expected answer that normalises to "" would be "found" in anything, so it is never correct.
    """
    expected = norm(answer)
    return bool(expected) and expected in norm(shown_answer[:SHOWN_ANSWER_CHARS])
