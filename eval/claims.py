"""Evaluation of claim checking against a labelled claim set (`/work/shared/eval/README.md`, "Claims").

    claims, problems = load_claims("claims-dev.jsonl", engine)       # validated, problems by line
    report = judge_claims(claims, rows)                               # rows: one JSON object per claim
    print(claims_table(report))                                       # Markdown

A row is what `docqa check --json` prints for a claim: `{"id", "verdict", "citations": [{"chunk_id",
"quote", ...}], "hits": [{"chunk_id", "text", ...}]}`. Judged with the README's `norm`:

- verdict accuracy; precision, recall and F1 per verdict; macro F1 over the three verdicts;
- false claims called supported: the share of `contradicted` and `not_found` claims given `supported`;
- evidence@1: of the claims given their right `supported` or `contradicted` verdict, the share whose
  first citation's passage (its first 1,000 characters) holds an evidence quote;
- source value shown: of the `contradicted` claims called contradicted, the share whose first
  citation's quote (its first 500 characters) holds `norm(source_value)`.

Everything is also given per `kind` of deciding detail. `anchor_row` is the naive baseline the
checker must beat: the best sentence of the top passage, its numbers against the claim's.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from docqa.eval import EvalError
from docqa.eval.judging import SHOWN_ANSWER_CHARS, SHOWN_PASSAGE_CHARS, is_relevant, norm
from docqa.eval.questions import (Evidence, IndexedDocuments, LineRejected, Problem, QuestionSetError, parse_evidence,
                                  read_record)

VERDICTS = ("supported", "contradicted", "not_found")
CLAIM_KINDS = ("number", "percentage", "amount", "date", "year", "organisation", "direction", "statement")
FIELDS = ("id", "claim", "verdict", "evidence", "source_value", "kind")


class ClaimSetError(QuestionSetError):
    """The claim set as a whole cannot be evaluated; `problems` holds the per-line problems found."""


@dataclass(frozen=True)
class Claim:
    id: str
    claim: str
    verdict: str
    evidence: tuple[Evidence, ...]  # the quotes that occur in the indexed documents (all, without documents)
    source_value: str  # "" for not_found
    kind: str
    line: int

    @property
    def quotes(self) -> tuple[str, ...]:
        return tuple(e.quote for e in self.evidence)


# -- loading ----------------------------------------------------------------------------------------

def load_claims(path: str | Path, documents: IndexedDocuments | None = None) -> tuple[list[Claim], list[Problem]]:
    """Read and validate a claim file. With `documents` (an engine), evidence quotes are checked
    against the indexed text: a quote that does not occur is reported and dropped, and a claim left
    without evidence is skipped. Raises EvalError when the file cannot be read, ClaimSetError when
    nothing usable is left."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise EvalError(f"cannot read claim file {path}: {exc.strerror or exc}") from exc
    lines = raw.split(b"\n")
    if lines and lines[0].startswith(b"\xef\xbb\xbf"):
        lines[0] = lines[0][3:]
    return parse_claims(lines, documents, source=str(path))


def parse_claims(lines: Iterable[bytes | str], documents: IndexedDocuments | None = None, *,
                 source: str = "claim set") -> tuple[list[Claim], list[Problem]]:
    """Validate JSON lines (bytes or str); see `load_claims`."""
    claims: list[Claim] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    texts: dict[str, str] = {}

    def doc_text(doc_id: str) -> str | None:
        if documents is None or doc_id not in documents.document_meta:
            return None
        if doc_id not in texts:
            texts[doc_id] = norm(documents.document_text(doc_id))
        return texts[doc_id]

    for line_no, raw_line in enumerate(lines, start=1):
        if isinstance(raw_line, bytes):
            try:
                raw_line = raw_line.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.append(Problem(line_no, f"not valid UTF-8 ({exc.reason} at byte {exc.start}); claim skipped"))
                continue
        if not raw_line.strip():
            continue
        try:
            record = _record(raw_line, line_no, problems)
            if record["id"] in seen:
                raise LineRejected(f"duplicate id {record['id']!r} (first on line {seen[record['id']]})")
            seen[record["id"]] = line_no
            evidence = _evidence(record)
            if documents is not None and evidence:
                kept = []
                for k, item in enumerate(evidence):
                    text = doc_text(item.doc)
                    if text is None:
                        problems.append(Problem(line_no, f"evidence[{k}]: document {item.doc!r} is not indexed; "
                                                         "quote ignored"))
                    elif norm(item.quote) not in text:
                        problems.append(Problem(line_no, f"evidence[{k}]: quote not found in document "
                                                         f"{item.doc!r}; quote ignored"))
                    else:
                        kept.append(item)
                if not kept:
                    raise LineRejected("no evidence quote occurs in the indexed documents")
                evidence = kept
        except LineRejected as rejected:
            problems.append(Problem(line_no, f"{rejected}; claim skipped"))
            continue
        claims.append(Claim(record["id"], record["claim"], record["verdict"], tuple(evidence),
                            record["source_value"], record["kind"], line_no))
    problems.sort(key=lambda p: p.line)
    if not claims:
        raise ClaimSetError(f"{source}: no usable claim ({len(problems)} problem(s))", problems)
    return claims, problems


def _record(text: str, line_no: int, problems: list[Problem]) -> dict:
    record = read_record(text, line_no, problems, FIELDS, ("id", "claim", "verdict", "source_value", "kind"), "claim")
    if record["verdict"] not in VERDICTS:
        raise LineRejected(f"unknown verdict {record['verdict']!r} (expected one of {', '.join(VERDICTS)})")
    if record["kind"] not in CLAIM_KINDS:
        raise LineRejected(f"unknown kind {record['kind']!r} (expected one of {', '.join(CLAIM_KINDS)})")
    return record


def _evidence(record: dict) -> list[Evidence]:
    items = parse_evidence(record)
    if record["verdict"] == "not_found":
        if items or record["source_value"].strip():
            raise LineRejected("a not_found claim must have no evidence and an empty source_value")
    else:
        if not items:
            raise LineRejected(f"a {record['verdict']} claim needs evidence")
        if not norm(record["source_value"]):
            raise LineRejected(f"a {record['verdict']} claim needs a source_value (with letters or digits)")
    return items


# -- judging ----------------------------------------------------------------------------------------

def judge_row(claim: Claim, row: dict | None) -> dict:
    """The judgement of one claim's output row (None: the run has no row for it, judged not_found)."""
    row = row or {}
    verdict = row.get("verdict") if row.get("verdict") in VERDICTS else "not_found"
    citations = row.get("citations") or []
    hits = {h.get("chunk_id"): h.get("text", "") for h in row.get("hits") or [] if isinstance(h, dict)}
    first = citations[0] if citations else {}
    passage = hits.get(first.get("chunk_id"), "") if first else ""
    quote = first.get("quote", "") if first else ""
    right = verdict == claim.verdict
    out = {"id": claim.id, "kind": claim.kind, "gold": claim.verdict, "verdict": verdict, "right": right}
    if right and claim.verdict != "not_found":
        out["evidence_at_1"] = bool(passage) and is_relevant(passage, claim.quotes)
    if right and claim.verdict == "contradicted":
        needle = norm(claim.source_value)
        out["source_value_shown"] = bool(needle) and needle in norm(quote[:SHOWN_ANSWER_CHARS])
    return out


def _share(items: Sequence[bool]) -> float | None:
    return round(sum(items) / len(items), 4) if items else None


def metrics(judged: Sequence[dict]) -> dict:
    """Verdict accuracy, per-verdict precision/recall/F1, macro F1, false-supported share, evidence@1
    and source value shown over judged rows."""
    out: dict = {"n": len(judged), "accuracy": _share([j["right"] for j in judged])}
    f1s = []
    for v in VERDICTS:
        tp = sum(j["verdict"] == v and j["gold"] == v for j in judged)
        called = sum(j["verdict"] == v for j in judged)
        gold = sum(j["gold"] == v for j in judged)
        p = tp / called if called else None
        r = tp / gold if gold else None
        f1 = 2 * tp / (called + gold) if gold else None  # = 2PR/(P+R); 0 when the verdict is never given
        out[v] = {"n": gold, "called": called, "precision": None if p is None else round(p, 4),
                  "recall": None if r is None else round(r, 4), "f1": None if f1 is None else round(f1, 4)}
        if f1 is not None:
            f1s.append(f1)
    out["macro_f1"] = round(sum(f1s) / len(f1s), 4) if f1s else None
    out["false_supported"] = _share([j["verdict"] == "supported" for j in judged if j["gold"] != "supported"])
    out["evidence_at_1"] = _share([j["evidence_at_1"] for j in judged if "evidence_at_1" in j])
    out["source_value_shown"] = _share([j["source_value_shown"] for j in judged if "source_value_shown" in j])
    return out


def judge_claims(claims: Sequence[Claim], rows: Iterable[dict]) -> dict:
    """{"overall": metrics, "by_kind": {kind: metrics}, "per_claim": [judgement, ...]}. Rows are
    matched to claims by "id"; a claim without a row counts as not_found."""
    by_id = {}
    for row in rows:
        if not isinstance(row, dict) or "id" not in row:
            raise EvalError(f"a run row must be a JSON object with an 'id', got {str(row)[:80]!r}")
        by_id[row["id"]] = row
    unknown = sorted(set(by_id) - {c.id for c in claims})
    if unknown:
        raise EvalError(f"the run has rows for claims not in the claim set: {', '.join(unknown[:10])}")
    judged = [judge_row(c, by_id.get(c.id)) for c in claims]
    kinds = sorted({j["kind"] for j in judged}, key=lambda k: CLAIM_KINDS.index(k))
    return {"overall": metrics(judged), "by_kind": {k: metrics([j for j in judged if j["kind"] == k]) for k in kinds},
            "per_claim": judged}


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.2f}" if isinstance(x, float) else str(x)


def claims_table(report: dict, title: str = "") -> str:
    """The report as Markdown: the overall line, one line per kind, and precision/recall/F1 per verdict."""
    cols = ("n", "accuracy", "macro_f1", "false_supported", "evidence_at_1", "source_value_shown")
    head = "| | n | accuracy | macro F1 | false supported | evidence@1 | source value shown |"
    lines = [f"### {title}", ""] if title else []
    lines += [head, "|" + " --- |" * (len(cols) + 1)]
    rows = [("overall", report["overall"])] + list(report["by_kind"].items())
    for name, m in rows:
        lines.append(f"| {name} | " + " | ".join(_fmt(m[c]) for c in cols) + " |")
    lines += ["", "| verdict | gold | called | precision | recall | F1 |", "| --- | --- | --- | --- | --- | --- |"]
    for v in VERDICTS:
        m = report["overall"][v]
        lines.append(f"| {v} | {m['n']} | {m['called']} | {_fmt(m['precision'])} | {_fmt(m['recall'])} | "
                     f"{_fmt(m['f1'])} |")
    return "\n".join(lines)


# -- the naive anchor -----------------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*")


def _numbers(text: str) -> set[float]:
    out = set()
    for m in _NUMBER_RE.finditer(text):
        s = m.group(0)
        s = s.replace(".", "") if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", s) else s
        s = s.replace(",", "") if re.fullmatch(r"\d{1,3}(?:,\d{3})+", s) else s.replace(",", ".")
        try:
            out.add(float(s))
        except ValueError:
            continue
    return out


def anchor_row(claim_id: str, claim: str, hits: Sequence) -> dict:
    """The naive baseline: the sentence of the top passage sharing most words with the claim; its
    figures (digits only) against the claim's: the claim's all there -> supported, other figures ->
    contradicted, no figures on either side -> not_found. `hits` are search hits (objects with a
    `.passage`, or dicts with "chunk_id" and "text")."""
    def text_id(h):
        if isinstance(h, dict):
            return h.get("text", ""), h.get("chunk_id")
        return h.passage.text, h.passage.chunk_id

    row = {"id": claim_id, "claim": claim, "verdict": "not_found", "citations": [],
           "hits": [{"chunk_id": text_id(h)[1], "text": text_id(h)[0]} for h in hits]}
    if not hits:
        return row
    text, chunk_id = text_id(hits[0])
    claim_words = {w for w in re.findall(r"\w+", claim.lower()) if len(w) > 3}
    sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n", text) if s.strip()]
    best = max(sentences, key=lambda s: len(claim_words & set(re.findall(r"\w+", s.lower())))) if sentences else ""
    claim_numbers, source_numbers = _numbers(claim), _numbers(best)
    if claim_numbers and source_numbers:
        row["verdict"] = "supported" if claim_numbers <= source_numbers else "contradicted"
    row["citations"] = [{"n": 1, "chunk_id": chunk_id, "quote": " ".join(best.split())}]
    return row


__all__ = ["Claim", "ClaimSetError", "load_claims", "parse_claims", "judge_row", "judge_claims", "metrics",
           "claims_table", "anchor_row", "VERDICTS", "CLAIM_KINDS", "SHOWN_PASSAGE_CHARS"]
