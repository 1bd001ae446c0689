#!/usr/bin/env bash
# The focus-feature levers of the answer combiner, each fitted on the tune halves and measured
# on both (bench/results/fit_answer_focus.md summarises the runs).
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PYTHON:-.venv/bin/python}
mkdir -p "${OUT:-/tmp/fit-answer-sweep}"
$P bench/fit_answer.py --hits 5 --margins 5.0 --per-document 2 --without focus_cosine focus_gap local_keywords --out ${OUT:-/tmp/fit-answer-sweep}/s_base_pd2.md
$P bench/fit_answer.py --hits 5 --margins 5.0 --per-document 0 --without focus_cosine focus_gap local_keywords --out ${OUT:-/tmp/fit-answer-sweep}/s_base_pd0.md
for t in 0.34 0.5 0.67 0.99; do $P bench/fit_answer.py --hits 5 --margins 5.0 --per-document 0 --topic-share $t --out ${OUT:-/tmp/fit-answer-sweep}/s_share_$t.md; done
$P bench/fit_answer.py --hits 5 --margins 5.0 --per-document 0 --without focus_cosine focus_gap --out ${OUT:-/tmp/fit-answer-sweep}/s_lk_only.md
$P bench/fit_answer.py --hits 5 --margins 5.0 --per-document 0 --without local_keywords --out ${OUT:-/tmp/fit-answer-sweep}/s_focus_only.md
