"""The rerank stage the QA layer hands to the searcher: hybrid mode reorders its first passages by
fused score + weight x the score of the best answer window each passage holds. The windows scored
here are kept, so the answer picks from the very same windows without scoring them twice.
"""
from __future__ import annotations

from dataclasses import dataclass

from docqa.errors import SettingsError
from docqa.qa.question import Question
from docqa.qa.windows import Window, WindowScorer


@dataclass(frozen=True)
class RerankSettings:
    depth: int = 20  # passages reranked: deeper brought nothing on dev and costs window scoring
    weight: float = 3.0  # lifted S@1 0.77 -> 0.82 on the first dev set; chosen by cross-validation

    def __post_init__(self):
        if self.depth < 0 or self.weight < 0:
            raise SettingsError(f"rerank depth={self.depth}, weight={self.weight}: must be >= 0")


class WindowRerank:
    """One question's rerank stage (`docqa.index.search.Rerank`); holds the windows it scored."""

    def __init__(self, question: Question, scorer: WindowScorer, settings: RerankSettings):
        self.question = question
        self.scorer = scorer
        self.settings = settings
        self.depth = settings.depth if settings.weight > 0 else 0
        self.windows: dict[str, list[Window]] = {}  # chunk_id -> its windows, best first

    def __call__(self, hits, query_vector) -> list[float]:
        for w in self.scorer.windows(self.question, query_vector, hits):
            self.windows.setdefault(w.hit.passage.chunk_id, []).append(w)
        best = {chunk_id: ws[0].score for chunk_id, ws in self.windows.items()}
        return [h.score + self.settings.weight * best.get(h.passage.chunk_id, 0.0) for h in hits]
