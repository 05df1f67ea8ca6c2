"""Document metadata: `manifest.toml` beside the documents, else derived from the file name."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from docqa.ingest.records import DocumentMeta

MANIFEST_NAME = "manifest.toml"
_FIELDS = {"title": str, "organisation": str, "year": int, "kind": str}
# Longest metadata values kept: the title, organisation and year go in front of every passage's
# indexed text, so a 1 MB title would be embedded (and shown) with each of them.
MAX_CHARS = {"title": 300, "organisation": 200, "kind": 60}
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # escape codes, line breaks: one line each


class CorpusManifest:
    """Per-document metadata keyed by document id (file name without extension)."""

    def __init__(self, entries: dict[str, dict], problems: list[str]):
        self.entries = entries
        self.problems = problems  # one line each, naming the file and the key

    @classmethod
    def load(cls, corpus_dir: Path) -> "CorpusManifest":
        path = Path(corpus_dir) / MANIFEST_NAME
        if not path.is_file():
            return cls({}, [])
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            return cls({}, [f"not valid TOML ({exc}); metadata taken from file names"])
        entries, problems = {}, []
        for doc_id, table in data.items():
            if not isinstance(table, dict):
                problems.append(f"[{_shown(doc_id)}] is not a table; ignored")
                continue
            clean = {}
            for key, value in table.items():
                expected = _FIELDS.get(key)
                if expected is None:
                    continue  # extra keys are allowed and ignored
                if not isinstance(value, expected) or isinstance(value, bool):
                    problems.append(f"[{doc_id}] {key} = {_shown(value)} should be {expected.__name__}; ignored")
                    continue
                if isinstance(value, str):
                    value = " ".join(_CONTROL_RE.sub(" ", value).split())
                    cap = MAX_CHARS[key]
                    if len(value) > cap:
                        problems.append(f"[{doc_id}] {key} is {len(value):,} characters; cut to the first {cap}")
                        value = value[:cap].rstrip()
                clean[key] = value
            entries[doc_id] = clean
        return cls(entries, problems)

    def unmatched(self, doc_ids) -> list[str]:
        """Problems for manifest entries that name no document: a typo there would silently leave
        a document with metadata from its file name."""
        ids = set(doc_ids)
        return [f"[{_shown(doc_id)}] matches no file of the corpus (ids are file names without .txt/.pdf); "
                "its metadata is not used" for doc_id in self.entries if doc_id not in ids]

    def meta_for(self, path: Path) -> DocumentMeta:
        doc_id = path.stem
        fallback = meta_from_file_name(path)
        entry = self.entries.get(doc_id, {})
        return DocumentMeta(
            doc_id=doc_id,
            title=entry.get("title", fallback.title),
            organisation=entry.get("organisation", fallback.organisation),
            year=entry.get("year", fallback.year),
            kind=entry.get("kind", fallback.kind),
            path=str(path.resolve()),
        )


def meta_from_file_name(path: Path) -> DocumentMeta:
    """`uwv-viermaandenverslag-2024.pdf` -> title "Uwv viermaandenverslag 2024", year 2024."""
    stem = path.stem
    words = [w for w in re.split(r"[-_\s]+", stem) if w]
    years = [int(w) for w in words if re.fullmatch(r"(19|20)\d\d", w)]
    title = " ".join(words).strip() or stem
    return DocumentMeta(doc_id=stem, title=title[:1].upper() + title[1:], organisation="",
                        year=years[0] if years else None, kind="", path=str(path.resolve()))


def _shown(value, limit: int = 80) -> str:
    """A value for a one-line message: repr, cut."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...'"
