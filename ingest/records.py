"""The records that flow from docqa.ingest to index to answers.

A `Passage` carries everything a citation needs, so nothing downstream has to look the
document up again: the app, the CLI and the evaluation all read the same frozen record.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class DocumentMeta:
    """Metadata of one document, from `manifest.toml` beside it or derived from its file name."""

    doc_id: str  # file name without extension
    title: str
    organisation: str
    year: int | None
    kind: str
    path: str  # absolute path of the source file

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    """One retrievable, citable unit of text (at most `MAX_PASSAGE_CHARS` characters).

    `text` is exactly `document.text[char_start:char_end]` of the cleaned document text, so the
    surrounding context can always be shown from the offsets.
    """

    chunk_id: str
    doc_id: str
    title: str
    organisation: str
    year: int | None
    kind: str
    section: str  # section path, e.g. "1. Onze dienstverlening in 2024 > 1.2. Werk en Inkomen"; "" before the first heading
    page: int | None  # 1-based PDF page of the passage start; None for text files
    page_end: int | None
    line_start: int  # 1-based line range in the source file (text) or in the page text (PDF)
    line_end: int
    char_start: int  # offsets into the cleaned document text
    char_end: int
    text: str
    source_path: str = ""

    @property
    def location(self) -> str:
        if self.page is not None:
            if self.page_end and self.page_end != self.page:
                return f"p. {self.page}-{self.page_end}"
            return f"p. {self.page}"
        if self.line_end != self.line_start:
            return f"r. {self.line_start}-{self.line_end}"
        return f"r. {self.line_start}"

    def to_json(self) -> dict:
        return asdict(self)


def make_chunk_id(doc_id: str, text: str, char_start: int) -> str:
    """Stable id: the same document text cut the same way gives the same id across builds."""
    digest = hashlib.sha1(f"{doc_id}\x00{char_start}\x00{text}".encode("utf-8")).hexdigest()
    return f"{doc_id}:{digest[:12]}"


def text_hash(text: str) -> str:
    """Key of the embedding cache: the exact text that was embedded."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


@dataclass
class IngestReport:
    """What an ingest run did, for the summary line and the app."""

    documents: list[DocumentMeta] = field(default_factory=list)
    passages: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
