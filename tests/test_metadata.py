"""Document metadata from manifest.toml, and what happens when it is wrong."""
from pathlib import Path

from docqa.ingest.metadata import CorpusManifest, meta_from_file_name


def test_manifest_values_are_used(tmp_path):
    (tmp_path / "manifest.toml").write_text('[a-2024]\ntitle = "Jaarplan"\norganisation = "Alfa"\nyear = 2024\n'
                                            'kind = "jaarplan"\n', encoding="utf-8")
    meta = CorpusManifest.load(tmp_path).meta_for(tmp_path / "a-2024.txt")
    assert (meta.title, meta.organisation, meta.year, meta.kind) == ("Jaarplan", "Alfa", 2024, "jaarplan")


def test_a_bad_value_is_named_and_the_rest_is_kept(tmp_path):
    (tmp_path / "manifest.toml").write_text('[a-2024]\ntitle = "Jaarplan"\nyear = "twintig"\n', encoding="utf-8")
    manifest = CorpusManifest.load(tmp_path)
    assert manifest.problems == ["[a-2024] year = 'twintig' should be int; ignored"]  # the caller names the file
    meta = manifest.meta_for(tmp_path / "a-2024.txt")
    assert meta.title == "Jaarplan" and meta.year == 2024  # the year falls back to the file name


def test_broken_toml_falls_back_to_file_names_with_a_message(tmp_path):
    (tmp_path / "manifest.toml").write_text("[a-2024\ntitle = ", encoding="utf-8")
    manifest = CorpusManifest.load(tmp_path)
    assert "not valid TOML" in manifest.problems[0] and "file names" in manifest.problems[0]
    assert manifest.meta_for(tmp_path / "a-2024.txt").title == "A 2024"


def test_metadata_from_the_file_name():
    meta = meta_from_file_name(Path("/x/uwv-viermaandenverslag-2024.pdf"))
    assert (meta.doc_id, meta.title, meta.year) == ("uwv-viermaandenverslag-2024", "Uwv viermaandenverslag 2024", 2024)


def test_long_and_control_character_metadata_is_cut_to_one_line(tmp_path):
    from docqa.ingest.metadata import MAX_CHARS

    (tmp_path / "manifest.toml").write_text(
        '[a-2024]\ntitle = "' + "Jaarplan " * 50_000 + '"\norganisation = "Dienst\\u001b[2J Alfa\\nBeta"\n',
        encoding="utf-8")
    manifest = CorpusManifest.load(tmp_path)
    meta = manifest.meta_for(tmp_path / "a-2024.txt")
    assert len(meta.title) <= MAX_CHARS["title"] and meta.title.startswith("Jaarplan Jaarplan")
    assert meta.organisation == "Dienst [2J Alfa Beta"
    assert any(p.startswith("[a-2024] title is 449,999 characters; cut to the first 300") for p in manifest.problems)


def test_a_manifest_entry_without_a_file_is_reported(tmp_path):
    (tmp_path / "manifest.toml").write_text('[alfa-2024]\ntitle = "A"\n[alfa-2042]\ntitle = "B"\n', encoding="utf-8")
    manifest = CorpusManifest.load(tmp_path)
    assert manifest.unmatched(["alfa-2024"]) == [
        "['alfa-2042'] matches no file of the corpus (ids are file names without .txt/.pdf); its metadata is not used"]
