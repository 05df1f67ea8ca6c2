"""Retrieval metrics of the README, computed with `ranx` on qrels derived from each run.

There are no pooled relevance judgements: a passage is relevant when its shown text contains an
evidence quote (`eval.judging.is_relevant`). The README counts only the FIRST relevant passage
(binary gain, nDCG@10 = 1/log2(1 + its rank)), so for every question the qrels given to ranx hold
exactly that one passage of the run. A question without any relevant passage in its list gets a
placeholder id that is never in a run, so it stays in the average and scores 0 on every metric.

ranx semantics this relies on (checked in tests/test_eval_metrics.py against `reference_scores`):
* `hit_rate@k` is 1 when a relevant document is in the top k (trec_eval's `success`): Success@k.
* `mrr@10` is 1/rank of the first relevant document in the top 10, else 0.
* `ndcg@10` with a single relevant document of gain 1 is 1/log2(1 + rank) (ideal DCG = 1).
* ranx orders a run by score and breaks ties its own way, so the real scores (which can tie, e.g.
  after rank fusion) are NOT given to ranx: each run gets strictly decreasing synthetic scores that
  reproduce the order the user saw.
* ranx is given plain dicts, not `Run`/`Qrels` objects: building those (and ranx's key check on
  them) makes numba compile typed-dict code that it does not cache, about 10 s per process. For
  dicts ranx replaces each id by `float(hash(id))`, and returns per-question arrays in the dicts'
  order; so both dicts are built in one order, and the few ids used are checked not to collide.
* ranx gets position ids ("r0001" for rank 1) instead of chunk ids: relevance is already decided per
  position, so nothing is lost, a repeated passage is harmless, and the id set is small and fixed.
* An empty list gets a filler id that is never relevant (ranx cannot sort an empty list).
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence

from docqa.eval.judging import is_relevant

MAX_CUTOFF = 10  # the README's metrics are all at 10 at most
SUCCESS_CUTOFFS = tuple(range(1, MAX_CUTOFF + 1))  # Success@k for the plot
HEADLINE_METRICS = ("success@1", "success@5", "success@10", "mrr@10", "ndcg@10")
ALL_METRICS = tuple(f"success@{k}" for k in SUCCESS_CUTOFFS) + ("mrr@10", "ndcg@10")
NO_RELEVANT_PASSAGE = "__no_relevant_passage__"  # qrels id (in qrels files) when a list has no relevant passage
MAX_RANK = 9999  # position ids below have 4 digits
_RANX_NO_RELEVANT = "never"  # the placeholder as given to ranx (never a position id)
_RANX_EMPTY_LIST = "empty"  # filler for an empty list (never relevant)


def ranx_name(metric: str) -> str:
    """Our metric name -> ranx's (Success@k is ranx's hit_rate@k)."""
    return metric.replace("success@", "hit_rate@")


def first_relevant_rank(shown_texts: Sequence[str], quotes: Iterable[str]) -> int | None:
    """1-based position of the first passage whose shown text contains a quote, or None."""
    quotes = tuple(quotes)
    for position, text in enumerate(shown_texts, start=1):
        if is_relevant(text, quotes):
            return position
    return None


def unique_run_ids(chunk_ids: Sequence[str]) -> list[str]:
    """Make ids unique per list while keeping every position (for the TREC run and qrels files).

    A searcher that returns the same passage twice still showed it twice; dropping the repeat would
    move every later passage up one rank. The repeat gets a suffix (`id#dup<position>`), so it is
    never the first relevant passage, and every passage keeps its real rank.
    """
    seen: set[str] = set()
    ids = []
    for position, chunk_id in enumerate(chunk_ids, start=1):
        ids.append(chunk_id if chunk_id not in seen else f"{chunk_id}#dup{position}")
        seen.add(chunk_id)
    return ids


def derived_qrels(run_ids: Mapping[str, Sequence[str]], first_relevant: Mapping[str, int | None]) -> dict[str, dict[str, int]]:
    """Qrels with only the first relevant passage of each judged question (or the placeholder), in
    the ids of `run_ids`: what ranx scores, written out as `qrels.<mode>.trec`."""
    qrels = {}
    for qid, rank in first_relevant.items():
        if rank is None:
            qrels[qid] = {NO_RELEVANT_PASSAGE: 1}
        else:
            qrels[qid] = {run_ids[qid][rank - 1]: 1}
    return qrels


def score_questions(
    run_ids: Mapping[str, Sequence[str]], first_relevant: Mapping[str, int | None]
) -> dict[str, dict[str, float]]:
    """Per-question scores {qid: {metric: value}} for `ALL_METRICS`, computed by ranx.

    `run_ids[qid]` is the ranked list as shown; `first_relevant` names the questions to judge and the
    1-based rank of their first relevant passage (None: no relevant passage in the list).
    """
    if not first_relevant:
        return {}
    from ranx import evaluate  # imported here: ranx (numba) takes seconds to load

    qids = list(first_relevant)
    for qid in qids:
        rank = first_relevant[qid]
        if rank is not None and not 1 <= rank <= len(run_ids[qid]):
            raise ValueError(f"{qid}: first relevant rank {rank} outside its list of {len(run_ids[qid])}")
    # Both dicts in the order of `qids`: ranx's per-question arrays follow dict order.
    run = {qid: _position_scores(len(run_ids[qid])) for qid in qids}
    qrels = {qid: {_position_id(first_relevant[qid]) if first_relevant[qid] else _RANX_NO_RELEVANT: 1} for qid in qids}
    _check_no_hash_collision(run, qrels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba type-safety chatter about the hashed ids, not our data
        arrays = evaluate(qrels, run, [ranx_name(metric) for metric in ALL_METRICS], return_mean=False)
    return {
        qid: {metric: float(arrays[ranx_name(metric)][index]) for metric in ALL_METRICS}
        for index, qid in enumerate(qids)
    }


def _check_no_hash_collision(*id_dicts: Mapping[str, Mapping[str, float]]) -> None:
    """ranx compares ids as float(hash(id)); two of our ids must never become the same number."""
    all_ids = {run_id for id_dict in id_dicts for per_question in id_dict.values() for run_id in per_question}
    if len({float(hash(run_id)) for run_id in all_ids}) != len(all_ids):
        raise RuntimeError("two passage ids hash to the same number in ranx; rerun (hashes are salted per process)")


def _position_id(rank: int) -> str:
    if rank > MAX_RANK:
        raise ValueError(f"rank {rank} above {MAX_RANK}")
    return f"r{rank:04d}"


def _position_scores(length: int) -> dict[str, float]:
    """Strictly decreasing scores by position, so ranx keeps the shown order (see module docstring)."""
    if length == 0:
        return {_RANX_EMPTY_LIST: 0.0}
    return {_position_id(rank): float(length - rank + 1) for rank in range(1, length + 1)}


def aggregate(per_question: Mapping[str, Mapping[str, float]], qids: Iterable[str]) -> dict[str, float]:
    """Mean of every metric over `qids` (all of them must be scored)."""
    qids = list(qids)
    if not qids:
        return {}
    return {metric: math.fsum(per_question[qid][metric] for qid in qids) / len(qids) for metric in ALL_METRICS}


def reference_scores(ranked_ids: Sequence[str], relevant_ids: Iterable[str]) -> dict[str, float]:
    """Plain-Python definition of the README's metrics for ONE question; used only by the tests to
    cross-check the ranx path. `relevant_ids` is the full judgement (every relevant passage)."""
    relevant = set(relevant_ids)
    rank = next((pos for pos, run_id in enumerate(ranked_ids, start=1) if run_id in relevant), None)
    scores = {f"success@{k}": float(rank is not None and rank <= k) for k in SUCCESS_CUTOFFS}
    within = rank is not None and rank <= MAX_CUTOFF
    scores["mrr@10"] = 1.0 / rank if within else 0.0
    scores["ndcg@10"] = 1.0 / math.log2(1 + rank) if within else 0.0
    return scores
