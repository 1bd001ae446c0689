"""Late chunking: passage vectors pooled from one run over several passages, against one run each.

    .venv/bin/python bench/eval_late_chunking.py [--datasets time1963 scifact] [--windows 256 512]

Each passage is embedded today on its own (its title and heading, then its text: `embed_text`).
Late chunking runs the model once over a window of consecutive passages of one document (the
context prefix once, then the text from the first passage's start to the last one's end) and
mean-pools each passage's own word pieces (plus the prefix's, and [CLS]/[SEP], as today's
pooling counts them), so every piece is embedded about once and each passage's vector has
seen its neighbours. Reported per window: word pieces run through the model (the build's cost),
encoding seconds on the int8 lanes, and semantic nDCG@10 on the tune and confirm halves (a
document scores as its best passage; queries embedded as the product embeds them). Passages come
from the real chunker over the documents as the build reads them. Writes
bench/results/late_chunking.json/.md.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any

import numpy as np
from evalkit import dataset
from machine import REPO, WORK, heading, load1, print_machine, save, table

sys.path.insert(0, str(REPO / "src"))

from coverage_search.embed.embedder import get_embedder
from coverage_search.evaluation import score_rankings, write_corpus
from coverage_search.passages.chunking import chunk_documents
from coverage_search.sources.scan import read_document


def documents(name: str) -> tuple[Any, list[Any], dict[str, str]]:
    data = dataset(name)
    folder = WORK / name / "corpus"
    names = write_corpus(data, folder)
    docs = [read_document(folder / f, folder) for f in sorted(names)]
    return data, docs, names


def windows(doc: Any, passages: list[Any], tokenizer: Any, width: int) -> list[tuple[str, list]]:
    """Greedy windows of whole consecutive passages: (text, [(passage, char span in text)])."""
    out: list[tuple[str, list]] = []
    i = 0
    while i < len(passages):
        prefix = passages[i].embed_text[: len(passages[i].embed_text) - len(passages[i].text)]
        j = i
        while j + 1 < len(passages):
            body = doc.text[passages[i].start : passages[j + 1].end]
            if len(tokenizer.encode(prefix + body).ids) > width:
                break
            same_prefix = passages[j + 1].embed_text.startswith(prefix)
            if not same_prefix:
                break
            j += 1
        base = passages[i].start
        text = prefix + doc.text[base : passages[j].end]
        spans = [
            (p, (len(prefix) + p.start - base, len(prefix) + p.end - base))
            for p in passages[i : j + 1]
        ]
        out.append((text, [(p, span, len(prefix)) for p, span in spans]))
        i = j + 1
    return out


def encode_windows(encoder: Any, tokenizer: Any, items: list[tuple[str, list]]) -> dict:
    """passage key → pooled unit vector; also pieces run and seconds."""
    sessions = [encoder._session, encoder._make()]
    encs = tokenizer.encode_batch([t for t, _ in items], add_special_tokens=True)
    result: dict[tuple[str, int], np.ndarray] = {}
    order = iter(sorted(range(len(items)), key=lambda k: -len(encs[k].ids)))
    lock = threading.Lock()

    def lane(session: Any) -> None:
        while True:
            with lock:
                k = next(order, None)
            if k is None:
                return
            enc = encs[k]
            ids = np.asarray([enc.ids], dtype=np.int64)
            feeds = {
                "input_ids": ids,
                "attention_mask": np.ones_like(ids),
                "token_type_ids": np.zeros_like(ids),
            }
            hidden = session.run(None, {n: feeds[n] for n in encoder._wanted})[0][0]
            offsets = enc.offsets
            special = np.asarray(enc.special_tokens_mask, dtype=bool)
            starts = np.asarray([a for a, _ in offsets])
            for p, (a, b), prefix_end in items[k][1]:
                own = (~special) & (starts >= a) & (starts < b)
                pre = (~special) & (starts < prefix_end)
                chosen = own | pre | special
                v = hidden[chosen].mean(axis=0)
                result[(p.doc_id, p.ordinal)] = v / max(np.linalg.norm(v), 1e-12)

    start = time.perf_counter()
    threads = [threading.Thread(target=lane, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    pieces = sum(len(e.ids) for e in encs)
    return {"vectors": result, "pieces": pieces, "seconds": seconds}


def ndcg(data: Any, names: dict, keys: list, matrix: np.ndarray, qvecs: dict, ids: list) -> float:
    """Semantic nDCG@10 of `ids`: a document scores as its best passage."""
    rows: dict[str, list[int]] = {}
    for row, (doc_id, _) in enumerate(keys):
        rows.setdefault(doc_id, []).append(row)
    doc_ids = list(rows)
    ranked = {}
    for q in ids:
        sims = matrix @ qvecs[q]
        best = np.asarray([sims[rows[d]].max() for d in doc_ids])
        ranked[q] = [names[doc_ids[t]] for t in np.argsort(-best)[:100]]
    return float(score_rankings(ranked, data.qrels)["ndcg_at_10"])


def measure(name: str, widths: list[int]) -> list[dict[str, Any]]:
    data, docs, names = documents(name)
    embedder = get_embedder()
    encoder = embedder.model
    from tokenizers import Tokenizer

    # The encoder's own tokenizer truncates at the model's 256; windows may be longer.
    tokenizer = Tokenizer.from_str(encoder._tokenizer.to_str())
    tokenizer.no_truncation()
    passages = chunk_documents(docs, embedder)
    by_doc: dict[str, list[Any]] = {}
    for p in passages:
        by_doc.setdefault(p.doc_id, []).append(p)
    judged = data.judged_queries()
    tune, confirm = judged[0::2], judged[1::2]
    qvecs = {q: embedder.encode_query(data.queries[q]) for q in judged}
    keys = [(p.doc_id, p.ordinal) for p in passages]
    rows = []
    # Today: one run per passage over its embed_text.
    start = time.perf_counter()
    load_before = load1()
    base = embedder.encode([p.embed_text for p in passages])
    seconds = time.perf_counter() - start
    pieces = sum(embedder.count_tokens([p.embed_text for p in passages])) + 2 * len(passages)
    row = {
        "dataset": name,
        "variant": "one run a passage (today)",
        "pieces": pieces,
        "seconds": round(seconds, 1),
        "load": load_before,
        "tune": ndcg(data, names, keys, base, qvecs, tune),
        "confirm": ndcg(data, names, keys, base, qvecs, confirm),
    }
    print(row, flush=True)
    rows.append(row)
    for width in widths:
        items = [
            w
            for d, ps in by_doc.items()
            for w in windows(docs_by_id(docs)[d], ps, tokenizer, width - 2)
        ]
        load_before = load1()
        got = encode_windows(encoder, tokenizer, items)
        matrix = np.stack([got["vectors"][k] for k in keys])
        row = {
            "dataset": name,
            "variant": f"late, windows of {width}",
            "pieces": got["pieces"],
            "seconds": round(got["seconds"], 1),
            "load": load_before,
            "tune": ndcg(data, names, keys, matrix, qvecs, tune),
            "confirm": ndcg(data, names, keys, matrix, qvecs, confirm),
        }
        print(row, flush=True)
        rows.append(row)
    return rows


_BY_ID: dict[int, dict[str, Any]] = {}


def docs_by_id(docs: list[Any]) -> dict[str, Any]:
    key = id(docs)
    if key not in _BY_ID:
        _BY_ID[key] = {d.doc_id: d for d in docs}
    return _BY_ID[key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["time1963", "scifact"])
    parser.add_argument("--windows", nargs="+", type=int, default=[256, 512])
    args = parser.parse_args()
    info = print_machine()
    rows = [r for name in args.datasets for r in measure(name, args.windows)]
    loads = f"{info['load_1min_at_start']}-{load1()}"
    command = f"`python bench/eval_late_chunking.py {' '.join(sys.argv[1:])}`\n\n"
    headers = ["dataset", "variant", "word pieces run", "seconds", "load", "tune", "confirm"]
    keys = ["dataset", "variant", "pieces", "seconds", "load"]
    cells = [[*(r[k] for k in keys), f"{r['tune']:.4f}", f"{r['confirm']:.4f}"] for r in rows]
    title = "Late chunking: semantic nDCG@10 and cost"
    md = heading(title, info, loads, __doc__) + command + table(headers, cells) + "\n"
    save("late_chunking", {"machine": info, "rows": rows}, md)


if __name__ == "__main__":
    main()
