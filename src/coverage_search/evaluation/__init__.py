"""Quality measured on real collections: BEIR retrieval and question answering."""

from coverage_search.evaluation.beir import (
    BeirData,
    load_beir,
    load_beir_folder,
    markdown_escape,
    read_qrels,
    write_corpus,
)
from coverage_search.evaluation.metrics import (
    mrr_at,
    ndcg_at,
    percentile,
    recall_at,
    score_rankings,
)
from coverage_search.evaluation.qa import QAReport, evaluate_qa, load_qa, load_refusals
from coverage_search.evaluation.retrieval import (
    DEPTH,
    MODES,
    EvalReport,
    ModeMetrics,
    evaluate,
    rank_documents,
    run_queries,
)

__all__ = [
    "DEPTH",
    "MODES",
    "BeirData",
    "EvalReport",
    "ModeMetrics",
    "QAReport",
    "evaluate",
    "evaluate_qa",
    "load_beir",
    "load_beir_folder",
    "load_qa",
    "load_refusals",
    "markdown_escape",
    "mrr_at",
    "ndcg_at",
    "percentile",
    "rank_documents",
    "read_qrels",
    "recall_at",
    "run_queries",
    "score_rankings",
    "write_corpus",
]
