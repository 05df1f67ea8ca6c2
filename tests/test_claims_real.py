"""Claim checking with the real encoder over the real corpus: the CLI contract, and the dev claim
set's quality with a margin (the hidden set decides the goals; see eval/RESULTS.md)."""
import json
import subprocess
import sys

import pytest

from conftest import SHARED

DEV_CLAIMS = SHARED / "eval" / "claims-dev.jsonl"
# invented claims on the example passage (the source: availability "≥ 99,0%")
CONTRADICTED = "De norm voor de beschikbaarheid van Suwinet is volgens BKWI 90%."
SUPPORTED = "BKWI heeft als norm dat Suwinet 99% beschikbaar is."


def check_json(index, *args) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "docqa.cli", "check", "--index", str(index), "--json", *args],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_a_contradicted_claim_cites_the_sentence_with_the_true_value(real_index_dir):
    [row] = check_json(real_index_dir, CONTRADICTED)
    assert row["verdict"] == "contradicted" and row["confidence"] == "hoog"
    first = row["citations"][0]
    assert first["doc"] == "bkwi-jaarplan-2024" and "≥ 99,0%" in first["quote"]
    assert {"kind": "percentage", "claim_value": "90%", "source_value": "≥ 99,0%", "status": "mismatch"} in row["details"]
    assert first["reference"].startswith("BKWI, Jaarplan 2024")


def test_a_claim_file_checks_every_line(real_index_dir, tmp_path):
    path = tmp_path / "claims.jsonl"
    path.write_text("".join(json.dumps({"id": i, "claim": c}) + "\n" for i, c in
                            (("a", CONTRADICTED), ("b", SUPPORTED), ("c", "BKWI opende in 2019 een kantoor op Mars."))),
                    encoding="utf-8")
    rows = check_json(real_index_dir, "--claims", str(path))
    assert [(r["id"], r["verdict"]) for r in rows] == [("a", "contradicted"), ("b", "supported"), ("c", "not_found")]


def test_the_human_output_says_the_verdict_in_dutch(real_index_dir):
    out = subprocess.run([sys.executable, "-m", "docqa.cli", "check", "--index", str(real_index_dir), CONTRADICTED],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "-> klopt niet volgens de bron" in out.stdout
    assert "percentage: 90% / bron: ≥ 99,0% (wijkt af)" in out.stdout


@pytest.fixture(scope="module")
def dev_claims_report(real_engine):
    from docqa.eval.claims import judge_claims, load_claims

    claims, problems = load_claims(DEV_CLAIMS, real_engine)
    assert problems == []
    rows = [{"id": c.id, **real_engine.check(c.claim).to_json()} for c in claims]
    return judge_claims(claims, rows)["overall"]


def test_dev_claims_hold_their_quality_with_a_margin(dev_claims_report):
    # measured here: accuracy 0.95, false supported 0.00, evidence@1 0.95, source value shown 0.88; the
    # margins allow a few claims to move on a machine whose dense scores differ slightly
    r = dev_claims_report
    assert r["accuracy"] >= 0.88, r
    assert r["false_supported"] <= 0.05, r
    assert r["evidence_at_1"] >= 0.85, r
    assert r["source_value_shown"] >= 0.78, r
