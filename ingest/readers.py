"""Read one .txt or .pdf file into raw page text, or refuse it with a reason a user can act on.

Nothing here cleans text: the raw pages go to `ingest.clean`, which needs the original lines to
cite line numbers. The only change made is normalising line endings to "\\n".
"""
from __future__ import annotations

import codecs
import logging
import os
import re
import stat
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError

SUPPORTED_SUFFIXES = (".txt", ".pdf")
DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024  # bigger files are refused, so memory stays bounded

# A text file with more control characters than this is binary data with a .txt name. The
# floor keeps a short note with one stray control character (a DOS ^Z at the end) readable.
_MAX_CONTROL_SHARE = 0.05
_MIN_BINARY_CONTROLS = 4
# C0/C1 control characters, minus those real text has: tab, line breaks, form feed (pdftotext).
_BINARY_CONTROLS_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_UTF16_SNIFF_BYTES = 4096
_MAX_PDF_WARNINGS = 5  # distinct pypdf messages kept per file; the rest are counted


class UnreadableFileError(ValueError):
    """A file that cannot be indexed; `reason` is one line that says what is wrong or what to do."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass(frozen=True)
class RawDocument:
    path: str  # absolute path
    kind: str  # "txt" or "pdf"
    pages: tuple[str, ...]  # txt: one element, the whole text; pdf: one string per page ("" without text)
    encoding: str | None  # txt: "utf-8", "utf-16", "cp1252" or "latin-1"; pdf: None
    warnings: tuple[str, ...]


def read_document(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> RawDocument:
    """Read a .txt or .pdf file. Raises UnreadableFileError for anything that cannot be indexed."""
    path = os.path.abspath(os.fspath(path))
    suffix = Path(path).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFileError(path, unsupported_type_reason(suffix))
    size = _file_size(path)
    if size > max_bytes:
        limit = _megabytes(max_bytes)
        raise UnreadableFileError(path, f"file too large ({_megabytes(size)}; the limit is {limit}); split it or raise the limit")
    if size == 0:
        raise UnreadableFileError(path, "empty file")
    if suffix == ".txt":
        return _read_text(path, max_bytes)
    return _read_pdf(path)


def unsupported_type_reason(suffix: str) -> str:
    """The one wording for files that are not indexed, shared with discovery."""
    kind = suffix.lower() or "(no suffix)"
    return f"unsupported file type {kind}; only .txt and .pdf are indexed"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _file_size(path: str) -> int:
    try:
        info = os.stat(path)
    except OSError as exc:
        raise UnreadableFileError(path, _os_error_reason(exc)) from exc
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableFileError(path, "not a regular file")
    return info.st_size


def _os_error_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "cannot read file: permission denied"
    if isinstance(exc, FileNotFoundError):
        return "cannot read file: it does not exist (moved or deleted?)"
    return f"cannot read file: {exc.strerror or exc}"


def _open_binary(path: str):
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UnreadableFileError(path, _os_error_reason(exc)) from exc


# --- text -------------------------------------------------------------------------------------


def _read_text(path: str, max_bytes: int) -> RawDocument:
    with _open_binary(path) as handle:
        data = handle.read(max_bytes + 1)  # never more than the cap, even if the file grew after stat
    if len(data) > max_bytes:
        raise UnreadableFileError(path, f"file too large (over {_megabytes(max_bytes)}); split it or raise the limit")
    text, encoding, warnings = _decode(path, data)
    if _looks_binary(text):
        raise UnreadableFileError(path, "not a text file: binary content")
    text = _normalise_newlines(text)
    if not text.strip():
        raise UnreadableFileError(path, "empty file")
    return RawDocument(path=path, kind="txt", pages=(text,), encoding=encoding, warnings=tuple(warnings))


def _decode(path: str, data: bytes) -> tuple[str, str, list[str]]:
    """Return (text, encoding name, warnings); the BOM, if any, is not part of the text."""
    if data.startswith(codecs.BOM_UTF8):
        return _decode_lenient(data[len(codecs.BOM_UTF8):], "utf-8", "utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_lenient(data, "utf-16", "utf-16")
    if b"\x00" in data:
        # Without a BOM, NUL bytes mean either UTF-16 (every other byte NUL for Latin text) or binary.
        codec = _sniff_utf16(data)
        if codec is None:
            nuls = data.count(0)
            if nuls >= max(_MIN_BINARY_CONTROLS, _MAX_CONTROL_SHARE * len(data)):
                raise UnreadableFileError(path, "not a text file: binary content")
            # a stray NUL or two in a real text (a bad copy, an editor's slip): read the rest
            text, encoding, warnings = _decode(path, data.replace(b"\x00", b""))
            return text, encoding, warnings + [f"{nuls} NUL byte{'s' if nuls > 1 else ''} removed"]
        try:
            return data.decode(codec), "utf-16", [f"no byte order mark; read as {codec.upper()}"]
        except UnicodeDecodeError as exc:
            raise UnreadableFileError(path, "not a text file: binary content") from exc
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252", ["not UTF-8; read as cp1252"]
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps every byte, so this cannot fail.
        return data.decode("latin-1"), "latin-1", ["not UTF-8; read as latin-1"]


def _decode_lenient(data: bytes, codec: str, name: str) -> tuple[str, str, list[str]]:
    """The BOM declares the encoding, so bad bytes are damage to report, not a reason to guess again."""
    try:
        return data.decode(codec), name, []
    except UnicodeDecodeError:
        return data.decode(codec, errors="replace"), name, [f"invalid {name.upper()} bytes replaced by \ufffd"]


def _sniff_utf16(data: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when NULs sit (almost) only at odd / even offsets, else None."""
    sample = data[: _UTF16_SNIFF_BYTES]
    sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 2 or len(data) % 2:
        return None
    pairs = len(sample) // 2
    even_nuls = sample[0::2].count(0) / pairs
    odd_nuls = sample[1::2].count(0) / pairs
    if odd_nuls >= 0.7 and even_nuls <= 0.05:
        return "utf-16-le"
    if even_nuls >= 0.7 and odd_nuls <= 0.05:
        return "utf-16-be"
    return None


def _looks_binary(text: str) -> bool:
    controls = len(_BINARY_CONTROLS_RE.findall(text))
    return controls >= max(_MIN_BINARY_CONTROLS, _MAX_CONTROL_SHARE * len(text))


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- PDF --------------------------------------------------------------------------------------

_ENCRYPTED_REASON = "encrypted PDF that needs a password; decrypt it first (e.g. qpdf --decrypt)"
_CRYPTOGRAPHY_REASON = (
    "encrypted PDF (AES) and the 'cryptography' package is not installed; "
    "pip install cryptography, or decrypt it first (e.g. qpdf --decrypt)"
)
_NO_TEXT_REASON = "no text layer (image-only or scanned PDF); run OCR first"
_HIDDEN_TEXT_REASON = ("text operators present but no text could be extracted (behind nested forms or a long "
                       "chain of references); flatten the PDF (e.g. qpdf, or print it to PDF again) rather than OCR it")


def _read_pdf(path: str) -> RawDocument:
    with _open_binary(path) as handle:
        if b"%PDF-" not in handle.read(1024):  # the header may follow a little junk, but not much
            raise UnreadableFileError(path, "damaged or not a PDF (no %PDF header)")
        handle.seek(0)
        with _captured_pypdf_log() as log_messages:
            try:
                pages, failures, has_text_ops = _extract_pages(path, handle)
            except UnreadableFileError:
                raise
            except DependencyError as exc:
                raise UnreadableFileError(path, _dependency_reason(exc)) from exc
            except Exception as exc:  # pypdf raises many types on broken input; all mean the same here
                raise UnreadableFileError(path, f"damaged or not a PDF ({_short_cause(exc)})") from exc
    if not any(page.strip() for page in pages):
        if failures:
            raise UnreadableFileError(path, f"damaged or not a PDF ({failures[0]})")
        raise UnreadableFileError(path, _HIDDEN_TEXT_REASON if has_text_ops else _NO_TEXT_REASON)
    warnings = [*failures, *_empty_page_warnings(pages), *_summarise(log_messages)]
    return RawDocument(path=path, kind="pdf", pages=tuple(pages), encoding=None, warnings=tuple(warnings))


def _extract_pages(path: str, handle) -> tuple[list[str], list[str], bool]:
    """Text of every page, one warning per page whose extraction failed (its text is ""), and
    whether the first pages draw text at all when none came out (so the reason is not "run OCR")."""
    reader = PdfReader(handle, strict=False)  # strict=False: tolerate the small faults real PDFs have
    if reader.is_encrypted and not reader.decrypt(""):  # many PDFs only carry an owner password
        raise UnreadableFileError(path, _ENCRYPTED_REASON)
    pages, failures = [], []
    for number, page in enumerate(reader.pages, start=1):
        try:
            pages.append(_normalise_newlines(page.extract_text() or ""))
        except DependencyError:
            raise
        except Exception as exc:  # one bad content stream should not cost the other pages
            pages.append("")
            failures.append(f"page {number}: text could not be extracted ({_short_cause(exc)})")
    has_text_ops = not any(p.strip() for p in pages) and _draws_text(reader)
    return pages, failures, has_text_ops


# a text-showing operator with something to show: "(Budget) Tj", "<0041> Tj", "[(B) 20 (udget)] TJ"
_SHOWN_TEXT_RE = re.compile(rb"\((?:[^()\\]|\\.)+\)\s*(?:Tj|'|\")|<[0-9A-Fa-f\s]+>\s*Tj|\[[^\]]*(?:\([^)]+\)|<[0-9A-Fa-f]+>)[^\]]*\]\s*TJ")


def _draws_text(reader, budget: int = 20_000) -> bool:
    """Does the file show text anywhere, though none could be extracted? Every stream object is
    looked at (at most `budget` objects, 2 MB each), so text in forms nested too deep for the
    extractor, or behind a chain of references it does not follow, is seen."""
    from pypdf.generic import IndirectObject, StreamObject

    try:
        size = int(reader.trailer.get("/Size", 0))
    except (TypeError, ValueError):
        return False
    for idnum in range(1, min(size, budget)):
        try:
            obj = reader.get_object(IndirectObject(idnum, 0, reader))
            if isinstance(obj, StreamObject) and obj.get("/Subtype") not in ("/Image",) and \
                    _SHOWN_TEXT_RE.search(obj.get_data()[:2_000_000]):
                return True
        except Exception:  # noqa: BLE001 - a broken object: look at the next one; only a better reason is at stake
            continue
    return False
    return False
    return False


def _dependency_reason(exc: DependencyError) -> str:
    if "cryptography" in str(exc):
        return _CRYPTOGRAPHY_REASON
    return f"cannot read this PDF: {_short_cause(exc)}"


def _short_cause(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    cause = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return cause if len(cause) <= 100 else cause[:97] + "..."


def _empty_page_warnings(pages: list[str]) -> list[str]:
    empty = [number for number, text in enumerate(pages, start=1) if not text.strip()]
    if not empty:
        return []
    if len(empty) == 1:
        return [f"page {empty[0]} has no text layer"]
    return [f"pages {_page_ranges(empty)} have no text layer"]


def _page_ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7] -> "1-3, 7": a 1,000-page scan gives one short warning, not a thousand."""
    ranges = []
    start = end = numbers[0]
    for number in numbers[1:]:
        if number != end + 1:
            ranges.append((start, end))
            start = number
        end = number
    ranges.append((start, end))
    return ", ".join(str(first) if first == last else f"{first}-{last}" for first, last in ranges)


def _summarise(messages: list[str]) -> list[str]:
    distinct = list(dict.fromkeys(messages))
    kept = [f"pypdf: {message}" for message in distinct[:_MAX_PDF_WARNINGS]]
    if len(distinct) > _MAX_PDF_WARNINGS:
        kept.append(f"pypdf: {len(distinct) - _MAX_PDF_WARNINGS} more messages not shown")
    return kept


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split()))


# The pypdf logger is process-wide state; reads that capture it take turns.
_PYPDF_LOG_LOCK = threading.Lock()


@contextmanager
def _captured_pypdf_log():
    """Collect pypdf's log warnings instead of letting them reach the console."""
    logger = logging.getLogger("pypdf")
    handler = _ListHandler()
    with _PYPDF_LOG_LOCK:
        propagate = logger.propagate
        logger.addHandler(handler)
        logger.propagate = False
        try:
            yield handler.messages
        finally:
            logger.removeHandler(handler)
            logger.propagate = propagate
