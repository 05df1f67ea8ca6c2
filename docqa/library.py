"""Your own documents: add a file to the corpus folder, or remove one, and rebuild the index.

    from docqa.library import Library, Upload
    library = Library.open()                                   # DOCQA_CORPUS, DOCQA_INDEX, DOCQA_CACHE
    result = library.add(Upload("nota.pdf", data, title="Nota", organisation="Gemeente X", year=2025))
    library.remove("nota")

Below the faces (the app's documents page, `docqa add` / `docqa remove`), above the index: it
checks a file before it enters the corpus folder (name, type by extension and content, size,
readability in the budgeted reader process of `ingest/budget.py`), writes it atomically (a hidden
temp file in the same folder, fsync, os.replace), records its title, organisation and year in the
corpus `manifest.toml`, and rebuilds the index with `index.store.build_index`. The rebuild reads
every file again, but its embedding cache means only the new document's texts are embedded. A
refused or failed step leaves the corpus and the manifest as they were, and the index's CURRENT
switch (made only after a complete build) leaves the previous index answering.

Every refusal is a `LibraryError` with a `code` (and `params`) a face can turn into its own
language; its message is English, one line, for the CLI.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from docqa import config
from docqa.errors import DocqaError, SettingsError

# progress(phase, done, total): phase "read" counts files read, "embed" the new texts (passages and
# answer units) embedded, "write" the index written (0 of 1, then 1 of 1)
LibraryProgress = Callable[[str, int, int], None]

log = logging.getLogger(__name__)

LOCK_NAME = ".docqa-library.lock"  # hidden: discovery never indexes it


class LibraryError(DocqaError):
    """An upload or removal refused or failed; nothing in the corpus or the index changed.

    `code` names the kind of problem for a face's own wording: name, type, size, empty, content,
    exists, duplicate, metadata, unreadable, busy, manifest, missing, outside, last, build. `params` hold the
    details (`file`, `reason`, `limit`, ...)."""

    def __init__(self, code: str, message: str, **params):
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class LibrarySettings:
    """The limits an upload is checked against."""

    # the readers refuse bigger files anyway (ingest/readers.py); refusing at upload saves the copy
    max_bytes: int = 20 * 1024 * 1024
    # what the readers index; anything else would sit in the corpus unread
    suffixes: tuple[str, ...] = (".pdf", ".txt")
    # the file name is the document id, shown in every citation and typed in `--doc`
    max_name_chars: int = 100
    # metadata a person would type; beyond this range a year is a typo
    min_year: int = 1800
    max_year: int = 2100

    def __post_init__(self):
        if not isinstance(self.max_bytes, int) or isinstance(self.max_bytes, bool) or not 1 <= self.max_bytes <= 1 << 31:
            raise SettingsError(f"library max_bytes={self.max_bytes!r}: must be a whole number from 1 to 2147483648")
        if (not isinstance(self.suffixes, tuple) or not self.suffixes
                or not all(s in (".pdf", ".txt") for s in self.suffixes)):
            raise SettingsError(f"library suffixes={self.suffixes!r}: a non-empty tuple of '.pdf' and '.txt'")
        if not isinstance(self.max_name_chars, int) or isinstance(self.max_name_chars, bool) or not 8 <= self.max_name_chars <= 200:
            raise SettingsError(f"library max_name_chars={self.max_name_chars!r}: must be a whole number from 8 to 200")
        for name in ("min_year", "max_year"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise SettingsError(f"library {name}={value!r}: must be a whole number")
        if self.min_year > self.max_year:
            raise SettingsError(f"library min_year={self.min_year} is above max_year={self.max_year}")


@dataclass(frozen=True)
class Upload:
    """A file to add, as bytes, with the metadata the user typed (empty or None: not given)."""

    file_name: str
    data: bytes = field(repr=False)
    title: str | None = None
    organisation: str | None = None
    year: int | None = None


@dataclass(frozen=True)
class ChangeResult:
    """What an add or remove did."""

    doc_id: str
    path: Path  # the file in the corpus (removed: where it was)
    documents: int  # documents in the new index
    passages: int  # passages of this document (0 for a removal)
    embedded: int  # texts embedded by the rebuild (the rest came from the embedding cache)
    warnings: tuple[str, ...]  # the reader's warnings about this file
    seconds: float
    renamed: bool = False  # the stored name differs from the name given (sanitised)


# -- names -------------------------------------------------------------------------------------

_UNSAFE_RE = re.compile(r"[^a-z0-9_-]+")


def safe_stem(file_name: str, max_chars: int = 100) -> str:
    """The document id a file name becomes: its last path part (`/` and `\\` both separate), accents
    dropped, lower case, every run of other characters one `-`, no leading dot or dash, at most
    `max_chars`. "../../Nota Één (def).PDF" -> "nota-een-def". Never empty, never a path."""
    base = re.split(r"[/\\]", str(file_name))[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE_RE.sub("-", ascii_stem.lower()).strip("-_")[:max_chars].strip("-_")
    if not cleaned:
        cleaned = "document"
    if cleaned == "readme":  # discovery skips README files: the document would never be indexed
        cleaned = "readme-document"
    return cleaned


def file_suffix(file_name: str) -> str:
    base = re.split(r"[/\\]", str(file_name))[-1]
    return ("." + base.rsplit(".", 1)[1].lower()) if "." in base.lstrip(".") else ""


# -- the manifest ------------------------------------------------------------------------------

_BARE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY_RE.match(key) else _toml_string(key)


def _toml_string(value: str) -> str:
    """A TOML basic string: backslash and quote escaped; control characters were removed before."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _header_key(line: str) -> str | None:
    """The key of a `[table]` header line (bare or quoted), or None for any other line."""
    stripped = line.strip()
    if not stripped.startswith("[") or stripped.startswith("[["):
        return None
    m = re.match(r'^\[\s*(?:([A-Za-z0-9_-]+)|"((?:[^"\\]|\\.)*)"|\'([^\']*)\')\s*\]\s*(?:#.*)?$', stripped)
    if not m:
        return "\0other"  # a dotted or unusual header: a table we do not edit, but it ends the previous one
    if m.group(1) is not None:
        return m.group(1)
    if m.group(2) is not None:
        return m.group(2).replace('\\"', '"').replace("\\\\", "\\")
    return m.group(3)


def without_entry(text: str, doc_id: str) -> str:
    """The manifest text with the table `[doc_id]` (its header up to the next header) taken out;
    everything else, comments included, as it was."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        key = _header_key(line)
        if key is not None:
            skipping = key == doc_id
        if not skipping:
            out.append(line)
    return "".join(out)


def with_entry(text: str, doc_id: str, fields: dict) -> str:
    """The manifest text with `[doc_id]` replaced by (or added as) a table of `fields`, at the end."""
    rest = without_entry(text, doc_id).rstrip("\n")
    lines = [f"[{_toml_key(doc_id)}]"]
    for key in ("title", "organisation", "year", "kind"):
        if fields.get(key) not in (None, ""):
            value = fields[key]
            lines.append(f"{key} = {value}" if isinstance(value, int) else f"{key} = {_toml_string(value)}")
    return (rest + "\n\n" if rest else "") + "\n".join(lines) + "\n"


def _parse_manifest(text: str) -> dict:
    import tomllib

    return tomllib.loads(text)


def _checked_edit(old_text: str, new_text: str, doc_id: str, fields: dict | None) -> None:
    """Refuse an edit that changes anything but `[doc_id]`: the text edit must read back exactly."""
    try:
        before, after = _parse_manifest(old_text), _parse_manifest(new_text)
    except ValueError as exc:
        raise LibraryError("manifest", f"{config_manifest_name()}: cannot be edited safely ({exc}); "
                           "fix the file by hand", reason=str(exc)) from None
    expected = {k: v for k, v in before.items() if k != doc_id}
    if fields is not None:
        expected[doc_id] = {k: v for k, v in fields.items() if v not in (None, "")}
    if after != expected:
        raise LibraryError("manifest", f"{config_manifest_name()}: cannot be edited safely (an unusual layout); "
                           "edit the file by hand", reason="layout")


def config_manifest_name() -> str:
    from docqa.ingest.metadata import MANIFEST_NAME

    return MANIFEST_NAME


# -- files -------------------------------------------------------------------------------------

def atomic_write(path: Path, data: bytes) -> None:
    """`data` at `path` or nothing: a hidden temp file in the same folder, fsync, os.replace, and
    the folder fsynced so the new name survives a crash."""
    path = Path(path)
    tmp = path.parent / f".{path.name}.tmp-{secrets.token_hex(4)}"
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256_file(path: str) -> str | None:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


@contextmanager
def corpus_lock(corpus: Path):
    """One change to a corpus folder at a time: a second add or remove refuses at once."""
    with open(corpus / LOCK_NAME, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise LibraryError("busy", f"{corpus}: another document is being added or removed; "
                                   "wait for it to finish and try again") from None
            raise
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


STAGED_PREFIX, ASIDE_PREFIX = ".upload-", ".removed-"


def clear_leftovers(corpus: Path) -> None:
    """Delete what an add or remove killed half-way left (under the corpus lock): an upload still
    hidden was never added; a file set aside was being removed, as its user asked."""
    for folder, dirs, names in os.walk(corpus):  # symbolic links to folders are not followed
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.startswith((STAGED_PREFIX, ASIDE_PREFIX)):
                Path(folder, name).unlink(missing_ok=True)


# -- the library -------------------------------------------------------------------------------

class Library:
    """A corpus folder and the index built from it, changed one document at a time."""

    def __init__(self, corpus: Path, index: Path, encoder=None, cache_dir: Path | None = None,
                 settings: LibrarySettings = LibrarySettings(), budget=None):
        self.corpus = Path(corpus)
        self.index = Path(index)
        self._encoder = encoder
        self.cache_dir = Path(cache_dir) if cache_dir else config.cache_dir()
        self.settings = settings
        self.budget = budget

    @classmethod
    def open(cls, corpus: str | Path | None = None, index: str | Path | None = None, *,
             model: str | None = None, settings: LibrarySettings = LibrarySettings()) -> "Library":
        """The corpus (else DOCQA_CORPUS), the index (else DOCQA_INDEX), its encoder: `model`, else
        the one the index was built with, else DOCQA_MODEL or e5-small."""
        from docqa.ingest.budget import ReadBudget

        try:
            budget = ReadBudget.from_env()
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        encoder = None
        if model:
            from docqa.index.encoders import make_encoder

            encoder = make_encoder(model)
        return cls(config.corpus_dir(str(corpus) if corpus else None), config.index_dir(str(index) if index else None),
                   encoder, config.cache_dir(), settings, budget)

    @property
    def encoder(self):
        if self._encoder is None:
            from docqa.index.encoders import make_encoder
            from docqa.index.store import read_manifest

            manifest = read_manifest(self.index) or {}
            self._encoder = make_encoder((manifest.get("encoder") or {}).get("id") or config.model_spec())
        return self._encoder

    def _check_corpus(self) -> Path:
        from docqa.ingest.discover import CorpusFolderError

        if not self.corpus.is_dir():
            raise CorpusFolderError(f"corpus folder not found: {self.corpus}; pass --corpus or set DOCQA_CORPUS")
        return self.corpus.resolve()

    # -- checks ---------------------------------------------------------------------------------

    def target_name(self, file_name: str) -> str:
        """The name a file is stored under (checks only the name and the type)."""
        suffix = file_suffix(file_name)
        if suffix not in self.settings.suffixes:
            kinds = " and ".join(self.settings.suffixes)
            raise LibraryError("type", f"{file_name}: a {suffix or 'file without extension'} file; only {kinds} "
                               "files can be added", file=file_name, suffix=suffix or "")
        return safe_stem(file_name, self.settings.max_name_chars) + suffix

    def check_metadata(self, upload: Upload) -> dict:
        """The manifest fields of an upload, cleaned (one line each); LibraryError for a bad value."""
        from docqa.ingest.metadata import MAX_CHARS

        fields: dict = {}
        for key in ("title", "organisation"):
            value = getattr(upload, key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise LibraryError("metadata", f"{key}={value!r}: must be text", field=key)
            value = " ".join(_CONTROL_RE.sub(" ", value).split())
            if len(value) > MAX_CHARS[key]:
                raise LibraryError("metadata", f"{key} is {len(value)} characters; at most {MAX_CHARS[key]}",
                                   field=key, limit=MAX_CHARS[key])
            if value:
                fields[key] = value
        year = upload.year
        if year is not None:
            if isinstance(year, str) and year.strip().lstrip("-").isdigit():
                year = int(year.strip())
            if not isinstance(year, int) or isinstance(year, bool) or not self.settings.min_year <= year <= self.settings.max_year:
                raise LibraryError("metadata", f"year={upload.year!r}: must be a whole number from "
                                   f"{self.settings.min_year} to {self.settings.max_year}", field="year",
                                   low=self.settings.min_year, high=self.settings.max_year)
            fields["year"] = year
        return fields

    def check_content(self, file_name: str, data: bytes) -> None:
        """Size and type by content: a PDF starts with %PDF, a text file is UTF-8."""
        if not isinstance(data, (bytes, bytearray)):
            raise LibraryError("content", f"{file_name}: no file content", file=file_name, reason="no bytes")
        if len(data) == 0:
            raise LibraryError("empty", f"{file_name}: empty file", file=file_name)
        if len(data) > self.settings.max_bytes:
            raise LibraryError("size", f"{file_name}: {len(data) / 2**20:.1f} MB; the limit is "
                               f"{self.settings.max_bytes / 2**20:.1f} MB", file=file_name, size=len(data),
                               limit=self.settings.max_bytes)
        suffix = file_suffix(file_name)
        if suffix == ".pdf" and not bytes(data[:4]) == b"%PDF":
            raise LibraryError("content", f"{file_name}: not a PDF (it does not start with %PDF)", file=file_name,
                               reason="no %PDF header")
        if suffix == ".txt":
            try:
                bytes(data).decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise LibraryError("content", f"{file_name}: not UTF-8 text (byte {exc.start}); save it as UTF-8",
                                   file=file_name, reason="not UTF-8") from None

    def _check_new(self, corpus: Path, file_name: str, name: str, data: bytes) -> None:
        """Refuse a document id that is taken, and content the corpus already holds."""
        from docqa.ingest.discover import discover_files

        stem = Path(name).stem
        files = discover_files(corpus).files
        for existing in files:
            if Path(existing).stem == stem:
                raise LibraryError("exists", f"{file_name}: the corpus already has a document '{stem}' "
                                   f"({Path(existing).name}); remove it first or rename the file", file=file_name,
                                   doc_id=stem, existing=Path(existing).name)
        if (corpus / name).exists():
            raise LibraryError("exists", f"{file_name}: {name} already exists in the corpus; rename the file",
                               file=file_name, doc_id=stem, existing=name)
        digest = hashlib.sha256(data).hexdigest()
        for existing in files:
            try:
                same_size = os.path.getsize(existing) == len(data)
            except OSError:
                continue
            if same_size and _sha256_file(existing) == digest:
                raise LibraryError("duplicate", f"{file_name}: the same content as {Path(existing).name}, "
                                   "already in the corpus", file=file_name, existing=Path(existing).name)

    def _read_check(self, corpus: Path, path: Path, file_name: str):
        """Read and clean the file as an ingest will (in the budgeted reader process): a file the
        ingest would skip is refused now, with the reader's reason."""
        from docqa.ingest.budget import BudgetedReader, ReadBudget
        from docqa.ingest.chunk import chunk_document
        from docqa.ingest.readers import UnreadableFileError

        try:
            with BudgetedReader(corpus, self.budget or ReadBudget()) as reader:
                doc, warnings = reader.read(path)
        except UnreadableFileError as exc:
            raise LibraryError("unreadable", f"{file_name}: {exc.reason}", file=file_name, reason=exc.reason) from None
        passages = len(chunk_document(doc))  # the default cut, as `IndexSettings()` makes it
        if not passages:
            raise LibraryError("unreadable", f"{file_name}: no text to index", file=file_name, reason="no text to index")
        return warnings, passages

    # -- changes --------------------------------------------------------------------------------

    def add(self, upload: Upload, progress: LibraryProgress | None = None) -> ChangeResult:
        """Check `upload`, store it in the corpus, record its metadata, rebuild the index. On any
        refusal or failure the corpus, the manifest and the index stay as they were."""
        started = time.perf_counter()
        corpus = self._check_corpus()
        name = self.target_name(upload.file_name)
        fields = self.check_metadata(upload)
        self.check_content(upload.file_name, upload.data)
        doc_id = Path(name).stem
        with corpus_lock(corpus):
            clear_leftovers(corpus)
            self._check_new(corpus, upload.file_name, name, bytes(upload.data))
            manifest_path = corpus / config_manifest_name()
            old_manifest = manifest_path.read_text(encoding="utf-8") if manifest_path.is_file() else None
            new_manifest = None
            if fields:
                new_manifest = with_entry(old_manifest or "", doc_id, fields)
                _checked_edit(old_manifest or "", new_manifest, doc_id, fields)
            final = corpus / name
            staged = corpus / f"{STAGED_PREFIX}{secrets.token_hex(4)}{Path(name).suffix}"  # hidden: never indexed
            try:
                atomic_write(staged, bytes(upload.data))
                warnings, passages = self._read_check(corpus, staged, upload.file_name)
                if new_manifest is not None:
                    atomic_write(manifest_path, new_manifest.encode("utf-8"))
                os.replace(staged, final)
                _fsync_dir(corpus)
                result = self._rebuild(progress)
                indexed = {d.doc_id for d in result.report.documents}
                if doc_id not in indexed:
                    reason = next((r for p, r in result.report.skipped if Path(p).stem == doc_id), "not indexed")
                    raise LibraryError("unreadable", f"{upload.file_name}: {reason}", file=upload.file_name,
                                       reason=reason)
            except BaseException:
                staged.unlink(missing_ok=True)
                if final.exists():
                    final.unlink()
                if new_manifest is not None:
                    self._restore_manifest(manifest_path, old_manifest)
                raise
        return ChangeResult(doc_id, final, len(result.report.documents), passages, result.embedded,
                            tuple(warnings), time.perf_counter() - started, renamed=name != Path(upload.file_name).name)

    def remove(self, doc_id: str, progress: LibraryProgress | None = None) -> ChangeResult:
        """Take document `doc_id` out: its file and its manifest entry, then rebuild. The file is
        kept aside (hidden, in the corpus folder) until the new index is current, and put back if
        the rebuild fails."""
        from docqa.ingest.discover import discover_files

        started = time.perf_counter()
        corpus = self._check_corpus()
        with corpus_lock(corpus):
            clear_leftovers(corpus)
            files = discover_files(corpus).files
            matches = [f for f in files if Path(f).stem == doc_id]
            if not matches:
                raise LibraryError("missing", f"no document '{doc_id}' in {corpus}; see `docqa docs`", doc_id=doc_id)
            if len({Path(f).stem for f in files}) < 2:
                raise LibraryError("last", f"'{doc_id}' is the only document of {corpus}; an index needs one, "
                                   "so add another first", doc_id=doc_id)
            # the name in the corpus: for a symbolic link the link is removed, never the file it points to
            path = Path(matches[0])
            if not path.parent.resolve().is_relative_to(corpus):
                raise LibraryError("outside", f"{path}: in a folder linked from outside the corpus; remove it there "
                                   "by hand and run docqa ingest", doc_id=doc_id, file=path.name)
            manifest_path = corpus / config_manifest_name()
            old_manifest = manifest_path.read_text(encoding="utf-8") if manifest_path.is_file() else None
            new_manifest = None
            if old_manifest is not None:
                new_manifest = without_entry(old_manifest, doc_id)
                new_manifest = new_manifest.rstrip("\n") + "\n" if new_manifest.strip() else ""
                if new_manifest == old_manifest:
                    new_manifest = None
                else:
                    _checked_edit(old_manifest, new_manifest, doc_id, None)
            aside = path.parent / f"{ASIDE_PREFIX}{secrets.token_hex(4)}-{path.name}"
            os.replace(path, aside)
            try:
                if new_manifest is not None:
                    atomic_write(manifest_path, new_manifest.encode("utf-8"))
                _fsync_dir(path.parent)
                result = self._rebuild(progress)
                if not result.report.documents:
                    raise LibraryError("build", f"nothing else in {corpus} could be indexed; '{doc_id}' is kept",
                                       doc_id=doc_id)
            except BaseException:
                os.replace(aside, path)
                if new_manifest is not None:
                    self._restore_manifest(manifest_path, old_manifest)
                raise
            aside.unlink(missing_ok=True)
        return ChangeResult(doc_id, path, len(result.report.documents), 0, result.embedded, (),
                            time.perf_counter() - started)

    @staticmethod
    def _restore_manifest(path: Path, text: str | None) -> None:
        if text is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write(path, text.encode("utf-8"))

    def _rebuild(self, progress: LibraryProgress | None):
        from docqa.index.store import IndexSettings, build_index

        def tell(phase: str, done: int, total: int) -> None:
            # A progress display must not stop a change half-way: a face's own exceptions (Streamlit
            # raises its rerun and stop requests from the next element drawn) would otherwise abort
            # the build, or, after the CURRENT switch, undo the corpus under a new index.
            if progress is None:
                return
            try:
                progress(phase, done, total)
            except Exception:  # noqa: BLE001 - see above; the change itself goes on
                log.debug("progress display failed", exc_info=True)

        result = build_index(self.corpus, self.index, self.encoder, IndexSettings(), cache_dir=self.cache_dir,
                             budget=self.budget, on_file=lambda done, total: tell("read", done, total),
                             embed_progress=lambda done, total: tell("embed", done, total),
                             on_write=lambda done: tell("write", done, 1))
        return result

