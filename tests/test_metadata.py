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
    assert manifest.problems == [f"{tmp_path / 'manifest.toml'}: [a-2024] year = 'twintig' should be int; ignored"]
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
