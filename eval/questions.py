"""Load a labelled question file (JSON Lines, format of `/work/shared/eval/README.md`) with validation.

Every problem is reported with its 1-based line number. A bad line is skipped and the good lines are
still used, but a set that would silently score (near) zero is refused: when no evidence quote occurs
in the indexed documents, or when fewer than half of the answerable questions have one, the index
was most likely built from another corpus than the questions were written for.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

from docqa.eval import EvalError
from docqa.eval.judging import norm

QUESTION_TYPES = ("numeric", "factoid", "definition", "list", "paraphrase", "multi-doc", "english", "unanswerable")
UNANSWERABLE = "unanswerable"
FIELDS = ("id", "question", "answer", "evidence", "type")
EVIDENCE_FIELDS = ("doc", "quote")
# The README asks for quotes of 5-20 words; a much shorter quote matches too many passages and
# makes retrieval look better than it is, so it is reported (but still used).
QUOTE_WORDS = (5, 20)


class Problem(NamedTuple):
    line: int  # 1-based line number in the question file
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class QuestionSetError(EvalError):
    """The question set as a whole cannot be evaluated; `problems` holds the per-line problems found."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


@dataclass(frozen=True)
class Evidence:
    doc: str
    quote: str


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answer: str  # "" for unanswerable questions
    evidence: tuple[Evidence, ...]  # only the quotes that occur in the indexed documents
    type: str
    line: int

    @property
    def answerable(self) -> bool:
        return self.type != UNANSWERABLE

    @property
    def quotes(self) -> tuple[str, ...]:
        return tuple(item.quote for item in self.evidence)


class IndexedDocuments(Protocol):
    """What validation needs from an engine: the indexed documents and their cleaned text."""

    document_meta: Mapping[str, object]

    def document_text(self, doc_id: str) -> str: ...


class LineRejected(Exception):
    """A line of a labelled set cannot be used; the message says why (reported with its line number)."""


class _NormalisedCorpus:
    """The normalised text of every indexed document, computed once per load."""

    def __init__(self, searcher: IndexedDocuments):
        self._searcher = searcher
        self._texts: dict[str, str] = {}

    def has(self, doc_id: str) -> bool:
        return doc_id in self._searcher.document_meta

    def text(self, doc_id: str) -> str:
        if doc_id not in self._texts:
            self._texts[doc_id] = norm(self._searcher.document_text(doc_id))
        return self._texts[doc_id]

    def docs_containing(self, quote: str) -> list[str]:
        needle = norm(quote)
        return sorted(doc_id for doc_id in self._searcher.document_meta if needle in self.text(doc_id))


def load_questions(path: str | Path, searcher: IndexedDocuments) -> tuple[list[Question], list[Problem]]:
    """Read and validate `path` against the documents `searcher` has indexed.

    Returns the usable questions and the problems found (sorted by line). Raises `EvalError` when the
    file cannot be read and `QuestionSetError` when the set as a whole is unusable.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise EvalError(f"cannot read question file {path}: {exc.strerror or exc}") from exc
    lines = raw.split(b"\n")
    if lines and lines[0].startswith(b"\xef\xbb\xbf"):  # UTF-8 byte order mark written by some editors
        lines[0] = lines[0][3:]
    return parse_questions(lines, searcher, source=str(path))


def parse_questions(
    lines: Iterable[bytes | str], searcher: IndexedDocuments, *, source: str = "question set"
) -> tuple[list[Question], list[Problem]]:
    """Validate JSON lines (bytes or str); see `load_questions`."""
    corpus = _NormalisedCorpus(searcher)
    questions: list[Question] = []
    problems: list[Problem] = []
    seen_ids: dict[str, int] = {}
    answerable_checked = 0  # answerable lines that got as far as the corpus check
    answerable_findable = 0  # ... of which at least one quote occurs in the indexed documents

    for line_no, raw_line in enumerate(lines, start=1):
        text = _decode(raw_line, line_no, problems)
        if text is None or not text.strip():
            continue  # blank lines (e.g. the file's trailing newline) carry no question
        try:
            record = _parse_record(text, line_no, problems)
            if record["id"] in seen_ids:
                raise LineRejected(f"duplicate id {record['id']!r} (first on line {seen_ids[record['id']]})")
            seen_ids[record["id"]] = line_no
            evidence = parse_evidence(record)
            _check_answerability(record, evidence)
            if record["type"] != UNANSWERABLE:
                answerable_checked += 1
                evidence = _findable_evidence(evidence, corpus, line_no, problems)
                if not evidence:
                    raise LineRejected("no evidence quote occurs in the indexed documents")
                answerable_findable += 1
        except LineRejected as rejected:
            problems.append(Problem(line_no, f"{rejected}; question skipped"))
            continue
        questions.append(
            Question(
                id=record["id"],
                question=record["question"],
                answer=record["answer"],
                evidence=tuple(evidence),
                type=record["type"],
                line=line_no,
            )
        )

    problems.sort(key=lambda problem: problem.line)
    _refuse_unusable_set(source, questions, problems, answerable_checked, answerable_findable)
    return questions, problems


def _decode(raw_line: bytes | str, line_no: int, problems: list[Problem]) -> str | None:
    if isinstance(raw_line, str):
        return raw_line
    try:
        return raw_line.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(line_no, f"not valid UTF-8 ({exc.reason} at byte {exc.start}); question skipped"))
        return None


def read_record(text: str, line_no: int, problems: list[Problem], fields: tuple[str, ...],
                strings: tuple[str, ...], text_field: str) -> dict:
    """The JSON object of one line of a labelled set (questions or claims), its shape and field types
    checked: the `fields` present, the `strings` strings, an id without white space and a non-empty
    `text_field`. Unknown fields are reported and ignored; anything else raises LineRejected."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LineRejected(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise LineRejected(f"expected a JSON object, got {type(record).__name__}")
    missing = [name for name in fields if name not in record]
    unknown = sorted(name for name in record if name not in fields)
    if unknown:
        problems.append(Problem(line_no, f"unknown field(s) {', '.join(map(repr, unknown))} ignored"))
    if missing:
        raise LineRejected(f"missing field(s) {', '.join(map(repr, missing))}")
    for name in strings:
        if not isinstance(record[name], str):
            raise LineRejected(f"field {name!r} must be a string, got {type(record[name]).__name__}")
    if not record["id"].strip() or any(ch.isspace() for ch in record["id"]):
        # ids end up as query ids in TREC files, which are split on white space
        raise LineRejected(f"id {record['id']!r} must be non-empty and contain no white space")
    if not record[text_field].strip():
        raise LineRejected(f"empty {text_field}")
    return record


def _parse_record(text: str, line_no: int, problems: list[Problem]) -> dict:
    record = read_record(text, line_no, problems, FIELDS, ("id", "question", "answer", "type"), "question")
    if record["type"] not in QUESTION_TYPES:
        raise LineRejected(f"unknown type {record['type']!r} (expected one of {', '.join(QUESTION_TYPES)})")
    return record


def parse_evidence(record: dict) -> list[Evidence]:
    """The `evidence` list of a record: {doc, quote} objects with letters or digits in the quote."""
    evidence = record["evidence"]
    if not isinstance(evidence, list):
        raise LineRejected(f"evidence must be a list of {{doc, quote}} objects, got {type(evidence).__name__}")
    items = []
    for index, item in enumerate(evidence):
        where = f"evidence[{index}]"
        if not isinstance(item, dict) or sorted(item) != sorted(EVIDENCE_FIELDS):
            raise LineRejected(f"{where} must be an object with exactly the fields 'doc' and 'quote'")
        if not all(isinstance(item[name], str) and item[name].strip() for name in EVIDENCE_FIELDS):
            raise LineRejected(f"{where}: 'doc' and 'quote' must be non-empty strings")
        if not norm(item["quote"]):
            raise LineRejected(f"{where}: quote has no letters or digits")
        items.append(Evidence(doc=item["doc"], quote=item["quote"]))
    return items


def _check_answerability(record: dict, evidence: list[Evidence]) -> None:
    """Answerable questions need an answer and evidence; unanswerable ones must have neither."""
    if record["type"] == UNANSWERABLE:
        if record["answer"].strip() or evidence:
            raise LineRejected("an unanswerable question must have an empty answer and no evidence")
        return
    if not norm(record["answer"]):
        # an empty expected answer would be "found" in every shown answer
        raise LineRejected("answerable question without an answer (no letters or digits)")
    if not evidence:
        raise LineRejected("answerable question without evidence")


def _findable_evidence(
    evidence: list[Evidence], corpus: _NormalisedCorpus, line_no: int, problems: list[Problem]
) -> list[Evidence]:
    """Keep the quotes that occur (after norm) in the document they name; report the others."""
    findable = []
    for index, item in enumerate(evidence):
        where = f"evidence[{index}]"
        words = len(item.quote.split())
        if not QUOTE_WORDS[0] <= words <= QUOTE_WORDS[1]:
            problems.append(
                Problem(line_no, f"{where}: quote has {words} words (README: {QUOTE_WORDS[0]}-{QUOTE_WORDS[1]}); used anyway")
            )
        if not corpus.has(item.doc):
            problems.append(Problem(line_no, f"{where}: document {item.doc!r} is not indexed; quote ignored"))
            continue
        if norm(item.quote) not in corpus.text(item.doc):
            elsewhere = corpus.docs_containing(item.quote)
            hint = f" (it does occur in {', '.join(map(repr, elsewhere))})" if elsewhere else ""
            problems.append(Problem(line_no, f"{where}: quote not found in document {item.doc!r}{hint}; quote ignored"))
            continue
        findable.append(item)
    return findable


def _refuse_unusable_set(
    source: str, questions: list[Question], problems: list[Problem], checked: int, findable: int
) -> None:
    """Raise when the set would silently score zero (or close to it) instead of measuring retrieval."""
    if not questions and not checked:
        raise QuestionSetError(f"{source}: no usable question ({len(problems)} problem(s))", problems)
    if checked and not findable:
        raise QuestionSetError(
            f"{source}: none of the evidence quotes occurs in the indexed documents; "
            "is the index built from the corpus these questions were written for?",
            problems,
        )
    if findable * 2 < checked:
        raise QuestionSetError(
            f"{source}: only {findable} of {checked} answerable questions have an evidence quote in the "
            "indexed documents; the scores would mostly measure the missing documents",
            problems,
        )
    if not any(question.answerable for question in questions):
        raise QuestionSetError(f"{source}: no answerable question, so there is no retrieval to measure", problems)
