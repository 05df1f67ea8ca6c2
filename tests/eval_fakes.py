"""A small scripted Searcher/Answerer for the eval tests, over invented Dutch text (not the corpus).

Imported as `eval_fakes` (pytest puts tests/ on sys.path), so plain `pytest` and `python -m pytest` both work.

The fake follows the contract of `index.search.Searcher` and `docqa.answer.Answerer` as far as the
evaluation uses it; rankings and answers are scripted per question, so metric values are known.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from docqa.ingest.records import DocumentMeta, Passage

# Two invented documents; every passage below is a slice of one of them.
DOCUMENTS = {
    "gamma-jaarplan-2025": (
        "De Dienst Gamma beheert het register van vergunningen voor de provincie. "
        "In 2025 wil Gamma de doorlooptijd van een aanvraag terugbrengen tot zes weken. "
        "Het informatiebeveiligingsbeleid wordt ieder jaar door de directie vastgesteld. "
        "Gamma werkt samen met drie waterschappen aan een gezamenlijk loket. "
        "De klanttevredenheid moet minimaal een 7,4 bedragen volgens de afgesproken norm. "
    ),
    "delta-verslag-2024": (
        "Stichting Delta verstrekte in 2024 ruim 4.300 subsidies aan sportverenigingen. "
        "Het ziekteverzuim van de medewerkers daalde naar 3,8 procent. "
        "Voor het nieuwe archiefsysteem is een budget van € 2,1 miljoen gereserveerd. "
        "De raad van toezicht vergaderde zes keer in het verslagjaar. "
    ),
}


def _sentences(doc_id: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence (ending in '. ') of a document."""
    text, spans, start = DOCUMENTS[doc_id], [], 0
    while start < len(text):
        end = text.index(". ", start) + 2
        spans.append((start, end))
        start = end
    return spans


def make_passage(doc_id: str, number: int, text: str | None = None) -> Passage:
    """Passage `number` (0-based sentence) of a document; `text` overrides the shown text."""
    start, end = _sentences(doc_id)[number]
    return Passage(
        chunk_id=f"{doc_id}:{number:04d}",
        doc_id=doc_id,
        title=doc_id.replace("-", " ").title(),
        organisation=doc_id.split("-")[0].title(),
        year=int(doc_id[-4:]),
        kind="jaarplan" if "jaarplan" in doc_id else "jaarverslag",
        section="1. Inleiding",
        page=None,
        page_end=None,
        line_start=number + 1,
        line_end=number + 1,
        char_start=start,
        char_end=end,
        text=text if text is not None else DOCUMENTS[doc_id][start:end],
    )


PASSAGES = {
    passage.chunk_id: passage
    for doc_id in DOCUMENTS
    for passage in (make_passage(doc_id, number) for number in range(len(_sentences(doc_id))))
}


@dataclass(frozen=True)
class FakeHit:
    rank: int
    passage: Passage
    score: float
    bm25_rank: int | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    dense_score: float | None = None

    def to_json(self) -> dict:
        return {"rank": self.rank, "chunk_id": self.passage.chunk_id, "score": self.score}


@dataclass
class FakeSearcher:
    """`rankings[mode][question] = [chunk_id or Passage, ...]`; unknown questions get no hits."""

    rankings: dict = field(default_factory=dict)
    manifest: dict = field(default_factory=lambda: {"fingerprint": "fake-index-0001"})
    calls: list = field(default_factory=list)
    answers: dict = field(default_factory=dict)  # question -> (answer text, abstained, confidence); others abstain

    def __post_init__(self):
        self.document_meta = {
            doc_id: DocumentMeta(doc_id, doc_id, doc_id.split("-")[0], int(doc_id[-4:]), "jaarplan", f"/fake/{doc_id}.txt")
            for doc_id in DOCUMENTS
        }

    def document_text(self, doc_id: str) -> str:
        return DOCUMENTS[doc_id]

    def search(self, query: str, *, k: int = 10, mode: str = "hybrid", docs=(), orgs=(), years=()):
        self.calls.append((query, k, mode))
        ranked = self.rankings.get(mode, {}).get(query, [])
        passages = [PASSAGES[item] if isinstance(item, str) else item for item in ranked]
        # Scores tie on purpose: the evaluation must follow the list order, not sort by score.
        return FakeResult(query, tuple(FakeHit(rank=i, passage=p, score=1.0) for i, p in enumerate(passages[:k], start=1)))

    def ask(self, question: str, *, k: int = 10, mode: str = "hybrid") -> "FakeAnswer":
        text, abstained, confidence = self.answers.get(question, ("", True, "laag"))
        return FakeAnswer(text, abstained, confidence, self.search(question, k=k, mode=mode).hits)


@dataclass(frozen=True)
class FakeResult:
    query: str
    hits: tuple


@dataclass(frozen=True)
class FakeAnswer:
    answer: str
    abstained: bool
    confidence: str
    hits: tuple = ()

    def to_json(self) -> dict:
        return {"answer": self.answer, "abstained": self.abstained, "confidence": self.confidence}


@dataclass
class FakeAnswerer:
    """`answers[question] = (answer text, abstained, confidence)`; others abstain."""

    searcher: FakeSearcher
    answers: dict = field(default_factory=dict)

    def ask(self, question: str, *, k: int = 10, mode: str = "hybrid") -> FakeAnswer:
        text, abstained, confidence = self.answers.get(question, ("", True, "laag"))
        return FakeAnswer(text, abstained, confidence, self.searcher.search(question, k=k, mode=mode).hits)


def question_line(qid, question, answer="", evidence=(), qtype="factoid", **extra) -> str:
    record = {"id": qid, "question": question, "answer": answer, "evidence": list(evidence), "type": qtype, **extra}
    return json.dumps(record, ensure_ascii=False)


def ev(doc: str, quote: str) -> dict:
    return {"doc": doc, "quote": quote}


def write_lines(path: Path, lines) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


# A small labelled set over the invented documents, with known outcomes (see `scripted_searcher`).
QUESTIONS = [
    question_line("t-1", "wat is de doorlooptijd bij Gamma", "zes weken",
                  [ev("gamma-jaarplan-2025", "de doorlooptijd van een aanvraag terugbrengen tot zes weken")], "numeric"),
    question_line("t-2", "hoeveel subsidies verstrekte Delta", "4.300",
                  [ev("delta-verslag-2024", "Delta verstrekte in 2024 ruim 4.300 subsidies")], "numeric"),
    question_line("t-3", "met wie werkt Gamma samen aan het loket", "drie waterschappen",
                  [ev("gamma-jaarplan-2025", "werkt samen met drie waterschappen aan een gezamenlijk loket")], "factoid"),
    question_line("t-4", "hoeveel medewerkers heeft Omega", qtype="unanswerable"),
]

# bm25: t-1 at rank 1, t-2 at rank 3, t-3 not found -> S@1=1/3, S@5=2/3, MRR=(1+1/3)/3, nDCG=(1+0.5)/3
# dense: t-1 at rank 2, t-2 at rank 1, t-3 at rank 1
SCRIPTED_RANKINGS = {
    "bm25": {
        "wat is de doorlooptijd bij Gamma": ["gamma-jaarplan-2025:0001", "gamma-jaarplan-2025:0000"],
        "hoeveel subsidies verstrekte Delta": ["delta-verslag-2024:0001", "delta-verslag-2024:0002", "delta-verslag-2024:0000"],
        "met wie werkt Gamma samen aan het loket": ["gamma-jaarplan-2025:0000", "delta-verslag-2024:0003"],
        "hoeveel medewerkers heeft Omega": ["delta-verslag-2024:0001"],
    },
    "dense": {
        "wat is de doorlooptijd bij Gamma": ["gamma-jaarplan-2025:0000", "gamma-jaarplan-2025:0001"],
        "hoeveel subsidies verstrekte Delta": ["delta-verslag-2024:0000"],
        "met wie werkt Gamma samen aan het loket": ["gamma-jaarplan-2025:0003"],
        "hoeveel medewerkers heeft Omega": [],
    },
}
SCRIPTED_ANSWERS = {
    "wat is de doorlooptijd bij Gamma": ("binnen zes weken", False, "hoog"),  # correct
    "hoeveel subsidies verstrekte Delta": ("ruim 4.000", False, "middel"),  # wrong
    "met wie werkt Gamma samen aan het loket": ("", True, "laag"),  # wrongly abstained
    "hoeveel medewerkers heeft Omega": ("87 medewerkers", False, "laag"),  # answered the unanswerable
}
SCRIPTED_RANKINGS["hybrid"] = SCRIPTED_RANKINGS["dense"]


def scripted_searcher() -> FakeSearcher:
    """A fake engine: scripted rankings, and scripted answers for `ask`."""
    return FakeSearcher(rankings=SCRIPTED_RANKINGS, answers=SCRIPTED_ANSWERS)


def scripted_answerer(searcher: FakeSearcher) -> FakeAnswerer:
    return FakeAnswerer(searcher, SCRIPTED_ANSWERS)
