"""Sentence features tried on top of the answer's combiner, each fitted on the tune halves.

Every variant adds one or more columns to the product's own feature rows (the product's pool,
query/answer.answer_pool), refits the logistic combiner on the tune halves of the seed article
and TIME 1963 dev sets (bench/fit_answer.py), and counts, per half and on the fresh check sets:
passage first (hits re-ranked by their best sentence) and quoted (2-4 sentences chosen as the
answer does). A variant is kept only if it wins on tune and does not lose on confirm.

- lede: the sentence opens its document (TIME's ledes carry the headline and every topic word);
- topicality: cosine with the mean of the pool's sentence vectors, and the question with that
  direction projected out (a sentence about the topic, not about what is asked);
- declarative: the question without its wh-word and auxiliary ("Dario Amodei leave OpenAI");
- strong reason: for why questions, an explicit causal marker (because, due to, was that, ...);
- titled: the sentence embedded after its title and heading;
- token alignment: BERTScore-style recall / F1 of the question's content word pieces against
  the sentence's, from the same MiniLM's token vectors;
- pronoun pairs: a sentence opening on a pronoun also as a candidate joined with the one before;
- lemmas: irregular verbs and plurals reduced to their lemma in the keyword features (left →
  leave, men → man);
- regularisation: the fit's C (1.0 is the product's);
- MMR: the 2-4 sentences chosen by score minus lambda times the cosine with those already
  chosen (the product only skips near-repeats, cosine over 0.9);
- in context (--group context, "late chunking"): the model run once over the text the build
  embedded for the passage (its title / heading prefix and all), the sentence's vector the
  mean of the token states inside its characters; or over the sentence and its two
  neighbours only (window). A sentence not found in that text keeps its own cosine (counted).
  Also times the extra work per answer on 20 seed questions, on one lane and on two (the
  passages' texts on two one-thread sessions side by side, as the int8 encoder embeds).
- article vote (--group vote): the reciprocal ranks of the first five hits of the sentence's
  document, summed, over the best document's (search's first hit alone is one vote);
- --with-train: the training sets of bench/eval_answer_train.py counted too (never fitted on).

    python bench/eval_answer_levers.py [--group all|context|vote] [--with-train]
        [--work /tmp/coverage-fit-answer]
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fit_answer as fa  # noqa: E402
from machine import machine, save  # noqa: E402

from coverage_search import CoverageIndex  # noqa: E402
from coverage_search.passages.chunking import ChunkSettings, chunk_document  # noqa: E402
from coverage_search.passages.sentences import split_sentences  # noqa: E402
from coverage_search.query import answer, evidence  # noqa: E402
from coverage_search.query.aliases import expand_aliases  # noqa: E402
from coverage_search.sources.scan import read_document  # noqa: E402

Extra = Callable[[str, Sequence[evidence.Candidate], np.ndarray, Any, Sequence[Any]], np.ndarray]
DATA = HERE / "data"
SETS = (
    ("seed", "qa_seed.jsonl"),
    ("time", "qa_time.jsonl"),
    ("seed", "qa_seed_fresh.jsonl"),
    ("time", "qa_time_fresh.jsonl"),
)
HALVES = ("tune", "confirm", "fresh")
# --with-train: the training sets too, never fitted on (bench/eval_answer_train.py, split "train")
TRAIN_SETS = (("seed", "qa_seed_train.jsonl"), ("time", "qa_time_train.jsonl"))

# What the patched feature function sees: the question as the product scores it.
_STATE: dict[str, Any] = {"question": "", "extra": ()}
_features, _combine, _candidates, _rows = (
    answer.features,
    answer.combine,
    answer.candidates,
    fa.rows,
)


def _with_extra(*args: Any) -> np.ndarray:
    rows = _features(*args)
    _, _, _, cands, vectors, pool, _ = args
    cols = [
        f(_STATE["question"], cands, vectors, _STATE["embedder"], pool) for f in _STATE["extra"]
    ]
    return np.hstack([rows, *[np.reshape(c, (-1, 1)) for c in cols]]) if cols else rows


def _rows_with_question(index: Any, question: str, found: list) -> Any:
    _STATE["question"], _STATE["embedder"], _STATE["index"] = question, index.embedder, index
    return _rows(index, question, found)


answer.features = _with_extra  # type: ignore[assignment]
answer.combine = lambda rows: _combine(np.asarray(rows)[:, : len(evidence.WEIGHTS)])  # type: ignore[assignment]
fa.rows = _rows_with_question  # type: ignore[assignment]


def lede(q: str, cands: Sequence[Any], v: np.ndarray, e: Any, pool: Sequence[Any]) -> np.ndarray:
    return np.array([float(pool[c.hit_index].start == 0 and c.ordinal == 0) for c in cands])


def _centroid(v: np.ndarray) -> np.ndarray:
    c = v.mean(axis=0)
    return c / max(float(np.linalg.norm(c)), 1e-6)


def topical(q: str, cands: Sequence[Any], v: np.ndarray, e: Any, pool: Sequence[Any]) -> np.ndarray:
    return v @ _centroid(v)


def residual(
    q: str, cands: Sequence[Any], v: np.ndarray, e: Any, pool: Sequence[Any]
) -> np.ndarray:
    c, qv = _centroid(v), e.encode_query(q)
    r = qv - float(qv @ c) * c
    return v @ (r / max(float(np.linalg.norm(r)), 1e-6))


_AUX = r"(?:do|does|did|is|are|was|were|has|have|had|can|could|should|would|will)"
_WH = re.compile(
    r"^\s*(?:why|how|when|where|who|whom|whose|what|which)\b[^?]*?\s" + _AUX + r"\s+", re.I
)


def declarative(
    q: str, cands: Sequence[Any], v: np.ndarray, e: Any, pool: Sequence[Any]
) -> np.ndarray:
    text = q.strip().rstrip("?")
    m = _WH.match(text)
    return v @ e.encode_query(text[m.end() :] if m else text)


_STRONG = re.compile(
    r"\b(?:because|due to|owing to|so that|in order to|reasons?|for fear|was that|is that|"
    r"believed|argued)\b",
    re.I,
)


def strong_reason(
    q: str, cands: Sequence[Any], v: np.ndarray, e: Any, pool: Sequence[Any]
) -> np.ndarray:
    if evidence.question_kind(q) != "why":
        return np.zeros(len(cands))
    return np.array([float(bool(_STRONG.search(c.sentence))) for c in cands])


def titled(q: str, cands: Sequence[Any], v: np.ndarray, e: Any, pool: Sequence[Any]) -> np.ndarray:
    hit = [pool[c.hit_index] for c in cands]
    texts = [
        f"{h.title or ''}. {h.heading or ''}. {c.sentence}" for h, c in zip(hit, cands, strict=True)
    ]
    return answer.sentence_vectors(e, texts) @ e.encode_query(q)


_STOP_WORDS = (
    "a an the of to in on at for by with from and or but is are was were be been do does did "
    "has have had what which who whom whose why how when where that this these those it its "
    "as into about than so such can could should would will may might not no their his her "
    "they he she"
)
_STOP = frozenset(_STOP_WORDS.split())


def _tokens(e: Any, text: str) -> np.ndarray:
    enc = e.model  # the ONNX encoder: its last hidden state, one text per run
    got = enc._tokenizer.encode(text, add_special_tokens=True)
    ids = np.array([got.ids], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": 0 * ids}
    hidden = enc._session.run(None, {k: feeds[k] for k in enc._wanted})[0][0]
    keep = [
        i
        for i, t in enumerate(got.tokens)
        if t not in ("[CLS]", "[SEP]") and re.search(r"\w", t) and t.lstrip("#") not in _STOP
    ] or [0]
    h = hidden[keep]
    return h / np.clip(np.linalg.norm(h, axis=1, keepdims=True), 1e-9, None)


def _alignment(q: str, cands: Sequence[Any], e: Any) -> tuple[np.ndarray, np.ndarray]:
    qt = _tokens(e, q)
    rec, f1 = [], []
    for c in cands:
        sim = qt @ _tokens(e, c.sentence).T
        r, p = float(sim.max(axis=1).mean()), float(sim.max(axis=0).mean())
        rec.append(r)
        f1.append(2 * r * p / max(r + p, 1e-9))
    return np.array(rec), np.array(f1)


def token_recall(
    q: str, cands: Sequence[Any], v: np.ndarray, e: Any, pool: Sequence[Any]
) -> np.ndarray:
    return _alignment(q, cands, e)[0]


def token_f1(
    q: str, cands: Sequence[Any], v: np.ndarray, e: Any, pool: Sequence[Any]
) -> np.ndarray:
    return _alignment(q, cands, e)[1]


def gap(f: Extra) -> Extra:
    def column(*args: Any) -> np.ndarray:
        x = f(*args)
        return x - x.max() if len(x) else x

    return column


_PRONOUN = re.compile(r"^(?:It|This|That|These|Those|Such|He|She|They|Its|Their|His|Her)\b")


def with_pronoun_pairs(hits: Sequence[Any]) -> list[evidence.Candidate]:
    base = _candidates(hits)
    out: list[evidence.Candidate] = []
    for j, c in enumerate(base):
        out.append(c)
        prev = base[j - 1] if j else None
        if prev is not None and prev.hit_index == c.hit_index and _PRONOUN.match(c.sentence):
            text = hits[c.hit_index].text[prev.start : c.start + len(c.sentence)]
            out.append(evidence.Candidate(c.hit_index, prev.start, text, prev.ordinal))
    return out


def article_vote(
    q: str, cands: Sequence[Any], v: np.ndarray, e: Any, pool: Sequence[Any]
) -> np.ndarray:
    """The reciprocal ranks of the first five hits of the sentence's document, summed, over
    the best document's: a story several hits agree on (search's own first hit is one vote)."""
    votes: dict[str, float] = {}
    for rank, hit in enumerate(pool[: answer.ANSWER_HITS], start=1):
        votes[hit.doc_id] = votes.get(hit.doc_id, 0.0) + 1.0 / rank
    best = max(votes.values(), default=1.0)
    return np.array([votes.get(pool[c.hit_index].doc_id, 0.0) / best for c in cands])


VARIANTS: tuple[tuple[str, tuple[Extra, ...]], ...] = (
    ("product features (refit)", ()),
    ("+ lede", (lede,)),
    ("+ lede, topicality", (lede, topical)),
    ("+ topicality", (topical,)),
    ("+ question minus topic (cosine, gap)", (residual, gap(residual))),
    ("+ declarative question (cosine, gap)", (declarative, gap(declarative))),
    ("+ strong reason (why)", (strong_reason,)),
    ("+ titled sentence (cosine, gap)", (titled, gap(titled))),
    ("+ token recall (value, gap)", (token_recall, gap(token_recall))),
    ("+ token F1 (value, gap)", (token_f1, gap(token_f1))),
)


# In-context sentence vectors. Hits carry neither the text the build embedded nor the source's
# headings (the store drops them, and the prefix is the section path, not hit.heading), so each
# corpus file is read and cut again as the build did, and the passage found by its span (the
# texts so found embed to the stored passage vectors, cosine 1.000 on the pools checked).
_EMBEDDED: dict[tuple[str, int, int], str] = {}
_CUT: set[str] = set()
_STATES: dict[str, tuple[np.ndarray, np.ndarray]] = {}
LOCATED: dict[str, dict[str, set]] = {}  # mode → "found" / "fallback" → distinct sentences


def embedded_text(index: Any, hit: Any) -> str | None:
    if hit.doc_id not in _CUT:
        _CUT.add(hit.doc_id)
        corpus = Path(index.manifest["corpus_dir"])
        doc = read_document(corpus / hit.doc_id, corpus)
        cut = {k: v for k, v in index.manifest["chunking"].items() if k != "version"}
        for p in chunk_document(doc, index.embedder, ChunkSettings(**cut)):
            _EMBEDDED[(p.doc_id, p.start, p.end)] = p.embed_text
    return _EMBEDDED.get((hit.doc_id, hit.start, hit.end))


def _hidden(enc: Any, session: Any, got: Any) -> tuple[np.ndarray, np.ndarray]:
    """Last hidden states and character spans of one tokenized text (special tokens out)."""
    ids = np.array([got.ids], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": 0 * ids}
    hidden = session.run(None, {k: feeds[k] for k in enc._wanted})[0][0]
    keep = [i for i, t in enumerate(got.tokens) if t not in ("[CLS]", "[SEP]")]
    return hidden[keep], np.array(got.offsets, dtype=np.int64)[keep]


def _states(e: Any, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Last hidden states and character spans of `text`'s word pieces (special tokens out)."""
    if text not in _STATES:
        enc = e.model  # one text per run, as the int8 encoder embeds passages
        got = enc._tokenizer.encode(text, add_special_tokens=True)
        _STATES[text] = _hidden(enc, enc._session, got)
    return _STATES[text]


def states_side_by_side(e: Any, texts: Sequence[str], lanes: int = 2) -> None:
    """Fill _STATES for `texts` as the int8 encoder's _side_by_side embeds: one text per run,
    longest first, on `lanes` one-thread sessions at once (its own sessions, made alike)."""
    enc = e.model
    todo = sorted({t for t in texts if t not in _STATES}, key=len, reverse=True)
    if not todo:
        return
    while len(enc._sessions) < lanes:
        enc._sessions.append(enc._make())
    encs = enc._tokenizer.encode_batch(todo, add_special_tokens=True)
    queue, lock = iter(range(len(todo))), threading.Lock()

    def lane(session: Any) -> None:
        while True:
            with lock:
                i = next(queue, None)
            if i is None:
                return
            _STATES[todo[i]] = _hidden(enc, session, encs[i])

    workers = [threading.Thread(target=lane, args=(s,)) for s in enc._sessions[:lanes]]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def span_vector(e: Any, text: str, start: int, end: int) -> np.ndarray | None:
    """Unit mean of the token states inside text[start:end], None when truncation cut them."""
    hidden, spans = _states(e, text)
    inside = (spans[:, 0] >= start) & (spans[:, 1] <= end) & (spans[:, 1] > spans[:, 0])
    if not inside.any():
        return None
    v = hidden[inside].mean(axis=0)
    return v / max(float(np.linalg.norm(v)), 1e-9)


def _window(hit: Any, c: Any) -> tuple[str, int]:
    """The sentence with the one before and after it in the passage, and its offset there."""
    spans = split_sentences(hit.text)
    i = next((k for k, (a, b) in enumerate(spans) if a <= c.start < b), None)
    if i is None:
        return hit.text, c.start
    a, b = spans[max(i - 1, 0)][0], spans[min(i + 1, len(spans) - 1)][1]
    return hit.text[a:b], c.start - a


def in_context(mode: str) -> Extra:
    def column(
        q: str, cands: Sequence[Any], v: np.ndarray, e: Any, pool: Sequence[Any]
    ) -> np.ndarray:
        qv = e.encode_query(expand_aliases(q))  # as the product's own cosine sees it
        out = v @ qv  # the fallback: the sentence's own cosine
        seen = LOCATED.setdefault(mode, {"found": set(), "fallback": set()})
        for j, c in enumerate(cands):
            hit = pool[c.hit_index]
            if mode == "window":
                text, at = _window(hit, c)
            else:
                text = embedded_text(_STATE["index"], hit) or ""
                at = len(text) - len(hit.text) + c.start if text.endswith(hit.text) else -1
            vec = None
            if at >= 0 and text[at : at + len(c.sentence)] == c.sentence:
                vec = span_vector(e, text, at, at + len(c.sentence))
            key = (hit.doc_id, hit.start, c.start)
            seen["found" if vec is not None else "fallback"].add(key)
            if vec is not None:
                out[j] = float(vec @ qv)
        return out

    return column


CONTEXT_VARIANTS: tuple[tuple[str, tuple[Extra, ...]], ...] = (
    ("product features (refit)", ()),
    ("+ in-context cosine, gap (passage)", (in_context("passage"), gap(in_context("passage")))),
    ("+ in-context cosine (passage)", (in_context("passage"),)),
    (
        "+ in-context cosine, gap (3-sentence window)",
        (in_context("window"), gap(in_context("window"))),
    ),
)


def _timed(
    e: Any, lanes: int, used: list[str], cands: Sequence[Any], embedded: list, pool: list
) -> tuple[float, list]:
    """ms for the in-context vectors of `cands` from scratch, the texts run on `lanes` lanes."""
    _STATES.clear()
    t = time.perf_counter()
    if lanes > 1:
        states_side_by_side(e, used, lanes)
    out = []
    for c in cands:
        text, hit = embedded[c.hit_index], pool[c.hit_index]
        at = len(text) - len(hit.text) + c.start
        out.append(span_vector(e, text, at, at + len(c.sentence)))
    return 1000 * (time.perf_counter() - t), out


def time_context(index_dir: Path, questions: list[str]) -> dict[str, Any]:
    """ms per answer (sentence cache cleared) and the extra ms of the in-context vectors of its
    pool (the passages' embedded texts looked up beforehand: the build would store them)."""
    index = CoverageIndex.open(index_dir)
    _STATE["extra"], before = (), _load()
    index.answer(questions[0])  # the model loaded, the sessions warm
    e = index.embedder
    base, extra, extra2, texts, diff = [], [], [], [], 0.0
    for n, q in enumerate(questions):
        answer.clear_sentence_cache()
        t = time.perf_counter()
        index.answer(q)
        base.append(1000 * (time.perf_counter() - t))
        pool = fa.pool(index, q, 0)
        cands = answer.candidates(pool)
        embedded = [embedded_text(index, h) or h.text for h in pool]
        used = [embedded[i] for i in sorted({c.hit_index for c in cands})]

        if n % 2 == 0:  # which goes first alternates
            (ms1, a), (ms2, b) = (
                _timed(e, 1, used, cands, embedded, pool),
                _timed(e, 2, used, cands, embedded, pool),
            )
        else:
            (ms2, b), (ms1, a) = (
                _timed(e, 2, used, cands, embedded, pool),
                _timed(e, 1, used, cands, embedded, pool),
            )
        extra.append(ms1)
        extra2.append(ms2)
        for u, v in zip(a, b, strict=True):
            if u is not None and v is not None:
                diff = max(diff, float(np.abs(u - v).max()))
        texts.append(len(used))
    index.close()
    return {
        "questions": len(questions),
        "answer ms (mean)": round(float(np.mean(base)), 1),
        "extra ms (mean)": round(float(np.mean(extra)), 1),
        "extra ms (median)": round(float(np.median(extra)), 1),
        "two-lane extra ms (mean)": round(float(np.mean(extra2)), 1),
        "two-lane extra ms (median)": round(float(np.median(extra2)), 1),
        "passages run per pool (mean)": round(float(np.mean(texts)), 1),
        "max |one-lane - two-lane| of a sentence vector": f"{diff:.1e}",
        "load before / after": f"{before} / {_load()}",
    }


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def mmr(lam: float) -> Callable[[np.ndarray, np.ndarray, float, float], list[int]]:
    """fit_answer.choose with a redundancy penalty of `lam` log-odds per unit of cosine."""

    def choose(scores: np.ndarray, vectors: np.ndarray, floor: float, margin: float) -> list[int]:
        left = [int(j) for j in np.argsort(-scores)]
        best, picked = float(scores[left[0]]), []
        while left and len(picked) < 4:

            def value(j: int) -> float:
                seen = float(np.max(vectors[picked] @ vectors[j])) if picked else 0.0
                return float(scores[j]) - lam * max(seen, 0.0)

            j = max(left, key=value)
            left.remove(j)
            if len(picked) >= 2 and scores[j] < best - margin:
                continue
            if picked and float(np.max(vectors[picked] @ vectors[j])) > answer.NEAR_REPEAT:
                continue
            picked.append(j)
        return picked

    return choose


_IRREGULAR = (
    "arise arose arisen; be was were been; bear bore borne born; beat beaten; become became; "
    "begin began begun; bring brought; build built; buy bought; catch caught; choose chose chosen; "
    "come came; deal dealt; do did done; draw drew drawn; drive drove driven; eat ate eaten; "
    "fall fell fallen; feel felt; fight fought; find found; flee fled; fly flew flown; "
    "forget forgot forgotten; get got gotten; give gave given; go went gone; grow grew grown; "
    "hang hung; have had has; hear heard; hide hid hidden; hold held; keep kept; know knew known; "
    "lay laid; lead led; leave left; lend lent; lose lost; make made; mean meant; meet met; "
    "pay paid; ride rode ridden; rise rose risen; run ran; say said; see saw seen; seek sought; "
    "sell sold; send sent; shake shook shaken; shoot shot; show shown; sing sang sung; sink sank "
    "sunk; sit sat; speak spoke spoken; spend spent; stand stood; steal stole stolen; strike "
    "struck; swear swore sworn; take took taken; teach taught; tell told; think thought; throw "
    "threw thrown; understand understood; wear wore worn; win won; withdraw withdrew withdrawn; "
    "write wrote written; child children; man men; woman women; person people; foot feet"
)
_LEMMA = {w: g.split()[0] for g in _IRREGULAR.split(";") for w in g.split()[1:]}


def lemma_stem(word: str) -> str:
    folded = word.casefold()
    return _product_stem(_LEMMA.get(folded, folded))


_product_stem = evidence._stem


def fitter(c: float) -> Callable[[list[fa.Group]], tuple[np.ndarray, float]]:
    def fit(groups: list[fa.Group]) -> tuple[np.ndarray, float]:
        from sklearn.linear_model import LogisticRegression

        x = np.vstack([g.x for g in groups])
        y = np.concatenate([g.y for g in groups]).astype(int)
        model = LogisticRegression(C=c, max_iter=4000, class_weight="balanced").fit(x, y)
        return model.coef_[0], float(model.intercept_[0])

    return fit


def run(indexes: dict[str, Path], extra: tuple[Extra, ...], c: float = 1.0) -> dict[str, Any]:
    _STATE["extra"] = extra
    groups = [g for name, file in SETS for g in fa.collect(name, indexes[name], DATA / file, 0)]
    w, b = fitter(c)([g for g in groups if g.split == "tune"])
    out: dict[str, Any] = {"weights": [round(float(x), 4) for x in w], "bias": round(b, 4)}
    for name in indexes:
        for half in HALVES:
            part = [g for g in groups if g.dataset == name and g.split == half]
            out[f"{name}/{half}/in pool"] = sum(bool(g.hit_right.any()) for g in part)
    for name in indexes:
        for half in HALVES:
            part = [g for g in groups if g.dataset == name and g.split == half]
            out[f"{name}/{half}"] = fa.counts(part, lambda g: g.x @ w + b)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/coverage-fit-answer"))
    parser.add_argument("--group", default="all", choices=("all", "context", "vote"))
    parser.add_argument(
        "--with-train", action="store_true", help="also count the training sets (not fitted on)"
    )
    args = parser.parse_args()
    if args.with_train:
        global SETS, HALVES
        SETS, HALVES = (*SETS, *TRAIN_SETS), (*HALVES, "train")
    indexes = fa.dev_indexes(args.work)
    facts = machine()
    if args.group == "context":
        return context_group(indexes, facts)
    results: dict[str, Any] = {}
    if args.group == "vote":
        for label, extra in (VARIANTS[0], ("+ article vote", (article_vote,))):
            results[label] = run(indexes, extra)
            print(label, results[label], flush=True)
        lines = report(results, indexes, facts, "The article several hits agree on")
        print("\n".join(lines))
        save("answer_levers_vote", {"machine": facts, "results": results}, "\n".join(lines) + "\n")
        return None
    for label, extra in VARIANTS:
        results[label] = run(indexes, extra)
        print(label, results[label], flush=True)
    answer.candidates = with_pronoun_pairs  # type: ignore[assignment]
    results["+ pronoun pairs as candidates"] = run(indexes, ())
    answer.candidates = _candidates  # type: ignore[assignment]
    evidence._stem = lemma_stem  # type: ignore[assignment]
    results["+ irregular lemmas in the keyword features"] = run(indexes, ())
    evidence._stem = _product_stem  # type: ignore[assignment]
    for c in (0.1, 0.3, 3.0):
        results[f"fit C={c}"] = run(indexes, (), c)
    product_choose = fa.choose
    for lam in (1.0, 2.0, 5.0):
        fa.choose = mmr(lam)
        results[f"MMR lambda {lam:g}"] = run(indexes, ())
    fa.choose = product_choose
    lines = report(results, indexes, facts, "Sentence features tried on the answer's combiner")
    print("\n".join(lines))
    save("answer_levers", {"machine": facts, "results": results}, "\n".join(lines) + "\n")


def context_group(indexes: dict[str, Path], facts: dict[str, Any]) -> None:
    results: dict[str, Any] = {}
    for label, extra in CONTEXT_VARIANTS:
        results[label] = run(indexes, extra)
        print(label, results[label], flush=True)
    located = {m: {k: len(v) for k, v in got.items()} for m, got in LOCATED.items()}
    seed = [q.question for q in fa.load_qa(DATA / "qa_seed.jsonl")][:20]
    timing = time_context(indexes["seed"], seed)
    lines = report(results, indexes, facts, "In-context sentence vectors on the answer's combiner")
    if "train" in HALVES:
        lines[2] += (
            " Train columns: bench/data/qa_seed_train.jsonl and qa_time_train.jsonl "
            "(--with-train), never fitted on: held out like confirm."
        )
    lines += [
        "",
        "Sentences located in the text the model read (distinct sentences of all pools; the "
        "rest kept their own cosine): "
        + "; ".join(
            f"{m}: {n['found']} found, {n['fallback']} fell back" for m, n in located.items()
        )
        + ".",
        "",
        "Cost on the seed article, 20 dev questions, one answer each from a cleared sentence "
        "cache; extra = the model over the embedded text of each pool passage with a candidate "
        "sentence (one text per run) and the spans pooled, on one one-thread session, and "
        "two-lane = on two one-thread sessions side by side, longest text first, as the int8 "
        "encoder embeds (OnnxEncoder._side_by_side; which of the two ran first alternated): "
        + ", ".join(f"{k} {v}" for k, v in timing.items())
        + ".",
    ]
    print("\n".join(lines))
    save(
        "answer_levers_context",
        {"machine": facts, "results": results, "located": located, "timing": timing},
        "\n".join(lines) + "\n",
    )


def report(
    results: dict[str, Any], indexes: dict[str, Path], facts: dict[str, Any], title: str
) -> list[str]:
    lines = [
        f"# {title} (passage first / quoted)",
        "",
        f"Machine: {facts['nproc']} cores, {facts['cpu']}, load {facts['load_1min_at_start']} "
        f"at start ({facts['date']}). Refitted on the tune halves each time; fresh sets: 15 "
        "questions each, never used to choose. bench/eval_answer_levers.py.",
        "",
        *fa.counts_table("variant", results, list(indexes), HALVES),
    ]
    base = results[VARIANTS[0][0]]
    ns = {f"{n} {h}": base[f"{n}/{h}"]["n"] for n in indexes for h in HALVES}
    pooled = {f"{n} {h}": base[f"{n}/{h}/in pool"] for n in indexes for h in HALVES}
    lines += ["", "Questions: " + ", ".join(f"{k} {v}" for k, v in ns.items()) + "."]
    lines += [
        "With the answering passage in the pool the answer reads: "
        + ", ".join(f"{k} {v}" for k, v in pooled.items())
        + " (questions whose pool had no candidate sentence at all are not counted above)."
    ]
    return lines


if __name__ == "__main__":
    main()
