"""Check the hand-made question-answering dev sets in bench/data/.

For qa_seed.jsonl and qa_time.jsonl, and the training sets qa_seed_train.jsonl and
qa_time_train.jsonl (split "train"), it verifies that every answer_span occurs exactly in its
document's text (the seed article's text after its YAML front matter; a TIME 1963 article's
"text"), that it lies inside one sentence and holds no Markdown syntax, and it reports per file
and split: question count, kinds, and the content-word overlap between each question and its
answer sentence. Content words are lowercase \\w+ tokens minus a small stopword list; overlap =
|question words & sentence words| / |question words|. Sentences are split on . ! ? followed by
whitespace, and on line breaks. For qa_offtopic.jsonl it reports counts and each question's best
overlap with any source sentence (a rough "is this answered somewhere?" flag).

Run from the repository root:  .venv/bin/python bench/qa_check.py
Exits 1 if any span is missing, crosses a sentence boundary, or a record is malformed.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
SEED_PATH = ROOT / "corpus" / "windowsforum-amodei-openai-exit.md"
SEED_ID = "windowsforum-amodei-openai-exit.md"
TIME_CORPUS = ROOT.parent / "shared" / "eval" / "time1963" / "corpus.jsonl"

KINDS = {"who", "what", "when", "where", "why", "how", "number"}
SPLITS = {"tune", "confirm", "train"}
MARKDOWN_CHARS = set("*_[]#`")
_STOPWORD_TEXT = """
a an the and or but nor of to in on at by for with from as into onto about over under up down
out off after before than then there here is are was were be been being am it its this that
these those what which who whom whose when where why how do does did done doing has have had
having he him his she her hers they them their theirs i me my we us our you your not no so if
can could would should will shall may might must many much more most some any all each such
also just only own same other s t d ll re ve m
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"\w+")


def content_words(text: str) -> set[str]:
    """Lowercase \\w+ tokens of `text` minus stopwords."""
    return {w for w in _WORD.findall(text.lower()) if w not in STOPWORDS}


def sentences(text: str) -> list[str]:
    """`text` split into sentences (. ! ? + whitespace, or line breaks)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def overlap(question: str, sentence: str) -> float:
    """Share of the question's content words that also occur in `sentence`."""
    q = content_words(question)
    return len(q & content_words(sentence)) / len(q) if q else 0.0


def seed_text() -> str:
    """The seed article's body: everything after the closing '---' of its front matter."""
    raw = SEED_PATH.read_text(encoding="utf-8")
    if raw.startswith("---\n"):
        end = raw.find("\n---\n", 4)
        if end >= 0:
            return raw[end + 5 :]
    return raw


def time_texts() -> dict[str, str]:
    """TIME 1963 corpus: id → text (the id key is "_id" or "id")."""
    docs: dict[str, str] = {}
    with TIME_CORPUS.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                docs[str(row.get("_id", row.get("id")))] = row["text"]
    return docs


def load(path: Path) -> list[dict[str, str]]:
    """One JSON object per non-blank line."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def check_answerable(name: str, rows: list[dict[str, str]], docs: dict[str, str]) -> int:
    """Print the report for one answerable file; return its number of errors."""
    errors = 0
    per_split: dict[str, list[float]] = defaultdict(list)
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    high: list[tuple[float, str]] = []
    for n, row in enumerate(rows, 1):
        q, span, doc_id = row.get("question", ""), row.get("answer_span", ""), row.get("doc_id")
        kind, split = row.get("kind"), row.get("split")
        where = f"{name}:{n}"
        if kind not in KINDS or split not in SPLITS or not q or not span:
            print(f"  ERROR {where}: bad kind/split/question/span: {row}")
            errors += 1
            continue
        text = docs.get(str(doc_id))
        if text is None:
            print(f"  ERROR {where}: unknown doc_id {doc_id!r}")
            errors += 1
            continue
        if span not in text:
            print(f"  ERROR {where}: span not found in {doc_id}: {span!r}")
            errors += 1
            continue
        if MARKDOWN_CHARS & set(span):
            print(f"  ERROR {where}: span has Markdown syntax: {span!r}")
            errors += 1
        if not 3 <= len(span.split()) <= 20:
            print(f"  warn  {where}: span is {len(span.split())} words: {span!r}")
        sentence = next((s for s in sentences(text) if span in s), None)
        if sentence is None:
            print(f"  ERROR {where}: span crosses a sentence boundary: {span!r}")
            errors += 1
            continue
        score = overlap(q, sentence)
        per_split[split].append(score)
        kinds[split][kind] += 1
        if score >= 0.5:
            high.append((score, q))
    all_scores = [s for scores in per_split.values() for s in scores]
    n_docs = len({r.get("doc_id") for r in rows})
    print(f"{name}: {len(rows)} questions over {n_docs} documents")
    for split in sorted(per_split):
        scores = per_split[split]
        mix = ", ".join(f"{k} {c}" for k, c in sorted(kinds[split].items()))
        print(
            f"  {split:8s} n={len(scores):3d}  mean overlap {sum(scores) / len(scores):.3f}  {mix}"
        )
    if all_scores:
        total = sum(kinds.values(), Counter())
        why_how = (total["why"] + total["how"]) / len(all_scores)
        print(
            f"  all      n={len(all_scores):3d}  mean overlap "
            f"{sum(all_scores) / len(all_scores):.3f}  why/how {why_how:.0%}  "
            f"number {total['number'] / len(all_scores):.0%}"
        )
    for score, q in sorted(high, reverse=True):
        print(f"  overlap {score:.2f}: {q}")
    return errors


def check_offtopic(rows: list[dict[str, str]], docs: dict[str, str]) -> int:
    """Print counts per split and the offtopic questions closest to any source sentence."""
    errors = 0
    splits: Counter[str] = Counter()
    all_sentences = [s for text in docs.values() for s in sentences(text)]
    closest: list[tuple[float, str, str]] = []
    for n, row in enumerate(rows, 1):
        q, split = row.get("question", ""), row.get("split")
        if not q or split not in SPLITS:
            print(f"  ERROR qa_offtopic:{n}: bad question/split: {row}")
            errors += 1
            continue
        splits[split] += 1
        score, best = max((overlap(q, s), s) for s in all_sentences)
        closest.append((score, q, best))
    print(
        f"qa_offtopic: {len(rows)} questions  " + ", ".join(f"{k} {v}" for k, v in splits.items())
    )
    for score, q, best in sorted(closest, reverse=True)[:5]:
        print(f"  nearest {score:.2f}: {q}  ~  {best[:90]}")
    return errors


def main() -> int:
    """Check the dev, training and off-topic files; return the process exit code."""
    seed = {SEED_ID: seed_text()}
    time = time_texts()
    errors = check_answerable("qa_seed", load(DATA / "qa_seed.jsonl"), seed)
    errors += check_answerable("qa_time", load(DATA / "qa_time.jsonl"), time)
    errors += check_answerable("qa_seed_train", load(DATA / "qa_seed_train.jsonl"), seed)
    errors += check_answerable("qa_time_train", load(DATA / "qa_time_train.jsonl"), time)
    errors += check_offtopic(load(DATA / "qa_offtopic.jsonl"), {**seed, **time})
    print("OK: every span found" if not errors else f"FAILED: {errors} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
