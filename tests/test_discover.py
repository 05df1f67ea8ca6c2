"""ingest.discover: which files of a corpus folder get indexed, and why the others do not."""
from __future__ import annotations

import builtins
import os
import time
from pathlib import Path

import pytest

from docqa.ingest.discover import CorpusFolderError, Discovery, discover_files
from tests import pdf_factory


def make(folder: Path, relative: str, data: bytes | str = b"tekst") -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def skipped_reasons(discovery: Discovery, root: Path) -> dict[str, str]:
    return {os.path.relpath(path, root): reason for path, reason in discovery.skipped}


def relative_files(discovery: Discovery, root: Path) -> list[str]:
    return [os.path.relpath(path, root) for path in discovery.files]


def test_finds_txt_and_pdf_recursively_sorted_and_absolute(tmp_path):
    make(tmp_path, "b.txt", "b")
    make(tmp_path, "a.pdf", pdf_factory.text_pdf(["a"]))
    make(tmp_path, "sub/deeper/c.TXT", "c")
    make(tmp_path, "sub/D.PDF", pdf_factory.text_pdf(["d"]))
    discovery = discover_files(tmp_path)
    assert discovery.files == tuple(sorted(discovery.files))
    assert all(os.path.isabs(path) for path in discovery.files)
    assert relative_files(discovery, tmp_path) == ["a.pdf", "b.txt", "sub/D.PDF", "sub/deeper/c.TXT"]
    assert discovery.skipped == ()


def test_accepts_str_and_relative_paths(tmp_path, monkeypatch):
    make(tmp_path, "corpus/a.txt")
    monkeypatch.chdir(tmp_path)
    assert discover_files("corpus").files == (str(tmp_path / "corpus" / "a.txt"),)


def test_hidden_entries_manifest_and_readme_are_ignored_silently(tmp_path):
    make(tmp_path, "doc.txt", "inhoud")
    make(tmp_path, ".verborgen.txt", "x")
    make(tmp_path, ".git/objects/blob.txt", "y")
    make(tmp_path, "manifest.toml", "[documents]")
    make(tmp_path, "README.md", "# corpus")
    make(tmp_path, "sub/readme.txt", "uitleg")
    discovery = discover_files(tmp_path)
    assert relative_files(discovery, tmp_path) == ["doc.txt"]
    assert discovery.skipped == ()


def test_other_file_types_are_skipped_with_a_reason(tmp_path):
    make(tmp_path, "doc.txt")
    make(tmp_path, "plan.docx", b"PK\x03\x04")
    make(tmp_path, "data/tabel.CSV", "a;b")
    make(tmp_path, "zonder-extensie", "x")
    reasons = skipped_reasons(discover_files(tmp_path), tmp_path)
    assert reasons == {
        "plan.docx": "unsupported file type .docx; only .txt and .pdf are indexed",
        "data/tabel.CSV": "unsupported file type .csv; only .txt and .pdf are indexed",
        "zonder-extensie": "unsupported file type (no suffix); only .txt and .pdf are indexed",
    }


def test_names_with_spaces_and_accents(tmp_path):
    names = ["Jaarplan café 2024.txt", "map met spaties/Één plan (concept).pdf", "ü/ß.txt"]
    for n, name in enumerate(names):
        make(tmp_path, name, f"inhoud {n}")
    assert sorted(relative_files(discover_files(tmp_path), tmp_path)) == sorted(names)


def test_same_content_under_two_names_is_indexed_once(tmp_path):
    make(tmp_path, "b-kopie.txt", "zelfde inhoud")
    make(tmp_path, "a.txt", "zelfde inhoud")
    make(tmp_path, "sub/c.txt", "zelfde inhoud")
    make(tmp_path, "d.txt", "ander inhoud!")  # same size, other bytes
    discovery = discover_files(tmp_path)
    assert relative_files(discovery, tmp_path) == ["a.txt", "d.txt"]
    assert skipped_reasons(discovery, tmp_path) == {
        "b-kopie.txt": "same content as a.txt; indexed once",
        "sub/c.txt": "same content as a.txt; indexed once",
    }


def test_empty_files_are_left_to_the_reader(tmp_path):
    make(tmp_path, "leeg1.txt", b"")
    make(tmp_path, "leeg2.txt", b"")
    assert relative_files(discover_files(tmp_path), tmp_path) == ["leeg1.txt", "leeg2.txt"]


def test_symlink_loops_and_broken_links_are_reported_not_followed(tmp_path):
    make(tmp_path, "doc.txt", "inhoud")
    make(tmp_path, "sub/ander.txt", "andere inhoud")
    (tmp_path / "sub" / "terug").symlink_to(tmp_path, target_is_directory=True)  # loop to an ancestor
    (tmp_path / "zelf").symlink_to("zelf")  # a link to itself
    (tmp_path / "ping.txt").symlink_to("pong.txt")
    (tmp_path / "pong.txt").symlink_to("ping.txt")
    (tmp_path / "weg.txt").symlink_to(tmp_path / "bestaat-niet.txt")
    started = time.perf_counter()
    discovery = discover_files(tmp_path)
    assert time.perf_counter() - started < 2
    assert relative_files(discovery, tmp_path) == ["doc.txt", "sub/ander.txt"]
    assert skipped_reasons(discovery, tmp_path) == {
        "sub/terug": "symbolic link loop",
        "zelf": "symbolic link loop",
        "ping.txt": "symbolic link loop",
        "pong.txt": "symbolic link loop",
        "weg.txt": "broken symbolic link",
    }


def test_symlinked_folders_and_files_outside_the_corpus_are_followed(tmp_path):
    corpus, elsewhere = tmp_path / "corpus", tmp_path / "elders"
    make(elsewhere, "extern.txt", "extern")
    make(corpus, "eigen.txt", "eigen")
    (corpus / "gedeeld").symlink_to(elsewhere, target_is_directory=True)
    (corpus / "ook-gedeeld").symlink_to(elsewhere, target_is_directory=True)
    discovery = discover_files(corpus)
    assert relative_files(discovery, corpus) == ["eigen.txt", "gedeeld/extern.txt"]
    assert skipped_reasons(discovery, corpus) == {"ook-gedeeld": "same folder as gedeeld; indexed once"}


def test_a_named_pipe_is_skipped_without_blocking(tmp_path):
    make(tmp_path, "doc.txt")
    os.mkfifo(tmp_path / "pijp.txt")
    reasons = skipped_reasons(discover_files(tmp_path), tmp_path)
    assert reasons == {"pijp.txt": "not a regular file (device, socket or pipe)"}


def test_unreadable_file_is_skipped(tmp_path, monkeypatch):
    make(tmp_path, "doc.txt", "leesbaar")
    secret = make(tmp_path, "geheim.txt", "geheim")
    secret.chmod(0)
    try:
        if os.access(secret, os.R_OK):  # root ignores file modes: simulate what another user would get
            real_open = builtins.open

            def fake_open(file, *args, **kwargs):
                if os.fspath(file) == str(secret):
                    raise PermissionError(13, "Permission denied", str(secret))
                return real_open(file, *args, **kwargs)

            monkeypatch.setattr(builtins, "open", fake_open)
        discovery = discover_files(tmp_path)
    finally:
        secret.chmod(0o644)
    assert relative_files(discovery, tmp_path) == ["doc.txt"]
    assert skipped_reasons(discovery, tmp_path) == {"geheim.txt": "cannot read file: permission denied"}


def test_unreadable_folder_is_skipped(tmp_path, monkeypatch):
    make(tmp_path, "doc.txt")
    make(tmp_path, "dicht/binnen.txt")
    locked = tmp_path / "dicht"
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):  # running as root
            real_scandir = os.scandir

            def fake_scandir(path="."):
                if os.fspath(path) == str(locked):
                    raise PermissionError(13, "Permission denied", str(locked))
                return real_scandir(path)

            monkeypatch.setattr(os, "scandir", fake_scandir)
        discovery = discover_files(tmp_path)
    finally:
        locked.chmod(0o755)
    assert relative_files(discovery, tmp_path) == ["doc.txt"]
    assert skipped_reasons(discovery, tmp_path) == {"dicht": "cannot read folder: permission denied"}


def test_missing_corpus_folder_says_what_to_do(tmp_path):
    missing = tmp_path / "nergens"
    with pytest.raises(CorpusFolderError) as caught:
        discover_files(missing)
    assert str(missing) in str(caught.value)
    assert "--corpus" in str(caught.value) and "DOCQA_CORPUS" in str(caught.value)


def test_a_file_as_corpus_folder_says_what_to_do(tmp_path):
    file = make(tmp_path, "doc.txt")
    with pytest.raises(CorpusFolderError) as caught:
        discover_files(file)
    assert str(file) in str(caught.value)
    assert "DOCQA_CORPUS" in str(caught.value)


def test_empty_folder_gives_nothing(tmp_path):
    assert discover_files(tmp_path) == Discovery(files=(), skipped=())
