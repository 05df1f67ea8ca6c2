"""A corpus folder of real-world mess: every bad file gets one clear line, the good files beside it
are indexed, and nothing already indexed is lost. Files are made by the test itself."""
import json
import os
import subprocess
import sys

import pytest

from tests import pdf_factory

GOOD_TEXT = "De Dienst Alfa verwerkt iedere maand zo'n 12.000 aanvragen van gemeenten. "


def docqa(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "docqa.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "DOCQA_CACHE": os.environ.get("DOCQA_TEST_CACHE", "")
                                                or str(args_cache)})


args_cache = None


@pytest.fixture(autouse=True)
def _cache(tmp_path):
    global args_cache
    args_cache = tmp_path / "cache"


def make_messy_corpus(folder):
    folder.mkdir()
    good = {
        "goed-utf8.txt": (GOOD_TEXT + "Het budget bedroeg € 3,4 miljoen.").encode("utf-8"),
        "goed cp1252 é.txt": "Coördinatie van de huisvesting kostte € 12.000 per maand. ".encode("cp1252"),
        "goed-latin1.txt": "Het Bureau Beta had 87 medewerkers en één directeur. ".encode("latin-1"),
        "goed-utf16.txt": "Gamma beheert het archief met 40 kasten. ".encode("utf-16"),
        "goed-regeleinden.txt": b"Delta adviseert over reizen.\r\nEn over huisvesting.\rEn over verlof.\n",
        "goed.pdf": pdf_factory.text_pdf(["Epsilon publiceert een jaarverslag.", "De norm voor tijdigheid is 95%."]),
        "leeg-wachtwoord.pdf": pdf_factory.encrypted_pdf("", ["Zeta opent een nieuw kantoor in Zwolle."]),
    }
    bad = {
        "leeg.txt": b"",
        "rommel.txt": bytes(range(256)) * 40,
        "rommel.pdf": os.urandom(3000),
        "afgebroken.pdf": pdf_factory.truncated(pdf_factory.text_pdf(["Eta is afgebroken."] * 3)),
        "versleuteld.pdf": pdf_factory.encrypted_pdf("geheim", ["Theta is geheim."]),
        "scan.pdf": pdf_factory.image_pdf(2),
        "notulen.docx": b"PK\x03\x04 not a document docqa reads",
    }
    for name, data in {**good, **bad}.items():
        (folder / name).write_bytes(data)
    (folder / "kopie van goed-utf8.txt").write_bytes(good["goed-utf8.txt"])  # same content, second name
    (folder / "lus").symlink_to(folder, target_is_directory=True)  # a symlink loop
    (folder / "weg.txt").symlink_to(folder / "bestaat-niet.txt")  # a broken link
    return good, bad


def test_messy_corpus_indexes_the_good_files_and_names_each_bad_one(tmp_path):
    good, bad = make_messy_corpus(tmp_path / "corpus")
    out = docqa("ingest", "--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index"), "--model",
                "hash", "--quiet")
    assert out.returncode == 0, out.stderr
    skipped = [line for line in out.stdout.splitlines() if line.startswith("skipped ")]
    for name in [*bad, "kopie van goed-utf8.txt", "weg.txt"]:
        lines = [line for line in skipped if f"/{name}:" in line]
        assert len(lines) == 1, (name, skipped)
    assert any("symbolic link loop" in line for line in skipped)
    assert not any(f"/{name}:" in line for line in skipped for name in good)
    assert f"indexed {len(good)} documents" in out.stdout
    assert any("read as cp1252" in line for line in out.stdout.splitlines() if line.startswith("warning"))

    docs = json.loads(docqa("docs", "--index", str(tmp_path / "index"), "--json").stdout)
    assert {d["doc_id"] for d in docs["documents"]} == {name.rsplit(".", 1)[0] for name in good}
    hits = json.loads(docqa("search", "--index", str(tmp_path / "index"), "--json", "--mode", "bm25",
                            "Coördinatie huisvesting").stdout)["hits"]
    assert hits[0]["doc"] == "goed cp1252 é"


def test_all_bad_corpus_fails_and_keeps_the_previous_index(tmp_path):
    good_dir = tmp_path / "good"
    good_dir.mkdir()
    (good_dir / "alfa.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (good_dir / "beta.txt").write_text("Beta had 87 medewerkers in dienst. ", encoding="utf-8")
    (good_dir / "gamma.txt").write_text("Gamma beheert het archief. ", encoding="utf-8")
    index = str(tmp_path / "index")
    assert docqa("ingest", "--corpus", str(good_dir), "--index", index, "--model", "hash", "--quiet").returncode == 0
    before = docqa("search", "--index", index, "--json", "aanvragen gemeenten").stdout

    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    (bad_dir / "leeg.txt").write_bytes(b"")
    (bad_dir / "scan.pdf").write_bytes(pdf_factory.image_pdf(1))
    out = docqa("ingest", "--corpus", str(bad_dir), "--index", index, "--model", "hash", "--quiet")
    assert out.returncode == 1
    assert "nothing could be indexed" in out.stderr and "previous index" in out.stderr
    assert docqa("search", "--index", index, "--json", "aanvragen gemeenten").stdout == before


def test_a_thousand_page_pdf_is_indexed_with_page_citations(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    pages = [f"Pagina-inhoud nummer {n}. De kosten van project {n} bedragen {n * 7} euro." for n in range(1, 1001)]
    (corpus / "groot.pdf").write_bytes(pdf_factory.text_pdf(pages))
    out = docqa("ingest", "--corpus", str(corpus), "--index", str(tmp_path / "index"), "--model", "hash", "--quiet")
    assert out.returncode == 0, out.stderr
    hits = json.loads(docqa("search", "--index", str(tmp_path / "index"), "--json", "--mode", "bm25", "--k", "1",
                            "project 777").stdout)["hits"]
    assert hits[0]["page"] <= 777 <= hits[0]["page_end"]
    assert "project 777 bedragen 5439 euro" in hits[0]["text"]


def test_odd_file_names_are_one_line_each_and_do_not_stop_the_rest(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "goed.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (corpus / "tweede.txt").write_text("Beta had 87 medewerkers. ", encoding="utf-8")
    (corpus / "derde.txt").write_text("Gamma beheert het archief. ", encoding="utf-8")
    with open(os.path.join(os.fsencode(corpus), b"caf\xe9 notitie.txt"), "wb") as f:  # a latin-1 name
        f.write(b"Een notitie over koffie. ")
    (corpus / "slecht\nbestand.txt").write_text("", encoding="utf-8")
    out = docqa("ingest", "--corpus", str(corpus), "--index", str(tmp_path / "index"), "--model", "hash", "--quiet")
    assert out.returncode == 0, out.stderr
    skipped = [line for line in out.stdout.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 2, out.stdout
    assert any("file name is not valid UTF-8; rename the file" in line for line in skipped)
    assert any("slecht\\nbestand.txt: empty file" in line for line in skipped)
    assert "indexed 3 documents" in out.stdout
