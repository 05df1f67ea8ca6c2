"""Loading and validating question files (eval.questions): every bad line is named by its number,
good lines are kept, and a set that would silently score zero is refused."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from docqa.eval.questions import Evidence, QuestionSetError, load_questions
from eval_fakes import QUESTIONS, FakeSearcher, ev, question_line, write_lines

GAMMA, DELTA = "gamma-jaarplan-2025", "delta-verslag-2024"
GOOD_QUOTE = ev(GAMMA, "de doorlooptijd van een aanvraag terugbrengen tot zes weken")
OTHER_GOOD_QUOTE = ev(DELTA, "Delta verstrekte in 2024 ruim 4.300 subsidies")
SHARED_DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"
SHARED_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _load(tmp_path, lines):
    return load_questions(write_lines(tmp_path / "q.jsonl", lines), FakeSearcher())


def _by_line(problems):
    lines = {}
    for problem in problems:
        lines.setdefault(problem.line, []).append(problem.message)
    return lines


def test_a_good_set_loads_without_problems(tmp_path):
    questions, problems = _load(tmp_path, QUESTIONS)
    assert problems == []
    assert [q.id for q in questions] == ["t-1", "t-2", "t-3", "t-4"]
    first = questions[0]
    assert first.line == 1 and first.type == "numeric" and first.answerable
    assert first.evidence == (Evidence(GAMMA, GOOD_QUOTE["quote"]),)
    assert not questions[3].answerable and questions[3].evidence == ()


def test_every_bad_line_is_reported_with_its_number_and_good_lines_are_kept(tmp_path):
    lines = [
        question_line("ok-1", "vraag een", "zes weken", [GOOD_QUOTE]),  # 1 good
        '{"id": "kapot", "question": ',  # 2 malformed JSON
        '["geen", "object"]',  # 3 not an object
        json.dumps({"id": "x-4", "question": "vraag", "answer": "a", "type": "factoid"}),  # 4 no evidence field
        question_line("x-5", "vraag", "zes weken", [GOOD_QUOTE], "raadsel"),  # 5 unknown type
        json.dumps({"id": "x-6", "question": "vraag", "answer": "a", "evidence": "geen lijst", "type": "factoid"}),  # 6
        question_line("x-7", "vraag", "zes weken", [{"doc": GAMMA}]),  # 7 item without quote
        question_line("x-8", "vraag", "zes weken", [ev("epsilon-nota-2022", GOOD_QUOTE["quote"])]),  # 8 doc not indexed
        question_line("x-9", "vraag", "zes weken", [ev(GAMMA, "deze zin staat nergens in het jaarplan van Gamma")]),  # 9
        question_line("x-10", "vraag", "zes weken", []),  # 10 answerable without evidence
        question_line("x-11", "vraag", "zes weken", [GOOD_QUOTE], "unanswerable"),  # 11 unanswerable with evidence
        question_line("ok-1", "nog eens", "zes weken", [GOOD_QUOTE]),  # 12 duplicate id
        "",  # 13 blank: ignored
        question_line("ok-14", "vraag", "4.300", [OTHER_GOOD_QUOTE], opmerking="extra veld"),  # 14 unknown field, kept
        question_line("ok-15", "vraag", "4.300", [ev(DELTA, "deze zin staat ook nergens in het verslag"), OTHER_GOOD_QUOTE]),  # 15
        question_line("ok-16", "vraag", "zes weken", [ev(GAMMA, "tot zes weken")]),  # 16 short quote: warned, kept
        question_line("x 17", "vraag", "zes weken", [GOOD_QUOTE]),  # 17 id with white space
        question_line("x-18", "vraag", "", [GOOD_QUOTE]),  # 18 answerable without answer
    ]
    questions, problems = _load(tmp_path, lines)
    assert [q.id for q in questions] == ["ok-1", "ok-14", "ok-15", "ok-16"]
    reported = _by_line(problems)
    assert sorted(reported) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18]
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    expected_words = {
        2: "invalid JSON", 3: "JSON object", 4: "missing field", 5: "unknown type", 6: "evidence must be a list",
        7: "exactly the fields", 8: "not indexed", 9: "quote not found", 10: "without evidence",
        11: "unanswerable question must", 12: "duplicate id 'ok-1' (first on line 1)", 14: "unknown field",
        15: "quote not found", 16: "3 words", 17: "white space", 18: "without an answer",
    }
    for line, words in expected_words.items():
        assert any(words in message for message in reported[line]), (line, reported[line])
    skipped = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 17, 18}
    for line in skipped:
        assert any("question skipped" in message for message in reported[line]), line
    assert questions[2].evidence == (Evidence(DELTA, OTHER_GOOD_QUOTE["quote"]),)  # unfindable quote dropped
    assert str(problems[0]).startswith("line 2: invalid JSON")


def test_a_quote_found_in_another_document_says_where(tmp_path):
    lines = [question_line("q-1", "vraag", "4.300", [ev(GAMMA, OTHER_GOOD_QUOTE["quote"])]),
             question_line("q-2", "vraag", "zes weken", [GOOD_QUOTE])]
    questions, problems = _load(tmp_path, lines)
    assert [q.id for q in questions] == ["q-2"]
    assert f"it does occur in '{DELTA}'" in problems[0].message


def test_quotes_are_matched_with_norm_across_breaks_and_hyphens(tmp_path):
    quote = "Het informatie-\nbeveiligingsbeleid wordt ieder jaar door de DIRECTIE vastgesteld"
    questions, problems = _load(tmp_path, [question_line("q-1", "vraag", "directie", [ev(GAMMA, quote)])])
    assert problems == [] and len(questions) == 1


def test_a_set_whose_quotes_occur_nowhere_is_refused(tmp_path):
    lines = [question_line(f"q-{i}", "vraag", "iets", [ev(GAMMA, f"deze zin nummer {i} staat nergens in de tekst")])
             for i in range(3)] + [question_line("q-9", "vraag", qtype="unanswerable")]
    with pytest.raises(QuestionSetError, match="none of the evidence quotes occurs") as refused:
        _load(tmp_path, lines)
    assert sorted({p.line for p in refused.value.problems}) == [1, 2, 3]


def test_a_set_with_fewer_than_half_findable_is_refused(tmp_path):
    lines = [question_line("q-0", "vraag", "zes weken", [GOOD_QUOTE])]
    lines += [question_line(f"q-{i}", "vraag", "iets", [ev(GAMMA, f"deze zin nummer {i} staat nergens in de tekst")])
              for i in range(1, 4)]
    with pytest.raises(QuestionSetError, match="only 1 of 4 answerable questions"):
        _load(tmp_path, lines)


def test_exactly_half_findable_is_accepted(tmp_path):
    lines = [question_line("q-0", "vraag", "zes weken", [GOOD_QUOTE]),
             question_line("q-1", "vraag", "iets", [ev(GAMMA, "deze zin staat nergens in de tekst van Gamma")])]
    questions, problems = _load(tmp_path, lines)
    assert [q.id for q in questions] == ["q-0"] and [p.line for p in problems] == [2, 2]


@pytest.mark.parametrize(
    "lines, reason",
    [
        ([], "no usable question"),
        (["", "   "], "no usable question"),
        (["{kapot", "[1]"], "no usable question"),
        ([question_line("q-1", "vraag", qtype="unanswerable")], "no answerable question"),
    ],
)
def test_unusable_sets_are_refused(tmp_path, lines, reason):
    with pytest.raises(QuestionSetError, match=reason):
        _load(tmp_path, lines)


def test_byte_order_mark_and_invalid_utf8(tmp_path):
    path = tmp_path / "q.jsonl"
    good = question_line("q-1", "vraag", "zes weken", [GOOD_QUOTE]).encode("utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + good + b"\n" + b'{"id": "q-2", "question": "\xff"}\n')
    questions, problems = load_questions(path, FakeSearcher())
    assert [q.id for q in questions] == ["q-1"]
    assert [(p.line, "UTF-8" in p.message) for p in problems] == [(2, True)]


def test_a_missing_file_is_a_clear_error(tmp_path):
    from docqa.eval import EvalError

    with pytest.raises(EvalError, match="cannot read question file"):
        load_questions(tmp_path / "bestaat-niet.jsonl", FakeSearcher())


class _RawCorpus:
    """The shared corpus' .txt files as an index (read at run time; nothing is copied)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.document_meta = {path.stem: None for path in folder.glob("*.txt")}

    def document_text(self, doc_id: str) -> str:
        return (self.folder / f"{doc_id}.txt").read_text(encoding="utf-8")


@pytest.mark.skipif(not SHARED_DEV.exists() or not SHARED_CORPUS.is_dir(), reason="../shared not present")
def test_the_shared_dev_set_validates_against_the_shared_corpus():
    questions, problems = load_questions(SHARED_DEV, _RawCorpus(SHARED_CORPUS))
    assert problems == []
    assert len({q.id for q in questions}) == len(questions) > 0
    assert all(q.evidence for q in questions if q.answerable)
