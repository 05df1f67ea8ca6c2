"""A time and memory budget per file: each document is read and cleaned in a worker process.

A file can be built to stall a reader (a PDF whose pages share one content stream that inflates
to 60 MB of text operators took over four minutes) or to eat its memory. In a worker process with
an address-space limit, and a parent that stops it after the time budget, such a file costs at
most the budget, is skipped with its name, the limit and what to do, and the next file is read by
a fresh worker. One worker reads file after file, so the cost of the isolation is one process
start per ingest (and one more per file over budget), not one per file.

    with BudgetedReader(corpus_dir, ReadBudget(seconds=120, memory_mb=2048)) as reader:
        doc, warnings = reader.read(path)       # or UnreadableFileError(path, reason)
"""
from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from docqa.ingest.readers import UnreadableFileError


@dataclass(frozen=True)
class ReadBudget:
    """Limits for reading and cleaning one file (the defaults are in the README)."""

    seconds: float = 120.0  # the slowest real document here (a 100-page PDF) reads in under 5 s
    memory_mb: int = 2048  # the reading process's address space; a 20 MB file needs a few hundred MB
    isolated: bool = True  # False: read in this process, without limits (for callers that run their own)
    report_after: float = 10.0  # a progress line for a file still being read after this many seconds

    def __post_init__(self):
        if not isinstance(self.seconds, (int, float)) or isinstance(self.seconds, bool) or not 0 < self.seconds <= 86400:
            raise ValueError(f"seconds={self.seconds!r}: give a number of seconds above 0 (at most a day)")
        if not isinstance(self.memory_mb, int) or isinstance(self.memory_mb, bool) or self.memory_mb < 256:
            raise ValueError(f"memory_mb={self.memory_mb!r}: give a whole number of megabytes >= 256")

    @classmethod
    def from_env(cls, environ=None) -> "ReadBudget":
        """DOCQA_READ_SECONDS and DOCQA_READ_MEMORY_MB, else the defaults; a bad value raises ValueError."""
        env = os.environ if environ is None else environ
        kwargs = {}
        for name, field, kind in (("DOCQA_READ_SECONDS", "seconds", float), ("DOCQA_READ_MEMORY_MB", "memory_mb", int)):
            raw = env.get(name)
            if raw not in (None, ""):
                try:
                    kwargs[field] = kind(raw)
                except ValueError:
                    raise ValueError(f"{name}={raw!r}: give a {'number' if kind is float else 'whole number'}") from None
        return cls(**kwargs)


def _send(stream, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack(">Q", len(data)) + data)
    stream.flush()


def _receive(stream):
    head = stream.read(8)
    if len(head) < 8:
        raise EOFError("the reader process ended")
    (size,) = struct.unpack(">Q", head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the reader process ended mid-answer")
    return pickle.loads(data)


def _worker_main(corpus_dir: str, memory_mb: int) -> None:
    """`python -m docqa.ingest.budget DIR MB`: read the paths sent on stdin, one at a time, and
    answer each with the document or the reason on stdout. A fresh interpreter, so nothing of the
    caller (its main script, a loaded model, its threads) is in this process."""
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # no such limit on this system: the time budget still holds
        pass
    from docqa.ingest.metadata import CorpusManifest
    from docqa.ingest.pipeline import load_document

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print of a library must not corrupt the answers
    manifest = CorpusManifest.load(Path(corpus_dir))
    quality = _receive(stdin)
    while True:
        try:
            path = _receive(stdin)
        except EOFError:
            return
        if path is None:
            return
        try:
            result = ("ok", load_document(Path(path), manifest, quality))
        except UnreadableFileError as exc:
            result = ("unreadable", exc.reason)
        except MemoryError:
            result = ("memory", None)
        except RecursionError:
            result = ("unreadable", "nested too deeply to read (a damaged or hostile file)")
        except Exception as exc:  # noqa: BLE001 - a reader bug must not stop the ingest; its kind is the reason
            result = ("unreadable", f"could not be read ({type(exc).__name__}: {str(exc)[:200]})")
        try:
            _send(stdout, result)
        except MemoryError:
            _send(stdout, ("memory", None))


class BudgetedReader:
    """Reads documents in a worker process under a `ReadBudget` (a context manager)."""

    def __init__(self, corpus_dir: Path, budget: ReadBudget = ReadBudget(), quality=None,
                 progress: Callable[[str], None] | None = None):
        from docqa.ingest.quality import TextQualitySettings

        if not isinstance(budget, ReadBudget):
            raise ValueError(f"budget={budget!r}: must be a ReadBudget")
        self.corpus_dir = str(Path(corpus_dir))
        self.budget = budget
        self.quality = quality or TextQualitySettings()
        self.say = progress or (lambda _msg: None)
        self._proc = None

    def __enter__(self) -> "BudgetedReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        # a fresh interpreter (not a fork): nothing of the caller's process comes along, and no
        # main script without an `if __name__ == "__main__"` guard is run again
        self._proc = subprocess.Popen([sys.executable, "-m", "docqa.ingest.budget", self.corpus_dir,
                                       str(self.budget.memory_mb)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL)
        _send(self._proc.stdin, self.quality)

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait(10)
            for stream in (self._proc.stdin, self._proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        self._proc = None

    def close(self) -> None:
        if self._alive():
            try:
                _send(self._proc.stdin, None)
                self._proc.wait(5)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                pass
        self._stop()

    def read(self, path: Path):
        """(CleanDocument, warnings) of one file; UnreadableFileError when it is unreadable or over budget."""
        if not self.budget.isolated:
            from docqa.ingest.metadata import CorpusManifest
            from docqa.ingest.pipeline import load_document

            return load_document(Path(path), CorpusManifest.load(Path(self.corpus_dir)), self.quality)
        if not self._alive():
            self._stop()
            self._start()
        name = Path(path).name
        started = time.monotonic()
        next_report = self.budget.report_after
        try:
            _send(self._proc.stdin, str(path))
            while not select.select([self._proc.stdout], [], [], 0.2)[0]:
                elapsed = time.monotonic() - started
                if elapsed > self.budget.seconds:
                    self._stop()
                    raise UnreadableFileError(str(path), (
                        f"reading took over {self.budget.seconds:g} s, the budget per file (DOCQA_READ_SECONDS); "
                        "a file built to stall a reader looks like this: check it, split it, or raise the budget"))
                if elapsed >= next_report:
                    self.say(f"  still reading {name} ({elapsed:.0f} s of {self.budget.seconds:g} s)")
                    next_report += self.budget.report_after
                if not self._alive():
                    break
            status, value = _receive(self._proc.stdout)
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError, pickle.UnpicklingError):
            self._stop()
            raise UnreadableFileError(str(path), self._memory_reason()) from None
        if status == "ok":
            return value
        if status == "memory":
            self._stop()  # a worker that ran out of memory may be left in a bad state
            raise UnreadableFileError(str(path), self._memory_reason())
        raise UnreadableFileError(str(path), value)

    def _memory_reason(self) -> str:
        return (f"reading needed more than {self.budget.memory_mb:,} MB, the budget per file (DOCQA_READ_MEMORY_MB), "
                "or crashed the reader; check the file, split it, or raise the budget")


__all__ = ["BudgetedReader", "ReadBudget"]


if __name__ == "__main__":
    _worker_main(sys.argv[1], int(sys.argv[2]))
