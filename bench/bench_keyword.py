"""Keyword engines side by side: SQLite FTS5 (as the local engine ran it), tantivy and bm25s.

    .venv/bin/python bench/bench_keyword.py [--sizes 100000 1000000] [--queries 200] [--no-eval]

latency: the synthetic passages of bench_milvus.py (60 consecutive words cut at random offsets
from the SciFact and TIME 1963 texts, 5 to a document, 20 outlets, dates over 2020-2026),
written once as the engine's database (documents, passages, FTS5) under $COVERAGE_BENCH_WORK;
then each backend's index is built from those passage rows (build time, disk). Each size runs
in its own process per backend (resident memory is that process's growth from opening the
index through the queries). SciFact claims become terms as the search does (keyword_terms,
then the keyword mode's pruning by FTS5's term counts), and every backend is asked the same
terms for the top 100 (the search's candidate pool) without filters, with a narrow filter
(one outlet, one year: 0.7% of passages) and a broad one (since 2023: 57%). Backends take
turns on each query, so a burst of load from other work lands on all alike.

quality: nDCG@10 keyword-only on SciFact and TIME 1963 through the real search path (the eval
index of evalkit), the engine's keyword call routed to each backend built from that index's own
passages. Tantivy and bm25s analyze text with analyzer.py (Porter, as FTS5); "tantivy en_stem"
is tantivy's own English (Snowball) analyzer, for comparison.

Writes bench/results/keyword_engines.json/.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from machine import REPO, RESULTS, SHARED_EVAL, WORK, print_machine, rss_mib, save, table

sys.path.insert(0, str(REPO / "src"))

from coverage_search.engine.local.analyzer import analyzer
from coverage_search.engine.local.keywords import (
    KeywordIndex,
    KeywordRow,
    day_number,
    write_keywords,
)
from coverage_search.engine.local.sql import passing_documents
from coverage_search.engine.local.store import Store
from coverage_search.engine.local.writer import STEMMED, write_content
from coverage_search.query.settings import SearchSettings
from coverage_search.query.terms import keyword_terms, prune_terms
from coverage_search.records import SearchFilters

BACKENDS = ("fts5", "tantivy", "bm25s")
FILTERS = {
    "none": SearchFilters(),
    "narrow": SearchFilters(outlets=("Outlet 3",), since="2024-01-01", until="2024-12-31"),
    "broad": SearchFilters(since="2023-01-01"),
}
LIMIT = 100  # SearchSettings.min_candidates: the pool a k=10 search asks for


def load1() -> float:
    return round(os.getloadavg()[0], 2)


def folder_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# -- data ----------------------------------------------------------------------------------


def database(size: int) -> Path:
    """The engine's database of `size` synthetic passages (written once, then reused)."""
    from bench_milvus import content

    root = WORK / f"keyword-{size}"
    path = root / "coverage.sqlite"
    marker = root / "database.json"
    if marker.is_file():
        return path
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    data = content(size)
    began, load = time.perf_counter(), load1()
    write_content(path, data)
    seconds = time.perf_counter() - began
    marker.write_text(json.dumps({"write_s": seconds, "load": [load, load1()]}) + "\n")
    print(f"  database of {size:,} passages written in {seconds:.0f} s", flush=True)
    return path


def passage_rows(path: Path) -> Iterator[KeywordRow]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cur = conn.execute(
            "SELECT p.id, p.document, d.title, p.heading, p.text, d.outlet_key, d.published,"
            " d.language FROM passages p JOIN documents d ON d.id = p.document ORDER BY p.id"
        )
        for r in cur:
            yield KeywordRow(
                id=r[0],
                document=r[1],
                text="\n".join(x for x in (r[2], r[3], r[4]) if x),
                outlet=r[5] or "",
                day=day_number(r[6]),
                language=(r[7] or "").lower(),
            )
    finally:
        conn.close()


# -- backends -----------------------------------------------------------------------------


def fts5_keyword(
    store: Store, terms: Sequence[str], filters: SearchFilters, *, limit: int
) -> list[tuple[int, float]]:
    """The local engine's keyword search before tantivy (format 3): bm25() over FTS5."""
    if not terms:
        return []
    match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
    sql = "SELECT f.rowid, bm25(passages_fts, 1.0, 1.0, 1.0) AS s FROM passages_fts f"
    params: list[object] = [match]
    if filters.active:
        where, values = passing_documents(filters)
        sql += f" JOIN passages p ON p.id = f.rowid WHERE passages_fts MATCH ? AND {where}"
        params += values
    else:
        sql += " WHERE passages_fts MATCH ?"
    rows = store._all(sql + " ORDER BY s LIMIT ?", [*params, limit])
    return [(int(r[0]), -float(r[1])) for r in rows]


def build_fts5(rows: Iterator[KeywordRow], target: Path) -> None:
    """FTS5 alone, as the writer makes it (same tokenizer, contentless, optimized)."""
    conn = sqlite3.connect(target)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute(f"CREATE VIRTUAL TABLE f USING fts5(text, content='', tokenize='{STEMMED}')")
    batch: list[tuple[int, str]] = []
    for row in rows:
        batch.append((row.id, row.text))
        if len(batch) == 10_000:
            conn.executemany("INSERT INTO f(rowid, text) VALUES (?, ?)", batch)
            batch = []
    conn.executemany("INSERT INTO f(rowid, text) VALUES (?, ?)", batch)
    conn.execute("INSERT INTO f(f) VALUES ('optimize')")
    conn.commit()
    conn.close()


class Bm25s:
    """bm25s over analyzer.py tokens; filters as a weight mask over numpy filter columns."""

    def __init__(self, folder: Path) -> None:
        import bm25s

        self.retriever = bm25s.BM25.load(str(folder), mmap=True, load_vocab=True)
        meta = np.load(folder / "filters.npz")
        self.ids, self.outlets, self.days = meta["ids"], meta["outlets"], meta["days"]
        self.outlet_codes = json.loads((folder / "outlets.json").read_text())
        self.analyze = analyzer(True)
        self.vocab = self.retriever.vocab_dict

    @staticmethod
    def build(rows: Iterator[KeywordRow], folder: Path) -> None:
        import bm25s

        analyze = analyzer(True)
        vocab: dict[str, int] = {}
        corpus: list[list[int]] = []
        ids, outlets, days = [], [], []
        codes: dict[str, int] = {}
        for row in rows:
            corpus.append([vocab.setdefault(t, len(vocab)) for t in analyze(row.text)])
            ids.append(row.id)
            outlets.append(codes.setdefault(row.outlet, len(codes)))
            days.append(row.day)
        # FTS5's idf, k1 and b: ln((N - n + 0.5) / (n + 0.5)) ("robertson")
        retriever = bm25s.BM25(method="robertson", k1=1.2, b=0.75)
        retriever.index(bm25s.tokenization.Tokenized(ids=corpus, vocab=vocab), show_progress=False)
        retriever.save(str(folder))
        np.savez(
            folder / "filters.npz",
            ids=np.asarray(ids, dtype=np.int64),
            outlets=np.asarray(outlets, dtype=np.int32),
            days=np.asarray(days, dtype=np.int32),
        )
        (folder / "outlets.json").write_text(json.dumps(codes))

    def mask(self, filters: SearchFilters) -> np.ndarray | None:
        if not filters.active:
            return None
        keep = np.ones(len(self.ids), dtype=bool)
        if filters.outlets:
            from coverage_search.engine.local.sql import outlet_key

            wanted = [self.outlet_codes.get(outlet_key(o) or "", -2) for o in filters.outlets]
            keep &= np.isin(self.outlets, wanted)
        if filters.since:
            keep &= self.days >= day_number(filters.since)
        if filters.until:
            keep &= (self.days >= 0) & (self.days <= day_number(filters.until))
        return keep.astype(np.float32)

    def search(self, terms: Sequence[str], filters: SearchFilters, limit: int) -> list[int]:
        tokens = sorted({t for term in terms for t in self.analyze(term) if t in self.vocab})
        if not tokens:
            return []
        ids = [[self.vocab[t] for t in tokens]]
        docs, scores = self.retriever.retrieve(
            ids, k=limit, show_progress=False, weight_mask=self.mask(filters), n_threads=1
        )
        return [int(self.ids[d]) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


def build_backend(backend: str, size: int) -> dict[str, Any]:
    """Build one backend's index from the database's rows (reused when built)."""
    root = WORK / f"keyword-{size}"
    target = root / backend
    marker = root / f"{backend}.json"
    if marker.is_file():
        return dict(json.loads(marker.read_text()))
    shutil.rmtree(target, ignore_errors=True)
    if target.with_suffix(".sqlite").exists():
        target.with_suffix(".sqlite").unlink()
    rows = passage_rows(root / "coverage.sqlite")
    began, load = time.perf_counter(), load1()
    if backend == "fts5":
        build_fts5(rows, target.with_suffix(".sqlite"))
        where = target.with_suffix(".sqlite")
    elif backend == "tantivy":
        write_keywords(target, rows, stemming=True)
        where = target
    else:
        target.mkdir()
        Bm25s.build(rows, target)
        where = target
    seconds = time.perf_counter() - began
    built = {
        "build_s": round(seconds, 1),
        "build_load": [load, load1()],
        "disk_mb": round(folder_bytes(where) / 1e6, 1),
    }
    marker.write_text(json.dumps(built) + "\n")
    print(f"  {backend}: built in {seconds:.0f} s, {built['disk_mb']:.0f} MB", flush=True)
    return built


# -- latency ------------------------------------------------------------------------------


def query_terms(store: Store, claims: Sequence[str]) -> list[list[str]]:
    """Each claim's terms as a keyword search asks for them (pruned by FTS5's counts)."""
    settings = SearchSettings()
    out = []
    for claim in claims:
        terms = keyword_terms(claim)
        if len(terms) > settings.keyword_min_terms:
            docs, passages = store.term_docs(terms)
            terms = prune_terms(
                terms,
                docs,
                passages,
                max_df=settings.keyword_max_df,
                min_terms=settings.keyword_min_terms,
            )
        out.append(terms)
    return out


def measure(backend: str, size: int, queries: int) -> dict[str, Any]:
    """In this fresh process: open one backend, ask every query under every filter."""
    root = WORK / f"keyword-{size}"
    claims = [
        json.loads(line)["text"]
        for line in (SHARED_EVAL / "scifact" / "queries.jsonl").read_text().splitlines()
    ][: queries + 10]
    store = Store(root / "coverage.sqlite")
    asked = query_terms(store, claims)
    before = rss_mib()
    search: Any
    if backend == "fts5":

        def search(terms: list[str], filters: SearchFilters) -> list[int]:
            return [i for i, _ in fts5_keyword(store, terms, filters, limit=LIMIT)]

    elif backend == "tantivy":
        index = KeywordIndex(root / "tantivy", stemming=True)

        def search(terms: list[str], filters: SearchFilters) -> list[int]:
            copied: list[int] = []  # no exact copies in the synthetic corpus
            return [i for i, _ in index.search(terms, filters, copied, limit=LIMIT)]

    else:
        bm = Bm25s(root / "bm25s")

        def search(terms: list[str], filters: SearchFilters) -> list[int]:
            return bm.search(terms, filters, LIMIT)

    for terms in asked[:10]:
        for filters in FILTERS.values():
            search(terms, filters)
    out: dict[str, Any] = {}
    found: dict[str, list[list[int]]] = {}
    for label, filters in FILTERS.items():
        times, load = [], load1()
        found[label] = []
        for terms in asked[10:]:
            began = time.perf_counter()
            found[label].append(search(terms, filters))
            times.append((time.perf_counter() - began) * 1000)
        cuts = statistics.quantiles(times, n=20)
        out[label] = {
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(cuts[18], 2),
            "load": [load, load1()],
        }
    out["rss_mib"] = round(rss_mib() - before, 1)
    out["found"] = found
    return out


def overlap(a: list[list[int]], b: list[list[int]], k: int = 10) -> float:
    """Mean share of the top k of `b` that is in the top k of `a`."""
    shares = [len(set(x[:k]) & set(y[:k])) / max(1, len(y[:k])) for x, y in zip(a, b, strict=True)]
    return round(float(np.mean(shares)), 3) if shares else 1.0


def latency(sizes: list[int], queries: int) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        print(f"{size:,} passages", flush=True)
        database(size)
        results: dict[str, dict[str, Any]] = {}
        for backend in BACKENDS:
            built = build_backend(backend, size)
            measured = child("measure", backend, str(size), str(queries))
            results[backend] = {**built, **measured}
            print(
                f"  {backend:<8} "
                + "  ".join(
                    f"{f} p50 {measured[f]['p50_ms']:.1f} / p95 {measured[f]['p95_ms']:.1f} ms"
                    f" (load {measured[f]['load'][0]})"
                    for f in FILTERS
                )
                + f"  RSS +{measured['rss_mib']:.0f} MiB",
                flush=True,
            )
        found = {backend: results[backend].pop("found") for backend in BACKENDS}
        for backend in BACKENDS:
            results[backend]["top10_overlap_with_fts5"] = {
                f: overlap(found["fts5"][f], found[backend][f]) for f in FILTERS
            }
        rows.append({"passages": size, "backends": results})
    return rows


def child(*argv: str, script: str = __file__) -> dict[str, Any]:
    """Run this script (or `script`) with `argv` in a fresh process; its last line, as JSON."""
    cmd = [sys.executable, str(Path(script).resolve()), *argv]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if out.returncode:
        sys.exit(f"{' '.join(argv)} failed with exit code {out.returncode}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# -- quality ------------------------------------------------------------------------------


def quality(names: list[str]) -> dict[str, Any]:
    """nDCG@10 keyword-only through the real search, the keyword call routed to each backend."""
    import tantivy
    from evalkit import prepare, rankings, scores

    out: dict[str, Any] = {}
    for name in names:
        prep = prepare(name, progress=False)
        engine = prep.index.engine
        build_dir = prep.index.build_dir
        work = WORK / f"keyword-eval-{name}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        rows = list(passage_rows(build_dir / "coverage.sqlite"))
        fts_store = Store(fts5_copy(build_dir / "coverage.sqlite", work / "fts5.sqlite"))
        write_keywords(work / "tantivy", iter(rows), stemming=True)
        porter = KeywordIndex(work / "tantivy", stemming=True)
        (work / "bm25s").mkdir()
        Bm25s.build(iter(rows), work / "bm25s")
        bm = Bm25s(work / "bm25s")
        en_stem = SnowballIndex(tantivy, rows, work / "tantivy-en")
        ids = prep.tune + prep.confirm
        original, original_counts = engine.keyword, engine.term_docs
        store = fts_store
        variants: dict[str, Any] = {
            "fts5": (
                lambda terms, filters, *, limit, st=fts_store: fts5_keyword(
                    st, terms, filters, limit=limit
                ),
                fts_store.term_docs,
            ),
            "tantivy": (
                lambda terms, filters, *, limit, porter=porter: porter.search(
                    terms, filters, [], limit=limit
                ),
                porter.term_docs,
            ),
            "tantivy en_stem": (en_stem.keyword, store.term_docs),
            "bm25s": (
                lambda terms, filters, *, limit, bm=bm: [
                    (i, 1.0 / (r + 1)) for r, i in enumerate(bm.search(terms, filters, limit))
                ],
                store.term_docs,
            ),
        }
        figures: dict[str, Any] = {}
        for label, (keyword, term_docs) in variants.items():
            engine.keyword, engine.term_docs = keyword, term_docs  # type: ignore[method-assign]
            load = load1()
            ranked = rankings(prep, ids, mode="keyword")
            figures[label] = {
                "ndcg_at_10": round(scores(prep, ranked)["ndcg_at_10"], 4),
                "recall_at_100": round(scores(prep, ranked)["recall_at_100"], 4),
            }
            if label in ("fts5", "tantivy"):  # the engine before and after: hybrid too
                ranked = rankings(prep, ids, mode="hybrid")
                figures[label]["hybrid_ndcg_at_10"] = round(scores(prep, ranked)["ndcg_at_10"], 4)
            figures[label]["load"] = [load, load1()]
            print(f"  {name} {label:<16} {json.dumps(figures[label])}", flush=True)
        engine.keyword, engine.term_docs = original, original_counts  # type: ignore[method-assign]
        fts_store.close()
        prep.index.close()
        out[name] = figures
    return out


def fts5_copy(source: Path, target: Path) -> Path:
    """A copy of a build's database with the FTS5 table and term_df that format 3 wrote."""
    from coverage_search.engine.local.writer import _FTS, _write_term_df

    target.write_bytes(source.read_bytes())
    conn = sqlite3.connect(target)
    conn.execute(_FTS.format(schema="main", tokenizer=STEMMED))
    conn.execute(
        "INSERT INTO passages_fts(rowid, text, heading, title) SELECT p.id, p.text,"
        " coalesce(p.heading, ''), d.title FROM passages p JOIN documents d ON d.id = p.document"
    )
    conn.execute("INSERT INTO passages_fts(passages_fts) VALUES ('optimize')")
    _write_term_df(conn, "main")
    conn.commit()
    conn.close()
    return target


class SnowballIndex:
    """tantivy with its own en_stem analyzer (simple tokenizer, lowercase, Snowball English)."""

    def __init__(self, tantivy: Any, rows: list[KeywordRow], folder: Path) -> None:
        builder = tantivy.SchemaBuilder()
        builder.add_unsigned_field("id", fast=True)
        builder.add_text_field("body", tokenizer_name="en_stem", index_option="freq")
        self.schema = builder.build()
        folder.mkdir()
        index = tantivy.Index(self.schema, path=str(folder))
        writer = index.writer(256_000_000, 1)
        for row in rows:
            doc = tantivy.Document()
            doc.add_unsigned("id", row.id)
            doc.add_text("body", row.text)
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        self.index, self.searcher, self.tantivy = index, index.searcher(), tantivy

    def keyword(
        self, terms: Sequence[str], filters: SearchFilters, *, limit: int
    ) -> list[tuple[int, float]]:
        text = " ".join(terms)
        query = self.index.parse_query_lenient(text, ["body"])[0]
        hits = self.searcher.search(query, limit, count=False).hits
        ids = self.searcher.fast_field_values("id", [a for _, a in hits]) if hits else []
        return [(int(i), float(s)) for (s, _), i in zip(hits, ids, strict=True)]


# -- report -------------------------------------------------------------------------------


def markdown(result: dict[str, Any], info: dict[str, Any]) -> str:
    lines = [
        "# Keyword engines: SQLite FTS5, tantivy, bm25s\n",
        f"Machine: {info['nproc']} cores, {info['cpu']}, {info['ram_gib']} GiB RAM, load "
        f"{info['load_1min_at_start']} at start ({info['date']}); the cores are shared with "
        "other work, so every figure carries the 1-minute load average when it was taken. "
        "Compare backends within this run.\n",
        (__doc__ or "").split("\n\n")[2].replace("\n", " ") + "\n",
        "## Top 100 per query, p50 / p95 ms (load)\n",
    ]
    headers = [
        "passages",
        "backend",
        *[f"{f} filter" for f in FILTERS],
        "top-10 overlap with FTS5",
        "build s (load)",
        "disk MB",
        "RSS MiB",
    ]
    body = []
    for row in result.get("latency", []):
        for backend, r in row["backends"].items():
            body.append(
                [
                    f"{row['passages']:,}",
                    backend,
                    *[
                        f"{r[f]['p50_ms']:.1f} / {r[f]['p95_ms']:.1f} ({r[f]['load'][0]})"
                        for f in FILTERS
                    ],
                    " / ".join(f"{v:.2f}" for v in r["top10_overlap_with_fts5"].values()),
                    f"{r['build_s']:.0f} ({r['build_load'][0]})",
                    f"{r['disk_mb']:.0f}",
                    f"{r['rss_mib']:.0f}",
                ]
            )
    lines.append(table(headers, body))
    if result.get("quality"):
        lines.append(
            "\n## nDCG@10, keyword-only and hybrid (default convex fusion), real search path"
            " (load)\n"
        )
        names = list(result["quality"])
        labels = list(next(iter(result["quality"].values())))
        quality = result["quality"]

        def keyword(n: str, label: str) -> str:
            return f"{quality[n][label]['ndcg_at_10']:.4f} ({quality[n][label]['load'][0]})"

        def hybrid(n: str, label: str) -> str:
            value = quality[n][label].get("hybrid_ndcg_at_10")
            return "-" if value is None else f"{value:.4f}"

        lines.append(
            table(
                ["backend", *[f"{n} keyword" for n in names], *[f"{n} hybrid" for n in names]],
                [
                    [
                        label,
                        *[keyword(n, label) for n in names],
                        *[hybrid(n, label) for n in names],
                    ]
                    for label in labels
                ],
            )
        )
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "measure":  # a child: one backend, one size
        backend, size, queries = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(measure(backend, size, queries)))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-eval", action="store_true")
    parser.add_argument("--eval-only", action="store_true")
    parser.add_argument("--datasets", nargs="+", default=["scifact", "time1963"])
    args = parser.parse_args()
    info = print_machine()
    # A part not run now keeps its figures from the last run (the two parts may run apart).
    earlier = RESULTS / "keyword_engines.json"
    result: dict[str, Any] = json.loads(earlier.read_text()) if earlier.is_file() else {}
    result = {k: result[k] for k in ("latency", "quality") if k in result}
    if not args.eval_only:
        result["latency"] = latency(args.sizes, args.queries)
    if not args.no_eval:
        result["quality"] = quality(args.datasets)
    save("keyword_engines", result, markdown(result, info))


if __name__ == "__main__":
    main()
