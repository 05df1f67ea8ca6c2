"""Find the .txt and .pdf files of a corpus folder, and say why every other file is left out."""
from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from docqa.errors import DocqaError
from docqa.ingest.readers import SUPPORTED_SUFFIXES, unsupported_type_reason

_HINT = "pass --corpus or set DOCQA_CORPUS to a folder with .txt and .pdf files"
_HASH_CHUNK = 1024 * 1024


class CorpusFolderError(DocqaError, FileNotFoundError):
    """The corpus folder is missing or not a folder; the message says which and what to do."""


@dataclass(frozen=True)
class Discovery:
    files: tuple[str, ...]  # absolute paths of candidate .txt/.pdf files, sorted, duplicates removed
    skipped: tuple[tuple[str, str], ...]  # (path, one-line reason)


def discover_files(corpus_dir: str | os.PathLike) -> Discovery:
    """Walk `corpus_dir` recursively. Raises FileNotFoundError / NotADirectoryError for a bad folder."""
    root = os.path.abspath(os.fspath(corpus_dir))
    if not os.path.exists(root):
        raise CorpusFolderError(f"corpus folder not found: {root}; {_HINT}")
    if not os.path.isdir(root):
        raise CorpusFolderError(f"corpus path is not a folder: {root}; {_HINT}")
    candidates, skipped = _walk(root)
    files, duplicates = _drop_duplicates(root, candidates)
    return Discovery(files=tuple(files), skipped=tuple(sorted(skipped + duplicates)))


def _is_ignored(name: str) -> bool:
    """Hidden entries, the manifest and READMEs describe the corpus; they are not documents."""
    return name.startswith(".") or name.lower() == "manifest.toml" or Path(name).stem.lower() == "readme"


def _walk(root: str) -> tuple[list[tuple[str, os.stat_result]], list[tuple[str, str]]]:
    """(candidate files with their stat, skipped entries).

    Symlinked folders are followed, but a folder already visited is never entered again, so a link
    back to an ancestor (a loop) ends the descent instead of recursing forever.
    """
    candidates: list[tuple[str, os.stat_result]] = []
    skipped: list[tuple[str, str]] = []
    root_info = os.stat(root)
    visited = {(root_info.st_dev, root_info.st_ino): root}
    pending = [root]  # an explicit stack: deep trees cannot exhaust Python's recursion limit
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as entries:
                names = sorted(entry.name for entry in entries)
        except OSError as exc:
            skipped.append((folder, _folder_error(exc)))
            continue
        for name in names:
            if _is_ignored(name):
                continue
            path = os.path.join(folder, name)
            if not _is_utf8(name):
                # such a name cannot be stored, cited or shown; one bad name must not stop the rest
                skipped.append((path, "file name is not valid UTF-8; rename the file"))
                continue
            info, problem = _stat(path)
            if problem:
                skipped.append((path, problem))
            elif stat.S_ISDIR(info.st_mode):
                key = (info.st_dev, info.st_ino)
                if key in visited:
                    skipped.append((path, _revisit_reason(root, path, visited[key])))
                else:
                    visited[key] = path
                    pending.append(path)
            elif problem := _file_problem(path, info):
                skipped.append((path, problem))
            else:
                candidates.append((path, info))
    return sorted(candidates, key=lambda candidate: candidate[0]), skipped


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes arrive as lone surrogates
        return False
    return True


def _stat(path: str) -> tuple[os.stat_result | None, str | None]:
    """Stat through symlinks; a link that leads nowhere is reported, not raised."""
    try:
        return os.stat(path), None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, "symbolic link loop"
        if os.path.islink(path) and isinstance(exc, FileNotFoundError):
            return None, "broken symbolic link"
        if isinstance(exc, PermissionError):
            return None, "cannot read: permission denied"
        return None, f"cannot read: {exc.strerror or exc}"


def _file_problem(path: str, info: os.stat_result) -> str | None:
    """Why a file is not a candidate, or None."""
    if not stat.S_ISREG(info.st_mode):  # never open a pipe or device: reading it could block forever
        return "not a regular file (device, socket or pipe)"
    suffix = Path(path).suffix
    if suffix.lower() not in SUPPORTED_SUFFIXES:
        return unsupported_type_reason(suffix)
    # Opening is the only reliable readability test (permissions, ACLs, root, network mounts).
    try:
        with open(path, "rb"):
            return None
    except PermissionError:
        return "cannot read file: permission denied"
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}"


def _folder_error(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "cannot read folder: permission denied"
    return f"cannot read folder: {exc.strerror or exc}"


def _revisit_reason(root: str, path: str, first_path: str) -> str:
    if os.path.commonpath([path, first_path]) == first_path:  # the link points back up its own path
        return "symbolic link loop"
    return f"same folder as {os.path.relpath(first_path, root)}; indexed once"


def _drop_duplicates(
    root: str, candidates: list[tuple[str, os.stat_result]]
) -> tuple[list[str], list[tuple[str, str]]]:
    """Keep the first file (in sorted order) of each set of identical files.

    Only files of equal size are hashed, so a corpus without duplicates is never read here. Empty
    files are left alone: the reader refuses each of them as "empty file", which is the better reason.
    """
    sizes = Counter(info.st_size for _, info in candidates)
    first_with_digest: dict[str, str] = {}
    kept, skipped = [], []
    for path, info in candidates:
        unique_size = sizes[info.st_size] == 1 or info.st_size == 0
        digest = None if unique_size else _sha256(path)
        original = first_with_digest.setdefault(digest, path) if digest else path
        if original == path:
            kept.append(path)
        else:
            skipped.append((path, f"same content as {os.path.relpath(original, root)}; indexed once"))
    return kept, skipped


def _sha256(path: str) -> str | None:
    """Content hash, None if the file cannot be read now (the reader will then say why)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(_HASH_CHUNK), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()
