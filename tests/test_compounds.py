"""Dutch compounds: a question word the documents never write is found through its parts."""
import numpy as np
import pytest

from conftest import build_small_hash_index
from docqa.index.analyzer import Analyzer, AnalyzerSettings
from docqa.index.bm25 import BM25Index
from docqa.index.search import FusionSettings, Searcher


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer()


@pytest.mark.parametrize("word, parts", [
    ("beschikbaarheidsnorm", ("beschikbaarheid", "norm")),  # linking s
    ("verzuimcijfer", ("verzuim", "cijfer")),
    ("ledenvergadering", ("leden", "vergadering")),
    ("informatiebeveiligingsbeleid", ("informatie", "beveiliging", "beleid")),  # three parts
])
def test_compounds_split_into_common_words(analyzer, word, parts):
    assert analyzer.compound_parts(word) == parts


@pytest.mark.parametrize("word", [
    "verslag",  # ver|slag: a prefix, not a word of its own
    "gemeenten",  # gemeen|ten: a function word at the end
    "ondersteuning", "overheid",  # endings, not parts
    "bedrijf",  # too short to hold two parts
    "2024", "covid19",  # not a word of letters
])
def test_other_words_stay_whole(analyzer, word):
    assert analyzer.compound_parts(word) == ()


def test_compounds_can_be_switched_off():
    assert Analyzer(AnalyzerSettings(compounds=False)).compound_parts("verzuimcijfer") == ()
    assert "compound_lexicon" not in AnalyzerSettings(compounds=False).to_json()
    assert AnalyzerSettings().to_json()["compound_lexicon"].startswith("wordfreq ")


@pytest.mark.parametrize("kwargs, message", [
    ({"compound_min_part": 1}, "compound_min_part=1"),
    ({"compound_min_chars": 5}, "compound_min_chars=5"),
    ({"compound_min_zipf": 9}, "compound_min_zipf=9"),
])
def test_bad_compound_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AnalyzerSettings(**kwargs)


def test_only_unknown_compounds_of_a_question_are_split(analyzer):
    known = {analyzer("ledenvergadering")[0]}
    question = "hoe hoog was het verzuimcijfer op de ledenvergadering"
    assert analyzer.unknown_compound_parts(question, known) == analyzer("verzuim cijfer")
    # the passage side keeps every word and adds the parts of its compounds
    assert analyzer.with_parts("het ziekteverzuim daalde") == (
        analyzer("het ziekteverzuim") + analyzer("ziekte verzuim") + analyzer("daalde"))


def test_bm25_adds_the_weighted_scores_of_another_field():
    main = BM25Index.build([["a", "b"], ["c"], ["d", "d"]])
    other = BM25Index.build([["x"], ["y", "x"], ["z"]])
    ids, scores = main.top_k(["c"], 3, also=((other, ["x"], 2.0),))
    expected = main.scores(["c"]) + 2.0 * other.scores(["x"])
    assert ids.tolist() == [1, 0]
    np.testing.assert_allclose(scores, expected[[1, 0]])
    # a question with only other-field terms still finds passages
    assert main.top_k(["nope"], 3, also=((other, ["z"], 1.0),))[0].tolist() == [2]
    with pytest.raises(ValueError, match="an index of 1 passages, not 3"):
        main.top_k(["c"], 3, also=((BM25Index.build([["x"]]), ["x"], 1.0),))
    with pytest.raises(ValueError, match="weight -1"):
        main.top_k(["c"], 3, also=((other, ["x"], -1.0),))


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return build_small_hash_index(tmp_path_factory.mktemp("compounds"))


def test_search_finds_a_compound_the_documents_never_write(index_dir):
    """The small corpus writes "ziekteverzuim"; the question asks for the "verzuimcijfer"."""
    question = "verzuimcijfer"
    hits = Searcher.load(index_dir).search(question, mode="bm25")
    assert hits and "ziekteverzuim" in hits[0].passage.text
    without = Searcher.load(index_dir, fusion=FusionSettings(compound_weight=0))
    assert without.search(question, mode="bm25") == []


def test_bad_compound_weight_is_named():
    with pytest.raises(ValueError, match="compound_weight=-0.5"):
        FusionSettings(compound_weight=-0.5)


def test_the_matched_part_is_highlighted(index_dir):
    from docqa.highlight import term_spans

    searcher = Searcher.load(index_dir)
    text = "Het ziekteverzuim was 4,1 procent."
    spans = term_spans(text, "verzuimcijfer", searcher.analyzer, searcher.bm25.vocab)
    assert [text[a:b] for a, b in spans] == ["ziekteverzuim"]
    # without the vocabulary only whole words match, as before
    assert term_spans(text, "verzuimcijfer", searcher.analyzer) == []


def test_long_words_are_split_in_polynomial_time_and_very_long_ones_not_at_all(analyzer):
    # 15 parts: listing every cut would visit 2**14 segmentations, 60 parts 2**59
    assert analyzer.compound_parts("jaar" * 15) == ("jaar",) * 15
    assert analyzer.compound_parts("jaar" * 16) == ()  # over MAX_COMPOUND_CHARS: pasted text, not a word
