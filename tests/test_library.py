"""docqa/library.py: adding and removing your own documents (tmp corpus, hash encoder: fast).

Never touches ../shared/corpus: every test works on a copy of the small invented corpus in tmp_path.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root, for `tests.*`

from docqa.errors import SettingsError  # noqa: E402
from docqa.library import (Library, LibraryError, LibrarySettings, Upload, atomic_write, corpus_lock,  # noqa: E402
                           safe_stem, with_entry, without_entry)
from tests.conftest import write_small_corpus  # noqa: E402
from tests.pdf_factory import image_pdf, text_pdf, truncated  # noqa: E402

ZETA_PDF = text_pdf(["1 Inleiding\nDe Zeta-raad besloot in 2025 tot veertien nieuwe fietsroutes.",
                     "2 Uitvoering\nDe eerste fietsroute van Zeta opent in het voorjaar."])


@pytest.fixture()
def library(tmp_path) -> Library:
    from docqa.index.encoders import make_encoder
    from docqa.index.store import build_index

    corpus = write_small_corpus(tmp_path / "corpus")
    build_index(corpus, tmp_path / "index", make_encoder("hash"), cache_dir=tmp_path / "cache")
    return Library(corpus, tmp_path / "index", cache_dir=tmp_path / "cache")


def corpus_files(library: Library) -> list[str]:
    return sorted(p.name for p in library.corpus.iterdir() if p.name != ".docqa-library.lock")


def engine_of(library: Library):
    from docqa.engine import Engine

    return Engine.open(library.index)


def test_added_pdf_is_searchable_with_its_metadata(library):
    events = []
    result = library.add(Upload("Zeta nota.pdf", ZETA_PDF, title="Nota fietsroutes", organisation="Zeta-raad",
                                year=2025), progress=lambda *e: events.append(e))
    assert result.doc_id == "zeta-nota" and result.path.name == "zeta-nota.pdf" and result.renamed
    assert result.documents == 3 and result.passages >= 1 and result.embedded >= 1
    engine = engine_of(library)
    meta = engine.document_meta["zeta-nota"]
    assert (meta.title, meta.organisation, meta.year) == ("Nota fietsroutes", "Zeta-raad", 2025)
    hits = engine.search("fietsroutes Zeta-raad", k=3, mode="bm25").hits
    assert hits[0].passage.doc_id == "zeta-nota"
    # one progress stream: every file read, the new texts embedded, the build written
    phases = [e[0] for e in events]
    assert phases[0] == "read" and ("read", 3, 3) in events and "embed" in phases and events[-1] == ("write", 1, 1)
    # no temp files left; the existing manifest entries and comments kept
    assert corpus_files(library) == ["alfa-jaarplan-2024.txt", "beta-verslag-2023.txt", "manifest.toml",
                                     "zeta-nota.pdf"]
    manifest = (library.corpus / "manifest.toml").read_text(encoding="utf-8")
    assert manifest.startswith("[alfa-jaarplan-2024]") and '[zeta-nota]\ntitle = "Nota fietsroutes"' in manifest


def test_only_the_new_texts_are_embedded(library):
    first = library.add(Upload("zeta.pdf", ZETA_PDF))
    library.remove("zeta")
    again = library.add(Upload("zeta.pdf", ZETA_PDF))  # its texts are in the embedding cache now
    assert first.embedded >= 1 and again.embedded == 0


@pytest.mark.parametrize("name, data, code, reason", [
    ("kapot.pdf", truncated(ZETA_PDF, 0.3), "unreadable", "damaged or not a PDF"),
    ("scan.pdf", image_pdf(), "unreadable", "no text layer"),
    ("leeg.txt", b"", "empty", "empty file"),
    ("leeg.pdf", b"", "empty", "empty file"),
    ("nep.pdf", b"dit is geen pdf", "content", "does not start with %PDF"),
    ("latin.txt", "caf\u00e9".encode("latin-1"), "content", "not UTF-8"),
    ("brief.docx", b"PK\x03\x04", "type", "only .pdf and .txt"),
    ("geen-extensie", b"tekst", "type", "file without extension"),
    ("spaties.txt", b"   \n\n  ", "unreadable", "empty file"),
])
def test_bad_files_are_refused_by_name_and_leave_nothing(library, name, data, code, reason):
    from docqa.index.store import current_build

    before, build = corpus_files(library), current_build(library.index)
    manifest = (library.corpus / "manifest.toml").read_bytes()
    with pytest.raises(LibraryError) as caught:
        library.add(Upload(name, data, title="Iets"))
    assert caught.value.code == code and name in str(caught.value) and reason in str(caught.value)
    assert corpus_files(library) == before
    assert (library.corpus / "manifest.toml").read_bytes() == manifest
    assert current_build(library.index) == build  # the old index untouched and answering
    assert engine_of(library).search("medewerkers Beta", k=1).hits


def test_size_limit_is_a_setting(library):
    small = Library(library.corpus, library.index, cache_dir=library.cache_dir, settings=LibrarySettings(max_bytes=100))
    with pytest.raises(LibraryError, match="the limit is") as caught:
        small.add(Upload("zeta.pdf", ZETA_PDF))
    assert caught.value.code == "size"


@pytest.mark.parametrize("bad", [{"max_bytes": 0}, {"suffixes": (".doc",)}, {"max_name_chars": 2},
                                 {"min_year": 2100, "max_year": 1900}])
def test_settings_are_checked(bad):
    with pytest.raises(SettingsError):
        LibrarySettings(**bad)


def test_collisions_are_refused(library):
    library.add(Upload("zeta.pdf", ZETA_PDF))
    with pytest.raises(LibraryError, match="already has a document 'zeta'") as caught:
        library.add(Upload("Zeta.txt", "Andere tekst over Zeta.".encode()))  # the same id, another type
    assert caught.value.code == "exists"
    with pytest.raises(LibraryError, match="same content as zeta.pdf") as caught:
        library.add(Upload("kopie.pdf", ZETA_PDF))
    assert caught.value.code == "duplicate"


@pytest.mark.parametrize("given, stem", [
    ("../../etc/passwd.txt", "passwd"), ("..\\..\\boot.ini.txt", "boot-ini"), ("/abs/Nota Één (def).PDF", "nota-een-def"),
    (".verborgen.txt", "verborgen"), ("-_ .txt", "document"), ("README.txt", "readme-document"),
    ("a" * 300 + ".txt", "a" * 100), ("nota\x00\n.txt", "nota"),
])
def test_names_cannot_escape_the_folder(given, stem):
    assert safe_stem(given) == stem


def test_a_traversal_name_is_stored_inside_the_corpus(library, tmp_path):
    result = library.add(Upload("../../buiten.txt", "Het Omega-fonds gaf 300 euro aan het buurthuis.".encode()))
    assert result.path.parent == library.corpus.resolve() and result.path.name == "buiten.txt"
    assert not (tmp_path / "buiten.txt").exists()


@pytest.mark.parametrize("upload, field", [
    (Upload("x.txt", b"tekst", year=3000), "year"), (Upload("x.txt", b"tekst", year="twintig"), "year"),
    (Upload("x.txt", b"tekst", title="t" * 301), "title"), (Upload("x.txt", b"tekst", organisation="o" * 201),
                                                              "organisation"),
])
def test_bad_metadata_is_refused(library, upload, field):
    with pytest.raises(LibraryError) as caught:
        library.add(upload)
    assert caught.value.code == "metadata" and caught.value.params["field"] == field


def test_metadata_with_quotes_and_control_characters_reads_back(library):
    library.add(Upload("q.txt", "De Q-dienst telt 12 loketten.".encode(), title='Nota "Q" \\ deel\n2',
                       organisation="Dienst [Q]", year="2024"))
    meta = engine_of(library).document_meta["q"]
    assert (meta.title, meta.organisation, meta.year) == ('Nota "Q" \\ deel 2', "Dienst [Q]", 2024)


def test_remove_takes_out_file_and_manifest_entry(library):
    library.add(Upload("zeta.pdf", ZETA_PDF, title="Nota", year=2025))
    result = library.remove("zeta")
    assert result.documents == 2 and "zeta" not in engine_of(library).document_meta
    assert corpus_files(library) == ["alfa-jaarplan-2024.txt", "beta-verslag-2023.txt", "manifest.toml"]
    assert "[zeta]" not in (library.corpus / "manifest.toml").read_text(encoding="utf-8")
    with pytest.raises(LibraryError, match="no document 'zeta'"):
        library.remove("zeta")
    library.remove("alfa-jaarplan-2024")
    with pytest.raises(LibraryError) as caught:
        library.remove("beta-verslag-2023")
    assert caught.value.code == "last"


def test_a_failed_build_keeps_corpus_manifest_and_index(library, monkeypatch):
    from docqa.index import store

    build = store.current_build(library.index)
    manifest = (library.corpus / "manifest.toml").read_bytes()

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "write_build", broken)
    with pytest.raises(OSError, match="disk full"):
        library.add(Upload("zeta.pdf", ZETA_PDF, title="Nota"))
    assert corpus_files(library) == ["alfa-jaarplan-2024.txt", "beta-verslag-2023.txt", "manifest.toml"]
    assert (library.corpus / "manifest.toml").read_bytes() == manifest
    with pytest.raises(OSError, match="disk full"):
        library.remove("beta-verslag-2023")
    assert (library.corpus / "beta-verslag-2023.txt").is_file()
    assert (library.corpus / "manifest.toml").read_bytes() == manifest
    assert store.current_build(library.index) == build
    assert engine_of(library).search("medewerkers Beta", k=1).hits[0].passage.doc_id == "beta-verslag-2023"


def test_a_second_change_at_the_same_time_is_refused(library):
    with corpus_lock(library.corpus):
        with pytest.raises(LibraryError) as caught:
            library.add(Upload("zeta.pdf", ZETA_PDF))
    assert caught.value.code == "busy"
    assert not (library.corpus / "zeta.pdf").exists()


def test_manifest_edits_keep_everything_else():
    text = '# mijn corpus\n[a]\ntitle = "A"  # A\n\n["b.c"]\ntitle = "B"\n\n[d]\nyear = 2020\n'
    assert without_entry(text, "b.c") == '# mijn corpus\n[a]\ntitle = "A"  # A\n\n[d]\nyear = 2020\n'
    out = with_entry(text, "a", {"title": 'Nieuw "A"', "year": 2024})
    assert out.startswith('# mijn corpus\n["b.c"]') and out.endswith('[a]\ntitle = "Nieuw \\"A\\""\nyear = 2024\n')
    import tomllib

    assert tomllib.loads(out)["a"] == {"title": 'Nieuw "A"', "year": 2024}


def test_atomic_write_leaves_no_temp_file(tmp_path):
    atomic_write(tmp_path / "f.txt", b"een")
    atomic_write(tmp_path / "f.txt", b"twee")
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"] and (tmp_path / "f.txt").read_bytes() == b"twee"


def test_cli_add_and_remove(library, tmp_path, capsys, monkeypatch):
    from docqa.cli import main

    monkeypatch.setenv("DOCQA_CACHE", str(library.cache_dir))
    monkeypatch.delenv("DOCQA_STORE", raising=False)
    where = ["--corpus", str(library.corpus), "--index", str(library.index)]
    source = tmp_path / "Zeta nota.pdf"
    source.write_bytes(ZETA_PDF)
    assert main(["add", str(source), *where, "--title", "Nota", "--organisation", "Zeta-raad", "--year", "2025"]) == 0
    out = capsys.readouterr()
    assert "added Zeta nota.pdf as zeta-nota (stored as zeta-nota.pdf)" in out.out and "read 3 files" in out.err
    assert engine_of(library).document_meta["zeta-nota"].organisation == "Zeta-raad"
    broken = tmp_path / "kapot.pdf"
    broken.write_bytes(truncated(ZETA_PDF, 0.3))
    assert main(["add", str(broken), *where, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("docqa: kapot.pdf: damaged or not a PDF") and err.count("\n") == 1
    assert main(["remove", "zeta-nota", *where, "--quiet"]) == 0
    assert "removed zeta-nota (zeta-nota.pdf)" in capsys.readouterr().out
    assert main(["remove", "zeta-nota", *where, "--quiet"]) == 1
    assert capsys.readouterr().err.startswith("docqa: no document 'zeta-nota'")


def test_a_symlinked_document_is_removed_as_a_link(library, tmp_path):
    outside = tmp_path / "elders"
    outside.mkdir()
    (outside / "gedeeld.txt").write_text("Het Sigma-bureau telt negen teams.", encoding="utf-8")
    (library.corpus / "gedeeld.txt").symlink_to(outside / "gedeeld.txt")
    (library.corpus / "gekoppeld").symlink_to(outside, target_is_directory=True)
    (outside / "diep.txt").write_text("Het Tau-bureau telt elf teams.", encoding="utf-8")
    library._rebuild(None)
    library.remove("gedeeld")
    assert not (library.corpus / "gedeeld.txt").is_symlink() and (outside / "gedeeld.txt").is_file()
    with pytest.raises(LibraryError) as caught:  # through a linked folder: not ours to delete
        library.remove("diep")
    assert caught.value.code == "outside" and (outside / "diep.txt").is_file()


def test_leftovers_of_a_killed_change_are_cleared(library):
    (library.corpus / ".upload-0000abcd.pdf").write_bytes(ZETA_PDF)
    (library.corpus / ".removed-0000abcd-oud.txt").write_text("oud", encoding="utf-8")
    library.add(Upload("zeta.pdf", ZETA_PDF))
    assert corpus_files(library) == ["alfa-jaarplan-2024.txt", "beta-verslag-2023.txt", "manifest.toml", "zeta.pdf"]


def test_a_failing_progress_display_does_not_stop_the_change(library):
    def display(phase, done, total):
        raise RuntimeError("the page was closed")

    result = library.add(Upload("zeta.pdf", ZETA_PDF), progress=display)
    assert result.doc_id == "zeta" and "zeta" in engine_of(library).document_meta
