"""Answers joined from several passages for list and cross-document questions, on invented
passages and windows built by hand (no model, no index), and how the faces show them."""
import json

import pytest

from docqa.errors import SettingsError
from docqa.ingest.records import Passage
from docqa.qa.answer import ENGLISH_LEAD, AnswerSettings, choose_answer
from docqa.qa.question import analyse
from docqa.qa.windows import Window

ALFA = "De Dienst Alfa levert gegevens aan gemeenten en waterschappen. Dat gebeurt dagelijks."
BETA = "Ook de provincies en het Kadaster krijgen gegevens van de dienst. Zie verder hoofdstuk 4."
GAMMA = "De kosten van de dienst bedroegen 12 miljoen euro. Dat is minder dan gepland."
ORGS = ("Dienst Alfa (DA)", "Stichting Beta (SB)")
JOIN = AnswerSettings(join_max=3)  # joining is off by default (join_max 1)


def passage(chunk_id, text, doc="alfa-jaarplan-2024", start=0, org="Dienst Alfa (DA)"):
    return Passage(chunk_id=chunk_id, doc_id=doc, title="Jaarplan 2024", organisation=org, year=2024,
                   kind="jaarplan", section="1 Inleiding", source_path=f"/x/{doc}.txt", page=None, page_end=None,
                   line_start=1, line_end=2, char_start=start, char_end=start + len(text), text=text)


class FakeHit:
    def __init__(self, p, rank):
        self.passage, self.rank, self.score, self.bm25_rank, self.dense_rank = p, rank, 1.0, rank, rank
        self.bm25_score = self.dense_score = 1.0

    def to_json(self):
        return {"chunk_id": self.passage.chunk_id, "rank": self.rank}


def first_sentence(hit, score):
    text = hit.passage.text
    return Window(hit, 0, text.index(".") + 1, {"dense": 0.9, "lexical": 0.5, "type": True}, score)


def two_passages(doc_b="alfa-jaarplan-2024"):
    a = FakeHit(passage("alfa:1", ALFA), 1)
    b = FakeHit(passage("alfa:7", BETA, doc=doc_b, start=900), 2)
    return [a, b], [first_sentence(a, 1.30), first_sentence(b, 1.25)]


def assert_verbatim(answer):
    for c in answer.citations:
        a, b = c.span
        assert " ".join(c.hit.passage.text[a:b].split()) == c.quote


def test_a_list_question_joins_quotes_of_two_passages_with_their_own_markers():
    hits, windows = two_passages()
    answer = choose_answer(analyse("welke organisaties krijgen gegevens van de dienst"), hits, windows, JOIN)
    assert [c.n for c in answer.citations] == [1, 2]
    assert [c.hit.passage.chunk_id for c in answer.citations] == ["alfa:1", "alfa:7"]  # the best first
    assert answer.answer == f"{answer.citations[0].quote} [1] {answer.citations[1].quote} [2]"
    assert answer.signals["joined"] == 1
    assert_verbatim(answer)


def test_by_default_an_answer_is_one_quote():
    hits, windows = two_passages()
    answer = choose_answer(analyse("welke organisaties krijgen gegevens van de dienst"), hits, windows)
    assert len(answer.citations) == 1 and answer.signals["joined"] == 0


def test_a_question_that_is_not_after_several_things_keeps_one_quote():
    hits, windows = two_passages()
    answer = choose_answer(analyse("aan wie levert de dienst gegevens"), hits, windows, JOIN)
    assert len(answer.citations) == 1 and answer.answer.endswith(" [1]") and "[2]" not in answer.answer
    assert answer.signals["joined"] == 0


def test_an_overlapping_passage_showing_the_same_sentence_is_not_joined():
    a = FakeHit(passage("alfa:1", ALFA), 1)
    # the next passage of the same document starts inside the first: its first sentence is the same text
    overlap = ALFA[ALFA.index("Dat gebeurt"):] + " " + BETA
    b = FakeHit(passage("alfa:2", overlap, start=ALFA.index("Dat gebeurt")), 2)
    again = Window(a, ALFA.index("Dat gebeurt"), len(ALFA), {"dense": 0.9, "lexical": 0.5, "type": True}, 1.28)
    same = Window(b, 0, overlap.index(".") + 1, {"dense": 0.9, "lexical": 0.5, "type": True}, 1.29)
    whole = Window(a, 0, len(ALFA), {"dense": 0.9, "lexical": 0.5, "type": True}, 1.30)
    answer = choose_answer(analyse("welke organisaties krijgen gegevens"), [a, b], [whole, same, again], JOIN)
    assert len(answer.citations) == 1  # same sentence (b), same passage (again)
    # a window of another document quoting a sentence already shown is not joined either
    c = FakeHit(passage("beta:3", ALFA, doc="beta-verslag-2023", org="Stichting Beta (SB)"), 3)
    answer = choose_answer(analyse("welke organisaties krijgen gegevens"), [a, c], [whole, first_sentence(c, 1.29)], JOIN)
    assert len(answer.citations) == 1


def test_a_window_scoring_well_below_the_best_is_not_joined():
    hits, windows = two_passages()
    low = [windows[0], Window(windows[1].hit, windows[1].start, windows[1].end, windows[1].features, 0.6)]
    assert len(choose_answer(analyse("welke organisaties krijgen gegevens"), hits, low, JOIN).citations) == 1


def test_a_cross_document_question_joins_only_another_document():
    hits, windows = two_passages()  # both passages from one document
    q = analyse("welke gegevens leveren zowel Dienst Alfa als Stichting Beta", organisations=ORGS)
    assert q.joins == "documents"
    assert len(choose_answer(q, hits, windows, JOIN).citations) == 1
    hits, windows = two_passages(doc_b="beta-verslag-2023")
    answer = choose_answer(q, hits, windows, JOIN)
    assert [c.hit.passage.doc_id for c in answer.citations] == ["alfa-jaarplan-2024", "beta-verslag-2023"]
    assert_verbatim(answer)


@pytest.mark.parametrize("question", [
    "welke gegevens leveren Dienst Alfa en Stichting Beta",  # two organisations named
    "wat is het verschil tussen de plannen van 2023 en 2024",
    "welke taken hebben beide diensten",
    "Which tasks do both services have?",
    "What is the difference between the two plans?",
])
def test_cross_document_cues(question):
    assert analyse(question, organisations=ORGS).joins == "documents"


def test_joined_answers_stay_short_and_english_keeps_one_lead_in():
    hits, windows = two_passages()
    q = analyse("Which organisations receive data from the service?")
    answer = choose_answer(q, hits, windows, JOIN)
    assert answer.answer.startswith(ENGLISH_LEAD) and answer.answer.count(ENGLISH_LEAD) == 1
    assert len(answer.citations) == 2
    short = choose_answer(q, hits, windows, AnswerSettings(join_max=3, join_chars=100))
    assert len(short.citations) == 1  # the second quote does not fit
    assert len(choose_answer(q, hits, windows, AnswerSettings(join_max=1)).citations) == 1


def test_joined_quotes_hold_what_the_question_asks_for():
    a = FakeHit(passage("alfa:1", GAMMA), 1)
    b = FakeHit(passage("alfa:7", BETA, start=900), 2)
    untyped = Window(b, 0, BETA.index(".") + 1, {"dense": 0.9, "lexical": 0.5, "type": False}, 1.29)
    answer = choose_answer(analyse("welke kosten en bedragen noemt de dienst"), [a, b],
                           [first_sentence(a, 1.30), untyped], JOIN)
    assert answer.signals["expected_type"] == "money" and len(answer.citations) == 1


@pytest.mark.parametrize("kwargs, name", [({"join_max": 0}, "join_max=0"), ({"join_within": 0.0}, "join_within=0.0"),
                                          ({"join_within": 1.5}, "join_within=1.5"), ({"join_chars": 10}, "join_chars=10")])
def test_join_settings_are_checked(kwargs, name):
    with pytest.raises(SettingsError, match=name):
        AnswerSettings(**kwargs)


def test_the_json_and_the_text_carry_every_citation():
    hits, windows = two_passages(doc_b="beta-verslag-2023")
    answer = choose_answer(analyse("welke organisaties krijgen gegevens"), hits, windows, JOIN)
    data = json.loads(json.dumps(answer.to_json()))
    assert [c["n"] for c in data["citations"]] == [1, 2]
    assert [c["quote"] for c in data["citations"]] == [c.quote for c in answer.citations]
    text = answer.to_text().splitlines()
    assert [line.split()[0] for line in text if line.startswith("[")] == ["[1]", "[2]"]
    assert any("beta-verslag-2023" in line for line in text if line.startswith("[2]"))


# -- the faces, over the small invented index (hash encoder) ---------------------------------------

def joined_ask(self, question, *, k=10, mode="hybrid", docs=(), orgs=(), years=(), **_):
    """Engine.ask answering from the first sentences of the first two documents' top passages, so
    that every face shows an answer of two citations."""
    hits = self.search(question, k=k, mode=mode, docs=docs, orgs=orgs, years=years).hits
    firsts = {}
    for h in hits:
        firsts.setdefault(h.passage.doc_id, h)
    two = list(firsts.values())[:2]
    windows = [first_sentence(h, 1.3 - 0.01 * i) for i, h in enumerate(two)]
    return choose_answer(analyse("welke organisaties noemen de documenten"), hits, windows, JOIN)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    from conftest import build_small_hash_index

    return build_small_hash_index(tmp_path_factory.mktemp("joined"))


def test_the_cli_shows_and_exports_every_citation(index, monkeypatch, capsys):
    from docqa.cli import main
    from docqa.engine import Engine

    monkeypatch.setattr(Engine, "ask", joined_ask)
    assert main(["ask", "--index", str(index), "--json", "gegevens en medewerkers"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["n"] for c in data["citations"]] == [1, 2] and "[1]" in data["answer"] and "[2]" in data["answer"]
    assert len({c["doc"] for c in data["citations"]}) == 2
    assert main(["ask", "--index", str(index), "gegevens en medewerkers"]) == 0
    refs = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]
    assert [r[:3] for r in refs] == ["[1]", "[2]"]
    assert [r.split()[-1] for r in refs] == [f"({c['doc']})" for c in data["citations"]]


def test_the_app_renders_each_citation(index, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from docqa.engine import Engine
    from test_app import APP, TIMEOUT

    monkeypatch.setattr(Engine, "ask", joined_ask)
    monkeypatch.setenv("DOCQA_INDEX", str(index))
    monkeypatch.delenv("DOCQA_MODEL", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.chat_input[0].set_value("gegevens en medewerkers").run()
    assert not at.exception, at.exception
    answer = at.session_state["history"][-1]["answer"]
    assert len(answer.citations) == 2
    values = [m.value for m in at.markdown]
    assert any("<sup><b>&#91;1&#93;</b></sup>" in v and "<sup><b>&#91;2&#93;</b></sup>" in v for v in values)
    refs = next(c.value for c in at.code if c.value.startswith("[1] "))
    assert refs.splitlines() == [f"[{c.n}] {c.reference()}" for c in answer.citations]
    heads = [v for v in (m.value for m in at.markdown) if 'class="dq-card"' in v]
    assert any("<b>&#91;1&#93;</b>" in h for h in heads) and any("<b>&#91;2&#93;</b>" in h for h in heads)
    # each cited card shows its own reference
    codes = [c.value for c in at.code]
    assert all(c.reference() in codes for c in answer.citations)
