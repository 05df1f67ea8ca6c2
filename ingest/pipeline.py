"""From a corpus folder to cleaned documents and passages, skipping bad files with a reason."""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from docqa.ingest.budget import BudgetedReader, ReadBudget
from docqa.ingest.chunk import ChunkSettings, CleanDocument, chunk_document
from docqa.ingest.clean import clean_pdf_pages, clean_text_file
from docqa.ingest.discover import discover_files
from docqa.ingest.metadata import CorpusManifest
from docqa.ingest.quality import TextQualitySettings, garbage_pages
from docqa.ingest.readers import UnreadableFileError, read_document
from docqa.ingest.records import IngestReport, Passage

log = logging.getLogger(__name__)


def load_document(path: Path, manifest: CorpusManifest, quality: TextQualitySettings = TextQualitySettings()
                  ) -> tuple[CleanDocument, tuple[str, ...]]:
    """Read and clean one file. Raises UnreadableFileError with the reason."""
    raw = read_document(path)
    warnings = list(raw.warnings)
    pages = list(raw.pages)
    if raw.kind == "pdf":
        bad = garbage_pages(pages, quality)
        if bad:
            shown = ", ".join(f"p. {n} ({share:.0%})" for n, share in bad[:10]) + (" ..." if len(bad) > 10 else "")
            what = "left out" if quality.skip_garbage else "indexed anyway"
            warnings.append(f"{len(bad)} page(s) extract as mostly non-words (known words: {shown}); the font "
                            f"may lack a Unicode map: check the PDF or OCR it; {what}")
            if quality.skip_garbage:
                pages = ["" if n in {b for b, _ in bad} else page for n, page in enumerate(pages, start=1)]
    lines = clean_pdf_pages(pages) if raw.kind == "pdf" else clean_text_file(pages[0])
    if not any(line.text.strip() for line in lines):
        raise UnreadableFileError(str(path), "no text left after cleaning")
    return CleanDocument.from_lines(manifest.meta_for(path), lines), tuple(warnings)


def ingest_corpus(corpus_dir: Path, settings: ChunkSettings = ChunkSettings(),
                  progress: Callable[[str], None] | None = None, budget: ReadBudget = ReadBudget(),
                  on_file: Callable[[int, int], None] | None = None
                  ) -> tuple[list[CleanDocument], list[Passage], IngestReport]:
    """Every document of the folder, each read under `budget` (in a worker process: a file over
    budget is skipped with the reason, the others are read). `on_file(done, total)` follows the
    files for a progress bar (skipped ones count as done)."""
    with BudgetedReader(corpus_dir, budget, progress=progress) as reader:
        return _ingest(Path(corpus_dir), settings, progress, reader, on_file or (lambda _done, _total: None))


def _ingest(corpus_dir: Path, settings: ChunkSettings, progress, reader, on_file
            ) -> tuple[list[CleanDocument], list[Passage], IngestReport]:
    discovery = discover_files(corpus_dir)
    manifest = CorpusManifest.load(corpus_dir)
    report = IngestReport(skipped=list(discovery.skipped))
    report.warnings.extend((str(corpus_dir / "manifest.toml"), p) for p in manifest.problems)
    documents: list[CleanDocument] = []
    passages: list[Passage] = []
    seen_ids: dict[str, str] = {}
    on_file(0, len(discovery.files))
    for n, file_name in enumerate(discovery.files, start=1):
        path = Path(file_name)
        if n > 1:
            on_file(n - 1, len(discovery.files))
        if path.stem in seen_ids:
            report.skipped.append((str(path), f"document id '{path.stem}' is already used by "
                                   f"{Path(seen_ids[path.stem]).name}; rename one of them"))
            continue
        try:
            doc, warnings = reader.read(path)
        except UnreadableFileError as exc:
            report.skipped.append((str(path), exc.reason))
            continue
        seen_ids[path.stem] = str(path)
        report.warnings.extend((str(path), w) for w in warnings)
        doc_passages = chunk_document(doc, settings)
        documents.append(doc)
        passages.extend(doc_passages)
        report.documents.append(doc.meta)
        if progress:
            progress(f"[{n}/{len(discovery.files)}] {path.name}: {len(doc_passages)} passages")
    on_file(len(discovery.files), len(discovery.files))
    report.warnings.extend((str(corpus_dir / "manifest.toml"), p)
                           for p in manifest.unmatched(Path(f).stem for f in discovery.files))
    report.passages = len(passages)
    return documents, passages, report
