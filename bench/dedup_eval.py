"""Precision and recall of the story detector (passages/dedup.py) on pairs built from real text.

Base documents are real articles and abstracts from ../shared/eval (TIME 1963, SciFact). Each
base gets one edited copy, of the kinds syndication produces (in turn): trimmed, trimmed hard,
re-headlined, paragraph-shuffled, boilerplate added (the same outlet boilerplate on every
copy), light copy edits, and re-headlined + trimmed + boilerplate at once. Negative
pairs are unrelated documents, documents judged relevant to the same query (same topic,
different article) and each base's most word-similar other document (the hardest negatives).

Everything goes into one pool and through `group_stories`, the function the build calls, so
LSH misses and transitive merges count. A pair is predicted "same story" when both documents
get the same story id.

    PYTHONPATH=src .venv/bin/python bench/dedup_eval.py [--bases 300] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from coverage_search.passages.dedup import group_stories, normalized_words
from coverage_search.records import Document

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
COLLECTIONS = ("time1963", "scifact")
BOILERPLATE_TOP = (
    "Home | World | Business | Technology | Markets | Opinion | Subscribe | Sign in\n\n"
    "Advertisement. Scroll to continue with content.\n\n"
)
BOILERPLATE_BOTTOM = (
    "\n\nThis story was distributed through a syndication partner. Sign up for our daily "
    "newsletter to get the most important stories in your inbox every morning. Copyright "
    "{year} Global Wire Service. All rights reserved. This material may not be published, "
    "broadcast, rewritten or redistributed without permission. Follow us on social media "
    "and share your thoughts in the comments below.\n\nMore from this section: {related}"
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")

Edit = Callable[[str, str, random.Random, list[str]], tuple[str, str]]


def load(collection: str) -> list[tuple[str, str, str]]:
    """(id, title, text) of every document of a BEIR corpus."""
    rows = []
    with open(EVAL / collection / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            rows.append((item["id"], item.get("title") or "", item["text"]))
    return rows


def qrels_pairs(collection: str, ids: set[str]) -> list[tuple[str, str]]:
    """Pairs of different documents judged relevant to the same query: same topic, other article."""
    by_query: dict[str, list[str]] = defaultdict(list)
    with open(EVAL / collection / "qrels.tsv", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            query, doc, score = line.rstrip("\n").split("\t")[:3]
            if float(score) > 0 and doc in ids:
                by_query[query].append(doc)
    pairs = set()
    for docs in by_query.values():
        for i, a in enumerate(docs):
            for b in docs[i + 1 :]:
                if a != b:
                    pairs.add((min(a, b), max(a, b)))
    return sorted(pairs)


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text.strip()) if s]


def trimmed(title: str, body: str, rng: random.Random, others: list[str]) -> tuple[str, str]:
    parts = sentences(body)
    keep = max(3, round(len(parts) * rng.uniform(0.45, 0.7)))
    return title, " ".join(parts[:keep])


def trimmed_hard(title: str, body: str, rng: random.Random, others: list[str]) -> tuple[str, str]:
    parts = sentences(body)
    return title, " ".join(parts[: max(3, round(len(parts) * rng.uniform(0.2, 0.35)))])


def reheadlined(title: str, body: str, rng: random.Random, others: list[str]) -> tuple[str, str]:
    words = rng.choice(others).split()[:10]
    return " ".join(words).title(), body


def shuffled(title: str, body: str, rng: random.Random, others: list[str]) -> tuple[str, str]:
    parts = sentences(body)
    paragraphs = [" ".join(parts[i : i + 3]) for i in range(0, len(parts), 3)]
    rng.shuffle(paragraphs)
    return title, "\n\n".join(paragraphs)


def boilerplate(title: str, body: str, rng: random.Random, others: list[str]) -> tuple[str, str]:
    related = "; ".join(" ".join(o.split()[:8]) for o in rng.sample(others, 3))
    bottom = BOILERPLATE_BOTTOM.format(year=rng.randint(1990, 2026), related=related)
    return title, BOILERPLATE_TOP + body + bottom


def copy_edited(title: str, body: str, rng: random.Random, others: list[str]) -> tuple[str, str]:
    words = body.split()
    return title, " ".join(w for w in words if rng.random() > 0.03)


def trimmed_tenth(title: str, body: str, rng: random.Random, others: list[str]) -> tuple[str, str]:
    parts = sentences(body)
    return title, " ".join(parts[: max(2, round(len(parts) * 0.1))])


def heavily_edited(title: str, body: str, rng: random.Random, others: list[str]) -> tuple[str, str]:
    words = body.split()
    return title, " ".join(w for w in words if rng.random() > 0.12)


def syndicated(title: str, body: str, rng: random.Random, others: list[str]) -> tuple[str, str]:
    title, body = reheadlined(title, body, rng, others)
    title, body = trimmed(title, body, rng, others)
    return boilerplate(title, body, rng, others)


EDITS: dict[str, Edit] = {
    "trimmed (45-70% kept)": trimmed,
    "trimmed hard (20-35% kept)": trimmed_hard,
    "re-headlined": reheadlined,
    "paragraph-shuffled": shuffled,
    "boilerplate added": boilerplate,
    "copy-edited (3% words cut)": copy_edited,
    "all at once (syndicated)": syndicated,
}
# Past what the detector is built for: shown to mark the limits, left out of precision/recall.
STRESS: dict[str, Edit] = {
    "stress: trimmed to a tenth": trimmed_tenth,
    "stress: 12% of words cut": heavily_edited,
}


def document(doc_id: str, title: str, body: str, published: str) -> Document:
    text = f"{title}\n\n{body}" if title else body
    return Document(
        doc_id=doc_id,
        path=doc_id,
        title=title or doc_id,
        text=text,
        format="text",
        content_hash="",
        published=published,
    )


def nearest_neighbours(bases: list[str], texts: dict[str, str]) -> list[tuple[str, str]]:
    """Each base with the other document sharing the largest share of its distinct words."""
    vocab = {doc: set(normalized_words(text)) for doc, text in texts.items()}
    pairs = []
    for base in bases:
        words = vocab[base]
        best = max(
            (other for other in vocab if other != base),
            key=lambda other: len(words & vocab[other]) / (len(words | vocab[other]) or 1),
        )
        pairs.append((min(base, best), max(base, best)))
    return sorted(set(pairs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bases", type=int, default=350, help="base documents per collection")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not EVAL.is_dir():
        print(f"skipped: {EVAL} is absent (the evaluation data lives beside the repository)")
        return 0

    rng = random.Random(args.seed)
    pool: list[Document] = []
    labeled: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for collection in COLLECTIONS:
        rows = [r for r in load(collection) if len(r[2].split()) >= 80]
        texts = {f"{collection}/{doc}": (title, body) for doc, title, body in rows}
        all_ids = sorted(texts)
        bases = rng.sample(all_ids, min(args.bases, len(all_ids)))
        # Distractors: every other document of the collection, capped to keep the run short.
        rest = [d for d in all_ids if d not in set(bases)]
        distractors = rng.sample(rest, min(len(rest), 4 * args.bases))
        members = sorted(set(bases) | set(distractors))
        for doc in members:
            title, body = texts[doc]
            pool.append(document(doc, title, body, "2000-01-01"))
        first_lines = [texts[d][0] or texts[d][1] for d in members]
        # One edited copy per base, so no pair is found only through a third document.
        kinds = list(EDITS.items()) + list(STRESS.items())
        for k, base in enumerate(bases):
            title, body = texts[base]
            name, edit = kinds[k % len(kinds)]
            new_title, new_body = edit(title, body, rng, first_lines)
            copy_id = f"{base}~copy"
            pool.append(document(copy_id, new_title, new_body, "2000-01-02"))
            labeled[name].append((base, copy_id))
        shuffled_others = members[:]
        rng.shuffle(shuffled_others)
        for a, b in zip(bases, shuffled_others, strict=False):
            if a != b:
                labeled["unrelated"].append((a, b))
        ids = {d.split("/", 1)[1] for d in members}
        for a, b in qrels_pairs(collection, ids):
            labeled["same topic (same query)"].append((f"{collection}/{a}", f"{collection}/{b}"))
        member_texts = {d: " ".join(texts[d]) for d in members}
        labeled["nearest other article"].extend(nearest_neighbours(bases, member_texts))

    started = time.perf_counter()
    story = group_stories(pool)
    seconds = time.perf_counter() - started

    positives = {name for name in EDITS}
    print(f"pool: {len(pool)} documents; group_stories took {seconds:.2f} s\n")
    print(f"| {'pair kind':<28} | {'pairs':>5} | {'same story':>10} | {'rate':>6} |")
    print(f"|{'-' * 30}|{'-' * 7}|{'-' * 12}|{'-' * 8}|")
    tp = fn = fp = tn = 0
    for name, pairs in labeled.items():
        same = sum(story[a] == story[b] for a, b in pairs)
        print(f"| {name:<28} | {len(pairs):>5} | {same:>10} | {same / len(pairs):>6.3f} |")
        if name in STRESS:
            continue
        if name in positives:
            tp, fn = tp + same, fn + len(pairs) - same
        else:
            fp, tn = fp + same, tn + len(pairs) - same
    # Pool-wide precision: every pair the detector put in one story, judged by its origin.
    groups: dict[str, list[str]] = defaultdict(list)
    for doc, sid in story.items():
        groups[sid].append(doc)
    merged = wrong = 0
    for docs in groups.values():
        for i, a in enumerate(docs):
            for b in docs[i + 1 :]:
                merged += 1
                wrong += a.split("~")[0] != b.split("~")[0]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    print(f"\nlabeled pairs: precision {precision:.3f}, recall {recall:.3f}", end=" ")
    print(f"(tp {tp}, fp {fp}, fn {fn})")
    pool_precision = 1 - wrong / merged if merged else 1.0
    print(f"all pairs grouped in the pool: {merged}, wrongly grouped: {wrong}", end=", ")
    print(f"precision {pool_precision:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
